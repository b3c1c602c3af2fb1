# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The inter-layer loss really makes chained layers predictable, and fine-tuned models convert to int8."""

import numpy as np
import pytest

from ilwp_embedded.tfquiet import import_keras


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    keras = import_keras()
    from ilwp_embedded.zoo.resnet_cifar import resnet_cifar

    keras.utils.set_random_seed(0)
    m = resnet_cifar(8)  # 1 block per stage: the same chains, quick
    p = tmp_path_factory.mktemp("zoo") / "r8.keras"
    m.save(str(p))
    return p


def _pair_quanta(model_path, domain="int8"):
    keras = import_keras()
    from ilwp_embedded.zoo.finetune import conv_chains, pair_residual

    m = keras.models.load_model(str(model_path), compile=False)
    return float(np.mean([np.mean(np.abs(np.asarray(pair_residual(m, p, domain)))) for p in conv_chains(m)]))


def test_chains_are_same_shape_pairs(tiny_model):
    keras = import_keras()
    from ilwp_embedded.zoo.finetune import conv_chains

    m = keras.models.load_model(str(tiny_model), compile=False)
    pairs = conv_chains(m)
    # ResNet-8 has one block per stage: only stage 0's two 16->16 convolutions share a shape.
    assert [(p.layer, p.ref) for p in pairs] == [("s0b0_conv2", "s0b0_conv1")]
    for p in pairs:
        assert m.get_layer(p.layer).kernel.shape == m.get_layer(p.ref).kernel.shape
        assert p.layer_bn is not None and p.ref_bn is not None


@pytest.mark.slow
def test_inter_layer_loss_shrinks_int8_residuals(tiny_model, tmp_path):
    from ilwp_embedded.zoo.finetune import finetune

    before = _pair_quanta(tiny_model)
    plain = finetune(tiny_model, tmp_path / "plain.keras", 0.0, 1, domain="int8", lr=0.01, train_limit=2048, log=lambda m: None)
    ilwp = finetune(tiny_model, tmp_path / "ilwp.keras", 50.0, 1, domain="int8", lr=0.01, train_limit=2048, log=lambda m: None)
    after_plain, after_ilwp = _pair_quanta(tmp_path / "plain.keras"), _pair_quanta(tmp_path / "ilwp.keras")
    assert plain.pairs == ilwp.pairs >= 1
    assert after_ilwp < 0.7 * before and after_ilwp < 0.7 * after_plain


def test_a_diverging_run_fails_and_writes_nothing(tiny_model, tmp_path):
    from ilwp_embedded.errors import IlwpError
    from ilwp_embedded.zoo.finetune import finetune

    with pytest.raises(IlwpError, match="diverged"):
        finetune(tiny_model, tmp_path / "out.keras", 1e6, 1, domain="int8", lr=1e3, train_limit=512,
                 log=lambda m: None)
    assert not (tmp_path / "out.keras").exists()
