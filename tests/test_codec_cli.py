# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed compress` / `decompress`: outputs, JSON, golden-equivalence, bad input -> exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import numpy as np
import pytest

from helpers import REPO, data_dir
from ilwp_embedded import cli

RESNET = data_dir() / "models/mlperf_tiny/image_classification/pretrainedResnet_quant.tflite"
FLOAT = data_dir() / "models/mlperf_tiny/image_classification/pretrainedResnet.tflite"


@pytest.fixture
def run(monkeypatch, capsys):
    # Only this stage's commands: the other stages' modules may not be merged yet.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("ilwp_embedded.commands.compress",))

    def _run(*argv):
        rc = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err
    return _run


@pytest.fixture(scope="module")
def good_blob():
    from helpers import load_graph
    from ilwp_embedded.compress import encode_graph

    return encode_graph(load_graph(str(RESNET)), 1).blob


def golden_outputs(model: bytes, n: int = 20) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    x = np.load(data_dir() / "datasets/cifar10_raw200.npz")["x"][:n]
    it = runtime.Interpreter.from_bytes(model)
    outs = []
    for img in x:
        it.set_input((img[None].astype(np.int16) - 128).astype(np.int8), 0)
        it.invoke()
        outs.append(it.get_output(0).copy())
    return np.concatenate(outs)


def test_lossless_cli_round_trip_same_golden_outputs(run, tmp_path):
    blob, back = tmp_path / "m.ilwp", tmp_path / "back.tflite"
    rc, out, err = run("compress", RESNET, "-o", blob, "--lossless", "--json")
    assert rc == 0, err
    s = json.loads(out)
    for key in ("weights", "int8_bytes", "coded_bytes", "bits_per_weight", "entropy_bound_bits"):
        assert key in s
    assert s["weights"] == 77360 and s["coded_bytes"] < s["int8_bytes"]
    assert all({"mode", "bits"} <= set(t) for t in s["tensors"]) and len(s["tensors"]) == 10
    assert s["coded_bytes"] * 8 <= 1.01 * s["entropy_bound_bits"]
    assert run("decompress", blob, "-o", back)[0] == 0
    assert np.array_equal(golden_outputs(back.read_bytes()), golden_outputs(RESNET.read_bytes()))


def test_lossy_cli_emits_the_model_decompress_rebuilds(run, tmp_path):
    blob, emitted, back = tmp_path / "m.ilwp", tmp_path / "emit.tflite", tmp_path / "back.tflite"
    rc, out, err = run("compress", RESNET, "-o", blob, "--step", "3", "--emit-tflite", emitted)
    assert rc == 0, err
    assert "bits/weight" in out
    assert run("decompress", blob, "-o", back)[0] == 0
    g_emit, g_back = golden_outputs(emitted.read_bytes()), golden_outputs(back.read_bytes())
    assert np.array_equal(g_emit, g_back)
    assert not np.array_equal(g_emit, golden_outputs(RESNET.read_bytes()))  # it is lossy


def test_lossy_step_that_costs_accuracy_warns(run, tmp_path):
    """A large step loses points on the model's default sample (cifar10-raw200): one warning line
    naming the drop; lossless weights are exact, so neither a measurement nor a warning."""
    rc, out, err = run("compress", RESNET, "-o", tmp_path / "s.ilwp", "--step", "24")
    assert rc == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1 and "top-1 points on 200 images of cifar10-raw200" in lines[0], err
    assert float(lines[0].split(" cost ")[1].split()[0]) > 1.0
    rc, out, err = run("compress", RESNET, "-o", tmp_path / "l.ilwp", "--lossless")
    assert rc == 0 and "warning" not in err, err
    # the threshold is the user's: a drop within it passes quietly
    rc, out, err = run("compress", RESNET, "-o", tmp_path / "s.ilwp", "--step", "24", "--warn-drop", "100")
    assert rc == 0 and "warning" not in err, err


def test_accuracy_check_dataset_shape_refused_before_coding(run, tmp_path):
    np.savez(tmp_path / "m.npz", x=np.zeros((4, 28, 28), np.uint8), y=np.zeros(4, np.int64))
    out = tmp_path / "s.ilwp"
    rc, _, err = run("compress", RESNET, "-o", out, "--step", "8", "--dataset", f"npz:{tmp_path / 'm.npz'}")
    assert rc == 2 and err.startswith("error: ") and "shape" in err and not out.exists(), err


@pytest.mark.parametrize("case", ["missing", "not_tflite", "float_model", "bad_step", "corrupt_ilwp",
                                  "truncated_ilwp", "ilwp_as_model", "missing_outdir", "old_version"])
def test_bad_input_exit_2_one_line(run, tmp_path, case, good_blob):
    good = tmp_path / "good.ilwp"
    good.write_bytes(good_blob)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"hello world, not a model" * 10)
    data = bytearray(good.read_bytes())
    data[40] ^= 0x55
    corrupt = tmp_path / "corrupt.ilwp"
    corrupt.write_bytes(bytes(data))
    trunc = tmp_path / "trunc.ilwp"
    trunc.write_bytes(good.read_bytes()[:-10])
    v1 = bytearray(good_blob)  # a version-1 blob (tables up to P = 15), CRC intact
    v1[4] = 1
    v1[-4:] = zlib.crc32(bytes(v1[:-4])).to_bytes(4, "little")
    old = tmp_path / "v1.ilwp"
    old.write_bytes(bytes(v1))
    out = tmp_path / "out.bin"
    argv = {
        "missing": ("compress", tmp_path / "nope.tflite", "-o", out),
        "not_tflite": ("compress", junk, "-o", out),
        "float_model": ("compress", FLOAT, "-o", out),
        "bad_step": ("compress", RESNET, "-o", out, "--step", "0"),
        "corrupt_ilwp": ("decompress", corrupt, "-o", out),
        "truncated_ilwp": ("decompress", trunc, "-o", out),
        "ilwp_as_model": ("compress", good, "-o", out),
        "missing_outdir": ("compress", RESNET, "-o", tmp_path / "no" / "dir" / "x.ilwp"),
        "old_version": ("decompress", old, "-o", out),
    }[case]
    rc, stdout, err = run(*argv)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    assert not out.exists()  # nothing half-written
    if case == "old_version":
        assert "version 1 is not supported" in err and "re-run ilwp-embed compress" in err


def test_cli_process_has_no_traceback(tmp_path):
    code = ("import sys, ilwp_embedded.cli as c; c.COMMAND_MODULES=('ilwp_embedded.commands.compress',); "
            "sys.exit(c.main())")
    bad = tmp_path / "x.ilwp"
    bad.write_bytes(b"ILWP\x01" + bytes(30))
    p = subprocess.run([sys.executable, "-c", code, "decompress", str(bad), "-o", str(tmp_path / "o.tflite")],
                       capture_output=True, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin"})
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr


def test_inspect_prints_the_size_line_compress_printed(run, monkeypatch, tmp_path):
    """One formatter (compress/blobinfo.py) for both commands: the same numbers, the same words."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("ilwp_embedded.commands.compress", "ilwp_embedded.commands.ingest"))
    blob = tmp_path / "m.ilwp"
    rc, out, err = run("compress", RESNET, "-o", blob, "--step", "3")
    assert rc == 0, err
    rc, shown, err = run("inspect", blob)
    assert rc == 0, err
    first, *tensors = shown.splitlines()
    assert first == out.splitlines()[0] + ", lossy"
    records = json.loads(run("inspect", blob, "--json")[1])["tensors"]
    assert len(tensors) == len(records) > 0
    assert all(line.split()[:2] == [str(t["tensor"]), t["name"][:40]] for line, t in zip(tensors, records))
