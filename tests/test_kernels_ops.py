"""Each C kernel against the TFLite Micro reference kernels, on single-op int8 models built with TF.

Models are built once per session (seeded), run on seeded random int8 inputs by the golden tflite-micro
interpreter and by the host runner (C kernels + quant.py parameters); outputs must match bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from _kernels_support import kernel_lib, tflm_outputs  # noqa: F401  (kernel_lib is a fixture)

_RNG = np.random.default_rng(20261123)


def _random_conv_specs(n):
    out = []
    for i in range(n):
        k = int(_RNG.choice([1, 2, 3, 5]))
        s = int(_RNG.choice([1, 2, 3]))
        d = 1 if s > 1 or k == 1 else int(_RNG.choice([1, 2]))
        h, w = int(_RNG.integers(k * d, 14)), int(_RNG.integers(k * d, 14))
        out.append(dict(kind="conv", shape=(h, w, int(_RNG.integers(1, 9))), filters=int(_RNG.integers(1, 12)),
                        k=k, s=s, d=d, pad=str(_RNG.choice(["same", "valid"])),
                        act=str(_RNG.choice(["none", "relu", "relu6"])), seed=100 + i,
                        rep_scales=[float(_RNG.choice([0.5, 1.0, 4.0]))]))
    return out


def _random_dw_specs(n):
    out = []
    for i in range(n):
        k = int(_RNG.choice([1, 3, 5]))
        s = int(_RNG.choice([1, 2]))
        d = 1 if s > 1 or k == 1 else int(_RNG.choice([1, 2]))
        h, w = int(_RNG.integers(k * d, 13)), int(_RNG.integers(k * d, 13))
        out.append(dict(kind="dwconv", shape=(h, w, int(_RNG.integers(1, 9))), k=k, s=s, d=d,
                        dm=int(_RNG.choice([1, 2, 3])), pad=str(_RNG.choice(["same", "valid"])),
                        act=str(_RNG.choice(["none", "relu", "relu6"])), seed=200 + i))
    return out


SPECS = (
    _random_conv_specs(8)
    + [
        dict(kind="conv", shape=(32, 32, 3), filters=16, k=3, pad="same", act="relu", seed=1),
        dict(kind="conv", shape=(9, 7, 4), filters=6, k=(3, 2), s=(2, 1), pad="same", act="none", seed=2),
        dict(kind="conv", shape=(8, 8, 6), filters=9, k=3, pad="valid", groups=3, act="relu6", seed=3),
        dict(kind="conv", shape=(30, 1, 40), filters=16, k=1, pad="valid", act="relu", seed=4, bias=False),
        dict(kind="conv", shape=(9, 9, 16), filters=6, k=3, pad="same", groups=2, act="relu", seed=28),
        dict(kind="conv", shape=(12, 11, 8), filters=7, k=3, d=2, pad="same", act="none", seed=29),
        dict(kind="conv", shape=(7, 7, 12), filters=5, k=(1, 3), s=(1, 2), pad="valid", act="relu6", seed=30),
    ]
    + _random_dw_specs(6)
    + [
        dict(kind="dwconv", shape=(30, 1, 40), k=(3, 1), pad="valid", act="none", seed=5),
        dict(kind="dense", shape=(64,), units=10, seed=6),
        dict(kind="dense", shape=(37,), units=5, act="relu", seed=7, rep_scales=[3.0]),
        dict(kind="dense", shape=(3, 12), units=7, act="relu6", seed=8),
        dict(kind="add", shape=(8, 8, 16), act="relu", seed=9, rep_scales=[1.0, 3.0]),
        dict(kind="add", shape=(5, 3, 4), seed=10, rep_scales=[0.2, 2.0]),
        dict(kind="add", shape=(4, 4, 3), shape2=(1, 1, 3), seed=11),
        dict(kind="add", shape=(4, 5, 3), shape2=(4, 1, 3), seed=12, rep_scales=[1.0, 5.0]),
        dict(kind="avgpool", shape=(8, 8, 5), k=8, s=8, pad="valid", seed=13),
        dict(kind="avgpool", shape=(9, 7, 3), k=3, s=2, pad="same", seed=14),
        dict(kind="avgpool", shape=(10, 10, 4), k=(2, 3), s=(2, 1), pad="valid", act="relu", seed=15),
        dict(kind="maxpool", shape=(9, 7, 3), k=3, s=2, pad="same", seed=16),
        dict(kind="maxpool", shape=(8, 8, 4), k=2, s=2, pad="valid", act="relu6", seed=17),
        dict(kind="softmax", shape=(10,), seed=18, rep_scales=[3.0]),
        dict(kind="softmax", shape=(3,), seed=19, rep_scales=[0.3]),
        dict(kind="softmax", shape=(4, 33), seed=20, rep_scales=[8.0]),
        dict(kind="mean", shape=(6, 5, 7), axes=(1, 2), keepdims=True, seed=21),
        dict(kind="mean", shape=(6, 5, 7), axes=(1, 2), keepdims=False, seed=22),
        dict(kind="mean", shape=(4, 6, 3), axes=(3,), keepdims=False, seed=23),
        dict(kind="gap", shape=(8, 8, 12), seed=24),
        dict(kind="pad", shape=(5, 4, 3), pads=((1, 2), (0, 1)), seed=25),
        dict(kind="concat", shape=(4, 4, 3), shape2=(4, 4, 2), axis=-1, seed=26),
        dict(kind="concat", shape=(4, 4, 3), shape2=(2, 4, 3), axis=1, seed=27),
    ]
)

EXPECTED_OP = {"conv": "CONV_2D", "dwconv": "DEPTHWISE_CONV_2D", "dense": "FULLY_CONNECTED", "add": "ADD",
               "avgpool": "AVERAGE_POOL_2D", "maxpool": "MAX_POOL_2D", "softmax": "SOFTMAX", "mean": "MEAN",
               "gap": "MEAN", "pad": "PAD", "concat": "CONCATENATION"}


def _id(spec):
    keys = [k for k in spec if k not in ("kind", "seed")]
    return f"{spec['kind']}-{spec['seed']}-" + "-".join(f"{k}{spec[k]}" for k in keys).replace(" ", "")


@pytest.fixture(scope="session")
def model_cache():
    return {}


def _model(model_cache, spec):
    key = repr(sorted(spec.items()))
    if key not in model_cache:
        from _singleop import build
        model_cache[key] = build(spec)
    return model_cache[key]


@pytest.mark.parametrize("spec", SPECS, ids=[_id(s) for s in SPECS])
def test_single_op_bit_exact(spec, model_cache, kernel_lib):
    from ilwp_embedded.generate.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = _model(model_cache, spec)
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


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_omitted_bias(kind, model_cache, kernel_lib):
    """Bias input -1 (optional in TFLite): the kernels take a NULL bias. (DEPTHWISE_CONV_2D is left
    out: the tflite-micro interpreter itself crashes on a depthwise op without bias.)"""
    import dataclasses

    from ilwp_embedded.generate.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite

    spec = {"conv": dict(kind="conv", shape=(7, 6, 4), filters=5, k=3, pad="same", act="relu", seed=301),
            "dwconv": dict(kind="dwconv", shape=(7, 6, 4), k=3, pad="valid", dm=2, seed=302),
            "dense": dict(kind="dense", shape=(19,), units=6, seed=303)}[kind]
    graph = read_tflite(_model(model_cache, spec)[0])
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
