# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Whole models through the host runner (C kernels + quant.py) vs the TFLM interpreter, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import data_dir, kernel_lib, tflm_outputs  # noqa: F401  (fixture)

MODELS = data_dir() / "models" / "mlperf_tiny"
RESNET = MODELS / "image_classification" / "pretrainedResnet_quant.tflite"
RESNET_LARGE = MODELS / "image_classification" / "pretrainedResnet_large_int8.tflite"
KWS = MODELS / "streaming_wakeword" / "str_ww_ref_model.tflite"
CIFAR = data_dir() / "datasets" / "cifar10_raw200.npz"


def _need(*paths):
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"data not found (set ILWP_DATA_DIR): {missing}")


def _check(model_path, inputs, kernel_lib):
    from devtools.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model = model_path.read_bytes()
    graph = read_tflite(model, model_path.name)
    runner = HostRunner(graph, kernel_lib)
    mismatches = []
    for k, x in enumerate(inputs):
        gold = tflm_outputs(model, [x])[0]
        mine = runner.run(x)[0].reshape(gold.shape)
        assert gold.dtype == np.int8
        if not np.array_equal(gold, mine):
            mismatches.append((k, gold.tolist(), mine.tolist()))
    assert not mismatches, f"{len(mismatches)}/{len(inputs)} inputs differ, first: {mismatches[0]}"


def _cifar_int8(n):
    with np.load(CIFAR) as d:
        x = d["x"][:n]
    return [(img.astype(np.int16) - 128).astype(np.int8)[None] for img in x]


def test_resnet8_bit_exact_on_cifar(kernel_lib):
    _need(RESNET, CIFAR)
    _check(RESNET, _cifar_int8(24), kernel_lib)


def test_resnet8_large_bit_exact_on_cifar(kernel_lib):
    _need(RESNET_LARGE, CIFAR)
    _check(RESNET_LARGE, _cifar_int8(6), kernel_lib)


def test_kws_bit_exact_on_random_inputs(kernel_lib):
    _need(KWS)
    rng = np.random.default_rng(1234)
    xs = [rng.integers(-128, 128, size=(1, 30, 1, 40), dtype=np.int8) for _ in range(24)]
    _check(KWS, xs, kernel_lib)
