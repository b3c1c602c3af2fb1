# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Static frequency tables for rANS: normalisation to 2^P and their compact bit coding.

Table bit layout (MSB first): P:4, lo:8 (two's complement), n_sym-1:8, k:3, then n_sym
exp-Golomb-k coded frequencies. The frequencies must sum to exactly 2^P.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from ilwp_embedded.compress.bitio import BitReader, BitWriter, eg_len
from ilwp_embedded.errors import IlwpError

MAX_PRECISION = 11  # format v2: the C decoder's slot table has 2^P entries (8 KB at 11)


@dataclass(frozen=True)
class FreqTable:
    precision: int  # P: per-symbol frequencies sum to 2^P
    lo: int  # symbol value of index 0 (a residual in [-128, 127])
    n_sym: int  # symbols lo .. lo+n_sym-1
    width_log2: int  # symbols share one frequency per bin of 2^width_log2 (smooth histograms)
    delta: bool  # bin frequencies coded as differences from the previous bin
    k: int  # exp-Golomb order of the coded bin values
    bins: tuple[int, ...]  # per-symbol frequency of each bin

    @property
    def freqs(self) -> list[int]:
        return expand(self.bins, self.width_log2, self.n_sym, self.precision)

    @property
    def cum(self) -> list[int]:
        c = [0]
        for f in self.freqs:
            c.append(c[-1] + f)
        return c


def expand(bins, width_log2: int, n_sym: int, precision: int) -> list[int]:
    """Per-symbol frequencies; the remainder up to 2^P goes to the first most frequent symbol."""
    f = [bins[i >> width_log2] for i in range(n_sym)]
    rem = (1 << precision) - sum(f)
    if rem < 0:
        raise IlwpError("corrupt .ilwp: frequency table sums past 2^P")
    f[f.index(max(f))] += rem
    return f


def histogram(symbols: np.ndarray) -> tuple[int, np.ndarray]:
    """(lo, counts) over the value range the symbols span."""
    lo, hi = int(symbols.min()), int(symbols.max())
    return lo, np.bincount(symbols.astype(np.int64) - lo, minlength=hi - lo + 1)


def _cost(c: float, f: int) -> float:
    return -c * math.log2(f) if f > 0 else (math.inf if c > 0 else 0.0)


def normalize_bins(counts: np.ndarray, precision: int, width_log2: int) -> list[int]:
    """Bin frequencies F_b (per symbol), sum(width_b * F_b) <= 2^P, near-minimal code length.

    Start from rounding, then move whole bins by one unit greedily where it costs least
    (deterministic: ties break on the bin index through the heap's tuple order). Whatever
    stays below 2^P is given to the most frequent symbol by `expand`.
    """
    m = 1 << precision
    total = int(counts.sum())
    w = 1 << width_log2
    nb = (len(counts) + w - 1) // w
    cb = [int(counts[b * w:(b + 1) * w].sum()) for b in range(nb)]
    wb = [min(w, len(counts) - b * w) for b in range(nb)]
    f = [0 if cb[b] == 0 else max(1, int(cb[b] * m / total / wb[b])) for b in range(nb)]
    used = sum(f[b] * wb[b] for b in range(nb))
    # rounding rare bins up to 1 can overshoot 2^P: take units back where it costs least
    if used > m:
        heap = [((_cost(cb[b], f[b] - 1) - _cost(cb[b], f[b])) / wb[b], b) for b in range(nb) if f[b] > 1]
        heapq.heapify(heap)
        while heap and used > m:
            _, b = heapq.heappop(heap)
            f[b] -= 1
            used -= wb[b]
            if f[b] > 1:
                heapq.heappush(heap, ((_cost(cb[b], f[b] - 1) - _cost(cb[b], f[b])) / wb[b], b))
    # increments: largest saving per unit of probability mass first, while they fit
    heap = [((_cost(cb[b], f[b] + 1) - _cost(cb[b], f[b])) / wb[b], b) for b in range(nb) if cb[b] > 0]
    heapq.heapify(heap)
    while heap:
        gain, b = heapq.heappop(heap)
        if used + wb[b] > m:
            continue
        f[b] += 1
        used += wb[b]
        heapq.heappush(heap, ((_cost(cb[b], f[b] + 1) - _cost(cb[b], f[b])) / wb[b], b))
    if used > m:  # every used bin at 1 is still too wide for 2^P: the caller skips this P
        raise ValueError("precision too small")
    return f


def _zigzag(v: int) -> int:
    return 2 * v if v >= 0 else -2 * v - 1


def _coded_values(bins, delta: bool) -> list[int]:
    if not delta:
        return list(bins)
    prev, out = 0, []
    for b in bins:
        out.append(_zigzag(b - prev))
        prev = b
    return out


HEADER_BITS = 4 + 8 + 8 + 2 + 1 + 3


def table_bits(bins, delta: bool, k: int) -> int:
    return HEADER_BITS + sum(eg_len(v, k) for v in _coded_values(bins, delta))


def code_bits(counts: np.ndarray, freqs: list[int], precision: int) -> float:
    """Ideal rANS code length in bits of the symbols under the table."""
    c = counts.astype(np.float64)
    f = np.asarray(freqs, dtype=np.float64)
    used = c > 0
    return float(np.sum(c[used] * (precision - np.log2(f[used]))))


def best_table(symbols: np.ndarray) -> tuple[FreqTable, float]:
    """The table (precision, bin width, coding) minimising table bits + code bits, and that sum."""
    lo, counts = histogram(symbols)
    if len(counts) > 256:
        raise ValueError("symbol range exceeds 256 values")
    used = int(np.count_nonzero(counts))
    best = None
    for p in range(max(1, math.ceil(math.log2(max(used, 2)))), MAX_PRECISION + 1):
        for wl in range(4):
            try:
                bins = normalize_bins(counts, p, wl)
            except ValueError:
                continue
            cb = code_bits(counts, expand(bins, wl, len(counts), p), p)
            for delta in (False, True):
                for k in range(8):
                    bits = table_bits(bins, delta, k) + cb
                    if best is None or bits < best[0]:
                        best = (bits, FreqTable(p, lo, len(counts), wl, delta, k, tuple(bins)))
    return best[1], best[0]


def write_table(t: FreqTable) -> bytes:
    w = BitWriter()
    w.put(t.precision, 4)
    w.put(t.lo & 0xFF, 8)
    w.put(t.n_sym - 1, 8)
    w.put(t.width_log2, 2)
    w.put(int(t.delta), 1)
    w.put(t.k, 3)
    for v in _coded_values(t.bins, t.delta):
        w.put_eg(v, t.k)
    return w.to_bytes()


def read_table(data: bytes) -> FreqTable:
    r = BitReader(data)
    p = r.get(4)
    lo = r.get(8)
    lo = lo - 256 if lo >= 128 else lo
    n = r.get(8) + 1
    wl = r.get(2)
    delta = bool(r.get(1))
    k = r.get(3)
    if p == 0 or p > MAX_PRECISION or lo + n > 128:
        raise IlwpError("corrupt .ilwp: bad frequency table header")
    nb = (n + (1 << wl) - 1) >> wl
    bins, prev = [], 0
    for _ in range(nb):
        v = r.get_eg(k)
        if delta:
            v = prev + (v >> 1 if v % 2 == 0 else -((v + 1) >> 1))
        if v < 0 or v > (1 << p):
            raise IlwpError("corrupt .ilwp: frequency table value out of range")
        bins.append(v)
        prev = v
    t = FreqTable(p, lo, n, wl, delta, k, tuple(bins))
    t.freqs  # validates the sum
    return t
