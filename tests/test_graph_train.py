# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The float emulation of an int8 graph that quantization-aware fine-tuning trains through."""

import numpy as np
import pytest

from conftest import REPO, RESNET8_INT8
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.golden import Golden, prepare_inputs
from ilwp_embedded.ingest import load_graph

ZOO20 = REPO / "models" / "cifar_resnet20_int8.tflite"


@pytest.fixture(scope="module")
def tf_ready():
    from ilwp_embedded.tfquiet import import_keras

    import_keras()


@pytest.mark.parametrize("path", [RESNET8_INT8, ZOO20], ids=["resnet8", "resnet20"])
def test_emulation_tracks_the_int8_model(tf_ready, path):
    from ilwp_embedded.train import fasteval
    from ilwp_embedded.zoo.graph_train import GraphModel, float_top1

    g = load_graph(path)
    ds = load_dataset("cifar10").take(1000)
    m = GraphModel(g)
    emul = float_top1(m, ds.x, ds.y)
    int8 = fasteval.top1(g, prepare_inputs(ds, g.tensors[g.inputs[0]]), ds.y)
    assert int8 > 0.7 and abs(emul - int8) <= 0.01, (emul, int8)
    # Untrained, the write-back is the model itself: weights exactly, biases within one quantum.
    back = m.to_graph()
    for (op, a), (_, b) in zip(g.weight_tensors(), back.weight_tensors()):
        assert np.array_equal(a.data, b.data)
        ba, bb = g.tensors[op.inputs[2]].data, back.tensors[op.inputs[2]].data
        assert np.abs(ba.astype(np.int64) - bb).max() <= 1


def test_qat_puts_weights_on_the_step_grid_and_golden_runs_them(tf_ready):
    from ilwp_embedded.train.ratesearch import quantize_intra, step_quantizer
    from ilwp_embedded.zoo.graph_train import qat_finetune

    g = load_graph(RESNET8_INT8)
    tids = [t.index for _, t in g.weight_tensors()]
    steps = {t: (16 if i % 2 else 6) for i, t in enumerate(tids)}
    out, val = qat_finetune(g, {t: step_quantizer(s) for t, s in steps.items()}, epochs=1,
                            train_limit=512, batch=64, log=lambda m: None)
    moved = 0
    for (_, a), (_, b) in zip(g.weight_tensors(), out.weight_tensors()):
        s = steps[b.index]
        # on the grid the intra decoder rebuilds: quantising again changes nothing
        assert np.array_equal(quantize_intra(b.data, s), b.data.astype(np.int64))
        moved += int((b.data != quantize_intra(a.data, s)).sum())
    assert moved > 0  # training moved weights between levels
    assert 0.0 <= val <= 1.0
    ds = load_dataset("cifar10").take(20)
    y = Golden(out).run_batch(prepare_inputs(ds, out.tensors[out.inputs[0]]))
    assert y.shape[0] == 20
