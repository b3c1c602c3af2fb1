# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The typed graph and the .tflite round trip on every model of the shared data."""

import numpy as np
import pytest
from conftest import ALL_TFLITE, KWS_INT8, RESNET8_INT8

from ilwp_embedded.ingest import load_graph, read_tflite, write_tflite
from ilwp_embedded.ingest.graph import Quantization


def test_resnet8_graph_is_typed_and_complete():
    g = load_graph(RESNET8_INT8)
    ops = [o.op for o in g.operators]
    assert ops.count("CONV_2D") == 9 and ops.count("ADD") == 3
    assert {"AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"} <= set(ops)
    weights = g.weight_tensors()
    assert len(weights) == 10  # 9 convolutions + the classifier
    assert sum(t.nbytes for _, t in weights) < g.const_bytes() == 78752
    inp = g.tensors[g.inputs[0]]
    assert inp.shape == (1, 32, 32, 3) and inp.dtype == "int8"
    assert float(inp.quant.scale[0]) == 1.0 and int(inp.quant.zero_point[0]) == -128
    op, w = weights[0]
    assert w.dtype == "int8" and w.quant.per_channel and w.quant.axis == 0
    assert w.quant.scale.size == w.shape[0]
    assert op.options["padding"] in ("SAME", "VALID") and op.options["strideW"] >= 1
    bias = g.tensors[op.inputs[2]]
    assert bias.dtype == "int32" and bias.shape == (w.shape[0],)


def test_kws_has_depthwise_options():
    g = load_graph(KWS_INT8)
    dw = [o for o in g.operators if o.op == "DEPTHWISE_CONV_2D"]
    assert len(dw) == 4 and all("depthMultiplier" in o.options for o in dw)


@pytest.mark.parametrize("path", ALL_TFLITE, ids=lambda p: p.name)
def test_round_trip_gives_identical_golden_outputs(path):
    from tflite_micro.python.tflite_micro import runtime

    original = path.read_bytes()
    rewritten = write_tflite(read_tflite(original))
    # The writer's form is canonical: a second round trip is byte-identical.
    assert write_tflite(read_tflite(rewritten)) == rewritten
    a = runtime.Interpreter.from_bytes(original)
    b = runtime.Interpreter.from_bytes(rewritten)
    d = a.get_input_details(0)
    rng = np.random.default_rng(0)
    for _ in range(8):
        if d["dtype"] == np.float32:
            x = rng.uniform(0, 255, size=d["shape"]).astype(np.float32)
        else:
            x = rng.integers(-128, 128, size=d["shape"]).astype(d["dtype"])
        a.set_input(x, 0)
        a.invoke()
        b.set_input(x, 0)
        b.invoke()
        np.testing.assert_array_equal(a.get_output(0), b.get_output(0))


def test_with_tensor_data_replaces_weights_and_changes_outputs():
    g = load_graph(RESNET8_INT8)
    _, w = g.weight_tensors()[3]
    zero = np.zeros(w.shape, dtype=np.int8)
    q = Quantization(w.quant.scale * 2, w.quant.zero_point, w.quant.axis)
    g2 = g.with_tensor_data({w.index: (zero, q)})
    assert np.all(g2.tensors[w.index].data == 0) and np.all(g.tensors[w.index].data == w.data)
    back = read_tflite(write_tflite(g2)).tensors[w.index]
    assert np.all(back.data == 0) and np.allclose(back.quant.scale, q.scale)
    with pytest.raises(ValueError):
        g.with_tensor_data({w.index: (zero.reshape(-1), None)})
