/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_fixedpoint.h - fixed-point helpers used by the ilwp int8 kernels.
 *
 * The arithmetic reproduces, bit for bit, the integer rounding rules of the
 * TensorFlow Lite Micro reference kernels (double-rounding variant, i.e. the
 * default build without TFLITE_SINGLE_ROUNDING) and of gemmlowp's fixed-point
 * library that the int8 softmax relies on.  Independent implementation.
 *
 * Assumes two's complement int32 and arithmetic right shift of negative
 * values (true for gcc/clang on every target we build for).
 */
#ifndef ILWP_FIXEDPOINT_H
#define ILWP_FIXEDPOINT_H

#include <stdint.h>

#define ILWP_INLINE static inline

ILWP_INLINE int32_t ilwp_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
ILWP_INLINE int32_t ilwp_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
ILWP_INLINE int32_t ilwp_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* round(a * b / 2^31), ties away from zero; saturates the single overflow case.
 * TFLM/gemmlowp compute (ab + nudge) / 2^31 with truncating division, nudge = 2^30 for ab >= 0 and
 * 1 - 2^30 otherwise; for either sign that equals floor((ab + 2^30) / 2^31), i.e. an arithmetic
 * shift, which is branch-free (SMULL + ADDS/ADC + shifts on Cortex-M). */
ILWP_INLINE int32_t ilwp_sat_round_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero. 0 <= exponent <= 31. */
ILWP_INLINE int32_t ilwp_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent with saturation (exponent > 0), or rounding division (exponent <= 0). */
ILWP_INLINE int32_t ilwp_sat_rounding_mul_by_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        const int32_t threshold = (int32_t)(((uint32_t)1u << (31 - exponent)) - 1u);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return (int32_t)((uint32_t)x << exponent);
    }
    return ilwp_rounding_divide_by_pot(x, -exponent);
}

/* Requantize an int32 accumulator: multiplier is Q0.31, shift > 0 is a left shift. */
ILWP_INLINE int32_t ilwp_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return ilwp_rounding_divide_by_pot(
        ilwp_sat_round_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
}

/* Kernel form of ilwp_multiply_by_quantized_multiplier: identical results whenever
 * 0 <= multiplier <= INT32_MAX (always true for QuantizeMultiplier output), so the one saturating
 * case of the doubling high multiply (both operands INT32_MIN) cannot occur and is not tested. */
ILWP_INLINE int32_t ilwp_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = left - shift;
    const int64_t prod = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)multiplier;
    const int32_t high = (int32_t)((prod + ((int64_t)1 << 30)) >> 31);
    return ilwp_rounding_divide_by_pot(high, right);
}

/* ilwp_requantize for a right shift of 2 or more (-31 <= shift <= -2) in one 64-bit multiply-add,
 * equal for every x when 0 <= multiplier. Why: with r = -shift and high = floor((x*m + 2^30) / 2^31)
 * (the doubling high multiply), TFLM's rounding division by 2^r (ties away from zero) is
 * floor((high + 2^(r-1) - [high < 0]) / 2^r), and nested floors merge:
 * floor((x*m + 2^30 - [high < 0] * 2^31) / 2^32 + 2^(r-2)) >> (r-1). [high < 0] may be replaced by
 * [x < 0]: they differ only when high == 0, where both give 0. The high word is within +-2^30, so
 * adding 2^(r-2) cannot overflow. The rounding term rides in the 64-bit start value:
 * high word round - [x < 0], low word 2^30 + [x < 0] * 2^31 (that is 2^(r-2) * 2^32 + 2^30 - [x < 0] * 2^31),
 * so with round = 2^(r-2) and s = r - 1 computed once per channel a value costs AND, ORR, ADD (ASR #31
 * operand), SMLAL, ASR on Cortex-M. */
ILWP_INLINE int32_t ilwp_requantize_rshift_pre(int32_t x, int32_t multiplier, uint32_t round, int32_t s)
{
    const uint32_t neg = (uint32_t)(x >> 31); /* 0 or all ones */
    const uint64_t start = ((uint64_t)(round + neg) << 32) | (0x40000000u | (neg & 0x80000000u));
    const uint64_t v = start + (uint64_t)((int64_t)x * multiplier);
    return (int32_t)(uint32_t)(v >> 32) >> s;
}

ILWP_INLINE int32_t ilwp_requantize_rshift(int32_t x, int32_t multiplier, int32_t shift)
{
    return ilwp_requantize_rshift_pre(x, multiplier, 1u << (-shift - 2), -shift - 1);
}

/* Multiplier >= 1 form used by softmax: the shift is a non-negative left shift. */
ILWP_INLINE int32_t ilwp_multiply_by_quantized_multiplier_gt_one(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return ilwp_sat_round_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier);
}

/* Multiplier < 1 form used by add: shift <= 0. */
ILWP_INLINE int32_t ilwp_multiply_by_quantized_multiplier_lt_one(int32_t x, int32_t multiplier, int32_t shift)
{
    return ilwp_rounding_divide_by_pot(ilwp_sat_round_doubling_high_mul(x, multiplier), -shift);
}

/* First and one-past-last filter tap whose input coordinate origin + t*dilation is in [0, size):
 * the taps of a window that fall inside the input (padding handled by skipping the rest). */
static inline void ilwp_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                                  int32_t *start, int32_t *end)
{
    int32_t t = 0;
    while (t < taps && origin + t * dilation < 0) {
        ++t;
    }
    *start = t;
    while (t < taps && origin + t * dilation < size) {
        ++t;
    }
    *end = t;
}

#endif /* ILWP_FIXEDPOINT_H */
