"""Shared fixtures of the kernel tests: the host-built kernel library and the golden TFLM interpreter."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return Path(os.environ.get("ILWP_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def kernel_lib(tmp_path_factory) -> Path:
    from ilwp_embedded.generate.host_runner import build_kernels
    return build_kernels(tmp_path_factory.mktemp("kernels"))


def tflm_outputs(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Golden outputs: the TFLite Micro reference kernels through the tflite-micro Python interpreter."""
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(model)
    for k, x in enumerate(inputs):
        it.set_input(x, k)
    it.invoke()
    outs = []
    k = 0
    while True:
        try:
            outs.append(np.array(it.get_output(k)))
        except Exception:
            break
        k += 1
    return outs
