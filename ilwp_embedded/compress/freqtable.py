# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Static frequency tables for rANS: normalisation to 2^P and their compact bit coding.

Two shapes (docs/blob-format.md, "Frequency table"): bins (one frequency per 2^wl symbols) and
knots (one value every 2^wl symbols, linearly interpolated between them: the broad, smooth
histograms of per-channel int8 weights cost a few knots instead of a value per symbol), either
with the first and last symbols' frequencies given apart (per-channel scales put every channel's
extreme at +-127: a spike at both ends of a smooth histogram).
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import numpy as np

from ilwp_embedded.compress.bitio import BitReader, BitWriter, eg_len
from ilwp_embedded.errors import IlwpError

MAX_PRECISION = 11  # format v2: the C decoder's slot table has 2^P entries (8 KB at 11)


def cumulative(freqs: list[int]) -> list[int]:
    """[0, f0, f0 + f1, ...]: each symbol's first slot, and the total."""
    return list(itertools.accumulate(freqs, initial=0))


@dataclass(frozen=True)
class FreqTable:
    precision: int  # P: per-symbol frequencies sum to 2^P
    lo: int  # symbol value of index 0 (a residual in [-128, 127])
    n_sym: int  # symbols lo .. lo+n_sym-1
    width_log2: int  # symbols share one frequency per bin of 2^width_log2 (smooth histograms)
    delta: bool  # bin frequencies coded as differences from the previous bin
    k: int  # exp-Golomb order of the coded bin values
    bins: tuple[int, ...]  # per-symbol frequency of each bin, or the knot values (interp)
    interp: bool = False  # bins are knots every 2^width_log2 symbols, linearly interpolated
    edges: tuple[int, ...] = ()  # () or (f[0], f[n_sym - 1]): the end symbols' own frequencies

    @property
    def freqs(self) -> list[int]:
        return expand(self.bins, self.width_log2, self.n_sym, self.precision, self.interp, self.edges)

    @property
    def cum(self) -> list[int]:
        return cumulative(self.freqs)


def n_values(n_sym: int, width_log2: int, interp: bool) -> int:
    """How many bin or knot values a table codes (knots at 0, w, 2w, ... up to the last symbol)."""
    w = 1 << width_log2
    return ((n_sym - 1 + w - 1) >> width_log2) + 1 if interp else (n_sym + w - 1) >> width_log2


def expand_values(vals, width_log2: int, n_sym: int, interp: bool, edges=()) -> np.ndarray:
    """Per-symbol frequencies before the remainder (int64)."""
    s = np.arange(n_sym)
    v = np.asarray(vals, dtype=np.int64)
    j = s >> width_log2
    if interp:
        w, r = 1 << width_log2, s & ((1 << width_log2) - 1)
        f = (v[j] * (w - r) + v[np.minimum(j + 1, len(v) - 1)] * r + (w >> 1)) >> width_log2
    else:
        f = v[j]
    if edges:
        f[0], f[-1] = edges
    return f


def expand(bins, width_log2: int, n_sym: int, precision: int, interp: bool = False, edges=()) -> list[int]:
    """Per-symbol frequencies; the remainder up to 2^P goes to the first most frequent symbol."""
    f = expand_values(bins, width_log2, n_sym, interp, edges).tolist()
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


HEADER_BITS = 4 + 8 + 8 + 3 + 1 + 1 + 1 + 3  # P, lo, n_sym - 1, wl, interp, edges, delta, k
_KS = np.arange(8)[:, None]


def _cheapest_coding(vals, edges=()) -> tuple[int, bool, int]:
    """(bits of the values and edges, delta, k) for the cheapest of the 16 codings."""
    v = np.concatenate([np.asarray(vals, dtype=np.int64), np.asarray(edges, dtype=np.int64)])
    d = np.diff(np.concatenate([[0], v]))
    zz = np.where(d >= 0, 2 * d, -2 * d - 1)
    best = None
    for delta, coded in ((False, v), (True, zz)):
        u = coded[None, :] + (1 << _KS)  # exp-Golomb-k lengths for every k at once
        bits = (2 * (np.floor(np.log2(u)).astype(np.int64) + 1) - _KS - 1).sum(axis=1)
        k = int(np.argmin(bits))
        if best is None or bits[k] < best[0]:
            best = (int(bits[k]), delta, k)
    return best


def _code_bits_np(counts: np.ndarray, f: np.ndarray, precision: int) -> float:
    used = counts > 0
    if np.any(f[used] <= 0):
        return math.inf
    return float(np.sum(counts[used] * (precision - np.log2(f[used]))))


def _with_remainder(f: np.ndarray, precision: int) -> np.ndarray | None:
    rem = (1 << precision) - int(f.sum())
    if rem < 0:
        return None
    f = f.copy()
    f[int(np.argmax(f))] += rem
    return f


def fit_knots(counts: np.ndarray, precision: int, width_log2: int, edges: bool,
              refine: bool) -> tuple[float, FreqTable] | None:
    """Knot values (and edge frequencies) for `counts`: a maximum-likelihood fit of the
    interpolated curve (EM over the hat functions), rounded, then (refine) improved knot by
    knot by +-1 on the exact cost. Returns (table bits + code bits, table) or None."""
    n, m = len(counts), 1 << precision
    if edges and n < 3:
        return None
    w = 1 << width_log2
    nk = n_values(n, width_log2, True)
    s = np.arange(n)
    j0, a1 = s >> width_log2, (s & (w - 1)) / w  # symbol s: weight 1 - a1 on knot j0, a1 on j0 + 1
    j1 = np.minimum(j0 + 1, nk - 1)
    c = counts.astype(np.float64)
    total = c.sum()
    mask = np.ones(n, bool)
    ev: tuple[int, ...] = ()
    if edges:
        mask[0] = mask[-1] = False
        ev = tuple(int(max(1, round(c[i] * m / total))) if c[i] > 0 else 0 for i in (0, n - 1))
    cm = np.where(mask, c, 0.0)
    rest = m - sum(ev)
    if rest <= 0 or cm.sum() == 0:
        return None
    a0, a1 = (1.0 - a1) * mask, a1 * mask

    def back(v):  # the transpose of the interpolation: per-symbol values onto the knots
        return np.bincount(j0, a0 * v, nk) + np.bincount(j1, a1 * v, nk)

    col = back(np.ones(n)) + 1e-12
    kv = np.full(nk, rest / max(1, mask.sum()))
    for _ in range(40):  # EM: the mixture weights of the hat functions
        f = kv[j0] * a0 + kv[j1] * a1
        kv *= back(np.where(cm > 0, cm / np.maximum(f, 1e-12), 0.0)) / col
        kv *= rest / max(1e-9, (kv[j0] * a0 + kv[j1] * a1).sum())
    # a knot next to a used symbol stays >= 1, so every used symbol gets a frequency >= 1
    need = (back((c > 0).astype(np.float64)) > 0).astype(np.int64)
    ki = np.maximum(np.rint(kv).astype(np.int64), need)

    for _ in range(64):  # rounding up can overshoot 2^P: shave the largest knots
        if expand_values(ki, width_log2, n, True, ev).sum() <= m:
            break
        big = ki > need
        if not big.any():
            return None
        ki = np.where(big & (ki >= np.max(ki[big]) * 0.9), ki - np.maximum(1, ki // 64), ki)
    # refined together: the knots, then the edge frequencies (>= 1 where their symbol occurs)
    x = np.concatenate([ki, np.asarray(ev, dtype=np.int64)])
    low = np.concatenate([need, [int(c[0] > 0), int(c[-1] > 0)] if edges else []]).astype(np.int64)

    def cost(x) -> float:
        e = tuple(x[nk:])
        f = _with_remainder(expand_values(x[:nk], width_log2, n, True, e), precision)
        if f is None:
            return math.inf
        return _code_bits_np(counts, f, precision) + _cheapest_coding(x[:nk], e)[0]

    best = cost(x)
    if not math.isfinite(best):
        return None
    for _ in range(6 if refine else 0):  # coordinate descent on the exact cost
        improved = False
        for j in range(len(x)):
            for d in (1, -1, 3, -3):
                if x[j] + d < low[j]:
                    continue
                x[j] += d
                b = cost(x)
                if b < best:
                    best, improved = b, True
                    break
                x[j] -= d
        if not improved:
            break
    ki, ev = x[:nk], tuple(int(v) for v in x[nk:])
    _, delta, k = _cheapest_coding(ki, ev)
    t = FreqTable(precision, 0, n, width_log2, delta, k, tuple(int(v) for v in ki), True, ev)
    return best + HEADER_BITS, t


def code_bits(counts: np.ndarray, freqs: list[int], precision: int) -> float:
    """Ideal rANS code length in bits of the symbols under the table."""
    c = counts.astype(np.float64)
    f = np.asarray(freqs, dtype=np.float64)
    used = c > 0
    return float(np.sum(c[used] * (precision - np.log2(f[used]))))


MAX_WIDTH_LOG2 = 7  # 3 bits: bins or knot spacing up to 128 symbols
# Decoder set-up per coded tensor (firmware/decoder, Cortex-M4): about 1.25 instructions per table slot
# (2^P of them) and 60 per table value (parsed, then expanded over its run of symbols). On a small tensor
# that outweighs its rANS loop (10.5 instructions a weight), while a lower P or fewer values cost it only
# a few bits: the encoder counts BITS_PER_SETUP_INSTRUCTION bits for each such instruction (issue #15).
SLOT_INSTRUCTIONS = 1.25
VALUE_INSTRUCTIONS = 60
BITS_PER_SETUP_INSTRUCTION = 1 / 80  # KWS: lower P on its two smallest tables, +0 B (1 / 64: +6 B)


def setup_bits(precision: int, n_vals: int, bits_per_instruction: float = BITS_PER_SETUP_INSTRUCTION) -> float:
    """The decoder's table set-up for a table of 2^precision slots and n_vals coded values, in bits."""
    return bits_per_instruction * (SLOT_INSTRUCTIONS * (1 << precision) + VALUE_INSTRUCTIONS * n_vals)


def best_table(symbols: np.ndarray, knots: bool = True,
               bits_per_instruction: float = BITS_PER_SETUP_INSTRUCTION) -> tuple[FreqTable, float]:
    """The table (shape, precision, width, coding) minimising table bits + code bits + the decoder's
    set-up (`setup_bits`), and its table bits + code bits.

    knots=False: bin tables only (quick: for ranking candidates, not for the record written)."""
    lo, counts = histogram(symbols)
    if len(counts) > 256:
        raise ValueError("symbol range exceeds 256 values")
    used = int(np.count_nonzero(counts))
    best = None
    fits = []
    for p in range(max(1, math.ceil(math.log2(max(used, 2)))), MAX_PRECISION + 1):
        for wl in range(MAX_WIDTH_LOG2 + 1):
            if wl and (1 << (wl - 1)) >= len(counts):
                break
            try:
                bins = normalize_bins(counts, p, wl)
            except ValueError:
                bins = None
            if bins is not None:
                cb = code_bits(counts, expand(bins, wl, len(counts), p), p)
                tb, delta, k = _cheapest_coding(bins)
                bits = HEADER_BITS + tb + cb
                pen = setup_bits(p, len(bins), bits_per_instruction)
                if best is None or bits + pen < best[0]:
                    best = (bits + pen, bits, FreqTable(p, lo, len(counts), wl, delta, k, tuple(bins)))
            if knots and len(counts) > 1 and p >= MAX_PRECISION - 2:  # coarser knots never won
                for edges in (False, True):
                    r = fit_knots(counts, p, wl, edges, refine=False)
                    if r is not None:
                        n_vals = n_values(len(counts), wl, True) + 2 * edges
                        fits.append((r[0] + setup_bits(p, n_vals, bits_per_instruction), p, wl, edges))
    fits.sort()
    for _, p, wl, edges in fits[:3]:  # the best few fits, refined
        r = fit_knots(counts, p, wl, edges, True)
        pen = setup_bits(p, n_values(len(counts), wl, True) + 2 * edges, bits_per_instruction)
        if best is None or r[0] + pen < best[0]:
            best = (r[0] + pen, r[0], r[1])
    t = best[2]
    if t.lo != lo:
        t = FreqTable(t.precision, lo, t.n_sym, t.width_log2, t.delta, t.k, t.bins, t.interp, t.edges)
    return t, best[1]


def write_table(t: FreqTable) -> bytes:
    w = BitWriter()
    w.put(t.precision, 4)
    w.put(t.lo & 0xFF, 8)
    w.put(t.n_sym - 1, 8)
    w.put(t.width_log2, 3)
    w.put(int(t.interp), 1)
    w.put(int(bool(t.edges)), 1)
    w.put(int(t.delta), 1)
    w.put(t.k, 3)
    for v in _coded_values(t.bins + t.edges, t.delta):  # edges continue the delta chain
        w.put_eg(v, t.k)
    return w.to_bytes()


def read_table(data: bytes) -> FreqTable:
    r = BitReader(data)
    p = r.get(4)
    lo = r.get(8)
    lo = lo - 256 if lo >= 128 else lo
    n = r.get(8) + 1
    wl = r.get(3)
    interp = bool(r.get(1))
    has_edges = bool(r.get(1))
    delta = bool(r.get(1))
    k = r.get(3)
    if p == 0 or p > MAX_PRECISION or lo + n > 128 or (has_edges and n < 2):
        raise IlwpError("corrupt .ilwp: bad frequency table header")
    nv = n_values(n, wl, interp)
    vals, prev = [], 0
    for _ in range(nv + (2 if has_edges else 0)):  # the values, then the edge frequencies
        v = r.get_eg(k)
        if delta:
            v = prev + (v >> 1 if v % 2 == 0 else -((v + 1) >> 1))
        if v < 0 or v > (1 << p):
            raise IlwpError("corrupt .ilwp: frequency table value out of range")
        vals.append(v)
        prev = v
    t = FreqTable(p, lo, n, wl, delta, k, tuple(vals[:nv]), interp, tuple(vals[nv:]))
    t.freqs  # validates the sum
    return t


# Pair symbols (format v5): one rANS symbol per two weights, its frequencies derived from the record's
# table, so low-rate tensors (a few values, many zeros) decode in about half the rANS steps at the
# same table and, as the encoder keeps pairs only where measured no larger, no more bytes.
PAIR_MIN_LOG2, PAIR_MAX_LOG2 = 9, 11  # pair precision P2 (n_sym^2 <= 256 < 2^9: every pair gets >= 1)
MAX_PAIR_SYMBOLS = 256  # n_sym^2: the slot entry's byte is the pair's index


@dataclass(frozen=True)
class PairTable:
    """rANS table of the pairs (a, b) = index a * n_sym + b; lo 0: symbols are pair indices."""
    precision: int
    freqs: list[int]
    lo: int = 0

    @property
    def cum(self) -> list[int]:
        return cumulative(self.freqs)


def pair_table(t: FreqTable, pair_log2: int) -> PairTable:
    """f2[a n + b] = 1 + floor(f[a] f[b] (M2 - n^2) / 2^(2P)), M2 = 2^pair_log2; the remainder to the
    first largest (docs/blob-format.md). The sum is at most n^2 + (M2 - n^2) = M2."""
    f, n = t.freqs, t.n_sym
    m2 = 1 << pair_log2
    if not 2 <= n or n * n > MAX_PAIR_SYMBOLS or not PAIR_MIN_LOG2 <= pair_log2 <= PAIR_MAX_LOG2:
        raise IlwpError("corrupt .ilwp: pair symbols need 2..16 values and P2 in 9..11")
    f2 = [1 + ((f[a] * f[b] * (m2 - n * n)) >> (2 * t.precision)) for a in range(n) for b in range(n)]
    f2[f2.index(max(f2))] += m2 - sum(f2)
    return PairTable(pair_log2, f2)
