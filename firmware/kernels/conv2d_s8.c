/* CONV_2D int8, per-channel requantization (mirrors TFLM reference_integer_ops::ConvPerChannel,
 * including grouped convolution). Output pixels are processed two at a time through an int16
 * im2col buffer holding (input + input_offset), 0 for taps in the padding (TFLM skips those);
 * each pass computes 2 pixels x 2 output channels so every load feeds two MACs.
 *
 * Buffer layouts (scratch = 2 * k int16, k = filter_h * filter_w * filter_c):
 *  - portable: pixel a's column in [0, k), pixel b's in [k, 2k), natural order.
 *  - DSP (SMLAD): for each block j of 4 column entries, 8 int16 at 8j:
 *    a[4j], a[4j+2], a[4j+1], a[4j+3], b[4j], b[4j+2], b[4j+1], b[4j+3]
 *    (pairs matching SXTB16's byte order; one pointer feeds both pixels); the k % 4 tail entries
 *    follow in natural order, pixel a's then pixel b's. */
#include <string.h>

#include "ilwp_dsp.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_conv2d_s8_scratch_size(const ilwp_conv_params_t *p)
{
    return 2 * p->filter_h * p->filter_w * p->filter_c * (int32_t)sizeof(int16_t);
}

#if ILWP_USE_DSP

/* Position of column entry i of pixel s (0 or 1) in the DSP layout. */
static int32_t dsp_pos(int32_t i, int32_t k4, int32_t tail, int32_t s)
{
    static const int8_t perm[4] = {0, 2, 1, 3};
    if (i < k4) {
        return ((i >> 2) << 3) + (s << 2) + perm[i & 3];
    }
    return 2 * k4 + s * tail + (i - k4);
}

static void im2col_pixel(const ilwp_conv_params_t *p, const int8_t *in_batch, int32_t pix, int32_t ch0,
                         int16_t *buf, int32_t s)
{
    const int32_t fc = p->filter_c;
    const int16_t off = (int16_t)p->input_offset;
    const int32_t oy = pix / p->output_w;
    const int32_t ox = pix - oy * p->output_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t k = p->filter_h * p->filter_w * fc;
    int32_t fy, fx, c;

    if ((fc & 3) == 0) {
        /* Every block of 4 lies inside one tap: 4 channels per step, straight into the pair layout. */
        const uint32_t off2 = ((uint32_t)(uint16_t)off << 16) | (uint32_t)(uint16_t)off;
        int16_t *dst = buf + 4 * s;
        for (fy = 0; fy < p->filter_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dilation_h;
            const int32_t row_in = (iy >= 0 && iy < p->input_h);
            for (fx = 0; fx < p->filter_w; ++fx) {
                const int32_t ix = ix0 + fx * p->dilation_w;
                if (row_in && ix >= 0 && ix < p->input_w) {
                    const int8_t *src = in_batch + ((iy * p->input_w + ix) * p->input_c + ch0);
                    for (c = 0; c < fc; c += 4) {
                        const uint32_t w = ilwp_read_u32(src + c);
                        ilwp_write_u32(dst, ilwp_sadd16(ilwp_sxtb16(w), off2));
                        ilwp_write_u32(dst + 2, ilwp_sadd16(ilwp_sxtb16_ror8(w), off2));
                        dst += 8;
                    }
                } else {
                    for (c = 0; c < fc; c += 4) {
                        ilwp_write_u32(dst, 0u);
                        ilwp_write_u32(dst + 2, 0u);
                        dst += 8;
                    }
                }
            }
        }
    } else {
        const int32_t k4 = k & ~3;
        const int32_t tail = k - k4;
        int32_t i = 0;
        for (fy = 0; fy < p->filter_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dilation_h;
            const int32_t row_in = (iy >= 0 && iy < p->input_h);
            for (fx = 0; fx < p->filter_w; ++fx) {
                const int32_t ix = ix0 + fx * p->dilation_w;
                if (row_in && ix >= 0 && ix < p->input_w) {
                    const int8_t *src = in_batch + ((iy * p->input_w + ix) * p->input_c + ch0);
                    for (c = 0; c < fc; ++c, ++i) {
                        buf[dsp_pos(i, k4, tail, s)] = (int16_t)(src[c] + off);
                    }
                } else {
                    for (c = 0; c < fc; ++c, ++i) {
                        buf[dsp_pos(i, k4, tail, s)] = 0;
                    }
                }
            }
        }
    }
}

/* acc[0..3] = {a.w0, a.w1, b.w0, b.w1} over k terms, DSP layout. */
static void dot_2x2(const int16_t *buf, int32_t k, const int8_t *w0, const int8_t *w1, int32_t acc[4])
{
    const int32_t k4 = k & ~3;
    const int32_t tail = k - k4;
    const int16_t *pc = buf;
    const int16_t *const end = buf + 2 * k4;
    const int16_t *ta, *tb;
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, i;
    while (pc != end) {
        uint32_t blk[4];
        uint32_t a02, a13, b02, b13;
#if defined(__GNUC__)
        /* The scratch is 4-byte aligned (API contract): lets the compiler use LDRD/LDM. */
        memcpy(blk, __builtin_assume_aligned(pc, 4), sizeof(blk));
#else
        memcpy(blk, pc, sizeof(blk));
#endif
        a02 = blk[0];
        a13 = blk[1];
        b02 = blk[2];
        b13 = blk[3];
        uint32_t r = ilwp_read_u32(w0), lo, hi;
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
    ta = end;
    tb = end + tail;
    for (i = 0; i < tail; ++i) {
        const int32_t va = ta[i], vb = tb[i], x0 = w0[i], x1 = w1[i];
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

/* acc[0..3] = {a.w0, a.w1, b.w0, b.w1} over k terms, portable layout. */
static void dot_2x2(const int16_t *buf, int32_t k, const int8_t *w0, const int8_t *w1, int32_t acc[4])
{
    const int16_t *a = buf, *b = buf + k;
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, i;
    for (i = 0; i < k; ++i) {
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

#endif

/* Requantize one accumulator. Arguments are locals of the caller: output stores are int8_t, which may
 * alias anything, so reading the constants through `p` would reload them after every store. */
static inline int8_t requant(int32_t acc, int32_t mult, int32_t shift, int32_t out_off, int32_t lo, int32_t hi)
{
    acc = ilwp_requantize(acc, mult, shift) + out_off;
    return (int8_t)ilwp_clamp_i32(acc, lo, hi);
}

int32_t ilwp_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int16_t *scratch)
{
    int32_t b, pix, g, oc;
    int32_t groups, oc_per_group;
    const int32_t k = p->filter_h * p->filter_w * p->filter_c;
    const int32_t npix = p->output_h * p->output_w;
    const int32_t out_c = p->output_c;
    const int32_t out_off = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *const mult = p->multiplier;
    const int32_t *const shift = p->shift;

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
                for (oc = g * oc_per_group; oc < oc_end; oc += 2) {
                    const int32_t oc1 = (oc + 1 < oc_end) ? oc + 1 : oc;
                    int32_t acc[4];
                    dot_2x2(scratch, k, filter + oc * k, filter + oc1 * k, acc);
                    if (bias != 0) {
                        acc[0] += bias[oc];
                        acc[2] += bias[oc];
                        acc[1] += bias[oc1];
                        acc[3] += bias[oc1];
                    }
                    out_a[oc] = requant(acc[0], mult[oc], shift[oc], out_off, lo, hi);
                    out_a[oc1] = requant(acc[1], mult[oc1], shift[oc1], out_off, lo, hi);
                    if (two) {
                        out_b[oc] = requant(acc[2], mult[oc], shift[oc], out_off, lo, hi);
                        out_b[oc1] = requant(acc[3], mult[oc1], shift[oc1], out_off, lo, hi);
                    }
                }
            }
        }
    }
    return ILWP_OK;
}
