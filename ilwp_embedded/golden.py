# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The golden model: the tflite-micro Python interpreter (TFLite Micro's reference kernels).

Firmware must match its int8 outputs bit for bit. Models reach it only after `read_tflite` validated
them and `write_tflite` re-serialised them, so it never parses a malformed flatbuffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilwp_embedded.datasets import Dataset
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.convert import pixels_to_float
from ilwp_embedded.ingest.graph import Graph, Tensor
from ilwp_embedded.ingest.tflite_io import write_tflite
from ilwp_embedded.metrics import top1
from ilwp_embedded.tfquiet import captured_fds


@dataclass(frozen=True)
class EvalResult:
    count: int
    correct: int
    outputs: np.ndarray  # (N, ...) raw outputs in the model's output dtype
    labels: np.ndarray | None

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 0.0

    @property
    def predictions(self) -> np.ndarray:
        return self.outputs.reshape(self.count, -1).argmax(axis=1)


def real_range_of_pixels(t: Tensor) -> tuple[float, float]:
    """(offset, scale) mapping uint8 pixels to the real values an int8 model's input expects.

    Inferred from the input's representable real range: beyond ~2 it takes raw 0..255 pixels
    (MLPerf Tiny), below -0.5 it takes [-1, 1], else [0, 1]. For the usual converters this makes
    int8 input exactly `pixel - 128` for both 0..255 (scale 1) and 0..1 (scale 1/255) models.
    """
    s, zp = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    lo, hi = s * (-128 - zp), s * (127 - zp)
    if hi > 2.0:
        return 0.0, 1.0
    if lo < -0.5:
        return -1.0, 2.0 / 255.0
    return 0.0, 1.0 / 255.0


def prepare_inputs(ds: Dataset, t: Tensor, float_range: str = "0:255") -> np.ndarray:
    """The dataset as a batch of model inputs (N, *input_shape[1:]) in the input's dtype.

    A float model's pixel convention cannot be read off the model: `float_range` gives it.
    """
    want = tuple(t.shape[1:]) if len(t.shape) > 1 else tuple(t.shape)
    x = ds.x
    if x.shape[1:] != want and int(np.prod(x.shape[1:])) == int(np.prod(want)):
        x = x.reshape((x.shape[0],) + want)  # e.g. MNIST (28,28) -> (28,28,1)
    if x.shape[1:] != want:
        raise IlwpError(f"dataset {ds.name} has samples of shape {x.shape[1:]}, the model's input "
                        f"'{t.name}' needs {want}")
    if not ds.pixels:
        if x.dtype != np.dtype(t.dtype):
            raise IlwpError(f"dataset {ds.name} holds {x.dtype} arrays, the model's input needs {t.dtype}")
        return x
    if t.dtype == "float32":
        return pixels_to_float(x, float_range)
    if t.dtype not in ("int8", "uint8", "int16") or t.quant is None:
        raise IlwpError(f"model input '{t.name}' is {t.dtype} without quantization; cannot feed images")
    off, sc = real_range_of_pixels(t)
    real = x.astype(np.float64) * sc + off
    q = np.round(real / float(t.quant.scale[0])) + int(t.quant.zero_point[0])
    info = np.iinfo(t.dtype)
    return np.clip(q, info.min, info.max).astype(t.dtype)


def arena_size(graph: Graph) -> int:
    """A generous TFLM arena: all non-constant tensors twice over, plus interpreter overhead."""
    act = sum(int(np.prod(t.shape)) * np.dtype(t.dtype).itemsize for t in graph.tensors if not t.is_constant)
    return 2 * act + 256 * 1024


class Golden:
    """A TFLite Micro interpreter for one validated graph."""

    def __init__(self, graph: Graph):
        from tflite_micro.python.tflite_micro import runtime

        self.graph = graph
        self.input = graph.tensors[graph.inputs[0]]
        # TFLM reports why it refuses a model on fd 2 (C++); capture it and quote it in one line.
        with captured_fds() as log:
            try:
                self._it = runtime.Interpreter.from_bytes(write_tflite(graph), arena_size=arena_size(graph))
                why = None
            except Exception as e:
                why = _msg(e, log)
        if why is not None:
            raise IlwpError(f"the golden interpreter (TFLite Micro) refused the model: {why}")

    def run(self, x: np.ndarray) -> np.ndarray:
        """One inference on one sample (without batch dimension); returns output 0."""
        with captured_fds() as log:
            try:
                self._it.set_input(x.reshape(self.input.shape).astype(self.input.dtype), 0)
                self._it.invoke()
                return np.array(self._it.get_output(0))
            except Exception as e:
                why = _msg(e, log)
        raise IlwpError(f"the golden interpreter (TFLite Micro) failed: {why}")

    def run_batch(self, xs: np.ndarray, progress: bool = False, desc: str = "golden") -> np.ndarray:
        it = range(len(xs))
        if progress:
            from tqdm import tqdm

            it = tqdm(it, desc=desc, unit="img", leave=False)
        return np.stack([self.run(xs[i]) for i in it]) if len(xs) else np.zeros((0,))


def evaluate(graph: Graph, ds: Dataset, progress: bool = False, float_range: str = "0:255") -> EvalResult:
    """The golden interpreter's outputs on a dataset, and their top-1 where it has integer labels
    (other tasks: metrics.task_metrics on `outputs`)."""
    golden = Golden(graph)
    xs = prepare_inputs(ds, golden.input, float_range)
    outs = golden.run_batch(xs, progress=progress, desc=f"golden {ds.name}")
    labelled = ds.y is not None and ds.y.ndim == 1
    return EvalResult(count=len(xs), correct=top1(outs, ds.y)[0] if labelled else 0, outputs=outs, labels=ds.y)


def _msg(e: Exception, log) -> str:
    log.seek(0)
    said = [l.strip() for l in log.read().decode("utf-8", "replace").splitlines() if l.strip()]
    lines = said[:2] or str(e).strip().splitlines()[:1] or [type(e).__name__]
    return "; ".join(lines)[:300]


def tflm_minimal_arena(graph: Graph, granularity: int = 16) -> int:
    """The smallest arena (bytes) with which TFLite Micro allocates and runs the model: a bisection
    over the interpreter's `arena_size`, the figure to compare a static memory plan against."""
    from tflite_micro.python.tflite_micro import runtime

    model = write_tflite(graph)
    inp = graph.tensors[graph.inputs[0]]

    def runs(n: int) -> bool:
        with captured_fds():
            try:
                it = runtime.Interpreter.from_bytes(model, arena_size=n)
                it.set_input(np.zeros(inp.shape, inp.dtype), 0)
                it.invoke()
                return True
            except Exception:
                return False

    lo, hi = 0, arena_size(graph)
    if not runs(hi):
        raise IlwpError("TFLite Micro cannot run the model with a generous arena")
    while hi - lo > granularity:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if runs(mid) else (mid, hi)
    return hi
