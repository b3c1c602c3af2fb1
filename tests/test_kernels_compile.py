# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The kernels compile warning-free as strict C99 for the host and for Cortex-M4 (arm-none-eabi-gcc)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import third_party_notices

from devtools.host_runner import KERNEL_DIR

SOURCES = sorted(KERNEL_DIR.glob("*.c"))
HOST = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-c"]
ARM = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-std=c99", "-Wall", "-Wextra",
       "-Werror", "-O2", "-c"]


def test_kernel_files_present():
    names = {p.name for p in SOURCES}
    for need in ("conv2d_s8.c", "depthwise_conv2d_s8.c", "fully_connected_s8.c", "add_s8.c",
                 "avg_pool2d_s8.c", "max_pool2d_s8.c", "softmax_s8.c", "mean_s8.c", "pad_s8.c",
                 "concatenation_s8.c", "reshape_s8.c", "lut_s8.c", "mul_s8.c", "mul_broadcast_s8.c",
                 "transpose_conv_s8.c"):
        assert need in names


# -O0 and -Os: the conv's inline-assembly loop needs 14 registers and is compiled only when optimising
# (ILWP_DSP_ASM); Cortex-M3 has no DSP extension (the portable path).
ARM_O0 = [*ARM[:-2], "-O0", "-c"]
ARM_OS = [*ARM[:-2], "-Os", "-c"]
ARM_M3 = [ARM[0], "-mcpu=cortex-m3", *ARM[2:]]


@pytest.mark.parametrize("flags", [HOST, ARM, ARM_O0, ARM_OS, ARM_M3],
                         ids=["host-gcc", "arm-none-eabi-gcc", "arm-O0", "arm-Os", "arm-cortex-m3"])
def test_compiles_with_werror(flags, tmp_path):
    if shutil.which(flags[0]) is None:
        pytest.skip(f"{flags[0]} not installed")
    for src in SOURCES:
        r = subprocess.run([*flags, f"-I{KERNEL_DIR}", str(src), "-o", str(tmp_path / (src.stem + ".o"))],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{src.name}:\n{r.stderr}"


def test_no_malloc_or_third_party_text():
    for src in [*SOURCES, *KERNEL_DIR.glob("*.h")]:
        text = src.read_text()
        for bad in ("malloc", "calloc", "free(", "arm_math.h", "arm_nnfunctions"):
            assert bad not in text, f"{src.name} contains {bad!r}"
        assert third_party_notices(text) == [], f"{src.name} carries a third-party notice"
