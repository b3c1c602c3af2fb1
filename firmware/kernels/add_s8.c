/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ADD int8, same shapes (mirrors TFLM reference_integer_ops::AddElementwise). */
#include "ilwp_dsp.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

#define ILWP_ADD_TABLE 256

int32_t ilwp_add_s8_scratch_size(void)
{
    return 2 * ILWP_ADD_TABLE * (int32_t)sizeof(int32_t);
}

/* The input rescale of TFLM's int8 add: ((x + offset) << left_shift) times a multiplier < 1. */
static int32_t rescale(int32_t x, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    return ilwp_multiply_by_quantized_multiplier_lt_one((x + offset) * (1 << left_shift), multiplier, shift);
}

int32_t ilwp_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output, int32_t size, int32_t *scratch)
{
    /* Locals: int8 output stores may alias the struct. Output multiplier < 1 (shift <= 0) and
     * non-negative, so ilwp_requantize equals TFLM's MultiplyByQuantizedMultiplierSmallerThanOneExp. */
    const int32_t out_mult = p->output_multiplier, out_shift = p->output_shift;
    const int32_t out_off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset, ls = p->left_shift;
    const int32_t m1 = p->input1_multiplier, s1 = p->input1_shift;
    const int32_t m2 = p->input2_multiplier, s2 = p->input2_shift;
    int32_t i;
    if (scratch != 0) {
        /* Each input's rescaled value depends on its int8 value only: tabulate both (512 rescales). */
        int32_t *t1 = scratch + 128;
        int32_t *t2 = scratch + ILWP_ADD_TABLE + 128;
        for (i = -128; i < 128; ++i) {
            t1[i] = rescale(i, off1, ls, m1, s1);
            t2[i] = rescale(i, off2, ls, m2, s2);
        }
        if (out_shift <= -2 && out_shift >= -31 && lo == -128 && hi == 127) {
            /* The common case: one-multiply requantization and a plain saturation (SSAT). */
            for (i = 0; i < size; ++i) {
                const int32_t r = ilwp_requantize_rshift(t1[input1[i]] + t2[input2[i]], out_mult, out_shift);
                output[i] = (int8_t)ilwp_sat_s8(r + out_off);
            }
            return ILWP_OK;
        }
        for (i = 0; i < size; ++i) {
            const int32_t r = ilwp_requantize(t1[input1[i]] + t2[input2[i]], out_mult, out_shift) + out_off;
            output[i] = (int8_t)ilwp_clamp_i32(r, lo, hi);
        }
        return ILWP_OK;
    }
    for (i = 0; i < size; ++i) {
        const int32_t a = rescale(input1[i], off1, ls, m1, s1);
        const int32_t b = rescale(input2[i], off2, ls, m2, s2);
        const int32_t r = ilwp_requantize(a + b, out_mult, out_shift) + out_off;
        output[i] = (int8_t)ilwp_clamp_i32(r, lo, hi);
    }
    return ILWP_OK;
}
