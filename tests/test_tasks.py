# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Models that are not classifiers, and data without labels, through `eval` and `validate` in QEMU:
a dense autoencoder (the shape of MLPerf Tiny's anomaly-detection model, scaled down; no ToyADMOS
data here, so trained in the test on normal samples that lie near a 4-dimensional subspace) is
scored by reconstruction error and ROC AUC, bit-exact, with no confusion matrix in its report; a
classifier given inputs without labels is checked for bit-exactness only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import RESNET8_INT8, run_cli
from helpers import convert_keras, firmware, needs_qemu, needs_toolchain

pytestmark = [needs_toolchain, needs_qemu]

DIM, LATENT = 32, 4


def _samples(rng, n, anomalous: bool, basis):
    if anomalous:  # off the subspace, at the same scale
        return rng.normal(0.0, 1.0, (n, DIM)).astype(np.float32)
    return (rng.normal(0.0, 1.0, (n, LATENT)) @ basis + rng.normal(0.0, 0.05, (n, DIM))).astype(np.float32)


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory):
    """(the int8 .tflite, an npz of 24 normal and 24 anomalous samples labelled 0/1, model-ready int8)."""
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.tfquiet import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    basis = (rng.normal(0.0, 1.0, (LATENT, DIM)) / np.sqrt(LATENT)).astype(np.float32)
    L = keras.layers
    inp = keras.Input((DIM,))
    x = L.Dense(16, activation="relu")(inp)
    x = L.Dense(LATENT)(x)
    x = L.Dense(16, activation="relu")(x)
    model = keras.Model(inp, L.Dense(DIM)(x))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    train = _samples(rng, 1024, False, basis)
    model.fit(train, train, epochs=25, batch_size=64, verbose=0)
    root = tmp_path_factory.mktemp("ae")
    tfl = convert_keras(model, root / "ae.tflite")
    t = load_graph(str(tfl)).tensors[load_graph(str(tfl)).inputs[0]]
    x = np.concatenate([_samples(rng, 24, False, basis), _samples(rng, 24, True, basis)])
    q = np.clip(np.round(x / t.quant.scale[0]) + t.quant.zero_point[0], -128, 127).astype(np.int8)
    data = root / "ae_test.npz"
    np.savez(data, x=q, y=np.repeat([0, 1], 24).astype(np.uint8))
    return tfl, data


def test_autoencoder_validates_with_reconstruction_error_and_auc(autoencoder, tmp_path):
    tfl, data = autoencoder
    html = tmp_path / "r.html"
    proc = run_cli("validate", "--board", "qemu-m4", "--model", tfl, "--dataset", f"npz:{data}", "--json",
                   "--html", html, "--build-dir", tmp_path / "fw", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout)
    assert r["bit_exact"] and r["count"] == 48 and r["task"] == "reconstruct"
    m = r["metrics_device"]
    assert m == r["metrics_host"] and r["accuracy_device"] is None
    assert m["reconstruction_mse"] > 0 and m["auc"] > 0.9  # trained on normals: anomalies reconstruct worse
    page = html.read_text()
    assert "Confusion matrix" not in page and "Reconstruction error" in page and "ROC AUC" in page
    # eval scores the golden outputs with the same metrics
    ev = run_cli("eval", tfl, "--dataset", f"npz:{data}", "--json")
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert json.loads(ev.stdout)["metrics"] == pytest.approx(r["metrics_host"])


def test_inputs_without_labels_validate_bit_exactness_only(tmp_path):
    from ilwp_embedded.datasets import load_dataset

    x = tmp_path / "x.npy"
    np.save(x, load_dataset("cifar10-raw200").x[:3])  # uint8 images, no labels
    proc = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--inputs", x,
                   "--elf", firmware("qemu-m4").elf)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "3 samples bit-exact" in proc.stdout and "no labels: bit-exactness only" in proc.stdout, proc.stdout
