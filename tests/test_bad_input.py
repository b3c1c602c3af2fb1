# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Bad input: one clear line on stderr, exit code 2, no traceback, no hang, no partial output."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import KWS_INT8, REPO, RESNET8_FLOAT, RESNET8_H5, RESNET8_INT8, assert_one_line_error, run_cli

from ilwp_embedded.ingest import load_graph, write_tflite


def test_missing_model():
    assert_one_line_error(run_cli("inspect", "/nonexistent/model.tflite"), "not found")
    assert_one_line_error(run_cli("eval", "/nonexistent/m.tflite", "--dataset", "cifar10-raw200"), "not found")


def test_not_a_tflite(tmp_path):
    p = tmp_path / "notes.tflite"
    p.write_text("this is not a model\n" * 10)
    assert_one_line_error(run_cli("inspect", p), "not a TFLite flatbuffer")
    assert_one_line_error(run_cli("inspect", tmp_path), "directory")


def test_truncated_model(tmp_path):
    data = RESNET8_INT8.read_bytes()
    for cut in (4, 100, len(data) // 2, len(data) - 1000):
        p = tmp_path / f"cut{cut}.tflite"
        p.write_bytes(data[:cut])
        proc = run_cli("eval", p, "--dataset", "cifar10-raw200", "--limit", "2")
        assert_one_line_error(proc)


def test_corrupt_buffer_size_is_named(tmp_path):
    g = load_graph(RESNET8_INT8)
    _, w = g.weight_tensors()[0]
    w.shape = (w.shape[0] + 1,) + w.shape[1:]  # the data no longer fits the shape
    p = tmp_path / "bad.tflite"
    p.write_bytes(write_tflite(g))
    assert_one_line_error(run_cli("inspect", p), w.name, "bytes")


def test_keras_file_where_tflite_is_needed():
    from conftest import RESNET8_H5

    assert_one_line_error(run_cli("eval", RESNET8_H5, "--dataset", "cifar10-raw200"), "convert")


def test_float_model_where_int8_is_needed():
    assert_one_line_error(run_cli("demo", "--model", RESNET8_FLOAT, "--limit", "1"), "not a full-integer int8")


def test_unsupported_op_is_marked_and_refused(tmp_path):
    g = load_graph(KWS_INT8)
    soft = next(o for o in g.operators if o.op == "SOFTMAX")
    soft.op, soft.raw_options, soft.raw_options_type = "ELU", None, 0
    p = tmp_path / "elu.tflite"
    p.write_bytes(write_tflite(g))
    out = run_cli("inspect", p)
    assert out.returncode == 0 and "UNSUPPORTED: op ELU" in out.stdout
    assert_one_line_error(run_cli("demo", "--model", p, "--limit", "1"), "ELU")


def test_every_unsupported_op_is_named_before_any_work(tmp_path):
    """Two ops the firmware lacks and one whose parameters no kernel takes: all three named in one
    line, before compressing or generating anything (the build folder is never made)."""
    g = load_graph(KWS_INT8)
    conv = next(o for o in g.operators if o.op == "CONV_2D")
    conv.op, conv.raw_options, conv.raw_options_type = "FLOOR", None, 0
    dw = next(o for o in g.operators if o.op == "DEPTHWISE_CONV_2D")
    dw.op, dw.raw_options, dw.raw_options_type = "ELU", None, 0
    soft = next(o for o in g.operators if o.op == "SOFTMAX")
    t = g.tensors[soft.outputs[0]]
    t.quant = dataclasses.replace(t.quant, scale=np.full_like(t.quant.scale, 1.0 / 128))  # kernel: 1/256
    p = tmp_path / "three.tflite"
    p.write_bytes(write_tflite(g))
    out = tmp_path / "fw"
    proc = run_cli("build", "--board", "qemu-m4", "--model", p, "--out", out)
    assert_one_line_error(proc, "3 operator(s) unsupported", "ELU, FLOOR, SOFTMAX",
                          f"#{conv.index} FLOOR", f"#{dw.index} ELU", "scale 1/256")
    assert not out.exists()


def test_outputs_and_dataset_checked_before_any_work(tmp_path):
    """A missing output folder or a dataset of the wrong shape is refused at once: no firmware is
    built, nothing is compressed (the build folder is never made)."""
    missing = tmp_path / "no" / "such"
    assert_one_line_error(run_cli("compress", RESNET8_INT8, "-o", missing / "r8.ilwp"),
                          "output directory does not exist", str(missing))
    assert_one_line_error(run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset",
                                  "cifar10-raw200", "--html", missing / "r.html", "--build-dir", tmp_path / "fw"),
                          "--html directory does not exist")
    np.savez(tmp_path / "m.npz", x=np.zeros((3, 28, 28), np.uint8), y=np.zeros(3, np.int64))
    assert_one_line_error(run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset",
                                  f"npz:{tmp_path / 'm.npz'}", "--build-dir", tmp_path / "fw"), "shape")
    assert not (tmp_path / "fw").exists() and not missing.parent.exists()


def test_convert_and_finetune_check_the_output_folder_first(tmp_path):
    """Converting calibrates and fine-tuning trains for minutes: a missing output folder is refused
    before either starts."""
    missing = tmp_path / "no" / "such"
    # inputs that would fail later (no such dataset, not a Keras file): the output folder is named first
    assert_one_line_error(run_cli("convert", RESNET8_H5, "--dataset", f"npz:{tmp_path / 'none.npz'}", "-o", missing / "m.tflite"),
                          "output directory does not exist", str(missing))
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"never read")
    assert_one_line_error(run_cli("finetune", keras_file, "--inter-layer-loss", "0", "-o", missing / "m.tflite"),
                          "output directory does not exist", str(missing))
    assert not missing.parent.exists()


def test_compress_refuses_a_hybrid_model_that_build_would_refuse(tmp_path):
    """Dynamic-range quantization: int8 weights, float activations and input."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    inp = keras.Input(shape=(16,), batch_size=1)
    conv = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, keras.layers.Dense(300)(inp)))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: hybrid
    p = tmp_path / "hybrid.tflite"
    p.write_bytes(conv.convert())
    assert any(t.dtype == "int8" for _, t in load_graph(p).weight_tensors())
    assert_one_line_error(run_cli("compress", p, "-o", tmp_path / "h.ilwp"), "not a full-integer int8")
    assert_one_line_error(run_cli("build", "--model", p, "-o", tmp_path / "fw"), "not a full-integer int8")
    assert not (tmp_path / "h.ilwp").exists()


def test_unknown_dataset_and_bad_limit():
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--dataset", "imagenet"), "unknown dataset")
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "0"), "limit")


def test_dataset_shape_mismatch(tmp_path):
    np.savez(tmp_path / "m.npz", x=np.zeros((3, 28, 28), np.uint8), y=np.zeros(3, np.int64))
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--dataset", f"npz:{tmp_path / 'm.npz'}"), "shape")
    np.savez(tmp_path / "noinputs.npz", y=np.zeros(3, np.int64))
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--dataset", f"npz:{tmp_path / 'noinputs.npz'}"), "'x'")
    np.save(tmp_path / "x.npy", np.zeros((3, 28, 28), np.uint8))  # inputs without labels: shape checked too
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--inputs", tmp_path / "x.npy"), "shape")
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--inputs", tmp_path / "none.npy"), "not found")
    np.savez(tmp_path / "t.npz", x=np.zeros((3, 32, 32, 3), np.uint8), y=np.zeros((3, 4)))
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--dataset", f"npz:{tmp_path / 't.npz'}", "--task",
                                  "reconstruct"), "reconstruct needs an output of the input's shape")
    assert_one_line_error(run_cli("eval", RESNET8_INT8, "--dataset", f"npz:{tmp_path / 't.npz'}"),
                          "regression targets have 4 values a sample, the model's output 10")


def test_missing_data_dir_and_no_download(tmp_path):
    # An empty data dir and no network: the loader names both the file it wanted and the failed download.
    proc = run_cli("eval", RESNET8_INT8, "--dataset", "cifar10", "--data-dir", tmp_path, timeout=120,
                   env={"KERAS_HOME": str(tmp_path / "keras"), "HTTPS_PROXY": "http://127.0.0.1:9",
                        "HTTP_PROXY": "http://127.0.0.1:9"})
    assert_one_line_error(proc, "cifar10_lossless/test.npz", "download failed")


def test_convert_failure_leaves_no_output(tmp_path):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    out = tmp_path / "out.tflite"
    assert_one_line_error(run_cli("convert", bad, "-o", out, "--dataset", "cifar10-raw200"), "cannot load")
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


@pytest.mark.parametrize("model,dataset,seed", [(RESNET8_INT8, "cifar10-raw200", 1), (KWS_INT8, None, 2)],
                         ids=["resnet8", "kws"])
def test_fuzzed_models_never_crash_or_hang(tmp_path, model, dataset, seed):
    if dataset is None:
        rng = np.random.default_rng(0)
        np.savez(tmp_path / "kws.npz", x=rng.integers(-128, 128, (1, 30, 1, 40)).astype(np.int8), y=np.zeros(1, np.int64))
        dataset = f"npz:{tmp_path / 'kws.npz'}"
    else:
        dataset = "npz:" + str(_tiny_cifar(tmp_path))
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "fuzz_worker.py"), str(model), dataset, "200",
                           str(seed), str(tmp_path)], capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3",
                               "ILWP_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    codes = eval(proc.stdout.strip().splitlines()[-1])
    assert codes.get(2, 0) > 50  # most mutants are refused with a clear error...
    assert sum(codes.values()) == 400


def _tiny_cifar(tmp_path: Path) -> Path:
    from ilwp_embedded.datasets import load_dataset

    ds = load_dataset("cifar10-raw200").take(2)
    p = tmp_path / "two.npz"
    np.savez(p, x=ds.x, y=ds.y)
    return p
