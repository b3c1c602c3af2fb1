/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* CONV_2D int8, per-channel requantization (mirrors TFLM reference_integer_ops::ConvPerChannel,
 * including grouped convolution). Output pixels are processed two at a time through an int16
 * im2col buffer holding (input + input_offset), 0 for taps in the padding (TFLM skips those);
 * each pass computes 2 pixels x 2 output channels so every load feeds two MACs. Output channels go
 * in chunks: the chunk's accumulators first, then one requantization loop (docs/kernels.md).
 *
 * Buffer layouts (scratch = 2 * kp int16, k = filter_h * filter_w * filter_c, kp = k rounded up to
 * a multiple of 4):
 *  - portable: pixel a's column in [0, k), pixel b's in [k, 2k), natural order.
 *  - DSP (SMLAD): for each block j of 4 column entries, 8 int16 at 8j:
 *    a[4j], a[4j+2], a[4j+1], a[4j+3], b[4j], b[4j+2], b[4j+1], b[4j+3]
 *    (pairs matching SXTB16's byte order; one pointer feeds both pixels). When k % 4 != 0 the last
 *    block is padded with zeros: its weight words then read up to 3 bytes of the next filter row,
 *    multiplied by 0 (a first layer with 3 input channels, k = 27, runs as 7 whole blocks). The last
 *    rows of the filter, which have no next row, take their k % 4 tail entries one by one. */
#include <string.h>

#include "ilwp_dsp.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

#if defined(__GNUC__)
#define ILWP_ALIGNED4(ptr) __builtin_assume_aligned((ptr), 4)
#else
#define ILWP_ALIGNED4(ptr) (ptr)
#endif

int32_t ilwp_conv2d_s8_scratch_size(const ilwp_conv_params_t *p)
{
    const int32_t k = p->filter_h * p->filter_w * p->filter_c;
    return 2 * ((k + 3) & ~3) * (int32_t)sizeof(int16_t);
}

/* acc[0..3] += {a.w0, a.w1, b.w0, b.w1} over n terms in natural order: the portable dot product,
 * and the k % 4 tail of the DSP one. */
static inline void mac_2x2(const int16_t *a, const int16_t *b, const int8_t *w0, const int8_t *w1, int32_t n,
                           int32_t acc[4])
{
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3], i;
    for (i = 0; i < n; ++i) {
        const int32_t va = a[i], vb = b[i], x0 = w0[i], x1 = w1[i];
        s00 += va * x0;
        s01 += va * x1;
        s10 += vb * x0;
        s11 += vb * x1;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

#if ILWP_USE_DSP

/* n blocks of 4 input bytes (+ offset) into one pixel's pair slots; returns the next block's slots.
 * dst is 4-byte aligned (the scratch is), so the two words of a block are one STRD. */
static int16_t *copy_blocks(int16_t *dst, const int8_t *src, int32_t n, uint32_t off2)
{
    uint32_t pair[2];
    for (; n >= 2; n -= 2) {
        const uint32_t x = ilwp_read_u32(src), y = ilwp_read_u32(src + 4);
        pair[0] = ilwp_sxtab16(off2, x);
        pair[1] = ilwp_sxtab16_ror8(off2, x);
        memcpy(ILWP_ALIGNED4(dst), pair, sizeof pair);
        pair[0] = ilwp_sxtab16(off2, y);
        pair[1] = ilwp_sxtab16_ror8(off2, y);
        memcpy(ILWP_ALIGNED4(dst + 8), pair, sizeof pair);
        dst += 16;
        src += 8;
    }
    if (n > 0) {
        const uint32_t x = ilwp_read_u32(src);
        pair[0] = ilwp_sxtab16(off2, x);
        pair[1] = ilwp_sxtab16_ror8(off2, x);
        memcpy(ILWP_ALIGNED4(dst), pair, sizeof pair);
        dst += 8;
    }
    return dst;
}

static int16_t *zero_blocks(int16_t *dst, int32_t n)
{
    for (; n > 0; --n) {
        ilwp_write_u32(dst, 0u);
        ilwp_write_u32(dst + 2, 0u);
        dst += 8;
    }
    return dst;
}

/* Column entries gathered as int8 before conversion when filter_c % 4 != 0 (a multiple of 4). */
#define ILWP_GATHER 64

static void im2col_pixel(const ilwp_conv_params_t *p, const int8_t *in_batch, int32_t pix, int32_t ch0,
                         int16_t *buf, int32_t s)
{
    const int32_t fc = p->filter_c, fw = p->filter_w, in_c = p->input_c, dil_w = p->dilation_w;
    const int32_t oy = pix / p->output_w;
    const int32_t ox = pix - oy * p->output_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t k = p->filter_h * fw * fc, cb = fc >> 2, aligned = (fc & 3) == 0;
    const uint32_t off2 = ((uint32_t)(uint16_t)p->input_offset << 16) | (uint32_t)(uint16_t)p->input_offset;
    const int8_t pad = (int8_t)(-p->input_offset); /* the input value the offset turns into 0 */
    int16_t *dst = buf + 4 * s;
    int8_t tmp[ILWP_GATHER + 4];
    int32_t fy, fx, fx_s, fx_e, t = 0, c;
    ilwp_tap_range(ix0, dil_w, fw, p->input_w, &fx_s, &fx_e);
    if (aligned && dil_w == 1 && fc == in_c && fx_s == 0 && fx_e == fw && iy0 >= 0 &&
        iy0 + (p->filter_h - 1) * p->dilation_h < p->input_h) {
        /* The whole window is inside the input and a window row is one contiguous run. */
        const int8_t *src = in_batch + (iy0 * p->input_w + ix0) * in_c;
        const int32_t step = p->dilation_h * p->input_w * in_c;
        for (fy = 0; fy < p->filter_h; ++fy) {
            dst = copy_blocks(dst, src, fw * cb, off2);
            src += step;
        }
        return;
    }
    if (!aligned && dil_w == 1 && fc == in_c && fx_s == 0 && fx_e == fw && iy0 >= 0 &&
        iy0 + (p->filter_h - 1) * p->dilation_h < p->input_h && k <= ILWP_GATHER) {
        /* A small window (e.g. 3x3x3) inside the input: its rows are contiguous runs; gather them,
         * pad to whole blocks, convert once. */
        const int8_t *src = in_batch + (iy0 * p->input_w + ix0) * in_c;
        const int32_t row = fw * fc, step = p->dilation_h * p->input_w * in_c;
        for (fy = 0; fy < p->filter_h; ++fy) {
            for (c = 0; c < row; ++c) {
                tmp[t + c] = src[c];
            }
            t += row;
            src += step;
        }
    } else {
        for (fy = 0; fy < p->filter_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dilation_h;
            for (fx = 0; fx < fw; ++fx) {
                const int8_t *src = (iy >= 0 && iy < p->input_h && fx >= fx_s && fx < fx_e)
                                        ? in_batch + (iy * p->input_w + ix0 + fx * dil_w) * in_c + ch0 : 0;
                if (aligned) {
                    /* A tap is whole blocks: straight into the pair slots. */
                    dst = src != 0 ? copy_blocks(dst, src, cb, off2) : zero_blocks(dst, cb);
                    continue;
                }
                /* Otherwise gather the entries as int8 and convert whole blocks. */
                for (c = 0; c < fc; ++c) {
                    tmp[t++] = src != 0 ? src[c] : pad;
                    if (t == ILWP_GATHER) {
                        dst = copy_blocks(dst, tmp, ILWP_GATHER / 4, off2);
                        t = 0;
                    }
                }
            }
        }
    }
    if (t > 0) { /* the last block padded with entries that the offset turns into 0 */
        while (t & 3) {
            tmp[t++] = pad;
        }
        (void)copy_blocks(dst, tmp, t >> 2, off2);
    }
}

/* acc[0..3] += {a.w0, a.w1, b.w0, b.w1} over k terms, DSP layout. overread: the filter goes on
 * for 3 bytes or more after row w1 (and w0), so the zero-padded last block may run as a whole block. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void dot_2x2(const int16_t *buf, int32_t k, const int8_t *w0, const int8_t *w1, int32_t acc[4],
                           int32_t overread)
{
    int32_t nblk = overread ? (k + 3) >> 2 : k >> 2;
    const int32_t tail = overread ? 0 : k & 3;
    const int16_t *pc = buf;
    int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
    if (nblk > 0) {
#if ILWP_DSP_ASM
        /* 16 MACs per block: six single loads back to back (both pixels' pairs, then the two weight
         * words), so that on the Cortex-M4 they pipeline (2+1+1+1+1+1 cycles; an LDM of four costs 5
         * and cannot pipeline with the LDRs after it), 4 SXTB16, 8 SMLAD: 19 cycles. Eight blocks per
         * pass; the pass count lives on the stack (all 14 registers hold data), a pass's first block
         * is chosen by nblk % 8. */
        register uint32_t a02 __asm__("r2");
        register uint32_t a13 __asm__("r3");
        register uint32_t b02 __asm__("r4");
        register uint32_t b13 __asm__("r5");
        uint32_t lo = (uint32_t)(nblk & 7), wa, wb;
        uint32_t passes = (uint32_t)(nblk + 7) >> 3;
#define ILWP_CONV_BLOCK                                          \
        "ldr %[a13], [%[pc], #4]\n\t"                            \
        "ldr %[b02], [%[pc], #8]\n\t"                            \
        "ldr %[b13], [%[pc], #12]\n\t"                           \
        "ldr %[a02], [%[pc]], #16\n\t"                           \
        "ldr %[wa], [%[w0]], #4\n\t"                             \
        "ldr %[wb], [%[w1]], #4\n\t"                             \
        "sxtb16 %[lo], %[wa]\n\t"                                \
        "sxtb16 %[wa], %[wa], ror #8\n\t"                        \
        "smlad %[s00], %[a02], %[lo], %[s00]\n\t"                \
        "smlad %[s10], %[b02], %[lo], %[s10]\n\t"                \
        "smlad %[s00], %[a13], %[wa], %[s00]\n\t"                \
        "smlad %[s10], %[b13], %[wa], %[s10]\n\t"                \
        "sxtb16 %[lo], %[wb]\n\t"                                \
        "sxtb16 %[wb], %[wb], ror #8\n\t"                        \
        "smlad %[s01], %[a02], %[lo], %[s01]\n\t"                \
        "smlad %[s11], %[b02], %[lo], %[s11]\n\t"                \
        "smlad %[s01], %[a13], %[wb], %[s01]\n\t"                \
        "smlad %[s11], %[b13], %[wb], %[s11]\n\t"
        __asm__ volatile(
            "cmp %[lo], #4\n\t"
            "beq 24f\n\t"
            "bhi 9f\n\t"
            "cmp %[lo], #2\n\t"
            "beq 22f\n\t"
            "bhi 23f\n\t"
            "cmp %[lo], #1\n\t"
            "beq 21f\n\t"
            "b 28f\n"
            "9:\n\t"
            "cmp %[lo], #6\n\t"
            "beq 26f\n\t"
            "bhi 27f\n\t"
            "b 25f\n"
            "28:\n\t" ILWP_CONV_BLOCK
            "27:\n\t" ILWP_CONV_BLOCK
            "26:\n\t" ILWP_CONV_BLOCK
            "25:\n\t" ILWP_CONV_BLOCK
            "24:\n\t" ILWP_CONV_BLOCK
            "23:\n\t" ILWP_CONV_BLOCK
            "22:\n\t" ILWP_CONV_BLOCK
            "21:\n\t" ILWP_CONV_BLOCK
            "ldr %[lo], %[passes]\n\t"
            "subs %[lo], %[lo], #1\n\t"
            "str %[lo], %[passes]\n\t"
            "bne 28b\n\t"
            : [pc] "+r"(pc), [w0] "+r"(w0), [w1] "+r"(w1), [s00] "+r"(s00), [s01] "+r"(s01),
              [s10] "+r"(s10), [s11] "+r"(s11), [a02] "=&r"(a02), [a13] "=&r"(a13), [b02] "=&r"(b02),
              [b13] "=&r"(b13), [lo] "+&r"(lo), [wa] "=&r"(wa), [wb] "=&r"(wb), [passes] "+m"(passes)
            :
            : "cc", "memory");
#undef ILWP_CONV_BLOCK
#else
        const int16_t *const end = buf + 8 * nblk;
        while (pc != end) {
            uint32_t blk[4];
            uint32_t a02, a13, b02, b13, r, lo, hi;
            memcpy(blk, ILWP_ALIGNED4(pc), sizeof(blk)); /* scratch is 4-byte aligned: LDRD/LDM */
            a02 = blk[0];
            a13 = blk[1];
            b02 = blk[2];
            b13 = blk[3];
            r = ilwp_read_u32(w0);
            pc += 8;
            w0 += 4;
            lo = ilwp_sxtb16(r);
            hi = ilwp_sxtb16_ror8(r);
            s00 = ilwp_smlad(a02, lo, s00);
            s10 = ilwp_smlad(b02, lo, s10);
            s00 = ilwp_smlad(a13, hi, s00);
            s10 = ilwp_smlad(b13, hi, s10);
            r = ilwp_read_u32(w1);
            w1 += 4;
            lo = ilwp_sxtb16(r);
            hi = ilwp_sxtb16_ror8(r);
            s01 = ilwp_smlad(a02, lo, s01);
            s11 = ilwp_smlad(b02, lo, s11);
            s01 = ilwp_smlad(a13, hi, s01);
            s11 = ilwp_smlad(b13, hi, s11);
        }
#endif
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
    if (tail > 0) { /* pixel a's entries 4j, 4j+1, 4j+2 sit at 0, 2, 1 of the padded block; b's at 4 + */
        static const uint8_t slot[3] = {0u, 2u, 1u};
        int32_t i;
        for (i = 0; i < tail; ++i) {
            const int32_t va = pc[slot[i]], vb = pc[4 + slot[i]], x0 = w0[i], x1 = w1[i];
            acc[0] += va * x0;
            acc[1] += va * x1;
            acc[2] += vb * x0;
            acc[3] += vb * x1;
        }
    }
}

#else /* portable */

static void im2col_pixel(const ilwp_conv_params_t *p, const int8_t *in_batch, int32_t pix, int32_t ch0,
                         int16_t *buf, int32_t s)
{
    const int32_t fc = p->filter_c;
    const int16_t off = (int16_t)p->input_offset;
    const int32_t oy = pix / p->output_w;
    const int32_t ox = pix - oy * p->output_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int16_t *col = buf + s * p->filter_h * p->filter_w * fc;
    int32_t fy, fx, c;
    for (fy = 0; fy < p->filter_h; ++fy) {
        const int32_t iy = iy0 + fy * p->dilation_h;
        if (iy < 0 || iy >= p->input_h) {
            memset(col, 0, (size_t)(p->filter_w * fc) * sizeof(int16_t));
            col += p->filter_w * fc;
            continue;
        }
        for (fx = 0; fx < p->filter_w; ++fx) {
            const int32_t ix = ix0 + fx * p->dilation_w;
            if (ix < 0 || ix >= p->input_w) {
                memset(col, 0, (size_t)fc * sizeof(int16_t));
            } else {
                const int8_t *src = in_batch + ((iy * p->input_w + ix) * p->input_c + ch0);
                for (c = 0; c < fc; ++c) {
                    col[c] = (int16_t)(src[c] + off);
                }
            }
            col += fc;
        }
    }
}

/* acc[0..3] += {a.w0, a.w1, b.w0, b.w1} over k terms, portable layout. */
static inline void dot_2x2(const int16_t *buf, int32_t k, const int8_t *w0, const int8_t *w1, int32_t acc[4],
                           int32_t overread)
{
    (void)overread;
    mac_2x2(buf, buf + k, w0, w1, k, acc);
}

#endif

/* Output channels per chunk: the accumulators of a chunk (both pixels) wait on the stack, so the
 * dot-product loop and the requantization loop each keep their few values in registers. */
#define ILWP_CONV_CHUNK 16

static const int32_t zero_bias[ILWP_CONV_CHUNK];

/* Accumulators of channels [0, n) of a chunk, both pixels: acc_a[i], acc_b[i]. left: bytes of the
 * filter from w on (a row's zero-padded last block may read 3 bytes past it: see dot_2x2). Out of line: the
 * dot product needs every register, and the loop's few values are reloaded once per channel pair. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void dot_chunk(const int16_t *scratch, int32_t k, const int8_t *w, const int32_t *bias, int32_t n,
                      int32_t *acc_a, int32_t *acc_b, int32_t left)
{
    int32_t oc;
    for (oc = 0; oc < n; oc += 2) {
        const int32_t second = (oc + 1 < n); /* an odd last channel is paired with itself */
        int32_t s[4];
        s[0] = s[2] = bias[oc];
        s[1] = s[3] = bias[oc + second];
        dot_2x2(scratch, k, w, w + second * k, s, (oc + 1 + second) * k + 3 <= left);
        acc_a[oc] = s[0];
        acc_b[oc] = s[2];
        acc_a[oc + second] = s[1];
        acc_b[oc + second] = s[3];
        w += 2 * k;
    }
}

/* TFLM's requantization for the channels the one-multiply form does not cover. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t requant_generic(int32_t acc, int32_t mult, int32_t shift)
{
    return ilwp_requantize(acc, mult, shift);
}

/* Requantize a chunk's accumulators into out_a[0..n) and out_b[0..n). Channels with a right shift
 * of 2 or more take the one-multiply form; full: the clamp is [-128, 127] (SSAT). */
static void requant_chunk(const int32_t *acc_a, const int32_t *acc_b, int32_t n, const int32_t *mult,
                          const int32_t *shift, int8_t *out_a, int8_t *out_b, int32_t out_off, int32_t lo,
                          int32_t hi, int32_t full)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t m = mult[i], sh = shift[i];
        int32_t va, vb;
        if (sh <= -2 && sh >= -31) {
            const uint32_t round = 1u << (-sh - 2);
            const int32_t s = -sh - 1;
            va = ilwp_requantize_rshift_pre(acc_a[i], m, round, s);
            vb = ilwp_requantize_rshift_pre(acc_b[i], m, round, s);
        } else {
            va = requant_generic(acc_a[i], m, sh);
            vb = requant_generic(acc_b[i], m, sh);
        }
        va += out_off;
        vb += out_off;
        out_a[i] = (int8_t)(full ? ilwp_sat_s8(va) : ilwp_clamp_i32(va, lo, hi));
        out_b[i] = (int8_t)(full ? ilwp_sat_s8(vb) : ilwp_clamp_i32(vb, lo, hi));
    }
}

int32_t ilwp_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int16_t *scratch)
{
    int32_t b, pix, g, c0;
    int32_t groups, oc_per_group;
    const int32_t k = p->filter_h * p->filter_w * p->filter_c;
    const int32_t npix = p->output_h * p->output_w;
    const int32_t out_c = p->output_c;
    const int32_t out_off = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t full = (lo == -128 && hi == 127);
    const int32_t *const mult = p->multiplier;
    const int32_t *const shift = p->shift;
    int32_t acc_a[ILWP_CONV_CHUNK], acc_b[ILWP_CONV_CHUNK];
    int8_t sink[ILWP_CONV_CHUNK]; /* pixel b's outputs when there is no pixel b */

    if (p->filter_c <= 0 || p->input_c % p->filter_c != 0 || k <= 0) {
        return ILWP_ERR_ARG;
    }
    groups = p->input_c / p->filter_c;
    if (p->output_c % groups != 0) {
        return ILWP_ERR_ARG;
    }
    oc_per_group = p->output_c / groups;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + b * p->input_h * p->input_w * p->input_c;
        int8_t *out_batch = output + b * npix * p->output_c;
        for (pix = 0; pix < npix; pix += 2) {
            const int32_t two = (pix + 1 < npix);
            int8_t *out_a = out_batch + pix * out_c;
            int8_t *out_b = out_a + out_c;
            for (g = 0; g < groups; ++g) {
                const int32_t oc_end = (g + 1) * oc_per_group;
                im2col_pixel(p, in_batch, pix, g * p->filter_c, scratch, 0);
                /* A lone last pixel is computed twice (its copy's results are dropped). */
                im2col_pixel(p, in_batch, two ? pix + 1 : pix, g * p->filter_c, scratch, 1);
                for (c0 = g * oc_per_group; c0 < oc_end; c0 += ILWP_CONV_CHUNK) {
                    const int32_t n = (oc_end - c0 < ILWP_CONV_CHUNK) ? oc_end - c0 : ILWP_CONV_CHUNK;
                    int8_t *const ob = two ? out_b + c0 : sink;
                    dot_chunk(scratch, k, filter + c0 * k, bias != 0 ? bias + c0 : zero_bias, n, acc_a, acc_b,
                              (out_c - c0) * k);
                    requant_chunk(acc_a, acc_b, n, mult + c0, shift + c0, out_a + c0, ob, out_off, lo, hi, full);
                }
            }
        }
    }
    return ILWP_OK;
}
