# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Compressed weights on the emulated device: decoded at boot or per layer, bit-exact over the serial
protocol, decode time measured; a corrupted blob is refused before any inference."""

import numpy as np
import pytest
from helpers import core_dir
from conftest import KWS_INT8, REPO, assert_one_line_error, run_cli

from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.firmware import build_inference_firmware
from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.codegen import Weights, generate
from ilwp_embedded.generate.weights import coded_weights
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.run.validate import validate_model


@pytest.fixture(scope="module")
def kws():
    g = load_graph(KWS_INT8)
    xs = np.random.default_rng(5).integers(-128, 128, (4, 30, 1, 40)).astype(np.int8)
    return g, encode_graph(g, 1).container, xs


def _documented_kws_decode() -> dict[str, int]:
    """Decode instructions of lossless KWS on qemu-m4 in docs/kernels.md: once (at boot, CRC
    included) and layer (per inference)."""
    for line in (REPO / "docs" / "kernels.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[:3] == ["KWS", "qemu-m4", "raw / once / layer"]:
            _, once, layer = (c.replace(",", "").split()[0] for c in cells[4].split(" / "))
            return {"once": int(once), "layer": int(layer)}
    raise AssertionError("docs/kernels.md has no KWS qemu-m4 row")


@pytest.mark.parametrize("mode", ["once", "layer"])
def test_compressed_kws_is_bit_exact_in_qemu(tmp_path, kws, mode):
    g, cont, xs = kws
    board = resolve_board("qemu-m4")
    fw = build_inference_firmware(board, generate(g, coded_weights(cont, mode)), tmp_path, core_dir=core_dir())
    res = validate_model(board, g, xs, np.zeros(len(xs), np.int64), elf=fw.elf)
    assert res.bit_exact and res.count == 4 and res.decode_mode == mode
    n = sum(r.n_elems for r in cont.records)
    # Within 1.2x of what docs/kernels.md states for KWS on qemu-m4 (bench/firmware.py measures it)
    assert 5 * n < res.decode_ticks_median <= 1.2 * _documented_kws_decode()[mode]
    if mode == "layer":  # decoded on every run
        assert res.decode_ticks_median < res.latency.median


def test_corrupt_blob_is_refused_before_inference(tmp_path, kws):
    g, cont, xs = kws
    w = coded_weights(cont, "once")
    bad = bytearray(w.blob)
    bad[len(bad) // 3] ^= 0x04
    board = resolve_board("qemu-m4")
    fw = build_inference_firmware(board, generate(g, Weights(w.mode, bytes(bad), w.records, w.table_log2)), tmp_path,
                                  core_dir=core_dir())
    with pytest.raises(IlwpError, match="refuses to run"):
        validate_model(board, g, xs, np.zeros(len(xs), np.int64), elf=fw.elf)
    np.savez(tmp_path / "kws.npz", x=xs, y=np.zeros(len(xs), np.int64))
    proc = run_cli("validate", "--elf", fw.elf, "--model", KWS_INT8, "--dataset", f"npz:{tmp_path / 'kws.npz'}")
    assert_one_line_error(proc, "refuses to run")


def test_validate_cli_builds_compressed_firmware_and_writes_html(tmp_path):
    from conftest import RESNET8_INT8
    import json

    html = tmp_path / "report.html"
    p = run_cli("validate", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "3", "--json",
                "--html", html, "--build-dir", tmp_path / "fw", "--decode", "layer", timeout=600)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["count"] == 3 and r["bit_exact"] is True and r["decode_mode"] == "layer"
    assert r["latency"]["unit"] == "instructions" and r["latency"]["median"] > 1e6
    text = html.read_text()
    assert text.count("data:image/png;base64,") == 3 and "3/3" in text


@pytest.mark.parametrize("board_id", ["qemu-m4", "qemu-stm32f4"])
@pytest.mark.parametrize("model", ["resnet8", "kws"])
def test_real_models_bit_exact_on_20_inputs(tmp_path, board_id, model):
    """The product path (`build` then `validate`): compressed losslessly, decode mode planned for the
    board's RAM (ResNet-8 on the 128 KB STM32F405 decodes per layer) and flash (KWS stays raw), 20 inputs
    bit-exact."""
    from conftest import RESNET8_INT8

    from ilwp_embedded.target.firmware import build_model_firmware
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.golden import prepare_inputs

    board = resolve_board(board_id)
    g = load_graph(RESNET8_INT8 if model == "resnet8" else KWS_INT8)
    cont = encode_graph(g, 1).container
    fw = build_model_firmware(board, g, cont, tmp_path)
    if model == "resnet8":
        ds = load_dataset("cifar10-raw200").take(20)
        xs, labels = prepare_inputs(ds, g.tensors[g.inputs[0]]), ds.y
    else:
        xs = np.random.default_rng(9).integers(-128, 128, (20, 30, 1, 40)).astype(np.int8)
        labels = np.zeros(20, np.int64)
    res = validate_model(board, g, xs, labels, elf=fw.elf)
    assert res.count == 20 and res.bit_exact
    # KWS's blob saves less flash than the decoder costs: auto keeps its weights raw (test_build_plan.py)
    expect = "raw" if model == "kws" else "layer" if board_id == "qemu-stm32f4" else "once"
    assert fw.decode_mode == expect and fw.ram_bytes <= board.ram.size
    if expect != "raw":
        assert fw.weights_coded_bytes < fw.weights_int8_bytes
