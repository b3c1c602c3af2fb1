# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""quant.py helpers on known values (TFLM QuantizeMultiplier / padding conventions)."""

from __future__ import annotations

import math

import numpy as np

from ilwp_embedded.ops import quant as Q


def test_quantize_multiplier_known_values():
    assert Q.quantize_multiplier(0.0) == (0, 0)
    assert Q.quantize_multiplier(0.5) == (1 << 30, 0)
    assert Q.quantize_multiplier(1.0) == (1 << 30, 1)
    assert Q.quantize_multiplier(0.25) == (1 << 30, -1)
    # rounding to 2^31 renormalizes
    assert Q.quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)
    # tiny multipliers flush to zero like TFLM
    assert Q.quantize_multiplier(2.0 ** -40) == (0, 0)


def test_quantize_multiplier_accuracy():
    rng = np.random.default_rng(0)
    for v in rng.uniform(1e-6, 4.0, 200):
        m, s = Q.quantize_multiplier(float(v))
        assert (1 << 30) <= m < (1 << 31)
        assert math.isclose(m * 2.0 ** (s - 31), v, rel_tol=2 ** -30)


def test_padding_same_valid():
    # SAME, stride 2, 3x3 on 9 -> out 5, total pad 2 -> (1, 0)
    assert Q.compute_out_size("SAME", 9, 3, 2) == 5
    assert Q.compute_padding(2, 1, 9, 3, 5) == (1, 0)
    # SAME, stride 2, 3x3 on 8 -> out 4, total pad 1 -> (0, 1)
    assert Q.compute_padding(2, 1, 8, 3, 4) == (0, 1)
    assert Q.compute_out_size("VALID", 9, 3, 2, 1) == 4
    assert Q.padding_hw("SAME", 1, 1, 2, 2, 10, 10, 3, 3) == (2, 2, 10, 10)


def test_c_struct_compiles(tmp_path):
    """ops/cstruct.c_struct prints valid initializers of the header's structs."""
    import subprocess

    from devtools.host_runner import KERNEL_DIR
    from ilwp_embedded.ops.cstruct import c_struct

    conv = Q.ConvParams(1, 8, 8, 4, 3, 3, 4, 8, 8, 2, 1, 1, 1, 1, 1, 1, 128, -5, -128, 127,
                        np.array([1 << 30, 1 << 29], np.int32), np.array([-3, -4], np.int32))
    add = Q.AddParams(1, 2, 3, 20, 1 << 30, -1, 1 << 30, -2, 1 << 30, -18, -128, 127, size=12)
    mean = Q.MeanParams((1, 4, 4, 3), (0, 1, 1, 0), 16, 1, 2, 1 << 30, -4)
    src = '#include "ilwp_kernels.h"\n'
    for p, name in ((conv, "pc"), (add, "pa"), (mean, "pm")):
        cs = c_struct(p, name)
        src += "".join(f"static const int32_t {a}[] = {{{', '.join(map(str, v))}}};\n" for a, v in cs.arrays)
        src += f"const {cs.ctype} {name} = {{{', '.join(f'.{f} = {v}' for f, v in cs.init)}}};\n"
    assert [a for a, _ in c_struct(conv, "pc").arrays] == ["pc_multiplier", "pc_shift"]
    (tmp_path / "p.c").write_text(src)
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{KERNEL_DIR}", "-c",
                    str(tmp_path / "p.c"), "-o", str(tmp_path / "p.o")], check=True)
