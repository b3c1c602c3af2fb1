# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Kernel backends of the generated C: which sources to compile, and what scratch they need.

  portable   firmware/kernels/*.c: ilwp-embed's own C99 kernels (the default).
  cmsis-nn   firmware/kernels_cmsis/: ilwp_cmsis_* functions (the ilwp_kernels.h parameter structs on
             Arm's CMSIS-NN), the portable kernels for the layers CMSIS-NN lacks or computes wrongly,
             and the CMSIS-NN sources: --cmsis-nn PATH / $ILWP_CMSIS_NN, else the pinned copy that
             `ilwp-embed setup-cmsis-nn` extracts (generate/cmsis_nn.py; never in the repository).

Scratch sizing for cmsis-nn: cmsis_nn_scratch_bytes() mirrors CMSIS-NN's *_get_buffer_size() rules
for the targets ilwp-embed builds for, generic C (the host, Cortex-M0/M3) and Armv7E-M with the DSP
extension (Cortex-M4/M7/M33 with DSP, where ARM_MATH_DSP is set), and returns the larger of the two,
so one generated model fits either build. Helium (MVE, Cortex-M55/M85) is not sized here: the glue
asks CMSIS-NN's own get_buffer_size() at run time on every target and returns ILWP_ERR_SCRATCH (the
model returns ILWP_MODEL_ERR_KERNEL - step) rather than overrun a buffer that is too small.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.cmsis_nn import ENV_VAR, cmsis_nn_api, find_cmsis_nn, glue_sources
from ilwp_embedded.ops import quant as Q
from ilwp_embedded.resources import firmware_dir

FIRMWARE = firmware_dir()
PORTABLE_DIR = FIRMWARE / "kernels"
CMSIS_GLUE_DIR = FIRMWARE / "kernels_cmsis"
STATUS_DIR = FIRMWARE / "include"  # ilwp_status.h: the generated ilwp_model.h includes it by name
BACKENDS = ("portable", "cmsis-nn")

# CMSIS-NN source folders the int8 glue needs (the float/f16 and Python-binding files are skipped).
CMSIS_DIRS = ("ActivationFunctions", "BasicMathFunctions", "ConcatenationFunctions", "ConvolutionFunctions",
              "FullyConnectedFunctions", "NNSupportFunctions", "PoolingFunctions", "SoftmaxFunctions")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise IlwpError(f"unknown kernel backend '{backend}': choose one of {', '.join(BACKENDS)}")
    return backend


def kernel_sources(backend: str = "portable", cmsis_nn_path: str | os.PathLike | None = None
                   ) -> tuple[list[Path], list[Path]]:
    """(C sources, include directories) that implement ilwp_kernels.h for `backend` (the directories
    also hold ilwp_status.h, which the generated ilwp_model.h includes).

    cmsis-nn: the glue files for the API generation of the CMSIS-NN copy (cmsis_nn.cmsis_nn_api), the
    portable kernels (the generated model calls them for what CMSIS-NN lacks or computes wrongly; the
    linker drops those it does not call) and CMSIS-NN's int8 sources."""
    check_backend(backend)
    if backend == "portable":
        return sorted(PORTABLE_DIR.glob("*.c")), [PORTABLE_DIR, STATUS_DIR]
    api = cmsis_nn_api(cmsis_nn_path)
    root = api.root
    cmsis = sorted(p for d in CMSIS_DIRS for p in (root / "Source" / d).glob("*.c")
                   if not p.stem.endswith(("_f16", "_f32")))
    if not any(p.name == "arm_convolve_wrapper_s8.c" for p in cmsis):
        raise IlwpError(f"{root} is not a usable CMSIS-NN checkout: Source/ConvolutionFunctions/"
                        "arm_convolve_wrapper_s8.c is missing")
    sources = [*glue_sources(CMSIS_GLUE_DIR, api), *sorted(PORTABLE_DIR.glob("*.c")), *cmsis]
    return sources, [CMSIS_GLUE_DIR, PORTABLE_DIR, STATUS_DIR, root / "Include"]


# A CMSIS-NN function definition: an unindented line naming arm_* before its parameter list.
_DEFINITION = re.compile(r"^[A-Za-z_][\w \t*]*?\b(arm_\w+)\s*\(", re.M)
_NAME = re.compile(r"\barm_\w+")


def called_sources(roots: Sequence[Path], pool: Sequence[Path]) -> list[Path]:
    """The files of `pool` that `roots` call, directly or through each other: a file is kept when it
    defines an arm_* name that a kept file (or a root) mentions. Mentions in comments keep a file
    too: a few files more than needed, never one less."""
    defined: dict[str, set[Path]] = {}
    for p in pool:
        for name in _DEFINITION.findall(p.read_text(encoding="utf-8", errors="replace")):
            defined.setdefault(name, set()).add(p)
    keep: set[Path] = set()
    todo = list(roots)
    while todo:
        text = todo.pop().read_text(encoding="utf-8", errors="replace")
        for name in set(_NAME.findall(text)):
            for p in defined.get(name, ()):
                if p not in keep:
                    keep.add(p)
                    todo.append(p)
    return sorted(keep)


def kernel_files(backend: str = "portable", cmsis_nn_path: str | os.PathLike | None = None
                 ) -> list[tuple[Path, str]]:
    """The kernels of `backend` as a self-contained copy needs them: (file, path in one flat folder).
    Every .c of kernel_sources() compiles from there with no include path: the headers sit beside
    them (CMSIS-NN's Include/ tree too, so its "Internal/..." includes resolve). cmsis-nn: only the
    CMSIS-NN sources the glue calls (called_sources)."""
    sources, includes = kernel_sources(backend, cmsis_nn_path)
    ours = [p for p in sources if p.parent in (PORTABLE_DIR, CMSIS_GLUE_DIR)]
    files = [(p, p.name) for p in ours]
    files += [(h, h.name) for d in (PORTABLE_DIR, CMSIS_GLUE_DIR) if d in includes for h in sorted(d.glob("*.h"))]
    if backend == "cmsis-nn":
        root = cmsis_nn_api(cmsis_nn_path).root
        glue = [p for p in ours if p.parent == CMSIS_GLUE_DIR]
        files += [(p, p.name) for p in called_sources(glue, [p for p in sources if p not in ours])]
        files += [(h, h.relative_to(root / "Include").as_posix()) for h in sorted((root / "Include").rglob("*.h"))]
    names = [n for _, n in files]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise IlwpError(f"kernel files share a name, they cannot sit in one folder: {', '.join(clash)}")
    return files


def check_generated_for(gen, cmsis_nn_path: str | os.PathLike | None = None) -> None:
    """IlwpError when C generated for the cmsis-nn backend calls a CMSIS-NN kernel that the copy at
    `cmsis_nn_path` lacks or computes wrongly (generated against another version)."""
    if getattr(gen, "kernels", "portable") != "cmsis-nn":
        return
    api = cmsis_nn_api(cmsis_nn_path)
    missing = set(gen.cmsis_features) - api.features()
    if missing:
        raise IlwpError(f"the model was generated for a CMSIS-NN with {', '.join(sorted(missing))}, which CMSIS-NN "
                        f"{api.version} at {api.root} lacks: generate it again for this copy")


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


__all__ = ["BACKENDS", "ENV_VAR", "check_backend", "check_generated_for", "cmsis_nn_api", "find_cmsis_nn",
           "kernel_sources", "kernel_files", "called_sources", "cmsis_nn_scratch_bytes"]
