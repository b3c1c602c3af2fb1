#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Instructions per layer of one inference on an emulated Cortex-M (QEMU -icount shift=0).

Builds the benchmark firmware with the per-step hook (ILWP_STEP_HOOK: the generated model calls
ilwp_step_done() after every kernel), runs it on real inputs, checks the outputs against the golden
interpreter and prints, per step, the op, its output shape, its MACs, instructions, instructions per
MAC (or per output element) and share of the inference. The hook itself costs a few dozen
instructions per step.

    PYTHONPATH=. python bench/firmware_layers.py [--model resnet8|kws|PATH] [--board qemu-m4] [--inputs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from devtools.model_bench import bench_model  # noqa: E402  (beside the package, not shipped)
from firmware import MODELS, inputs_for  # noqa: E402  (bench/firmware.py)
from ilwp_embedded.errors import IlwpError  # noqa: E402
from ilwp_embedded.golden import Golden  # noqa: E402
from ilwp_embedded.ingest import load_graph  # noqa: E402


def macs(graph, op) -> int:
    """Multiply-accumulates of a conv / depthwise / fully connected op; 0 for the others."""
    out = graph.tensors[op.outputs[0]].shape
    if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w = graph.tensors[op.inputs[1]].shape
        n_out = int(np.prod(out))
        if op.op == "CONV_2D":
            return n_out * int(np.prod(w[1:]))
        if op.op == "DEPTHWISE_CONV_2D":
            return n_out * w[1] * w[2]
        return n_out * w[1]
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet8")
    ap.add_argument("--board", default="qemu-m4")
    ap.add_argument("--kernels", default="portable")
    ap.add_argument("--inputs", type=int, default=2)
    ap.add_argument("--out", default="build/bench-layers")
    a = ap.parse_args()
    data = Path(os.environ.get("ILWP_DATA_DIR", "../shared/data"))
    path = data / MODELS[a.model] if a.model in MODELS else Path(a.model)
    graph = load_graph(path)
    xs = inputs_for(graph, a.inputs)
    r = bench_model(graph, xs, a.kernels, Path(a.out) / path.stem / a.board, board=a.board, step_hook=True)
    golden = Golden(graph)
    for x, out in zip(xs, r.outputs):
        if not np.array_equal(out, golden.run(x).reshape(-1)):
            raise IlwpError(f"{a.board}: output differs from the golden model")
    ends = np.median(np.array(r.step_end, dtype=np.float64), axis=0)
    cost = np.diff(np.concatenate([[0.0], ends]))
    total = float(np.median(r.elapsed_all))
    print(f"{'step':>4} {'op':18} {'output':14} {'MACs':>9} {'instr':>11} {'/MAC':>6} {'/out':>7} {'share':>6}")
    for k, op in enumerate(graph.operators):
        n = macs(graph, op)
        shape = graph.tensors[op.outputs[0]].shape
        n_out = int(np.prod(shape))
        per_mac = f"{cost[k] / n:6.2f}" if n else f"{'':6}"
        print(f"{k:4d} {op.op:18} {'x'.join(map(str, shape)):14} {n:9d} {cost[k]:11.0f} {per_mac} "
              f"{cost[k] / n_out:7.1f} {100 * cost[k] / total:5.1f}%")
    by_op: dict[str, float] = {}
    for k, op in enumerate(graph.operators):
        by_op[op.op] = by_op.get(op.op, 0.0) + cost[k]
    print(f"total {total:.0f} {r.unit} per inference (median of {len(xs)}; outputs bit-exact with the golden model); "
          + ", ".join(f"{k} {v / total:.1%}" for k, v in sorted(by_op.items(), key=lambda kv: -kv[1])))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except IlwpError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
