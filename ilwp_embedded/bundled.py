# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The example model `build` and `demo` use when none is given."""

from __future__ import annotations

import os
from pathlib import Path

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.resources import models_dir

MLPERF_RESNET8 = "models/mlperf_tiny/image_classification/pretrainedResnet_quant.tflite"


def bundled_model(data_dir: str | None = None) -> Path:
    """The published ResNet-20 (imported, int8) shipped in models/, else the MLPerf Tiny ResNet-8 of the data directory."""
    own = models_dir() / "cifar_resnet20_int8.tflite"
    if own.is_file():
        return own
    root = data_dir or os.environ.get("ILWP_DATA_DIR")
    if root and (Path(root) / MLPERF_RESNET8).is_file():
        return Path(root) / MLPERF_RESNET8
    raise IlwpError(f"no example model: neither {own} nor $ILWP_DATA_DIR/{MLPERF_RESNET8} exists; pass --model")
