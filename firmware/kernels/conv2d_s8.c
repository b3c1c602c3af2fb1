/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* CONV_2D int8, per-channel requantization (mirrors TFLM reference_integer_ops::ConvPerChannel,
 * including grouped convolution). Output pixels are processed two at a time through an int16
 * im2col buffer holding (input + input_offset), 0 for taps in the padding (TFLM skips those);
 * each pass computes 2 pixels x 2 output channels so every load feeds two MACs, and requantizes those
 * four values at once (docs/kernels.md).
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

#include "../include/ilwp_compiler.h" /* ILWP_NOINLINE, ILWP_SMALL: code outside the per-value loops for size */
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

/* rows x n blocks of 4 input bytes (+ offset) into one pixel's pair slots, the rows step bytes apart
 * in src; returns the next block's slots. */
ILWP_SMALL static int16_t *copy_rows(int16_t *dst, const int8_t *src, int32_t rows, int32_t n, int32_t step, uint32_t off2)
{
    for (; rows > 0; --rows) {
        const int8_t *in = src;
        int32_t i;
        for (i = n; i >= 4; i -= 4) { /* four blocks per step: their loads back to back */
            const uint32_t x = ilwp_read_u32(in), y = ilwp_read_u32(in + 4);
            const uint32_t z = ilwp_read_u32(in + 8), u = ilwp_read_u32(in + 12);
            ilwp_write_u32(dst, ilwp_sxtab16(off2, x));
            ilwp_write_u32(dst + 2, ilwp_sxtab16_ror8(off2, x));
            ilwp_write_u32(dst + 8, ilwp_sxtab16(off2, y));
            ilwp_write_u32(dst + 10, ilwp_sxtab16_ror8(off2, y));
            ilwp_write_u32(dst + 16, ilwp_sxtab16(off2, z));
            ilwp_write_u32(dst + 18, ilwp_sxtab16_ror8(off2, z));
            ilwp_write_u32(dst + 24, ilwp_sxtab16(off2, u));
            ilwp_write_u32(dst + 26, ilwp_sxtab16_ror8(off2, u));
            dst += 32;
            in += 16;
        }
        for (; i > 0; --i) {
            const uint32_t x = ilwp_read_u32(in);
            ilwp_write_u32(dst, ilwp_sxtab16(off2, x));
            ilwp_write_u32(dst + 2, ilwp_sxtab16_ror8(off2, x));
            dst += 8;
            in += 4;
        }
        src += step;
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

/* What the column of every output pixel of a conv call shares. */
typedef struct {
    const ilwp_conv_params_t *p;
    const int8_t *in; /* this batch's input */
    int16_t *buf;     /* the scratch */
    int32_t fc, cb, aligned, runs; /* runs: a window inside the input is filter_h contiguous runs */
    int32_t iy_max, ix_max;        /* a window at (iy0, ix0) is inside for 0 <= iy0 <= iy_max, 0 <= ix0 <= ix_max */
    int32_t row, step;             /* bytes of a window row, bytes from one window row to the next */
    uint32_t off2;                 /* input_offset in both halves */
    int8_t pad;                    /* the input value the offset turns into 0 */
} im2col_t;

static void im2col_init(im2col_t *g, const ilwp_conv_params_t *p)
{
    g->p = p;
    g->fc = p->filter_c;
    g->cb = p->filter_c >> 2;
    g->aligned = (p->filter_c & 3) == 0;
    g->runs = p->dilation_w == 1 && p->filter_c == p->input_c &&
              (g->aligned || p->filter_h * p->filter_w * p->filter_c <= ILWP_GATHER);
    g->iy_max = p->input_h - 1 - (p->filter_h - 1) * p->dilation_h;
    g->ix_max = p->input_w - p->filter_w;
    g->row = p->filter_w * p->filter_c;
    g->step = p->dilation_h * p->input_w * p->input_c;
    g->off2 = ((uint32_t)(uint16_t)p->input_offset << 16) | (uint32_t)(uint16_t)p->input_offset;
    g->pad = (int8_t)(-p->input_offset);
}

/* Optimised for size (its whole-window path is a call of copy_rows); GCC would also turn the gathers
 * into memcpy calls, which cost more than the few words they move. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("Os", "no-tree-loop-distribute-patterns")))
#endif
static void im2col_pixel(const im2col_t *g, const int8_t *in_batch, int32_t oy, int32_t ox, int32_t ch0,
                         int16_t *buf, int32_t s)
{
    const ilwp_conv_params_t *const p = g->p;
    const int32_t fc = g->fc, fw = p->filter_w, in_c = p->input_c, dil_w = p->dilation_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int16_t *dst = buf + 4 * s;
    int8_t tmp[ILWP_GATHER + 4];
    int32_t fy, fx, fx_s, fx_e, t = 0, c;
    if (g->runs && iy0 >= 0 && iy0 <= g->iy_max && ix0 >= 0 && ix0 <= g->ix_max) {
        /* The whole window is inside the input and a window row is one contiguous run. */
        const int8_t *src = in_batch + (iy0 * p->input_w + ix0) * in_c;
        if ((g->row & 3) == 0) { /* whole blocks per window row (e.g. KWS's 10x4x1 filter too) */
            (void)copy_rows(dst, src, p->filter_h, g->row >> 2, g->step, g->off2);
            return;
        }
        /* A small window (e.g. 3x3x3): gather the runs (word copies: this path is Cortex-M4 and up, or
         * the host), pad to whole blocks, convert once. */
        for (fy = 0; fy < p->filter_h; ++fy) {
            for (c = 0; c + 4 <= g->row; c += 4) {
                ilwp_write_u32(tmp + t + c, ilwp_read_u32(src + c));
            }
            for (; c < g->row; ++c) {
                tmp[t + c] = src[c];
            }
            t += g->row;
            src += g->step;
        }
    } else {
        ilwp_tap_range(ix0, dil_w, fw, p->input_w, &fx_s, &fx_e);
        for (fy = 0; fy < p->filter_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dilation_h;
            const int32_t in_row = iy >= 0 && iy < p->input_h;
            if (g->aligned) {
                /* A tap is whole blocks, straight into the pair slots: a window row's padding taps as
                 * zeros, its taps inside the input (dil_w * in_c bytes apart) in one call. */
                int32_t s0 = fw, e0 = fw; /* a row outside the input: all padding */
                if (in_row) {
                    s0 = fx_s;
                    e0 = fx_e;
                }
                dst = zero_blocks(dst, s0 * g->cb);
                if (e0 > s0) {
                    dst = copy_rows(dst, in_batch + (iy * p->input_w + ix0 + s0 * dil_w) * in_c + ch0, e0 - s0, g->cb,
                                    dil_w * in_c, g->off2);
                }
                dst = zero_blocks(dst, (fw - e0) * g->cb);
                continue;
            }
            for (fx = 0; fx < fw; ++fx) {
                const int8_t *src = (in_row && fx >= fx_s && fx < fx_e)
                                        ? in_batch + (iy * p->input_w + ix0 + fx * dil_w) * in_c + ch0 : 0;
                /* Not whole blocks: gather the entries as int8 and convert whole blocks. */
                for (c = 0; c < fc; ++c) {
                    tmp[t++] = src != 0 ? src[c] : g->pad;
                    if (t == ILWP_GATHER) {
                        dst = copy_rows(dst, tmp, 1, ILWP_GATHER / 4, 0, g->off2);
                        t = 0;
                    }
                }
            }
        }
    }
    if (t > 0) { /* the last block padded with entries that the offset turns into 0 */
        while (t & 3) {
            tmp[t++] = g->pad;
        }
        (void)copy_rows(dst, tmp, 1, t >> 2, 0, g->off2);
    }
}

#if !ILWP_DSP_ASM
/* *sa += pixel a's block . the 4 weights of r, *sb += pixel b's: the C form of one channel's half of
 * a block (a02/a13, b02/b13: the pixels' entry pairs 0,2 and 1,3). */
static inline void smlad_word(uint32_t r, uint32_t a02, uint32_t a13, uint32_t b02, uint32_t b13, int32_t *sa,
                              int32_t *sb)
{
    const uint32_t lo = ilwp_sxtb16(r), hi = ilwp_sxtb16_ror8(r);
    *sa = ilwp_smlad(a13, hi, ilwp_smlad(a02, lo, *sa));
    *sb = ilwp_smlad(b13, hi, ilwp_smlad(b02, lo, *sb));
}
#endif

/* Accumulators (from 0) of np channel pairs, DSP layout, nblk blocks each: the first pair's rows are
 * w0 and w1, each later pair's the two rows after the previous pair's w1. acc gets 4 per pair:
 * a.c0, b.c0, a.c1, b.c1 (pixels a and b of channel c at acc[2c], acc[2c + 1]). A row's zero-padded last block reads up to 3 bytes past it: the caller
 * passes nblk = k / 4 (and adds the tail) where the filter ends there. */
static void dot_pairs(const int16_t *buf, int32_t nblk, const int8_t *w0, const int8_t *w1, int32_t k, int32_t np,
                      int32_t *acc)
{
    if (np <= 0) {
        return;
    }
    if (nblk <= 0) {
        memset(acc, 0, (size_t)np * 4u * sizeof(int32_t));
        return;
    }
    {
#if ILWP_DSP_ASM
        /* 16 MACs per block: six single loads back to back (both pixels' pairs, then the two weight
         * words), so that on the Cortex-M4 they pipeline (2+1+1+1+1+1 cycles; an LDM of four costs 5
         * and cannot pipeline with the LDRs after it), 4 SXTB16, 8 SMLAD: 19 cycles. Eight blocks per
         * pass, every block 66 bytes (checked): a pair enters its first pass at block
         * 8 - nblk % 8 with one BX to an address computed once; its passes end where the column does.
         * The loop over the pairs is in here too (its end and counters on the stack: all 14 registers
         * hold data); the accumulators go out with one STM (fixed registers r6-r9, in memory order). */
        register int32_t s00 __asm__("r6");
        register int32_t s10 __asm__("r7");
        register int32_t s01 __asm__("r8");
        register int32_t s11 __asm__("r9");
        register uint32_t a02 __asm__("r2");
        register uint32_t a13 __asm__("r3");
        register uint32_t b02 __asm__("r4");
        register uint32_t b13 __asm__("r5");
        register const int16_t *pc __asm__("r0"); /* low registers: 16-bit loads of the pairs */
        uint32_t lo = ((8u - ((uint32_t)nblk & 7u)) & 7u) * 66u, wa, wb, entry;
        const int16_t *const pend = buf + 8 * nblk; /* where a pair's passes end */
        /* On the stack, read by the loop between pairs (all 14 registers hold data in a pass): the
         * column, the entry address, the step from a pair's w0/w1 after its blocks to the next pair's
         * (2k - 4 nblk), where the next accumulators go and where they end. */
        const int32_t step = 2 * k - 4 * nblk;
        int32_t *const acc_end = acc + 4 * np;
#define ILWP_CONV_BLOCK                                          \
        "ldr.n %[a13], [%[pc], #4]\n\t"                          \
        "ldr.n %[b02], [%[pc], #8]\n\t"                          \
        "ldr.n %[b13], [%[pc], #12]\n\t"                         \
        "ldr.w %[a02], [%[pc]], #16\n\t"                         \
        "ldr.w %[wa], [%[w0]], #4\n\t"                           \
        "ldr.w %[wb], [%[w1]], #4\n\t"                           \
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
            "adr.w %[wa], 28f\n\t"
            "add %[lo], %[lo], %[wa]\n\t"
            "orr %[lo], %[lo], #1\n\t"
            "str %[lo], %[entry]\n\t"
            "ldr %[pc], %[buf]\n\t"
            "mov %[s00], #0\n\t"
            "mov %[s01], #0\n\t"
            "umull %[s10], %[s11], %[s00], %[s00]\n\t"   /* both 0 */
            "bx %[lo]\n"
            "28:\n\t" ILWP_CONV_BLOCK
            "27:\n\t" ILWP_CONV_BLOCK
            "26:\n\t" ILWP_CONV_BLOCK
            "25:\n\t" ILWP_CONV_BLOCK
            "24:\n\t" ILWP_CONV_BLOCK
            "23:\n\t" ILWP_CONV_BLOCK
            "22:\n\t" ILWP_CONV_BLOCK
            "21:\n\t" ILWP_CONV_BLOCK
            ".if (21b - 28b) - 7 * 66\n\t"
            ".error \"conv block size is not 66 bytes\"\n\t"
            ".endif\n\t"
            "ldr %[lo], %[pend]\n\t"
            "cmp %[pc], %[lo]\n\t"
            "bne 28b\n\t"
            /* The next pair: everything it needs loaded back to back (6 cycles for 5 words), the
             * accumulators out and restarted at 0, then a conditional BX into its first pass. */
            "ldr %[lo], %[acc]\n\t"
            "ldr %[wa], %[step]\n\t"
            "ldr %[wb], %[acc_end]\n\t"
            "ldr %[a02], %[entry]\n\t"
            "ldr %[pc], %[buf]\n\t"
            "stmia %[lo]!, {r6, r7, r8, r9}\n\t"
            "str %[lo], %[acc]\n\t"
            "add %[w0], %[w0], %[wa]\n\t"
            "add %[w1], %[w1], %[wa]\n\t"
            "mov %[s00], #0\n\t"
            "mov %[s01], #0\n\t"
            "umull %[s10], %[s11], %[s00], %[s00]\n\t"
            "cmp %[lo], %[wb]\n\t"
            "it ne\n\t"
            "bxne %[a02]\n\t"
            : [pc] "=&r"(pc), [w0] "+r"(w0), [w1] "+r"(w1), [s00] "=&r"(s00), [s01] "=&r"(s01),
              [s10] "=&r"(s10), [s11] "=&r"(s11), [a02] "=&r"(a02), [a13] "=&r"(a13), [b02] "=&r"(b02),
              [b13] "=&r"(b13), [lo] "+&r"(lo), [wa] "=&r"(wa), [wb] "=&r"(wb), [entry] "+m"(entry),
              [acc] "+m"(acc)
            : [pend] "m"(pend), [buf] "m"(buf), [step] "m"(step), [acc_end] "m"(acc_end)
            : "cc", "memory");
#undef ILWP_CONV_BLOCK
        (void)pc, (void)s00, (void)s01, (void)s10, (void)s11, (void)a02, (void)a13, (void)b02, (void)b13;
        (void)wa, (void)wb, (void)entry;
#else
        for (; np > 0; --np) {
            const int16_t *pc = buf;
            const int16_t *const end = buf + 8 * nblk;
            int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
            while (pc != end) {
                uint32_t blk[4];
                uint32_t a02, a13, b02, b13;
                memcpy(blk, ILWP_ALIGNED4(pc), sizeof(blk)); /* scratch is 4-byte aligned: LDRD/LDM */
                a02 = blk[0];
                a13 = blk[1];
                b02 = blk[2];
                b13 = blk[3];
                smlad_word(ilwp_read_u32(w0), a02, a13, b02, b13, &s00, &s10);
                smlad_word(ilwp_read_u32(w1), a02, a13, b02, b13, &s01, &s11);
                pc += 8;
                w0 += 4;
                w1 += 4;
            }
            acc[0] = s00;
            acc[1] = s10;
            acc[2] = s01;
            acc[3] = s11;
            acc += 4;
            w0 = w1 - (4 * nblk - k);
            w1 = w0 + k;
        }
#endif
    }
}

/* The k % 4 tail of one pair whose rows end with the filter: pixel a's entries 4j, 4j+1, 4j+2 sit at
 * 0, 2, 1 of the padded block, b's at 4 +. */
static void tail_2x2(const int16_t *pc, int32_t tail, const int8_t *w0, const int8_t *w1, int32_t acc[4])
{
    static const uint8_t slot[3] = {0u, 2u, 1u};
    int32_t i;
    for (i = 0; i < tail; ++i) {
        const int32_t va = pc[slot[i]], vb = pc[4 + slot[i]], x0 = w0[i], x1 = w1[i];
        acc[0] += va * x0;
        acc[1] += vb * x0;
        acc[2] += va * x1;
        acc[3] += vb * x1;
    }
}

#else /* portable */

typedef struct {
    const ilwp_conv_params_t *p;
    const int8_t *in; /* this batch's input */
    int16_t *buf;     /* the scratch */
} im2col_t;

static void im2col_init(im2col_t *g, const ilwp_conv_params_t *p) { g->p = p; }

static void im2col_pixel(const im2col_t *g, const int8_t *in_batch, int32_t oy, int32_t ox, int32_t ch0,
                         int16_t *buf, int32_t s)
{
    const ilwp_conv_params_t *const p = g->p;
    const int32_t fc = p->filter_c;
    const int16_t off = (int16_t)p->input_offset;
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

/* dot_pairs of the portable layout (nblk unused: k terms). */
static void dot_pairs(const int16_t *buf, int32_t nblk, const int8_t *w0, const int8_t *w1, int32_t k, int32_t np,
                      int32_t *acc)
{
    (void)nblk;
    for (; np > 0; --np) {
        int32_t s[4] = {0, 0, 0, 0};
        mac_2x2(buf, buf + k, w0, w1, k, s);
        acc[0] = s[0];
        acc[1] = s[2];
        acc[2] = s[1];
        acc[3] = s[3];
        acc += 4;
        w0 = w1 + k;
        w1 = w0 + k;
    }
}

#endif

/* Both columns of a pixel pair, in one call (the set-up the pixels share is read once). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("Os", "no-tree-loop-distribute-patterns")))
#endif
static void im2col_pair(const im2col_t *g, int32_t oy, int32_t ox, int32_t oy_b, int32_t ox_b, int32_t ch0)
{
    int32_t s;
    for (s = 0; s < 2; ++s) {
        im2col_pixel(g, g->in, s != 0 ? oy_b : oy, s != 0 ? ox_b : ox, ch0, g->buf, s);
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

/* What every chunk of a conv call shares. */
typedef struct {
    int32_t k;
    const int16_t *scratch;
    const int8_t *filter, *w_end; /* the filter, its end */
    const int32_t *mult, *shift, *bias;
    int32_t out_off, lo, hi;
    int32_t fast; /* a bias, the clamp [-128, 127] and every channel passing conv_fast_channel */
} conv_run_t;

/* requant_run's fast form is exact for a channel when: r = -shift is in [1, 23], so that the rounding
 * term with the offset, 2^(r-1) * (1 + 2 * out_off), is below 2^30 in magnitude (out_off in [-128, 127]);
 * and |acc + bias| < 2^30, so that 2x and the high word stay in int32: |acc| <= k * 255 * 128 (inputs
 * plus offset in [-255, 255], the padding 0, int8 weights), hence |bias| < lim = 2^30 - k * 32640
 * (lim <= 0: never). Every ResNet-8 and KWS layer passes. */
static int32_t conv_fast_channel(int32_t shift, int32_t bias, int32_t lim)
{
    return shift <= -1 && shift >= -23 && bias < lim && bias > -lim;
}

/* Output channels per chunk: their accumulators (both pixels, 264 B) wait on the stack; 32 halves the
 * per-chunk calls of 16 (ResNet-8 -0.15 M cycles), 64 would save 0.03 M more for 256 B more stack. */
#define ILWP_CONV_CHUNK 32

/* Requantize n channels of both pixels (acc: a, b per channel; bias from channel c0 on, or none).
 * On Cortex-M4 and up, fast layers (every ResNet-8 and KWS layer) take one SMMLAR and SSAT per value
 * in assembly; everything else, the textbook form (ilwp_requantize) and the clamp. */
ILWP_NOINLINE ILWP_SMALL static void requant_run(const int32_t *acc, int32_t n, const conv_run_t *r, int32_t c0, int8_t *out_a,
                                     int8_t *out_b)
{
    const int32_t *mult = r->mult + c0, *shift = r->shift + c0, *bias = r->bias != 0 ? r->bias + c0 : 0;
    const int32_t out_off = r->out_off, lo = r->lo, hi = r->hi, fast = r->fast;
    int32_t i;
    out_a += c0;
    out_b += c0;
#if ILWP_DSP_ASM
    if (fast) {
        /* fast (a bias, and conv_fast_channel): per value x = acc + bias, with r = -shift and
         * ro = 2^(r-1) + out_off * 2^r, the output is SSAT(SMMLAR(2x, m, ro - [x < 0]) >> r): TFLM's
         * doubling high multiply is SMMLAR(2x, m) (numerator and denominator doubled), its rounding
         * division by 2^r (ties away from zero) floor((high + 2^(r-1) - [high < 0]) / 2^r) with [x < 0]
         * for [high < 0] (both give 0 where they differ, at high = 0), and the offset added before the
         * shift as out_off * 2^r (add_s8.c's add_one is the same identity; tests/test_kernels_fixedpoint.py
         * checks both, exact ties included). 2x = 2 * bias + 2 * acc: one ADD per value. */
        const int32_t *const end = acc + 2 * n;
        uint32_t m, sh, b, va, vb, h;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[m], [%[mult]], #4\n\t"
            "ldr %[sh], [%[shift]], #4\n\t"
            "ldr %[b], [%[bias]], #4\n\t"
            "ldr %[va], [%[acc]], #4\n\t"      /* single loads pipeline (1 cycle each), LDRD takes 3 */
            "ldr %[vb], [%[acc]], #4\n\t"
            "lsl %[b], %[b], #1\n\t"
            "add %[va], %[b], %[va], lsl #1\n\t" /* 2x of pixel a */
            "add %[vb], %[b], %[vb], lsl #1\n\t"
            "mvn %[h], %[sh]\n\t"                /* r - 1 */
            "rsb %[sh], %[sh], #0\n\t"           /* r */
            "lsl %[b], %[off2], %[h]\n\t"        /* ro = (2 * out_off + 1) << (r - 1) */
            "add %[h], %[b], %[va], asr #31\n\t"
            "smmlar %[h], %[va], %[m], %[h]\n\t"
            "asr %[h], %[h], %[sh]\n\t"
            "ssat %[h], #8, %[h]\n\t"
            "strb %[h], [%[oa]], #1\n\t"
            "add %[h], %[b], %[vb], asr #31\n\t"
            "smmlar %[h], %[vb], %[m], %[h]\n\t"
            "asr %[h], %[h], %[sh]\n\t"
            "ssat %[h], #8, %[h]\n\t"
            "strb %[h], [%[ob]], #1\n\t"
            "cmp %[acc], %[end]\n\t"
            "bne 1b\n\t"
            : [acc] "+r"(acc), [mult] "+r"(mult), [shift] "+r"(shift), [bias] "+r"(bias), [oa] "+r"(out_a),
              [ob] "+r"(out_b), [m] "=&r"(m), [sh] "=&r"(sh), [b] "=&r"(b), [va] "=&r"(va), [vb] "=&r"(vb),
              [h] "=&r"(h)
            : [off2] "r"(2 * out_off + 1), [end] "r"(end)
            : "cc", "memory");
        return;
    }
#else
    (void)fast;
#endif
    for (i = 0; i < 2 * n; ++i) {
        const int32_t v = requant_generic(acc[i] + (bias != 0 ? bias[i >> 1] : 0), mult[i >> 1], shift[i >> 1]);
        ((i & 1) ? out_b : out_a)[i >> 1] = (int8_t)ilwp_clamp_i32(v + out_off, lo, hi);
    }
}

/* Output channels [c0, c0 + n) of both pixels (n <= ILWP_CONV_CHUNK):
 * the accumulators of the chunk's channel pairs (an odd last channel paired with itself), then one
 * requantization loop, bias added there. */
ILWP_NOINLINE ILWP_SMALL static void conv_chunk(const conv_run_t *r, int32_t c0, int32_t n, int8_t *out_a, int8_t *out_b)
{
    const int32_t k = r->k;
    const int16_t *const scratch = r->scratch;
    const int8_t *const w = r->filter + c0 * k;
    int32_t acc[2 * ILWP_CONV_CHUNK + 2]; /* per pair: a.c0, b.c0, a.c1, b.c1 */
#if ILWP_USE_DSP
    /* Where the chunk's last row ends the filter, a zero-padded last block must not read past it:
     * pairs from np_fast on run one by one, whole blocks only, and add their k % 4 tail. */
    const int32_t exact = (k & 3) != 0 && w + n * k + 3 > r->w_end;
    const int32_t np_fast = !exact ? n >> 1 : (k < 3 ? 0 : (n - 1) >> 1);
#else
    const int32_t exact = 0, np_fast = n >> 1;
#endif
    int32_t j;
    dot_pairs(scratch, (k + 3) >> 2, w, w + k, k, np_fast, acc);
    for (j = np_fast; j < (n + 1) >> 1; ++j) {
        const int8_t *const w0 = w + 2 * j * k, *const w1 = 2 * j + 1 < n ? w0 + k : w0;
        const int32_t nblk = exact ? k >> 2 : (k + 3) >> 2;
        dot_pairs(scratch, nblk, w0, w1, k, 1, acc + 4 * j);
#if ILWP_USE_DSP
        if (exact) {
            tail_2x2(scratch + 8 * nblk, k & 3, w0 + 4 * nblk, w1 + 4 * nblk, acc + 4 * j);
        }
#endif
    }
    requant_run(acc, n, r, c0, out_a, out_b);
}

ILWP_SMALL int32_t ilwp_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                  const int32_t *bias, int8_t *output, int16_t *scratch)
{
    int32_t b, pix, g, c;
    int32_t groups, oc_per_group;
    const int32_t k = p->filter_h * p->filter_w * p->filter_c;
    const int32_t npix = p->output_h * p->output_w;
    const int32_t out_c = p->output_c;
    conv_run_t r;
    im2col_t geo;

    if (p->filter_c <= 0 || p->input_c % p->filter_c != 0 || k <= 0) {
        return ILWP_ERR_ARG;
    }
    groups = p->input_c / p->filter_c;
    if (p->output_c % groups != 0) {
        return ILWP_ERR_ARG;
    }
    oc_per_group = p->output_c / groups;
    r.k = k;
    r.scratch = scratch;
    r.filter = filter;
    r.w_end = filter + out_c * k;
    r.mult = p->multiplier;
    r.shift = p->shift;
    r.bias = bias;
    r.out_off = p->output_offset;
    r.lo = p->act_min;
    r.hi = p->act_max;
    r.fast = bias != 0 && r.lo == -128 && r.hi == 127;
    {
        const int32_t lim = k < 32768 ? (1 << 30) - k * (255 * 128) : 0;
        for (c = 0; r.fast && c < out_c; ++c) {
            r.fast = conv_fast_channel(p->shift[c], bias[c], lim);
        }
    }
    im2col_init(&geo, p);
    geo.buf = scratch;

    for (b = 0; b < p->batches; ++b) {
        int8_t *out_batch = output + b * npix * p->output_c;
        int32_t oy = 0, ox = 0; /* pixel pix */
        geo.in = input + b * p->input_h * p->input_w * p->input_c;
        for (pix = 0; pix < npix; pix += 2) {
            const int32_t two = (pix + 1 < npix);
            const int32_t ox_b = ox + 1 < p->output_w ? ox + 1 : 0, oy_b = ox + 1 < p->output_w ? oy : oy + 1;
            int8_t *out_a = out_batch + pix * out_c;
            /* A lone last pixel is computed twice: its copy writes the same values to the same place. */
            int8_t *out_b = two ? out_a + out_c : out_a;
            for (g = 0; g < groups; ++g) {
                const int32_t c0 = g * oc_per_group;
                im2col_pair(&geo, oy, ox, two ? oy_b : oy, two ? ox_b : ox, g * p->filter_c);
                for (c = c0; c < c0 + oc_per_group; c += ILWP_CONV_CHUNK) {
                    const int32_t left = c0 + oc_per_group - c;
                    conv_chunk(&r, c, left < ILWP_CONV_CHUNK ? left : ILWP_CONV_CHUNK, out_a, out_b);
                }
            }
            ox = ox_b + 1 < p->output_w ? ox_b + 1 : 0;
            oy = ox_b + 1 < p->output_w ? oy_b : oy_b + 1;
        }
    }
    return ILWP_OK;
}
