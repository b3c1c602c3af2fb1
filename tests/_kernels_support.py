"""Shared helpers of the kernel tests: the host-built kernel library fixture and the golden TFLM interpreter.

Kept out of conftest.py so other branches' conftest files merge cleanly; test modules import from here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DATA_DIR

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return DATA_DIR  # resolved once, in conftest.py


@pytest.fixture(scope="session", params=["portable", "dsp-emulated"])
def kernel_lib(request, tmp_path_factory) -> Path:
    """The kernels built with host gcc: the portable C path, and the Cortex-M DSP fast path with
    emulated SIMD32 intrinsics (same loops and data layout as on the device)."""
    from ilwp_embedded.generate.host_runner import build_kernels
    return build_kernels(tmp_path_factory.mktemp("kernels"), emulate_dsp=request.param == "dsp-emulated")


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
