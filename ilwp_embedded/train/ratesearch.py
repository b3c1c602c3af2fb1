# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Rate-accuracy search: per-tensor residual steps that minimise coded bits within an accuracy budget.

Lagrangian bit allocation. For every coded tensor t and candidate step s we know the rate R_t(s)
(measured: the tensor's coded record at that step) and estimate the damage D_t(s) = a_t * E_t(s),
with E_t(s) the weight-domain squared error (real units, per-channel scales) and a_t the tensor's
sensitivity: the increase of the logits' mean squared error per unit of E_t, measured once per
tensor on validation images by quantising that tensor alone. For a multiplier lam each tensor takes
the step minimising R_t(s) + lam * D_t(s); lam is bisected (on a log scale) to the largest value
whose whole model, coded for real, stays within the budget on the validation split. Accuracy during
the search comes from the fast evaluator; the chosen model is then checked with the golden
interpreter on the validation split and both figures are reported. The test set is never used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ilwp_embedded.compress.encoder import EncodeResult, encode_graph
from ilwp_embedded.compress.residual import deadzone_offset
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph

STEPS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


def quantize_intra(w: np.ndarray, step: int) -> np.ndarray:
    """What the decoder rebuilds for an intra-coded tensor at `step` (residual.quantize with pred 0)."""
    if step == 1:
        return w.astype(np.int64)
    r = w.astype(np.int64)
    q = (np.abs(r) + deadzone_offset(step)) // step
    return np.clip(np.sign(r) * q * step, -127, 127)


def step_quantizer(step: int) -> Callable:
    """The same dead-zone quantiser for the float trainer (graph_train), straight-through."""
    def q(w):
        import tensorflow as tf

        from ilwp_embedded.zoo.graph_train import ste

        r = tf.clip_by_value(tf.round(w), -127.0, 127.0)
        if step == 1:
            return ste(w, r)
        lev = tf.floor((tf.abs(r) + float(deadzone_offset(step))) / float(step))
        return ste(w, tf.clip_by_value(tf.sign(r) * lev * float(step), -127.0, 127.0))
    return q


@dataclass
class SearchPoint:
    lam: float
    steps: dict[int, int]
    coded_bytes: int
    bits_per_weight: float
    accuracy: float


@dataclass
class SearchResult:
    baseline_accuracy: float  # the uncompressed int8 model on the validation split (fast evaluator)
    budget_points: float
    chosen: SearchPoint
    result: EncodeResult
    tried: list[SearchPoint] = field(default_factory=list)
    golden_accuracy: float | None = None  # the chosen model, golden interpreter, validation split
    golden_baseline: float | None = None
    golden_count: int = 0
    validation: str = ""  # what the accuracies were measured on


def rate_table(graph: Graph, steps=STEPS) -> dict[int, dict[int, int]]:
    """R_t(s) in bytes: each tensor's intra record measured at every uniform step."""
    table: dict[int, dict[int, int]] = {}
    for s in steps:
        res = encode_graph(graph, s, inter=False, skeleton=False)
        for st in res.stats:
            table.setdefault(st.tensor_id, {})[s] = st.record_bytes
    return table


def weight_error(graph: Graph, steps=STEPS) -> dict[int, dict[int, float]]:
    """E_t(s): squared weight error in real units (per-channel scales) at every step."""
    from ilwp_embedded.compress.encoder import channel_layout, channel_scales
    from ilwp_embedded.compress.predict import as_matrix

    out: dict[int, dict[int, float]] = {}
    for op, t in graph.coded_weights():
        C, minor = channel_layout(t, op.op)
        W = as_matrix(t.data.reshape(-1).astype(np.int64), C, minor)
        sc = channel_scales(t, C)[:, None]
        out[t.index] = {s: float((((quantize_intra(W, s) - W) * sc) ** 2).sum()) for s in steps}
    return out


SENSITIVITY_IMAGES = 500


def sensitivities(graph: Graph, xs: np.ndarray, probe_step: int = 8, log=print) -> dict[int, float]:
    """a_t: logit MSE increase per unit of weight error, tensor by tensor, on the float emulation,
    over the first SENSITIVITY_IMAGES of `xs` (inputs in the model's int8 form)."""
    from ilwp_embedded.zoo.graph_train import GraphModel

    t_in = graph.tensors[graph.inputs[0]]
    # The float emulation takes real values: dequantise the int8 inputs.
    x_real = ((xs[:SENSITIVITY_IMAGES].astype(np.float32) - float(t_in.quant.zero_point[0]))
              * float(t_in.quant.scale[0]))
    base = GraphModel(graph)(x_real).numpy()
    err = weight_error(graph, (probe_step,))
    out = {}
    from tqdm import tqdm

    for op, t in tqdm(graph.coded_weights(), desc="sensitivity", unit="tensor", leave=False):
        m = GraphModel(graph, {t.index: step_quantizer(probe_step)})
        d = float(np.mean((m(x_real).numpy() - base) ** 2))
        e = err[t.index][probe_step]
        out[t.index] = d / e if e > 0 else 0.0
    return out


def allocate(rates, errors, sens, lam: float) -> dict[int, int]:
    """Per tensor, the step minimising R + lam * a * E (rates in bits)."""
    return {t: min(rates[t], key=lambda s: 8 * rates[t][s] + lam * sens[t] * errors[t][s]) for t in rates}


def intra_graph(graph: Graph, steps: dict[int, int]) -> Graph:
    """The model an intra-only encode at `steps` decodes to, without coding it (search speed)."""
    return graph.with_tensor_data({t.index: (quantize_intra(t.data, steps.get(t.index, 1)), None)
                                   for _, t in graph.coded_weights()})


def allocation_inputs(graph: Graph, xs: np.ndarray, log=print):
    """(rates, weight errors, sensitivities): what `allocate` needs, sensitivities from `xs`."""
    return rate_table(graph), weight_error(graph), sensitivities(graph, xs, log=log)


def search(graph: Graph, budget_points: float, evaluate: Callable[[Graph], float], xs: np.ndarray,
           *, iterations: int = 12, inter: bool = True, refine: Callable[[Graph, dict], Graph] | None = None,
           log=print) -> SearchResult:
    """Bisect lam for the smallest coded model whose `evaluate` accuracy drop stays <= budget.

    Candidates are scored from the measured intra rate table and their exact intra reconstruction
    (no encode per candidate); the chosen steps are then coded for real (with inter prediction when
    allowed, kept only if it stays within budget). refine(graph, steps) -> graph, when given, is
    applied to each candidate before it is measured (quantization-aware fine-tuning at those steps).
    """
    if budget_points < 0:
        raise IlwpError(f"--accuracy-budget must be >= 0 points (got {budget_points})")
    from tqdm import tqdm

    base = evaluate(graph)
    rates, errors, sens = allocation_inputs(graph, xs, log=log)
    floor = base - budget_points / 100.0
    weights = sum(int(t.data.size) for _, t in graph.coded_weights())
    lossless = {t: 1 for t in rates}
    best = SearchPoint(0.0, lossless, sum(rates[t][1] for t in rates), 0.0, base)
    best.bits_per_weight = 8 * best.coded_bytes / weights
    best_graph, tried = graph, []
    lo, hi = -6.0, 14.0  # log10 lam (bits per unit of logit MSE): all-coarse .. lossless
    bar = tqdm(total=iterations, desc="rate-accuracy search", unit="model", leave=False)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        steps = allocate(rates, errors, sens, 10.0 ** mid)
        cand = intra_graph(graph, steps)
        nbytes = sum(rates[t][steps[t]] for t in rates)
        if refine is not None:  # fine-tuned weights have their own rate: measure it
            cand = refine(cand, steps)
            nbytes = sum(st.record_bytes for st in encode_graph(cand, steps, inter=False, skeleton=False).stats)
        acc = evaluate(cand)
        pt = SearchPoint(10.0 ** mid, steps, nbytes, 8 * nbytes / weights, acc)
        tried.append(pt)
        bar.update(1)
        bar.set_postfix_str(f"{pt.bits_per_weight:.3f} b/w, top-1 {acc:.4f}")
        if acc >= floor:
            hi = mid  # within budget: try coarser (smaller lam)
            if nbytes < best.coded_bytes:
                best, best_graph = pt, cand
        else:
            lo = mid
    bar.close()
    res = encode_graph(best_graph, best.steps, inter=False)
    if inter:
        res_inter = encode_graph(best_graph, best.steps, inter=True)
        # Lossy inter residuals move weights off the intra grid: keep inter only if still in budget.
        if res_inter.coded_bytes < res.coded_bytes and evaluate(res_inter.graph) >= floor:
            res = res_inter
    best.coded_bytes, best.bits_per_weight = res.coded_bytes, 8 * res.coded_bytes / res.weights
    best.accuracy = evaluate(res.graph)
    return SearchResult(base, budget_points, best, res, tried)
