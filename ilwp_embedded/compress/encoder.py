# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Encoder: per tensor, try intra and inter prediction from earlier decoded tensors, keep the
smallest by measured coded size (intra is always measured, so the file never exceeds
intra-only coding), and return the reconstructed weights the decoder will produce."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from ilwp_embedded.compress import container, rans
from ilwp_embedded.compress.freqtable import (BITS_PER_SETUP_INSTRUCTION, MAX_PAIR_SYMBOLS, PAIR_MAX_LOG2,
                                              PAIR_MIN_LOG2, SLOT_INSTRUCTIONS, best_table, histogram, pair_table,
                                              write_table)
from ilwp_embedded.compress.predict import align_channels, as_matrix, from_matrix, multipliers, predict, scale_kernel
from ilwp_embedded.compress.residual import quantize, reconstruct
from ilwp_embedded.compress.streams import (MODE_COLLOCATED, MODE_INTRA, MODE_NAMES, MODE_SEARCHED, MULT_SHIFT,
                                            Container, TensorRecord)
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph, Tensor
from ilwp_embedded.ingest.tflite_io import write_tflite

MAX_REFS = 8  # earlier tensors searched as references (bounds encode time)
# Cortex-M4 decoder (qemu-m4, measured): the rANS loop per single symbol and per pair symbol, and the
# pair table's set-up per pair (its frequency, index and two output bytes), beside the slots' set-up.
LOOP_INSTRUCTIONS, PAIR_LOOP_INSTRUCTIONS, PAIR_SETUP_INSTRUCTIONS = 9.9, 12.1, 40
# Channel alignment is coded as MODE_SEARCHED whose map is a permutation; a separate label only
# for the encoder's statistics.
MODE_ALIGNED = -1


@dataclass
class TensorStats:
    tensor_id: int
    name: str
    shape: tuple[int, ...]
    mode: str
    step: int
    ref_tensor_id: int | None
    inter_channels: int
    record_bytes: int
    entropy_bits: float  # order-0 empirical entropy of the coded symbols
    intra_bytes: int = 0  # measured size of the intra record
    best_inter_bytes: int | None = None  # measured size of the best inter candidate (None: no reference fits)

    @property
    def bits(self) -> int:
        return 8 * self.record_bytes


@dataclass
class EncodeResult:
    blob: bytes
    container: Container
    recon: dict[int, np.ndarray]  # tensor index -> int8 weights as the decoder rebuilds them
    stats: list[TensorStats] = field(default_factory=list)
    graph: Graph | None = None  # the input graph with `recon` as weights (lossy: the model to run)

    @property
    def weights(self) -> int:
        return sum(int(v.size) for v in self.recon.values())

    @property
    def skeleton_bytes(self) -> int:
        return len(self.container.skeleton)

    @property
    def coded_bytes(self) -> int:
        """Everything but the skeleton section: header, records (tables, side info), CRC."""
        return len(self.blob) - self.skeleton_bytes

    @property
    def entropy_bound_bits(self) -> float:
        return sum(s.entropy_bits for s in self.stats)


def entropy_bits(symbols: np.ndarray) -> float:
    _, c = histogram(symbols)
    c = c[c > 0].astype(np.float64)
    return float(-(c * np.log2(c / c.sum())).sum())


def channel_layout(t: Tensor, op_name: str) -> tuple[int, bool]:
    """(channels, channel_minor): per-channel axis 0 (conv, FC) or last (depthwise)."""
    nd = len(t.shape)
    axis = t.quant.axis if (t.quant is not None and t.quant.per_channel) else (
        nd - 1 if op_name == "DEPTHWISE_CONV_2D" else 0)
    if nd < 2 or axis not in (0, nd - 1):
        return 1, False
    return int(t.shape[axis]), axis == nd - 1 and axis != 0


def channel_scales(t: Tensor, n_channels: int) -> np.ndarray:
    if t.quant is None:
        return np.ones(n_channels)
    s = t.quant.scale.astype(np.float64).reshape(-1)
    return np.broadcast_to(s, (n_channels,)) if s.size == 1 else s


def _proxy(q: np.ndarray) -> np.ndarray:
    """Per-row code-length proxy for residuals (Laplacian-like: ~log2 of the magnitude)."""
    return np.log2(1.0 + np.abs(q)).sum(axis=-1)


@dataclass
class _Ref:
    record: int
    tensor_id: int
    matrix: np.ndarray  # (C, K) reconstructed
    scales: np.ndarray
    channel_minor: bool


@dataclass
class _Candidate:
    mode: int
    symbols: np.ndarray  # storage order
    recon: np.ndarray  # (C, K)
    ref: _Ref | None = None
    mults: tuple[int, ...] = ()
    ref_map: tuple[int, ...] = ()
    inter_channels: int = 0
    label: str = "intra"


def fitted_multipliers(W: np.ndarray, R: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel Q12 multipliers fitted to the data (collocated channels), and their proxy costs.

    Candidates per channel: the least-squares fit <W,R>/<R,R>, the L1 fit (the |R|-weighted median
    of W/R), and a neighbourhood of the L1 fit (a step of 4096/127 changes some prediction by one
    quantum); each is scored with the code-length proxy on the residual it leaves, the cheapest kept.
    Multipliers are >= 0 (the stream stores them unsigned)."""
    C = W.shape[0]
    Wf, Rf = W.astype(np.float64), R.astype(np.float64)
    rr = (Rf * Rf).sum(1)
    ls = np.where(rr > 0, (Wf * Rf).sum(1) / np.maximum(rr, 1e-12), 0.0)
    l1 = np.zeros(C)
    for c in range(C):
        nz = Rf[c] != 0
        if not nz.any():
            continue
        ratio, wt = Wf[c, nz] / Rf[c, nz], np.abs(Rf[c, nz])
        o = np.argsort(ratio)
        cw = np.cumsum(wt[o])
        l1[c] = ratio[o][np.searchsorted(cw, cw[-1] / 2)]
    one = float(1 << MULT_SHIFT)
    base = np.rint(np.stack([ls, l1], 1) * one)
    near = np.rint(l1 * one)[:, None] + np.arange(-6, 7)[None, :] * (one / 254)
    cands = np.clip(np.concatenate([base, near], 1), 0, 0xFFFF).astype(np.int64)  # (C, n)
    for _ in range(2):  # coarse candidates, then a fine search around the best
        P = scale_kernel(R[:, None, :], cands[:, :, None])
        cost = _proxy(quantize(W[:, None, :], P, step))
        best = cands[np.arange(C), cost.argmin(1)]
        cands = np.clip(best[:, None] + np.arange(-20, 21)[None, :], 0, 0xFFFF)
    return best, cost.min(1)


def _inter_candidates(W: np.ndarray, s: np.ndarray, ref: _Ref, step: int, minor: bool):
    C, K = W.shape
    R = ref.matrix
    if R.shape[1] != K:
        return
    m_all = multipliers(ref.scales, s)  # (C, C_ref)
    intra_cost = _proxy(quantize(W, 0, step))
    if R.shape[0] == C:  # collocated
        mult = np.diag(m_all).copy()
        cost = _proxy(quantize(W, scale_kernel(R, mult[:, None]), step))
        yield MODE_COLLOCATED, mult.copy(), None  # every channel predicted
        mult[cost >= intra_cost] = 0  # only the channels where prediction looks cheaper
        yield MODE_COLLOCATED, mult, None
        # multipliers fitted per channel to the data (e.g. trained chains whose scales differ)
        mult, cost = fitted_multipliers(W, R, step)
        yield MODE_COLLOCATED, mult.copy(), None
        mult[cost >= intra_cost] = 0
        yield MODE_COLLOCATED, mult, None
    # searched: best reference channel per channel, in blocks to bound memory
    best_j = np.zeros(C, dtype=np.int64)
    best_cost = np.full(C, np.inf)
    energy = np.zeros((C, R.shape[0]))
    block = max(1, 2_000_000 // max(1, R.shape[0] * K))
    for c0 in range(0, C, block):
        c1 = min(C, c0 + block)
        P = scale_kernel(R[None, :, :], m_all[c0:c1, :, None])  # (b, C_ref, K)
        q = quantize(W[c0:c1, None, :], P, step)
        cost = _proxy(q)
        energy[c0:c1] = (q.astype(np.float64) ** 2).sum(axis=-1)
        best_j[c0:c1] = cost.argmin(axis=1)
        best_cost[c0:c1] = cost.min(axis=1)
    mult = m_all[np.arange(C), best_j]
    yield MODE_SEARCHED, mult.copy(), best_j
    mult[best_cost >= intra_cost] = 0
    yield MODE_SEARCHED, mult, best_j
    if R.shape[0] >= C:  # channel alignment: a permutation of the reference's channels
        perm = align_channels(energy)
        yield MODE_ALIGNED, m_all[np.arange(C), perm], perm


def _candidate(W, step, minor, mode, ref=None, mult=None, ref_map=None) -> _Candidate:
    label = "inter-aligned" if mode == MODE_ALIGNED else MODE_NAMES[mode]
    mode = MODE_SEARCHED if mode == MODE_ALIGNED else mode
    if mode == MODE_INTRA:
        pred = np.zeros_like(W, dtype=np.int64)
    else:
        pred = predict(ref.matrix, mult, ref_map)
    q = quantize(W, pred, step)
    return _Candidate(mode, from_matrix(q, minor), reconstruct(q, pred, step), ref,
                      tuple(int(v) for v in mult) if mult is not None else (),
                      tuple(int(v) for v in ref_map) if ref_map is not None else (),
                      int(np.count_nonzero(mult)) if mult is not None else 0, label)


def _record(cand: _Candidate, tid: int, C: int, minor: bool, step: int, pairs: bool = False) -> TensorRecord:
    table, _ = best_table(cand.symbols)
    kw = {}
    if cand.mode != MODE_INTRA:
        kw = dict(ref_record=cand.ref.record, ref_channels=cand.ref.matrix.shape[0],
                  ref_channel_minor=cand.ref.channel_minor, mults=cand.mults)
        if cand.mode == MODE_SEARCHED:
            kw["ref_map"] = cand.ref_map
    table_bytes, payload = write_table(table), rans.encode(cand.symbols, table)
    payload, pair_log2 = _pairs(cand.symbols, table, payload) if pairs else (payload, 0)
    if len(table_bytes) + len(payload) + _varint_len(len(payload)) >= cand.symbols.size + _varint_len(cand.symbols.size):
        # stored: a small or flat tensor whose table costs more than it saves (never above int8 + header)
        table_bytes, payload, pair_log2 = b"", cand.symbols.astype(np.int8).tobytes(), 0
    return TensorRecord(tid, cand.mode, minor, int(cand.symbols.size), C, step,
                        table=table_bytes, payload=payload, pair_log2=pair_log2, **kw)


def _pairs(symbols: np.ndarray, table, payload: bytes) -> tuple[bytes, int]:
    """The payload as pair symbols (format v5) where that is measured no larger and decodes in fewer
    instructions, set-up included (a small tensor's pair set-up outweighs its halved rANS steps).
    Among the pair precisions, the fewest bits with the set-up charged (freqtable.setup_bits), as for
    the table's own precision. Returns (payload, P2) or (payload, 0): single symbols."""
    n = table.n_sym
    if n < 2 or n * n > MAX_PAIR_SYMBOLS:
        return payload, 0
    u = symbols.astype(np.int64) - table.lo
    if u.size % 2:
        u = np.append(u, u[-1])  # an odd record's last pair: its second symbol is not decoded
    idx = u[0::2] * n + u[1::2]
    single = LOOP_INSTRUCTIONS * symbols.size + SLOT_INSTRUCTIONS * (1 << table.precision)
    best = None
    for p2 in range(PAIR_MIN_LOG2, PAIR_MAX_LOG2 + 1):
        pay = rans.encode(idx, pair_table(table, p2))
        instr = PAIR_LOOP_INSTRUCTIONS * idx.size + SLOT_INSTRUCTIONS * (1 << p2) + PAIR_SETUP_INSTRUCTIONS * n * n
        cost = 8 * len(pay) + BITS_PER_SETUP_INSTRUCTION * instr
        if len(pay) <= len(payload) and instr < single and (best is None or cost < best[0]):
            best = (cost, pay, p2)
    return (best[1], best[2]) if best else (payload, 0)


def _varint_len(v: int) -> int:
    return max(1, (int(v).bit_length() + 6) // 7)


def _estimate(cand: _Candidate, C: int) -> float:
    side = 0 if cand.mode == MODE_INTRA else 16 * C * (2 if cand.mode == MODE_SEARCHED else 1)
    return min(best_table(cand.symbols, knots=False)[1], 8 * cand.symbols.size) + side  # (stored: 8 bits a symbol)


def encode_graph(graph: Graph, steps: int | dict[int, int] = 1, *, inter: bool = True,
                 skeleton: bool = True, ref_window: int = MAX_REFS, pairs: bool = False) -> EncodeResult:
    """Code every int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED weight tensor of `graph`.

    steps: one residual step for all tensors, or {tensor index: step} (missing -> 1 = lossless).
    inter=False forces intra-only coding (the baseline inter must beat).
    ref_window: how many of the previously coded tensors may be references; a firmware that
    decodes layer by layer must keep that many decoded tensors (1: only the previous one).
    pairs: allow pair symbols (format v5) where they decode faster at no more bytes. Off by default:
    they never make the blob smaller and their decoder code costs about 0.8 KB of flash, so they are
    for builds that want speed (`--optimize speed`, `compress --pairs`).
    """
    todo = graph.coded_weights()
    if not todo:
        raise IlwpError("the model has no int8 CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED weights "
                        "(float model?); quantise it to int8 first")
    records, stats, refs, recon = [], [], [], {}
    for op, t in todo:
        step = steps if isinstance(steps, int) else int(steps.get(t.index, 1))
        if not 1 <= step <= container.MAX_STEP:
            raise IlwpError(f"step {step} for tensor {t.name} is outside 1..{container.MAX_STEP}")
        C, minor = channel_layout(t, op.op)
        W = as_matrix(t.data.reshape(-1).astype(np.int64), C, minor)
        s = channel_scales(t, C)
        intra = _candidate(W, step, minor, MODE_INTRA)
        best = None
        if inter:
            for ref in (refs[-ref_window:] if ref_window > 0 else []):
                for mode, mult, ref_map in _inter_candidates(W, s, ref, step, minor):
                    if not mult.any():
                        continue
                    cand = _candidate(W, step, minor, mode, ref, mult, ref_map)
                    est = _estimate(cand, C)
                    if best is None or est < best[0]:
                        best = (est, cand)
        chosen = intra
        rec = _record(intra, t.index, C, minor, step, pairs)
        intra_bytes = len(container.record_bytes(rec))
        inter_bytes = None
        if best is not None:  # measure the best inter candidate for real; keep it only if smaller
            rec_inter = _record(best[1], t.index, C, minor, step, pairs)
            inter_bytes = len(container.record_bytes(rec_inter))
            if inter_bytes < intra_bytes:
                chosen, rec = best[1], rec_inter
        records.append(rec)
        refs.append(_Ref(len(records) - 1, t.index, chosen.recon, s, minor))
        flat = from_matrix(chosen.recon, minor).astype(np.int8).reshape(t.shape)
        recon[t.index] = flat
        stats.append(TensorStats(t.index, t.name, t.shape, chosen.label, step,
                                 chosen.ref.tensor_id if chosen.ref else None, chosen.inter_channels,
                                 len(container.record_bytes(rec)), entropy_bits(chosen.symbols),
                                 intra_bytes, inter_bytes))
    out_graph = graph.with_tensor_data({i: (w, None) for i, w in recon.items()})
    skel = b""
    if skeleton:
        zeroed = graph.with_tensor_data({i: (np.zeros_like(w), None) for i, w in recon.items()})
        skel = zlib.compress(write_tflite(zeroed), 9)
    lossy = any(r.step > 1 for r in records)
    cont = Container(lossy, tuple(records), skel)
    return EncodeResult(container.pack(cont), cont, recon, stats, out_graph)
