/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ADD int8, same shapes (mirrors TFLM reference_integer_ops::AddElementwise). */
#include "../include/ilwp_compiler.h" /* ILWP_SMALL */
#include "ilwp_dsp.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

#define ILWP_ADD_TABLE 256

int32_t ilwp_add_s8_scratch_size(void)
{
    return 2 * ILWP_ADD_TABLE * (int32_t)sizeof(int32_t);
}

/* t[x] = rescale(x) * 2^dbl for x in [-128, 127] (t points at entry 0), rescale being TFLM's input
 * rescale of the int8 add, RoundingDivideByPOT(SaturatingRoundingDoublingHighMul((x + offset) << left_shift,
 * multiplier), r) with r = -shift in [0, 31] (the multiplier below 1). That is add_one's SMMLAR form
 * without the offset: SMMLAR(2y, multiplier, 2^(r-1) - [y < 0]) >> r for r >= 1, SMMLAR(2y, multiplier, 0)
 * for r = 0, where |2y| = |(x + offset) << (left_shift + 1)| <= 255 * 2^21 < 2^30 (left_shift is 20). */
ILWP_SMALL static void fill_table(int32_t *t, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift,
                                  int32_t dbl)
{
    const int32_t r = -shift, round = r > 0 ? 1 << (r - 1) : 0, neg = r > 0 ? -1 : 0;
    int32_t i;
    for (i = -128; i < 128; ++i) {
        const int32_t y2 = (i + offset) * (1 << (left_shift + 1));
        t[i] = (ilwp_smmlar(y2, multiplier, round + (neg & (y2 >> 31))) >> r) * (1 << dbl);
    }
}

/* One output from the doubled tables (x2 = 2 * (t1[a] + t2[b])), exactly TFLM's
 * MultiplyByQuantizedMultiplierSmallerThanOneExp, output offset and [-128, 127] clamp, for r = -shift
 * in [1, 31]. Why: the doubling high multiply is floor((x*m + 2^30) / 2^31) = SMMLAR(2x, m) (both halves
 * times 2); its rounding division by 2^r, ties away from zero, is floor((high + 2^(r-1) - [high < 0]) / 2^r),
 * where [x < 0] may stand for [high < 0] (they differ only at high = 0, where both give 0), and adding
 * off * 2^r before the shift adds off after it. So with round_off = 2^(r-1) + off * 2^r, SMMLAR adds
 * round_off - [x < 0] to the high word. Ranges: each rescale is below 2^28 in magnitude (255 << 20 times
 * a multiplier < 1), so |x2| < 2^30 and the high word |x*m / 2^31| < 2^29; the caller keeps
 * |round_off| <= 2^30, so the sum stays in int32. */
static inline int8_t add_one(int32_t x2, int32_t m, int32_t round_off, int32_t r)
{
    return (int8_t)ilwp_sat_s8(ilwp_smmlar(x2, m, round_off + (x2 >> 31)) >> r);
}

/* The other cases (no ResNet-8 add): the tables with the textbook output requantization, or every
 * rescale computed (scratch NULL). Output multiplier < 1 (shift <= 0) and non-negative, so
 * ilwp_requantize equals TFLM's MultiplyByQuantizedMultiplierSmallerThanOneExp. */
ILWP_NOINLINE ILWP_SMALL static void add_generic(const ilwp_add_params_t *p, const int8_t *input1,
                                                 const int8_t *input2, int8_t *output, int32_t size, int32_t *scratch)
{
    /* Locals: int8 output stores may alias the struct. */
    const int32_t out_mult = p->output_multiplier, out_shift = p->output_shift;
    const int32_t out_off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset, ls = p->left_shift;
    const int32_t m1 = p->input1_multiplier, s1 = p->input1_shift;
    const int32_t m2 = p->input2_multiplier, s2 = p->input2_shift;
    int32_t i;
    if (scratch != 0) {
        const int32_t *t1 = scratch + 128, *t2 = scratch + ILWP_ADD_TABLE + 128;
        fill_table(scratch + 128, off1, ls, m1, s1, 0);
        fill_table(scratch + ILWP_ADD_TABLE + 128, off2, ls, m2, s2, 0);
        for (i = 0; i < size; ++i) {
            const int32_t r = ilwp_requantize(t1[input1[i]] + t2[input2[i]], out_mult, out_shift) + out_off;
            output[i] = (int8_t)ilwp_clamp_i32(r, lo, hi);
        }
        return;
    }
    for (i = 0; i < size; ++i) {
        const int32_t a = ilwp_multiply_by_quantized_multiplier_lt_one((input1[i] + off1) * (1 << ls), m1, s1);
        const int32_t b = ilwp_multiply_by_quantized_multiplier_lt_one((input2[i] + off2) * (1 << ls), m2, s2);
        const int32_t r = ilwp_requantize(a + b, out_mult, out_shift) + out_off;
        output[i] = (int8_t)ilwp_clamp_i32(r, lo, hi);
    }
}

int32_t ilwp_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output, int32_t size, int32_t *scratch)
{
    /* Locals: int8 output stores may alias the struct (the tables are filled before any store). */
    const int32_t out_mult = p->output_multiplier, out_shift = p->output_shift, out_off = p->output_offset;
    if (scratch != 0 && out_shift <= -1 && out_shift >= -31 && p->act_min == -128 && p->act_max == 127) {
        /* Each input's rescaled value depends on its int8 value only: tabulate both (512 rescales). */
        int32_t *t1 = scratch + 128;
        int32_t *t2 = scratch + ILWP_ADD_TABLE + 128;
        int32_t i;
        const int64_t ro = ((int64_t)1 << (-out_shift - 1)) + (int64_t)out_off * ((int64_t)1 << -out_shift);
        if (ro >= -((int64_t)1 << 30) && ro <= ((int64_t)1 << 30)) {
            /* The common case (every ResNet-8 add): add_one, four elements per step (one word of each
             * input, read before the four outputs are written: the output may be an input;
             * little-endian byte order, as on Cortex-M and the host). */
            const int32_t round_off = (int32_t)ro, r = -out_shift;
            fill_table(t1, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift, 1);
            fill_table(t2, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift, 1);
            i = 0;
#if ILWP_DSP_ASM
            if (size >= 4) {
                /* The loop below in assembly: 11 cycles per element (compiled, about 14: the table
                 * loads landed right after their index). */
                const int8_t *const end1 = input1 + (size & ~3);
                const int8_t *in1 = input1, *in2 = input2;
                int8_t *out = output;
                uint32_t x, y, a, b, h;
#define ILWP_ADD_ONE(ROT, K)                                  \
                "sxtb %[a], %[x]" ROT "\n\t"              \
                "sxtb %[b], %[y]" ROT "\n\t"              \
                "ldr %[a], [%[t1], %[a], lsl #2]\n\t"     \
                "ldr %[b], [%[t2], %[b], lsl #2]\n\t"     \
                "add %[a], %[a], %[b]\n\t"                \
                "add %[h], %[ro], %[a], asr #31\n\t"      \
                "smmlar %[h], %[a], %[m], %[h]\n\t"       \
                "asr %[h], %[h], %[r]\n\t"                \
                "ssat %[h], #8, %[h]\n\t"                 \
                "strb %[h], [%[out], #" K "]\n\t"
                __asm__ volatile(
                    "1:\n\t"
                    "ldr %[x], [%[in1]], #4\n\t"
                    "ldr %[y], [%[in2]], #4\n\t"
                    ILWP_ADD_ONE("", "0")
                    ILWP_ADD_ONE(", ror #8", "1")
                    ILWP_ADD_ONE(", ror #16", "2")
                    ILWP_ADD_ONE(", ror #24", "3")
                    "add %[out], %[out], #4\n\t"
                    "cmp %[in1], %[end]\n\t"
                    "bne 1b\n\t"
                    : [in1] "+r"(in1), [in2] "+r"(in2), [out] "+r"(out), [x] "=&r"(x), [y] "=&r"(y),
                      [a] "=&r"(a), [b] "=&r"(b), [h] "=&r"(h)
                    : [t1] "r"(t1), [t2] "r"(t2), [m] "r"(out_mult), [ro] "r"(round_off), [r] "r"(r),
                      [end] "r"(end1)
                    : "cc", "memory");
#undef ILWP_ADD_ONE
                (void)x, (void)y, (void)a, (void)b, (void)h;
                i = size & ~3;
            }
#else
            for (; i + 4 <= size; i += 4) {
                const uint32_t x = ilwp_read_u32(input1 + i), y = ilwp_read_u32(input2 + i);
                const int32_t v0 = t1[(int8_t)x] + t2[(int8_t)y];
                const int32_t v1 = t1[(int8_t)(x >> 8)] + t2[(int8_t)(y >> 8)];
                const int32_t v2 = t1[(int8_t)(x >> 16)] + t2[(int8_t)(y >> 16)];
                const int32_t v3 = t1[(int32_t)x >> 24] + t2[(int32_t)y >> 24];
                output[i] = add_one(v0, out_mult, round_off, r);
                output[i + 1] = add_one(v1, out_mult, round_off, r);
                output[i + 2] = add_one(v2, out_mult, round_off, r);
                output[i + 3] = add_one(v3, out_mult, round_off, r);
            }
#endif
            for (; i < size; ++i) {
                output[i] = add_one(t1[input1[i]] + t2[input2[i]], out_mult, round_off, r);
            }
            return ILWP_OK;
        }
    }
    add_generic(p, input1, input2, output, size, scratch);
    return ILWP_OK;
}
