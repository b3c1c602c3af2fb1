# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""convert on files users have: Keras 2 .h5 and SavedModels written by tf_keras (layers whose
Keras 2 configs Keras 3 refuses, an open batch dimension before Flatten) become int8 models the
firmware runs (batch 1: no SHAPE/STRIDED_SLICE/PACK), bit-exact on qemu-m4; failures give their
whole cause in one line, and errors about an .ilwp name the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import needs_qemu, needs_toolchain
from conftest import KWS_INT8, REPO, assert_one_line_error, run_cli

from ilwp_embedded.golden import Golden
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.ops.support import unsupported_ops


@pytest.fixture(scope="module")
def k2(tmp_path_factory):
    out = tmp_path_factory.mktemp("keras2")
    p = subprocess.run([sys.executable, str(REPO / "tests" / "keras2_writer.py"), str(out)], capture_output=True,
                       text=True, timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert p.returncode == 0, p.stderr[-3000:]  # tf_keras is a dev dependency (pyproject.toml)
    return out


def _quantize(g, x):
    q = g.tensors[g.inputs[0]].quant
    return np.clip(np.round(x / q.scale[0]) + q.zero_point[0], -128, 127).astype(np.int8)


def _convert(k2, src, out):
    p = run_cli("convert", k2 / src, "-o", out, "--dataset", f"npz:{k2 / 'k2_data.npz'}", "--json")
    assert p.returncode == 0, p.stderr
    g = load_graph(out)
    assert g.tensors[g.inputs[0]].shape == (1, 10, 10, 3)
    assert not {op.op for op in g.operators} & {"SHAPE", "STRIDED_SLICE", "PACK"}
    assert unsupported_ops(g) == []
    # the int8 model computes what the Keras 2 model computed (softmax outputs, to quantization)
    d = np.load(k2 / "k2_data.npz")
    oq = g.tensors[g.outputs[0]].quant
    y = (Golden(g).run_batch(_quantize(g, d["x"][:8])).reshape(8, -1).astype(np.float32) - oq.zero_point[0]) * oq.scale[0]
    assert np.abs(y - d["p"][:8]).max() < 0.06, np.abs(y - d["p"][:8]).max()
    return g


@pytest.mark.parametrize("src", ["k2.h5", "k2_savedmodel"])
def test_keras2_files_convert_to_batch_one_models_the_firmware_runs(k2, src, tmp_path):
    _convert(k2, src, tmp_path / "m.tflite")


def test_older_savedmodel_through_the_graph_loader(k2):
    """The fallback for SavedModels the object loader cannot rebuild: the signature alone, batch 1."""
    from ilwp_embedded.ingest.convert import _from_saved_model_v1

    conv, dims = _from_saved_model_v1(k2 / "k2_savedmodel", "object loader failed")
    assert dims == (10, 10, 3)
    from ilwp_embedded.ingest.tflite_io import read_tflite

    g = read_tflite(conv.convert(), "v1")  # float, unquantized: only the graph's shape matters here
    assert g.tensors[g.inputs[0]].shape == (1, 10, 10, 3)
    assert not {op.op for op in g.operators} & {"SHAPE", "STRIDED_SLICE", "PACK"}


@needs_toolchain
@needs_qemu
def test_converted_keras2_model_validates_bit_exact_on_qemu(k2, tmp_path):
    g = _convert(k2, "k2.h5", tmp_path / "m.tflite")
    x = _quantize(g, np.load(k2 / "k2_data.npz")["x"][:3])
    np.savez(tmp_path / "in.npz", x=x, y=np.zeros(3, np.uint8))
    p = run_cli("validate", "--board", "qemu-m4", "--model", tmp_path / "m.tflite", "--dataset",
                f"npz:{tmp_path / 'in.npz'}", "--build-dir", tmp_path / "fw", "--json", timeout=600)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["bit_exact"] and r["count"] == 3


def test_errors_carry_their_whole_cause(k2, tmp_path):
    bad = tmp_path / "bad_savedmodel"
    bad.mkdir()
    (bad / "saved_model.pb").write_bytes(b"\x08\x01garbage" * 10)
    assert_one_line_error(run_cli("convert", bad, "-o", tmp_path / "o.tflite", "--dataset", "cifar10-raw200"),
                          "cannot load SavedModel", "the graph loader failed too", "re-export it")
    # a Keras layer nobody registered: Keras's message ends with what to do; all of it is shown
    h5 = tmp_path / "unknown_layer.h5"
    import h5py

    with h5py.File(k2 / "k2.h5", "r") as src, h5py.File(h5, "w") as dst:
        for key in src:
            src.copy(key, dst)
        for key, v in src.attrs.items():
            dst.attrs[key] = v
        dst.attrs["model_config"] = src.attrs["model_config"].replace("MaxPooling2D", "NoSuchPooling")
    p = run_cli("convert", h5, "-o", tmp_path / "o.tflite", "--dataset", "cifar10-raw200")
    assert_one_line_error(p, "cannot load Keras model", "NoSuchPooling")
    assert not (tmp_path / "o.tflite").exists()
    line = p.stderr.strip()
    assert line.endswith(")") and len(line) > 250, line  # not cut at 200 characters


def test_ilwp_errors_name_the_file(tmp_path):
    blob = tmp_path / "kws.ilwp"
    assert run_cli("compress", KWS_INT8, "-o", blob).returncode == 0
    data = blob.read_bytes()
    (tmp_path / "cut.ilwp").write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 1
    (tmp_path / "flip.ilwp").write_bytes(bytes(flipped))
    for name in ("cut.ilwp", "flip.ilwp"):
        f = tmp_path / name
        assert_one_line_error(run_cli("decompress", f, "-o", tmp_path / "o.tflite"), str(f), "corrupt")
        assert_one_line_error(run_cli("build", "--model", f, "-o", tmp_path / "fw"), str(f), "corrupt")
        assert_one_line_error(run_cli("inspect", f), str(f), "corrupt")  # inspect reads .ilwp files
    assert not (tmp_path / "o.tflite").exists() and not (tmp_path / "fw").exists()
