# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Fast top-1 of an int8 graph, for searches and rate-accuracy curves.

The golden model (TFLite Micro, `golden.py`) takes ~58 ms per CIFAR image on this machine: a
search that scores dozens of candidates on 5,000 validation images, or a report with dozens of
points on the 10,000 test images, cannot afford it. LiteRT's built-in optimised kernels (no
XNNPACK delegate) run the same int8 model in ~2.3 ms per image in batches; they round a few
outputs differently (by a few units on ~1% of inputs), which moves top-1 by a few hundredths of a
point at most. Bit-exactness is never judged here, only in `golden.py`; searches confirm their
final choice with the golden interpreter.
"""

from __future__ import annotations

import numpy as np

from ilwp_embedded import metrics
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.ingest.tflite_io import write_tflite
from ilwp_embedded.tfquiet import captured_fds


def run_batched(graph: Graph, xs: np.ndarray, batch: int = 250) -> np.ndarray:
    """Output 0 for every sample of `xs` (already in the input's dtype, without batch axis)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    with captured_fds():
        try:
            it = Interpreter(model_content=write_tflite(graph), num_threads=2,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
            inp, out = it.get_input_details()[0], it.get_output_details()[0]
            outs, shape = [], None
            for s in range(0, len(xs), batch):
                xb = xs[s:s + batch]
                if xb.shape[0] != shape:
                    shape = xb.shape[0]
                    it.resize_tensor_input(inp["index"], [shape, *inp["shape"][1:]])
                    it.allocate_tensors()
                it.set_tensor(inp["index"], xb.astype(inp["dtype"]))
                it.invoke()
                outs.append(it.get_tensor(out["index"]).reshape(shape, -1).copy())
        except (ValueError, RuntimeError) as e:
            raise IlwpError(f"LiteRT could not run the model for fast evaluation: {str(e).splitlines()[0]}") from None
    return np.concatenate(outs) if outs else np.zeros((0, 0))


def top1(graph: Graph, xs: np.ndarray, labels: np.ndarray) -> float:
    correct, count = metrics.top1(run_batched(graph, xs), labels)
    return correct / count if count else 0.0
