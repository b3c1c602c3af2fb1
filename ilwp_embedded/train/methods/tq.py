# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Transform quantization (Young et al. 2020, "Transform Quantization for CNN Compression"),
post-training with an optional quantizer-in-the-loop retraining.

Per weight tensor (in int8 quanta), vectors are taken along one axis (out: output channels,
in: input channels, spatial: the kernel window) and decorrelated by their KLT (eigenvectors of
the second-moment matrix). Bits go to the transform coefficients by reverse water-filling over
ALL components of ALL tensors: component j (variance lambda_j) gets b_j = max(0, 1/2 log2(lambda_j /
theta)) bits, theta set by bisection so the model's total meets --bits per weight; components under
the water level are dropped. Each coded component is quantized uniformly with round(b_j) bits over
its range. "auto" picks per tensor the axis with the lowest Lagrangian cost D + 2 ln2 theta R,
basis side information included.

Deployment: the coefficients are transformed back on the host, in the same fixed-point arithmetic
a device decoder would use (an int16 basis pre-multiplied by the steps, int32 accumulation, one
rounding shift), and the resulting int8 weights are coded by the container. The module also
reports what the transform-domain stream would cost if decoded on the device (coefficient rANS
code lengths with their tables, plus the int16 basis), for the deployment comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ilwp_embedded.compress.freqtable import best_table
from ilwp_embedded.train.methods.common import Log, Options, WeightTensor, weight_tensors, with_weights
from ilwp_embedded.train.methods.result import Quantized
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph

AXES = ("out", "in", "spatial")
MAX_DEPTH = 7  # coefficient indices stay within the container's symbol range (|q| <= 64)
BASIS_BITS = 16  # int16 entries of the step-scaled basis
COMPONENT_BITS = 3 + 5  # per coded component: bit depth, basis shift/exponent
TENSOR_BITS = 32  # axis, component count, shift, header


@dataclass
class TensorKLT:
    wt: WeightTensor
    axis: str
    perm: tuple[int, ...]  # tensor axes moved so the transform axis (or axes) comes last
    n: int  # vector length
    samples: int  # number of vectors
    basis: np.ndarray  # (n, n) orthonormal, columns = components, by decreasing variance
    variances: np.ndarray  # (n,) lambda_j

    def vectors(self, data: np.ndarray) -> np.ndarray:
        return np.transpose(np.asarray(data, dtype=np.float64), self.perm).reshape(-1, self.n)

    def unvectors(self, x: np.ndarray) -> np.ndarray:
        shape = tuple(self.wt.tensor.shape[a] for a in self.perm)
        return np.transpose(x.reshape(shape), np.argsort(self.perm))


def axis_groups(wt: WeightTensor) -> dict[str, tuple[int, ...]]:
    """Tensor axes of each transform axis, for the tflite layouts (conv OHWI, depthwise 1HWC, FC OI)."""
    shape = wt.tensor.shape
    if wt.op.op == "DEPTHWISE_CONV_2D" and len(shape) == 4:
        groups = {"out": (3,), "spatial": (1, 2)}
    elif len(shape) == 4:
        groups = {"out": (0,), "spatial": (1, 2), "in": (3,)}
    elif len(shape) == 2:
        groups = {"out": (0,), "in": (1,)}
    else:
        groups = {"out": (0,)}
    return {k: v for k, v in groups.items() if int(np.prod([shape[a] for a in v])) > 1}


def klt(wt: WeightTensor, axis: str) -> TensorKLT:
    axes = axis_groups(wt)[axis]
    perm = tuple(a for a in range(len(wt.tensor.shape)) if a not in axes) + axes
    n = int(np.prod([wt.tensor.shape[a] for a in axes]))
    x = np.transpose(wt.tensor.data.astype(np.float64), perm).reshape(-1, n)
    cov = x.T @ x / len(x)
    lam, u = np.linalg.eigh(cov)
    order = np.argsort(lam)[::-1]
    lam, u = np.maximum(lam[order], 0.0), u[:, order]
    u = u * np.where(u[np.abs(u).argmax(axis=0), np.arange(n)] < 0, -1.0, 1.0)  # deterministic signs
    return TensorKLT(wt, axis, perm, n, len(x), u, lam)


def water_bits(variances: np.ndarray, theta: float) -> np.ndarray:
    """Reverse water-filling: bits per coefficient of each component at water level theta."""
    with np.errstate(divide="ignore"):
        return np.maximum(0.0, 0.5 * np.log2(np.maximum(variances, 1e-300) / theta))


def depths(variances: np.ndarray, theta: float) -> np.ndarray:
    return np.minimum(np.rint(water_bits(variances, theta)), MAX_DEPTH).astype(np.int64)


def model_cost(k: TensorKLT, theta: float) -> tuple[float, float]:
    """(rate bits, distortion in quanta^2) of one tensor at water level theta, side info included."""
    b = water_bits(k.variances, theta)
    coded = int(np.count_nonzero(np.rint(b) > 0))
    rate = k.samples * float(b.sum()) + side_bits(k.n, coded)
    dist = k.samples * float(np.minimum(k.variances, theta).sum())
    return rate, dist


def side_bits(n: int, coded: int) -> int:
    return TENSOR_BITS + coded * (BASIS_BITS * n + COMPONENT_BITS)


def choose(klts: dict[str, TensorKLT], theta: float) -> TensorKLT:
    def j(k):
        r, d = model_cost(k, theta)
        return d + 2 * math.log(2) * theta * r

    return min(klts.values(), key=j)


def solve_theta(cands: list[dict[str, TensorKLT]], target_bits: float, weights: int) -> float:
    """Bisection (log domain) on the water level so that the modelled rate meets the target."""
    def rate(theta):
        return sum(model_cost(choose(c, theta), theta)[0] for c in cands) / weights

    lo, hi = 1e-6, 1e6
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if rate(mid) > target_bits else (lo, mid)
    return hi


@dataclass
class Coded:
    """One tensor's transform-domain code: integer coefficients and the fixed-point basis."""

    klt: TensorKLT
    depth: np.ndarray  # (n,) bit depth per component
    q: np.ndarray  # (samples, coded) integer coefficient indices
    basis_q: np.ndarray  # (coded, n) int16: step_j * U[:, j], scaled by 2^shift
    shift: int

    def reconstruct(self) -> np.ndarray:
        """The int8 weights a device decoder would produce (exact integer arithmetic)."""
        acc = self.q.astype(np.int64) @ self.basis_q.astype(np.int64)
        half = (1 << (self.shift - 1)) if self.shift > 0 else 0
        w = (acc + half) >> self.shift
        return np.clip(self.klt.unvectors(w), -127, 127).astype(np.int8)

    def stream_bits(self) -> dict:
        """Rate of the transform-domain stream: each coded component's indices rANS-coded with
        their own table (the container's table coder, bin tables only: knot fits per component
        would cost seconds per tensor and save a few bits), plus the basis and per-component side info."""
        coef = 0.0
        for j in range(self.q.shape[1]):
            col = self.q[:, j]
            coef += 0.0 if np.all(col == col[0]) and col[0] == 0 else best_table(col, knots=False)[1]
        side = side_bits(self.klt.n, self.q.shape[1])
        return {"coefficient_bits": coef, "side_bits": side}


def code_tensor(k: TensorKLT, theta: float, data: np.ndarray | None = None) -> Coded:
    data = k.wt.tensor.data if data is None else data
    d = depths(k.variances, theta)
    cols = np.flatnonzero(d > 0)
    y = k.vectors(data) @ k.basis[:, cols]
    steps = []
    for c, j in enumerate(cols):
        r = float(np.abs(y[:, c]).max())
        steps.append(2 * r / (2 ** d[j]) if r > 0 else 1.0)
    steps = np.asarray(steps)
    half = np.array([2 ** (d[j] - 1) for j in cols])
    if len(cols):
        q = np.clip(np.rint(y / steps[None, :]), -half, half).astype(np.int64)
    else:
        q = np.zeros((k.samples, 0), np.int64)
    b = (k.basis[:, cols] * steps[None, :]).T if len(cols) else np.zeros((0, k.n))
    peak = float(np.abs(b).max()) if b.size else 0.0
    shift = 0 if peak == 0 else max(0, min(30, int(math.floor(math.log2(32767 / peak)))))
    basis_q = np.clip(np.rint(b * (1 << shift)), -32768, 32767).astype(np.int16)
    return Coded(k, d, q, basis_q, shift)


def check(opts: Options) -> None:
    if not 0.05 <= opts.bits <= 8:
        raise IlwpError(f"tq takes --bits between 0.05 and 8 (average bits per coefficient), got {opts.bits:g}")
    if opts.axis not in AXES + ("auto",):
        raise IlwpError(f"--axis must be one of {', '.join(AXES)}, auto; got {opts.axis}")


def plan(graph: Graph, opts: Options) -> tuple[list[TensorKLT], float]:
    """The KLT of each tensor on its chosen axis and the global water level."""
    wts = weight_tensors(graph)
    cands = []
    for wt in wts:
        groups = axis_groups(wt)
        if opts.axis != "auto" and opts.axis not in groups:
            raise IlwpError(f"tensor {wt.tensor.name} {wt.tensor.shape} has no '{opts.axis}' axis to transform")
        names = groups if opts.axis == "auto" else (opts.axis,)
        cands.append({a: klt(wt, a) for a in names})
    weights = sum(int(wt.tensor.data.size) for wt in wts)
    theta = solve_theta(cands, opts.bits, weights)
    return [choose(c, theta) for c in cands], theta


def quantize(graph: Graph, opts: Options, log: Log = print) -> Quantized:
    check(opts)
    klts, theta = plan(graph, opts)
    coded = {k.wt.index: code_tensor(k, theta) for k in klts}
    out = with_weights(graph, {i: c.reconstruct() for i, c in coded.items()})
    val = None
    if opts.epochs > 0:
        from ilwp_embedded.train.methods.retrain import retrain, rounding_quantizer

        def projector(k):
            return lambda w: code_tensor(k, theta, np.clip(np.rint(w), -127, 127)).reconstruct().astype(np.float32)

        out, val = retrain(graph, {k.wt.index: rounding_quantizer(projector(k)) for k in klts}, opts, log)
        # re-code the trained projection (so the stream and the weights agree); keep its biases
        coded = {k.wt.index: code_tensor(k, theta, out.tensors[k.wt.index].data) for k in klts}
        out = with_weights(out, {i: c.reconstruct() for i, c in coded.items()})
    weights = sum(int(k.wt.tensor.data.size) for k in klts)
    per = []
    coef = side = 0.0
    macs = 0
    for k in klts:
        c = coded[k.wt.index]
        sb = c.stream_bits()
        coef += sb["coefficient_bits"]
        side += sb["side_bits"]
        macs += int(c.q.shape[1]) * int(k.wt.tensor.data.size)
        per.append({"tensor": k.wt.index, "axis": k.axis, "n": k.n, "coded_components": int(c.q.shape[1]),
                    "depths": [int(v) for v in c.depth], "stream_bits": round(sb["coefficient_bits"] + sb["side_bits"])})
    device = {"coefficient_bits": round(coef), "side_bits": round(side),
              "bits_per_weight": (coef + side) / weights, "macs_per_weight": macs / weights}
    info = {"bits_target": opts.bits, "axis": opts.axis, "theta": theta, "epochs": opts.epochs, "tensors": per}
    return Quantized(out, info, val_accuracy=val, device_stream=device)
