# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: the real models and data of ../shared/data (or $ILWP_DATA_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("ILWP_DATA_DIR") or REPO.parent / "shared" / "data").resolve()
MODELS = DATA_DIR / "models" / "mlperf_tiny"
RESNET8_INT8 = MODELS / "image_classification" / "pretrainedResnet_quant.tflite"
RESNET8_LARGE_INT8 = MODELS / "image_classification" / "pretrainedResnet_large_int8.tflite"
RESNET8_FLOAT = MODELS / "image_classification" / "pretrainedResnet.tflite"
RESNET8_H5 = MODELS / "image_classification" / "pretrainedResnet.h5"
KWS_INT8 = MODELS / "streaming_wakeword" / "str_ww_ref_model.tflite"
INT8_MODELS = (RESNET8_INT8, RESNET8_LARGE_INT8, KWS_INT8)
ALL_TFLITE = sorted(MODELS.glob("*/*.tflite"))

# Tests run on the real data; its absence is an error, not a reason to pass quietly.
if not (DATA_DIR / "SHA256SUMS").is_file():
    raise RuntimeError(f"test data not found at {DATA_DIR}: set ILWP_DATA_DIR to the shared data directory")
os.environ["ILWP_DATA_DIR"] = str(DATA_DIR)
# devtools/ (host runner, model bench) sits beside the package and is not installed: import it from here
sys.path.insert(0, str(REPO))


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `ilwp-embed ARGS` as a user would, in a fresh process."""
    e = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", "ilwp_embedded", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=e, cwd=REPO)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit code 2, one `error:` line on stderr naming the problem, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])


def data_dir() -> Path:
    return DATA_DIR
