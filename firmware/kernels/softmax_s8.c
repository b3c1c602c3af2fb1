/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* SOFTMAX int8 -> int8 (mirrors TFLM reference_ops::Softmax for int8: gemmlowp fixed-point exp
 * on Q5.26 differences, Q12.19 sum, Newton-Raphson reciprocal). Raw int32 fixed-point below. */
#include "../include/ilwp_compiler.h" /* ILWP_SMALL: one row per inference, compiled for size */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

/* One out-of-line copy of the doubling high multiply: inlined at its ~20 call sites it cost 180 B
 * of flash, for a kernel that runs once per inference on a few values. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
ILWP_SMALL static int32_t fp_mul(int32_t a, int32_t b)
{
    return ilwp_sat_round_doubling_high_mul(a, b);
}
#define FP_MUL(a, b) fp_mul((a), (b))

ILWP_SMALL static int32_t count_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out. */
ILWP_SMALL static int32_t exp_on_interval_neg_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;  /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;       /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);           /* a + 1/8 */
    const int32_t x2 = FP_MUL(x, x);
    const int32_t x3 = FP_MUL(x2, x);
    const int32_t x4 = FP_MUL(x2, x2);
    const int32_t x4_over_4 = ilwp_rounding_divide_by_pot(x4, 2);
    const int32_t poly = ilwp_rounding_divide_by_pot(FP_MUL(x4_over_4 + x3, one_third) + x2, 1);
    return constant_term + FP_MUL(constant_term, x + poly);
}

/* exp(a) for a <= 0 given in Q5.26; result Q0.31. */
ILWP_SMALL static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t multipliers[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242         /* exp(-16)  */
    };
    const int32_t one_quarter = 1 << 24;
    const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_on_interval_neg_quarter(ilwp_sat_rounding_mul_by_pot(a_mod_quarter_minus_quarter, 5));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    int32_t i;
    for (i = 0; i < 7; ++i) {
        if (remainder & (int32_t)(1u << (24 + i))) {
            result = FP_MUL(result, multipliers[i]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out. */
ILWP_SMALL static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + (int64_t)INT32_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_over_17 = 1515870810;       /* Q2.29 */
    const int32_t c_neg32_over_17 = -1010580540;  /* Q2.29 */
    int32_t x = c48_over_17 + FP_MUL(half_den, c_neg32_over_17);
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_den_times_x = FP_MUL(half_den, x);
        const int32_t one_minus = (1 << 29) - half_den_times_x;
        x = x + ilwp_sat_rounding_mul_by_pot(FP_MUL(x, one_minus), 2);
    }
    return ilwp_sat_rounding_mul_by_pot(x, 1);
}

ILWP_SMALL int32_t ilwp_softmax_s8(const ilwp_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0; /* Q12.19 */
        int32_t headroom_plus_one, num_bits_over_unit, shifted_scale;
        for (c = 0; c < p->depth; ++c) {
            max_in_row = ilwp_max_i32(max_in_row, in[c]);
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = ilwp_multiply_by_quantized_multiplier_gt_one(diff, p->input_multiplier,
                                                                                   p->input_left_shift);
                sum_of_exps += ilwp_rounding_divide_by_pot(exp_on_negative_values(scaled), 12);
            }
        }
        headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        num_bits_over_unit = 12 - headroom_plus_one;
        shifted_scale = one_over_one_plus_x(
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1u << 31)));
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = ilwp_multiply_by_quantized_multiplier_gt_one(diff, p->input_multiplier,
                                                                                   p->input_left_shift);
                const int32_t e = exp_on_negative_values(scaled);
                const int32_t unsat =
                    ilwp_rounding_divide_by_pot(FP_MUL(shifted_scale, e), num_bits_over_unit + 31 - 8);
                out[c] = (int8_t)ilwp_clamp_i32(unsat - 128, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
    return ILWP_OK;
}
