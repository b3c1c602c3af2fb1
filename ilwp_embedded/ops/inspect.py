# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""A per-layer summary of a graph: what it computes, what it weighs, what the firmware supports."""

from __future__ import annotations

from typing import Any

import numpy as np

from ilwp_embedded.ingest.graph import WEIGHTED_OPS, Graph
from ilwp_embedded.ops.support import float_tensor, unsupported_reason


def summarize(graph: Graph) -> dict[str, Any]:
    layers = []
    for op in graph.operators:
        out = graph.tensors[op.outputs[0]] if op.outputs else None
        w = graph.tensors[op.inputs[1]] if op.op in WEIGHTED_OPS and len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        layers.append({
            "index": op.index,
            "op": op.op,
            "output_shape": list(out.shape) if out else [],
            "output_dtype": out.dtype if out else "",
            "weights_shape": list(w.shape) if w is not None else None,
            "weight_bytes": w.nbytes if w is not None else 0,
            "const_bytes": sum(graph.tensors[i].nbytes for i in op.inputs if i >= 0),
            "activation": op.options.get("fusedActivationFunction", ""),
            "unsupported": unsupported_reason(graph, op),
        })
    ops: dict[str, int] = {}
    for op in graph.operators:
        ops[op.op] = ops.get(op.op, 0) + 1
    weights = graph.weight_tensors()

    def io(i):
        t = graph.tensors[i]
        q = t.quant
        return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                "scale": float(q.scale[0]) if q else None, "zero_point": int(q.zero_point[0]) if q else None}

    return {
        "inputs": [io(i) for i in graph.inputs],
        "outputs": [io(i) for i in graph.outputs],
        "ops": ops,
        "layers": layers,
        "weight_tensors": len(weights),
        "weights": int(sum(int(np.prod(t.shape)) for _, t in weights)),
        "weight_bytes": int(sum(t.nbytes for _, t in weights)),
        "const_bytes": graph.const_bytes(),
        "full_int8": float_tensor(graph) is None,
        "not_int8_because": float_tensor(graph),
        "firmware_supported": all(l["unsupported"] is None for l in layers),
    }


def format_summary(s: dict[str, Any], name: str) -> str:
    lines = [f"model {name}"]
    for kind in ("inputs", "outputs"):
        for t in s[kind]:
            q = f" scale {t['scale']:.6g} zero point {t['zero_point']}" if t["scale"] is not None else ""
            lines.append(f"  {kind[:-1]:6} {t['name']}: {t['dtype']} {t['shape']}{q}")
    lines.append(f"  {'#':>3} {'op':20} {'output':18} {'weights':18} {'w bytes':>8}  act    firmware")
    for l in s["layers"]:
        w = "x".join(map(str, l["weights_shape"])) if l["weights_shape"] else "-"
        sup = "ok" if l["unsupported"] is None else f"UNSUPPORTED: {l['unsupported']}"
        lines.append(f"  {l['index']:>3} {l['op']:20} {'x'.join(map(str, l['output_shape'])):18} {w:18} "
                     f"{l['weight_bytes']:>8}  {l['activation'] or '-':6} {sup}")
    lines.append("  ops: " + ", ".join(f"{k} x{v}" for k, v in sorted(s["ops"].items())))
    lines.append(f"  weights: {s['weights']} in {s['weight_tensors']} tensors ({s['weight_bytes']} bytes); "
                 f"all constants {s['const_bytes']} bytes")
    lines.append("  full-integer int8: " + ("yes" if s["full_int8"] else f"no ({s['not_int8_because']})"))
    lines.append("  firmware: " + ("every op supported" if s["firmware_supported"] else "has unsupported ops (marked above)"))
    return "\n".join(lines)
