# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Each C kernel against the TFLite Micro reference kernels, on single-op int8 models built with TF.

Models are built once per session (seeded), run on seeded random int8 inputs by the golden tflite-micro
interpreter and by the host runner (C kernels + quant.py parameters); outputs must match bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import EXPECTED_OP, SPECS, kernel_lib, single_op_model, spec_id, tflm_outputs  # noqa: F401  (kernel_lib is a fixture)


@pytest.mark.parametrize("spec", SPECS, ids=[spec_id(s) for s in SPECS])
def test_single_op_bit_exact(spec, kernel_lib):
    from devtools.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = single_op_model(spec)
    graph = read_tflite(model, spec["kind"])
    ops = [op.op for op in graph.operators]
    assert EXPECTED_OP[spec["kind"]] in ops, ops
    runner = HostRunner(graph, kernel_lib)
    rng = np.random.default_rng(spec["seed"])
    for _ in range(4):
        xs = [rng.integers(-128, 128, size=graph.tensor(i).shape, dtype=np.int8) for i in graph.inputs]
        gold = tflm_outputs(model, xs)
        mine = runner.run(*xs)
        assert len(gold) == len(mine)
        for g, m in zip(gold, mine):
            assert g.dtype == np.int8
            np.testing.assert_array_equal(m.reshape(g.shape), g)


@pytest.mark.parametrize("kind", ["sigmoid", "tanh", "hard_swish", "relu", "relu6"])
@pytest.mark.parametrize("gain", [0.3, 5.0])
def test_lut_ops_every_int8_input(kind, gain, kernel_lib):
    """LOGISTIC, TANH, HARD_SWISH, RELU, RELU6 run through a table built on the host: all 256 inputs, at a small and a
    large input scale, equal TFLM's arithmetic."""
    from devtools.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = single_op_model(dict(kind=kind, shape=(256,), seed=40, rep_scales=[gain]))
    graph = read_tflite(model)
    assert [op.op for op in graph.operators] == [EXPECTED_OP[kind]]
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    gold = tflm_outputs(model, [x])[0]
    assert len(np.unique(gold)) > 12  # the scale spans the curve, not one saturated value
    np.testing.assert_array_equal(HostRunner(graph, kernel_lib).run(x)[0].reshape(gold.shape), gold)


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_omitted_bias(kind, kernel_lib):
    """Bias input -1 (optional in TFLite): the kernels take a NULL bias. (DEPTHWISE_CONV_2D is left
    out: the tflite-micro interpreter itself crashes on a depthwise op without bias.)"""
    import dataclasses

    from devtools.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite

    spec = {"conv": dict(kind="conv", shape=(7, 6, 4), filters=5, k=3, pad="same", act="relu", seed=301),
            "dwconv": dict(kind="dwconv", shape=(7, 6, 4), k=3, pad="valid", dm=2, seed=302),
            "dense": dict(kind="dense", shape=(19,), units=6, seed=303)}[kind]
    graph = read_tflite(single_op_model(spec)[0])
    ops = []
    for op in graph.operators:
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            op = dataclasses.replace(op, inputs=(op.inputs[0], op.inputs[1], -1))
        ops.append(op)
    graph = dataclasses.replace(graph, operators=ops)
    model = write_tflite(graph)
    runner = HostRunner(read_tflite(model), kernel_lib)
    rng = np.random.default_rng(spec["seed"])
    for _ in range(3):
        xs = [rng.integers(-128, 128, size=graph.tensor(i).shape, dtype=np.int8) for i in graph.inputs]
        np.testing.assert_array_equal(runner.run(*xs)[0], tflm_outputs(model, xs)[0])
