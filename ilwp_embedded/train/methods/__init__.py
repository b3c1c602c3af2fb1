# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Weight quantization methods, each producing an int8 graph on the model's own scales that the
ILWP container codes losslessly (so `build` and `validate` run it unchanged and bit-exact):

  ilwp  the codec itself: per-tensor intra/inter prediction, residual step (1 = lossless)
  tq    transform quantization: KLT + reverse water-filling bit allocation (tq.py)
  dqc   dynamic quantization coding: trained k-means codebook, 2^bits entries (dqc.py)
  slq   single-level incremental quantization onto a k-means codebook (slq.py)
  mlq   multi-level (ternary) incremental quantization (slq.py)

`compress(graph, method, opts)` runs one; `curve_points(...)` gives (bits/weight, top-1) points for
the rate-accuracy report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ilwp_embedded.compress.encoder import EncodeResult, encode_graph
from ilwp_embedded.train.methods import dqc, slq, tq
from ilwp_embedded.train.methods.common import Log, Options
from ilwp_embedded.train.methods.result import Quantized
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph

METHODS = ("ilwp", "tq", "dqc", "slq", "mlq")


def _ilwp(graph: Graph, opts: Options, log: Log) -> Quantized:
    if opts.epochs > 0:
        raise IlwpError("--method ilwp does not retrain here; use `ilwp-embed finetune` first")
    return Quantized(graph, {"step": opts.step})


QUANTIZERS: dict[str, Callable[[Graph, Options, Log], Quantized]] = {
    "ilwp": _ilwp,
    "tq": tq.quantize,
    "dqc": dqc.quantize,
    "slq": lambda g, o, log: slq.quantize(g, o, log, "slq"),
    "mlq": lambda g, o, log: slq.quantize(g, o, log, "mlq"),
}


@dataclass
class MethodResult:
    method: str
    options: Options
    quantized: Quantized
    encoded: EncodeResult  # the container: the blob, the graph the decoder rebuilds, per-tensor stats

    @property
    def graph(self) -> Graph:
        return self.encoded.graph

    @property
    def bits_per_weight(self) -> float:
        """Everything the device stores for the weights (header, tables, side info, payloads, CRC),
        the skeleton (operators, biases, scales) excluded, over the number of weights."""
        return 8 * self.encoded.coded_bytes / self.encoded.weights


def check_options(method: str, opts: Options) -> None:
    """Reject bad settings before any work (one-line errors)."""
    if method not in METHODS:
        raise IlwpError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if opts.epochs < 0 or (opts.train_limit is not None and opts.train_limit <= 0):
        raise IlwpError("--epochs must be >= 0 and --train-limit positive")
    if method == "ilwp" and not 1 <= opts.step <= 127:
        raise IlwpError(f"--step must be 1..127, got {opts.step}")
    {"tq": tq.check, "dqc": dqc.check, "slq": lambda o: slq.check("slq", o),
     "mlq": lambda o: slq.check("mlq", o)}.get(method, lambda o: None)(opts)
    if opts.epochs > 0:
        from ilwp_embedded.train.methods.retrain import require_training_data

        require_training_data(method, opts)


def compress(graph: Graph, method: str, opts: Options = Options(), log: Log = print) -> MethodResult:
    """Quantize with `method`, then code the result with the container (the ILWP encoder keeps,
    per tensor, the smallest of intra and inter coding: lossless for every method but ilwp with a
    step, so the decoded weights are exactly the method's)."""
    check_options(method, opts)
    q = QUANTIZERS[method](graph, opts, log)
    enc = encode_graph(q.graph, opts.step if method == "ilwp" else 1)
    return MethodResult(method, opts, q, enc)


@dataclass(frozen=True)
class CurvePoint:
    method: str
    setting: dict
    bits_per_weight: float
    top1: float
    count: int  # test images evaluated
    val_accuracy: float | None = None
    device_stream_bits_per_weight: float | None = None  # tq: transform-domain stream decoded on device


def curve_points(method: str, graph: Graph, settings: list[dict], *, limit: int | None = None,
                 data_dir=None, base: Options = Options(), log: Log = print) -> list[CurvePoint]:
    """(bits/weight, golden top-1 on the CIFAR-10 JPEG test set) for each setting, e.g.
    `curve_points("dqc", g, [{"bits": 3}, {"bits": 4}], limit=2000)`. Settings are Options fields."""
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.golden import evaluate

    test = load_dataset("cifar10", data_dir, split="test").take(limit)
    out = []
    for s in settings:
        opts = replace(base, data_dir=data_dir if data_dir is not None else base.data_dir, **s)
        res = compress(graph, method, opts, log)
        ev = evaluate(res.graph, test)
        ds = res.quantized.device_stream
        out.append(CurvePoint(method, dict(s), res.bits_per_weight, ev.accuracy, ev.count,
                              res.quantized.val_accuracy, ds["bits_per_weight"] if ds else None))
        log(f"{method} {s}: {res.bits_per_weight:.3f} bits/weight, top-1 {ev.accuracy:.4f} on {ev.count}")
    return out


__all__ = ["METHODS", "Options", "MethodResult", "CurvePoint", "compress", "curve_points", "check_options"]
