# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""What the firmware can run (the op registry's entries and their options), and what
"full-integer int8" means here."""

from __future__ import annotations

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph, Operator
from ilwp_embedded.ops.quant import UnsupportedOp
from ilwp_embedded.ops.registry import REGISTRY


def unsupported_reason(graph: Graph, op: Operator) -> str | None:
    """Why the firmware cannot run `op`, or None when it can."""
    kernel = REGISTRY.get(op.op)
    if kernel is None:
        return f"op {op.op} is not in the firmware's kernel set"
    for i in op.outputs:
        t = graph.tensors[i]
        if t.dtype != "int8":
            return f"output '{t.name}' is {t.dtype}, the firmware runs int8 activations"
    if kernel.weights:
        w = graph.tensors[op.inputs[1]]
        if w.dtype != "int8" or not w.is_constant:
            return f"weights '{w.name}' are {'not constant' if not w.is_constant else w.dtype}, need constant int8"
    try:  # the kernel's own checks of shapes, activation, padding, quantization
        kernel.params(graph, op)
    except UnsupportedOp as e:
        return str(e)
    except (ValueError, KeyError, IndexError, ArithmeticError, TypeError) as e:  # a malformed graph
        return f"its kernel parameters cannot be computed ({type(e).__name__}: {e})"
    return None


def float_tensor(graph: Graph) -> str | None:
    """The first reason the graph is not full-integer int8 (int8 input/output, int8 weights)."""
    for i in graph.inputs + graph.outputs:
        t = graph.tensors[i]
        if t.dtype != "int8":
            kind = "input" if i in graph.inputs else "output"
            return f"{kind} '{t.name}' is {t.dtype}"
    for t in graph.tensors:
        if t.dtype in ("float32", "float16", "float64"):
            return f"tensor '{t.name}' is {t.dtype}"
        if t.dtype == "int8" and t.quant is None:
            return f"int8 tensor '{t.name}' has no quantization parameters"
    return None


def require_int8(graph: Graph, source: str) -> None:
    why = float_tensor(graph)
    if why:
        raise IlwpError(f"{source} is not a full-integer int8 model ({why}); "
                        f"convert it with `ilwp-embed convert`")


def unsupported_ops(graph: Graph) -> list[tuple[Operator, str]]:
    """Every operator the firmware cannot run, with why (the registry's kernels and their parameter
    checks)."""
    bad = []
    for op in graph.operators:
        why = unsupported_reason(graph, op)
        if why:
            bad.append((op, why))
    return bad


def require_firmware_ops(graph: Graph, source: str) -> None:
    """Refuses a graph with any operator the firmware cannot run, naming every one (not just the
    first: one op blamed at a time hides what a model really needs)."""
    bad = unsupported_ops(graph)
    if bad:
        kinds = sorted({op.op for op, _ in bad})
        detail = "; ".join(f"#{op.index} {op.op}: {why}" for op, why in bad)
        raise IlwpError(f"{source}: {len(bad)} operator(s) unsupported by the firmware "
                        f"({', '.join(kinds)}): {detail}")
