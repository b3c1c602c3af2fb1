"""Kernel backends of the generated C: which sources to compile, and what scratch they need.

  portable   firmware/kernels/*.c: ilwp-embed's own C99 kernels (the default).
  cmsis-nn   firmware/kernels_cmsis/ilwp_cmsis_nn.c: the same ilwp_kernels.h API on top of Arm's
             CMSIS-NN, plus the portable MEAN/PAD/CONCATENATION/RESHAPE/broadcast-ADD kernels and the
             CMSIS-NN sources from a checkout the user provides (never shipped with ilwp-embed):
             kernel_sources("cmsis-nn", "/path/to/CMSIS-NN") or the environment variable ILWP_CMSIS_NN.

Scratch sizing for cmsis-nn: cmsis_nn_scratch_bytes() mirrors CMSIS-NN's *_get_buffer_size() rules
for the targets ilwp-embed builds for, generic C (the host, Cortex-M0/M3) and Armv7E-M with the DSP
extension (Cortex-M4/M7/M33 with DSP, where ARM_MATH_DSP is set), and returns the larger of the two,
so one generated model fits either build. Helium (MVE, Cortex-M55/M85) is not sized here: the glue
asks CMSIS-NN's own get_buffer_size() at run time on every target and returns ILWP_ERR_SCRATCH (the
model returns ILWP_MODEL_ERR_KERNEL - step) rather than overrun a buffer that is too small.
"""

from __future__ import annotations

import os
from pathlib import Path

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ops import quant as Q
from ilwp_embedded.resources import firmware_dir

FIRMWARE = firmware_dir()
PORTABLE_DIR = FIRMWARE / "kernels"
CMSIS_GLUE_DIR = FIRMWARE / "kernels_cmsis"
BACKENDS = ("portable", "cmsis-nn")
ENV_VAR = "ILWP_CMSIS_NN"

# Portable kernels the cmsis-nn backend keeps: CMSIS-NN lacks them, or its semantics differ from TFLM's
# (CMSIS-NN's concatenation/pad/reshape have other layouts; it has no int8 MEAN; its add has no broadcast).
PORTABLE_KEPT = ("mean_s8.c", "pad_s8.c", "concatenation_s8.c", "reshape_s8.c", "add_broadcast_s8.c")
# CMSIS-NN source folders the int8 glue needs (the float/f16 and Python-binding files are skipped).
CMSIS_DIRS = ("ActivationFunctions", "BasicMathFunctions", "ConcatenationFunctions", "ConvolutionFunctions",
              "FullyConnectedFunctions", "NNSupportFunctions", "PoolingFunctions", "SoftmaxFunctions")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise IlwpError(f"unknown kernel backend '{backend}': choose one of {', '.join(BACKENDS)}")
    return backend


def find_cmsis_nn(path: str | os.PathLike | None = None) -> Path:
    """The CMSIS-NN checkout: `path`, else $ILWP_CMSIS_NN; IlwpError when absent or not a checkout."""
    given = path if path not in (None, "") else os.environ.get(ENV_VAR)
    if not given:
        raise IlwpError(f"the cmsis-nn backend needs a CMSIS-NN checkout: pass --cmsis-nn PATH or set {ENV_VAR} "
                        "(git clone https://github.com/ARM-software/CMSIS-NN)")
    root = Path(given).expanduser()
    if not root.is_dir():
        raise IlwpError(f"CMSIS-NN checkout not found: {root} is not a directory")
    if not (root / "Include" / "arm_nnfunctions.h").is_file() or not (root / "Source").is_dir():
        raise IlwpError(f"{root} is not a CMSIS-NN checkout: Include/arm_nnfunctions.h or Source/ is missing")
    return root.resolve()


def kernel_sources(backend: str = "portable", cmsis_nn_path: str | os.PathLike | None = None
                   ) -> tuple[list[Path], list[Path]]:
    """(C sources, include directories) that implement ilwp_kernels.h for `backend`."""
    check_backend(backend)
    if backend == "portable":
        return sorted(PORTABLE_DIR.glob("*.c")), [PORTABLE_DIR]
    root = find_cmsis_nn(cmsis_nn_path)
    cmsis = sorted(p for d in CMSIS_DIRS for p in (root / "Source" / d).glob("*.c")
                   if not p.stem.endswith(("_f16", "_f32")))
    if not any(p.name == "arm_convolve_wrapper_s8.c" for p in cmsis):
        raise IlwpError(f"{root} is not a usable CMSIS-NN checkout: Source/ConvolutionFunctions/"
                        "arm_convolve_wrapper_s8.c is missing")
    sources = [CMSIS_GLUE_DIR / "ilwp_cmsis_nn.c", *(PORTABLE_DIR / n for n in PORTABLE_KEPT), *cmsis]
    return sources, [CMSIS_GLUE_DIR, PORTABLE_DIR, root / "Include"]


# ------------------------------------------------------------------------------------- scratch sizing

def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _conv_bytes(p: Q.ConvParams) -> int:
    # arm_convolve_wrapper_s8_get_buffer_size{,_dsp}: 1x1 -> 0 (or 2*C_IN int16 with armclang's fast 1x1),
    # 1xN and general -> arm_convolve_s8_get_buffer_size = 2 int16 im2col columns of FH*FW*C_IN,
    # padded to 4. That bound covers every branch on generic and DSP builds.
    rhs_cols = p.filter_h * p.filter_w * p.input_c
    general = 2 * _align(rhs_cols, 4) * 2
    if (p.filter_h == p.filter_w == 1 and p.pad_h == p.pad_w == 0 and p.dilation_h == p.dilation_w == 1
            and p.input_c == p.filter_c):
        # 1x1: stride 1 -> arm_convolve_1x1_s8_fast (armclang DSP: 2*C_IN int16), else arm_convolve_1x1_s8 (0)
        return 2 * p.input_c * 2 if p.stride_h == p.stride_w == 1 else 0
    return general


def _dw_bytes(p: Q.DepthwiseConvParams) -> int:
    # arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp: only the ch_mult 1, batch 1, undilated case
    # uses arm_depthwise_conv_s8_opt (C_IN*FH*FW int16) unless it is the 3x3 kernel with padding <= 1.
    if not (p.input_c == p.output_c and p.batches == 1 and p.dilation_h == p.dilation_w == 1):
        return 0
    if p.filter_h == p.filter_w == 3 and p.pad_h <= 1 and p.pad_w <= 1:
        return 0
    return p.input_c * p.filter_h * p.filter_w * 2


def cmsis_nn_scratch_bytes(params) -> int:
    """Bytes of work buffer the CMSIS-NN kernel of one layer needs (max of generic C and DSP builds)."""
    if isinstance(params, Q.ConvParams):
        return _conv_bytes(params)
    if isinstance(params, Q.DepthwiseConvParams):
        return _dw_bytes(params)
    if isinstance(params, Q.PoolParams):
        return 4 * params.channels  # arm_avgpool_s8_get_buffer_size_dsp: C_IN int32 sums (max pool: 0)
    return 0  # FULLY_CONNECTED: 0 on non-MVE builds; ADD, SOFTMAX: no buffer


__all__ = ["BACKENDS", "ENV_VAR", "check_backend", "find_cmsis_nn", "kernel_sources", "cmsis_nn_scratch_bytes"]
