# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The header's fixed-point helpers equal the textbook TFLM/gemmlowp formulations on edge and random values."""

from __future__ import annotations

import subprocess

from devtools.host_runner import KERNEL_DIR

# gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, as TFLM states them: the
# reference both C programs below check against.
_REF_FORMS = r"""
static int32_t ref_srdhm(int32_t a, int32_t b) {
    int64_t ab, nudge;
    if (a == b && a == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}
static int32_t ref_rdpot(int32_t x, int e) {
    int64_t mask = ((int64_t)1 << e) - 1, rem = x & mask, thr = (mask >> 1) + (x < 0);
    return (int32_t)((x >> e) + (rem > thr));
}
"""

_PROG = r"""
#include <stdio.h>
#include <stdint.h>
#include "ilwp_fixedpoint.h"
#include "ilwp_dsp.h"
/* Reference forms, written as TFLM/gemmlowp state them. */
""" + _REF_FORMS + r"""static int32_t ref_mbqm(int32_t x, int32_t m, int shift) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return ref_rdpot(ref_srdhm((int32_t)((uint32_t)x << left), m), right);
}
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void) {
    static const int32_t edge[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 30, -(1 << 30),
                                   (1 << 30) + 1, 12345, -12345, 65536, -65536};
    long bad = 0; int i, j, e;
    for (i = 0; i < 15; ++i) for (j = 0; j < 15; ++j) {
        bad += ilwp_sat_round_doubling_high_mul(edge[i], edge[j]) != ref_srdhm(edge[i], edge[j]);
        for (e = 2; e <= 31; ++e) {
            if (edge[j] >= 0) {
                bad += ilwp_requantize_rshift(edge[i], edge[j], -e) != ref_mbqm(edge[i], edge[j], -e);
            }
        }
    }
    for (i = 0; i < 2000000; ++i) {
        int32_t a = (int32_t)rnd(), b = (int32_t)rnd();
        if (i & 1) a >>= (rnd() % 31);
        bad += ilwp_sat_round_doubling_high_mul(a, b) != ref_srdhm(a, b);
        e = (int)(rnd() % 32);
        bad += ilwp_rounding_divide_by_pot(a, e) != ref_rdpot(a, e);
        {   /* requantize: accumulator-sized x, non-negative multiplier, shift in [-31, 7] */
            int32_t x = (int32_t)rnd() >> (rnd() % 24), m = (int32_t)(rnd() >> 1);
            int sh = (int)(rnd() % 39) - 31;
            if (sh > 0) x >>= 8;
            if ((i & 7) == 0) m = (i & 8) ? INT32_MAX : 0;
            bad += ilwp_requantize(x, m, sh) != ref_mbqm(x, m, sh);
            bad += ilwp_multiply_by_quantized_multiplier(x, m, sh) != ref_mbqm(x, m, sh);
            if (sh <= -2) {
                bad += ilwp_requantize_rshift(x, m, sh) != ref_mbqm(x, m, sh);
            }
        }
        {   /* the right-shift form over the whole int32 range of x, ties and multipliers near the ends */
            int32_t x = (int32_t)rnd(), m = (int32_t)(rnd() >> 1);
            int sh = -2 - (int)(rnd() % 30);
            if ((i & 3) == 1) m = (int32_t)(1u << 30) + (int32_t)(rnd() % 4u);
            if ((i & 3) == 2) x = (int32_t)((uint32_t)x >> (rnd() % 32)) * (((i >> 2) & 1) ? -1 : 1);
            if ((i & 15) == 3) m = (i & 16) ? INT32_MAX : 0;
            bad += ilwp_requantize_rshift(x, m, sh) != ref_mbqm(x, m, sh);
        }
        {   /* exact ties of the second rounding: m = 2^30 makes high = floor((x + 1) / 2) */
            int r = 2 + (int)(rnd() % 29);
            int32_t q = (int32_t)rnd() >> (r + 1), high = (int32_t)((uint32_t)q << r) + (1 << (r - 1));
            int32_t x = (int32_t)((uint32_t)high * 2u) - (int32_t)(rnd() & 1u);
            bad += ilwp_requantize_rshift(x, 1 << 30, -r) != ref_mbqm(x, 1 << 30, -r);
        }
    }
    for (i = 0; i < 1000000; ++i) {
        /* conv2d_s8's fast requantization: SSAT(SMMLAR(2x, m, ((2 off + 1) << (r - 1)) - [x < 0]) >> r)
         * equals TFLM's requantization, offset and [-128, 127] clamp for |x| < 2^30, r in [1, 23];
         * every fourth case an exact tie (m = 2^30: high = floor((x + 1) / 2)) */
        int r = 1 + (int)(rnd() % 23), off = (int)(rnd() % 256) - 128;
        int32_t m = (int32_t)(rnd() >> 1), x = (int32_t)rnd() >> (2 + rnd() % 28), want, got;
        if ((i & 3) == 0) {
            int32_t q = (int32_t)rnd() >> (r + 8), high = (int32_t)((uint32_t)q << r) + (1 << (r - 1));
            m = 1 << 30;
            x = (int32_t)((uint32_t)high * 2u) - (int32_t)(rnd() & 1u);
        }
        want = ref_mbqm(x, m, -r) + off;
        want = want < -128 ? -128 : (want > 127 ? 127 : want);
        got = ilwp_sat_s8(ilwp_smmlar(2 * x, m, (int32_t)((uint32_t)(2 * off + 1) << (r - 1)) + ((2 * x) >> 31)) >> r);
        bad += got != want;
    }
    printf("%ld\n", bad);
    return 0;
}
"""


def test_fixedpoint_matches_reference_forms(tmp_path):
    src = tmp_path / "fp.c"
    src.write_text(_PROG)
    exe = tmp_path / "fp"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNEL_DIR}", str(src), "-o",
                    str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "0"


_ADD_PROG = r"""
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "ilwp_kernels.h"
/* TFLM's int8 add (AddElementwise), written as TFLM states it. */
""" + _REF_FORMS + r"""static int8_t ref_add(const ilwp_add_params_t *p, int8_t a, int8_t b) {
    int32_t x = (a + p->input1_offset) * (1 << p->left_shift), y = (b + p->input2_offset) * (1 << p->left_shift);
    int32_t sa = ref_rdpot(ref_srdhm(x, p->input1_multiplier), -p->input1_shift);
    int32_t sb = ref_rdpot(ref_srdhm(y, p->input2_multiplier), -p->input2_shift);
    int32_t r = ref_rdpot(ref_srdhm(sa + sb, p->output_multiplier), -p->output_shift) + p->output_offset;
    return (int8_t)(r < p->act_min ? p->act_min : (r > p->act_max ? p->act_max : r));
}
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
static int32_t mult(void) { return (int32_t)((1u << 30) | (rnd() >> 2)); } /* QuantizeMultiplier: [2^30, 2^31) */
int main(void) {
    static int32_t scratch[512];
    int8_t in1[67], in2[67], out[67], ref[67];
    long bad = 0, tried = 0;
    int i, n, k;
    for (i = 0; i < 20000; ++i) {
        ilwp_add_params_t p;
        p.input1_offset = (int32_t)(rnd() % 256) - 128;
        p.input2_offset = (int32_t)(rnd() % 256) - 128;
        p.output_offset = (int32_t)(rnd() % 256) - 128;
        p.left_shift = 20;
        p.input1_multiplier = mult();
        p.input1_shift = -(int32_t)(rnd() % 4);
        p.input2_multiplier = (i & 7) == 0 ? INT32_MAX : mult();
        p.input2_shift = -(int32_t)(rnd() % 4);
        p.output_multiplier = (i & 15) == 1 ? (1 << 30) : mult();
        if ((i & 15) == 1) { /* multipliers 1/2: the rescales are multiples of 2^16, so ties of the
                              * output's rounding are common (about every other negative sum for r = 16) */
            p.input1_multiplier = p.input2_multiplier = 1 << 30;
        }
        /* around the scale of real adds (shift -17 .. -22), and the ends: 0, -1, -31 */
        p.output_shift = (i & 3) == 0 ? -(int32_t)(rnd() % 32) : -16 - (int32_t)(rnd() % 8);
        if ((i & 15) == 3) { /* input rescales of half an int8 step (exact ties in the tables: every odd
                              * x + offset) and an output fine enough that they show */
            p.input1_multiplier = p.input2_multiplier = 1 << 30;
            p.input1_shift = -20;
            p.input2_shift = -19 - (int32_t)(rnd() % 3);
            p.output_shift = -1 - (int32_t)(rnd() % 3);
        }
        p.act_min = ((i & 7) == 5 || (i & 31) == 19) ? p.output_offset : -128; /* the generic table path */
        p.act_max = 127;
        n = 1 + (int)(rnd() % 67);
        for (k = 0; k < n; ++k) {
            in1[k] = (int8_t)rnd();
            in2[k] = (i & 31) == 2 ? in1[k] : (int8_t)rnd();
            ref[k] = ref_add(&p, in1[k], in2[k]);
        }
        bad += ilwp_add_s8(&p, in1, in2, out, n, scratch) != ILWP_OK;
        bad += memcmp(out, ref, (size_t)n) != 0;
        bad += ilwp_add_s8(&p, in1, in2, out, n, NULL) != ILWP_OK;
        bad += memcmp(out, ref, (size_t)n) != 0;
        if ((i & 1) == 0) { /* in place: the output is the first input */
            bad += ilwp_add_s8(&p, in1, in2, in1, n, scratch) != ILWP_OK;
            bad += memcmp(in1, ref, (size_t)n) != 0;
        }
        tried += n;
    }
    printf("%ld %ld\n", bad, tried);
    return 0;
}
"""


def test_add_paths_match_tflm_form(tmp_path):
    """ilwp_add_s8's table paths (four elements per step, the output offset folded into the rounding)
    and its direct path equal TFLM's AddElementwise on random parameters, lengths 1..67, in place."""
    src = tmp_path / "add.c"
    src.write_text(_ADD_PROG)
    for flags in ([], ["-DILWP_EMULATE_DSP"]):
        exe = tmp_path / "add"
        subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *flags, f"-I{KERNEL_DIR}", str(src),
                        str(KERNEL_DIR / "add_s8.c"), "-o", str(exe)], check=True)
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
        assert out[0] == "0", (flags, out)
