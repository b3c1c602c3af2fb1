# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""MobileNet v1 0.25 at 96x96 (random weights, int8): its runtime flash (flash beyond the weights and
the model's constants, as bench/firmware.py counts it) stays within 14 KB (issue #16).

Not run in QEMU here: the golden interpreter (tflite-micro's Python package) aborts the process when it
loads this model, so there is nothing to compare the board's outputs with."""

from __future__ import annotations

import shutil

import pytest

from helpers import core_dir
from ilwp_embedded.target.boards import resolve_board

RUNTIME_FLASH_LIMIT = 14 * 1024

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")


def test_mobilenet_v1_runtime_flash_within_14_kb(tmp_path):
    from devtools.mobilenet import mobilenet_v1_025
    from ilwp_embedded import pipeline
    from ilwp_embedded.target.firmware import build_model_firmware

    # random weights do not compress: `build` keeps them raw int8 (what it would pick), so skip the coding
    model = pipeline.load(mobilenet_v1_025(tmp_path / "mnv1.tflite"), compress=False)
    g = model.graph
    ops = {op.op for op in g.operators}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "MEAN", "SOFTMAX"} <= ops and g.tensors[g.inputs[0]].shape == (1, 96, 96, 3)
    board = resolve_board("qemu-m4")
    core_dir()
    fw = build_model_firmware(board, g, model.coded, tmp_path / "fw")
    runtime = fw.flash_bytes - fw.weights_coded_bytes - fw.model_const_bytes
    print(f"MobileNet v1 0.25 96x96 on qemu-m4 ({fw.decode_mode}): runtime flash {runtime} B")
    assert 0 < runtime <= RUNTIME_FLASH_LIMIT, runtime
