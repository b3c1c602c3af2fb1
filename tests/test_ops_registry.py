# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The op registry is the one list of what the firmware runs: every entry has every facet, and the
support check, the generator, the host runner and the docs agree with it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import REPO, kernel_lib  # noqa: F401  (kernel_lib is a fixture)
from conftest import KWS_INT8, RESNET8_INT8

from ilwp_embedded.ingest import load_graph
from ilwp_embedded.ingest.graph import Graph, Operator, Quantization, Tensor
from ilwp_embedded.ops.registry import REGISTRY, CallSite, OpKernel, lookup
from ilwp_embedded.ops.support import unsupported_reason

HEADER = (REPO / "firmware" / "kernels" / "ilwp_kernels.h").read_text()
KERNELS_DOC = (REPO / "docs" / "kernels.md").read_text()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_has_every_facet(name):
    k = REGISTRY[name]
    assert isinstance(k, OpKernel) and k.name == name
    for facet in ("params", "emit", "host", "scratch_bytes"):
        assert callable(getattr(k, facet)), facet
    assert k.operands is None or k.operands >= 1
    assert k.kernels, "names its C functions"
    for fn in k.kernels:
        assert re.search(rf"\bint32_t {fn}\(", HEADER), f"{fn} is not declared in ilwp_kernels.h"
    assert re.search(rf"\b{name}\b", KERNELS_DOC), f"docs/kernels.md does not mention {name}"


def test_doc_lists_no_op_the_registry_lacks():
    """Every portable kernel function docs/kernels.md tabulates is some registered op's (the CMSIS-NN
    glue's ilwp_cmsis_* are the same ops on the other backend)."""
    registered = {fn for k in REGISTRY.values() for fn in k.kernels}
    documented = set(re.findall(r"`(ilwp_(?!cmsis_)\w+_s8)`", KERNELS_DOC))
    assert documented and documented <= registered, documented - registered


@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.stem)
def test_support_and_emission_agree_on_real_models(path):
    """Each op of the MLPerf Tiny models is supported, and its emitted call is one of its kernels."""
    g = load_graph(path)
    for op in g.operators:
        assert unsupported_reason(g, op) is None, op.op
        k = lookup(op)
        p = k.params(g, op)
        n = len(op.inputs) if k.operands is None else k.operands
        call = k.emit(p, CallSite(f"p{op.index}", tuple(f"t{i}" for i in range(n)), "y"))
        assert call.text.split("(")[0] in k.kernels, call.text
        assert k.scratch_bytes(p) >= 0


def _q(scale: float = 0.05, zp: int = 3) -> Quantization:
    return Quantization(np.array([scale], np.float32), np.array([zp], np.int64))


def _graph(op: str, in_shape, out_shape, consts=(), options=None) -> Graph:
    """x -> op -> y, with int8 x and y on the same quantization, and constant extra inputs."""
    tensors = [Tensor(0, "x", tuple(in_shape), "int8", _q()), Tensor(1, "y", tuple(out_shape), "int8", _q())]
    for k, c in enumerate(consts):
        c = np.asarray(c)
        tensors.append(Tensor(2 + k, f"c{k}", c.shape, c.dtype.name, _q() if c.dtype == np.int8 else None, c))
    ins = (0, *range(2, 2 + len(consts)))
    return Graph(tensors, [Operator(0, op, 1, ins, (1,), options or {})], (0,), (1,))


# The three ops the old support list refused although the generator ran them.
ONCE_REFUSED = {
    "SQUEEZE": (_graph("SQUEEZE", (1, 1, 1, 10), (1, 10)), lambda x: x.reshape(1, 10)),
    "EXPAND_DIMS": (_graph("EXPAND_DIMS", (1, 10), (1, 1, 10), [np.array([1], np.int32)]),
                    lambda x: x.reshape(1, 1, 10)),
    "PADV2": (_graph("PADV2", (1, 2, 3, 2), (1, 4, 4, 2),
                     [np.array([[0, 0], [1, 1], [0, 1], [0, 0]], np.int32), np.array([-7], np.int8)]),
              lambda x: np.pad(x, [(0, 0), (1, 1), (0, 1), (0, 0)], constant_values=-7)),
}


@pytest.mark.parametrize("name", sorted(ONCE_REFUSED))
def test_ops_the_generator_runs_are_supported_and_run_on_the_host(name, kernel_lib):  # noqa: F811
    from ilwp_embedded.generate.codegen import generate
    from devtools.host_runner import HostRunner

    g, want = ONCE_REFUSED[name]
    assert unsupported_reason(g, g.operators[0]) is None
    x = np.arange(-20, -20 + int(np.prod(g.tensor(0).shape)), dtype=np.int8).reshape(g.tensor(0).shape)
    np.testing.assert_array_equal(HostRunner(g, kernel_lib).run(x)[0], want(x))
    assert lookup(g.operators[0]).kernels[0] in generate(g).files["ilwp_model.c"]


def test_an_unregistered_op_is_refused_by_name():
    g = _graph("ELU", (1, 4), (1, 4))
    assert "ELU" in unsupported_reason(g, g.operators[0])


def test_transpose_conv_weights_are_counted_coded_and_called_in_order():
    """TRANSPOSE_CONV's inputs are (output shape, filter, input, bias): `inspect` counts the filter, the
    codec codes it, and the C call takes input, filter, bias (the shape tensor is not emitted)."""
    from helpers import single_op_model

    from ilwp_embedded.generate.codegen import generate
    from ilwp_embedded.ingest.tflite_io import read_tflite
    from ilwp_embedded.ops.inspect import summarize

    g = read_tflite(single_op_model(dict(kind="tconv", shape=(4, 5, 3), filters=4, k=3, s=2, pad="same",
                                         seed=37))[0])
    op = next(o for o in g.operators if o.op == "TRANSPOSE_CONV")
    w = g.tensors[op.inputs[1]]
    s = summarize(g)
    layer = next(l for l in s["layers"] if l["op"] == "TRANSPOSE_CONV")
    assert layer["weight_bytes"] == w.nbytes == 4 * 3 * 3 * 3 and s["weight_bytes"] == w.nbytes
    assert [t.index for _, t in g.coded_weights()] == [w.index]
    k = lookup(op)
    assert k.call_inputs(op) == (op.inputs[2], op.inputs[1], op.inputs[3])
    c = generate(g).files["ilwp_model.c"]
    assert "ilwp_transpose_conv_s8(&p" in c and f"c{op.inputs[0]}" not in c
