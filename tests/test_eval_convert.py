# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Golden evaluation, data loaders and Keras conversion on the real models and data."""

import hashlib
import json

import numpy as np
import pytest
from conftest import KWS_INT8, RESNET8_FLOAT, RESNET8_H5, RESNET8_INT8, RESNET8_LARGE_INT8, run_cli

from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.golden import Golden, evaluate, prepare_inputs
from ilwp_embedded.ingest import load_graph


def _eval_json(*args):
    p = run_cli("eval", *args, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_resnet8_int8_golden_accuracy_on_raw200():
    r = _eval_json(RESNET8_INT8, "--dataset", "cifar10-raw200")
    assert r["count"] == 200 and r["accuracy"] == pytest.approx(0.865)


def test_large_resnet8_is_more_accurate():
    r = _eval_json(RESNET8_LARGE_INT8, "--dataset", "cifar10-raw200", "--limit", "100")
    small = _eval_json(RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "100")
    assert r["count"] == 100 and r["accuracy"] > small["accuracy"]


def test_int8_input_is_pixel_minus_128():
    g = load_graph(RESNET8_INT8)
    ds = load_dataset("cifar10-raw200")
    x = prepare_inputs(ds, g.tensors[g.inputs[0]])
    np.testing.assert_array_equal(x, (ds.x.astype(np.int16) - 128).astype(np.int8))


def test_cifar10_is_the_lossless_set_and_limit_is_a_fair_sample():
    ds = load_dataset("cifar10")
    assert ds.x.shape == (10000, 32, 32, 3)
    # The data README's hash is of the original pixels in file order (lossless/test.npz).
    order = np.argsort(_file_order(ds))
    assert hashlib.sha256(ds.x[order].tobytes()).hexdigest().startswith("52a9dc12")
    assert len(set(ds.take(200).y.tolist())) == 10


def test_cifar10_jpeg_decodes_to_the_documented_arrays():
    ds = load_dataset("cifar10-jpeg")
    order = np.argsort(_file_order(ds))
    assert hashlib.sha256(ds.x[order].tobytes()).hexdigest().startswith("5a6aa818")


def _file_order(ds):
    # Recover file order: the loader applies a fixed permutation, seed 0.
    return np.random.default_rng(0).permutation(len(ds))


def test_npz_dataset_images_and_model_ready_arrays_give_the_same_result(tmp_path):
    raw = load_dataset("cifar10-raw200").take(40)
    np.savez(tmp_path / "img.npz", x=raw.x, y=raw.y)
    np.savez(tmp_path / "ready.npz", x=(raw.x.astype(np.int16) - 128).astype(np.int8), y=raw.y)
    a = _eval_json(RESNET8_INT8, "--dataset", f"npz:{tmp_path / 'img.npz'}")
    b = _eval_json(RESNET8_INT8, "--dataset", f"npz:{tmp_path / 'ready.npz'}")
    c = _eval_json(RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "40")
    assert a["count"] == b["count"] == c["count"] == 40
    assert a["accuracy"] == b["accuracy"] == c["accuracy"]


def test_kws_runs_on_model_ready_int8_arrays(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "kws.npz", x=rng.integers(-128, 128, (5, 30, 1, 40)).astype(np.int8), y=np.zeros(5, np.int64))
    r = _eval_json(KWS_INT8, "--dataset", f"npz:{tmp_path / 'kws.npz'}")
    assert r["count"] == 5


def test_float_model_in_golden_interpreter():
    res = evaluate(load_graph(RESNET8_FLOAT), load_dataset("cifar10-raw200"))
    assert res.accuracy == pytest.approx(0.855)


def test_golden_is_deterministic():
    g = Golden(load_graph(RESNET8_INT8))
    x = prepare_inputs(load_dataset("cifar10-raw200").take(3), g.input)
    a = g.run_batch(x)
    assert a.dtype == np.int8 and a.shape == (3, 1, 10)
    np.testing.assert_array_equal(a, Golden(load_graph(RESNET8_INT8)).run_batch(x))


@pytest.mark.slow
def test_convert_h5_to_int8_matches_reference_int8(tmp_path):
    out = tmp_path / "r8.tflite"
    p = run_cli("convert", RESNET8_H5, "-o", out, "--dataset", "cifar10", "--samples", "100", "--json")
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == ""  # TensorFlow's logging stays off the terminal
    info = json.loads(p.stdout)
    assert info["calibration_samples"] == 100
    g = load_graph(out)
    assert g.tensors[g.inputs[0]].dtype == "int8" and g.tensors[g.outputs[0]].dtype == "int8"
    conv = _eval_json(out, "--dataset", "cifar10-raw200")
    ref = _eval_json(RESNET8_INT8, "--dataset", "cifar10-raw200")
    assert conv["accuracy"] >= ref["accuracy"] - 0.02
    assert conv["accuracy"] >= 0.84
