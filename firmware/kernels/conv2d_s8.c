/* CONV_2D int8, per-channel requantization (mirrors TFLM reference_integer_ops::ConvPerChannel,
 * including grouped convolution). Output pixels are processed two at a time through an int16
 * im2col buffer holding (input + input_offset), 0 for taps in the padding (TFLM skips those);
 * each pass computes 2 pixels x 2 output channels so every load feeds two MACs. */
#include <string.h>

#include "ilwp_dsp.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_conv2d_s8_scratch_size(const ilwp_conv_params_t *p)
{
    return 2 * p->filter_h * p->filter_w * p->filter_c * (int32_t)sizeof(int16_t);
}

/* im2col of output pixel `pix` (row-major over output_h x output_w), channels [ch0, ch0 + filter_c).
 * DSP layout: every full block of 4 is stored as [c0, c2, c1, c3] to pair with SXTB16's byte order. */
static void im2col_pixel(const ilwp_conv_params_t *p, const int8_t *in_batch, int32_t pix, int32_t ch0,
                         int16_t *col)
{
    const int32_t fc = p->filter_c;
    const int16_t off = (int16_t)p->input_offset;
    const int32_t oy = pix / p->output_w;
    const int32_t ox = pix - oy * p->output_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int32_t fy, fx, c;
#if ILWP_USE_DSP
    int16_t *const col0 = col;
    const int32_t k = p->filter_h * p->filter_w * fc;
    const int32_t packed = (fc & 3) == 0;
    const uint32_t off2 = ((uint32_t)(uint16_t)off << 16) | (uint32_t)(uint16_t)off;
#endif
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
#if ILWP_USE_DSP
                if (packed) {
                    /* 4 channels per step, written directly in the paired layout. */
                    for (c = 0; c < fc; c += 4) {
                        const uint32_t w = ilwp_read_u32(src + c);
                        ilwp_write_u32(col + c, ilwp_sadd16(ilwp_sxtb16(w), off2));
                        ilwp_write_u32(col + c + 2, ilwp_sadd16(ilwp_sxtb16_ror8(w), off2));
                    }
                } else
#endif
                {
                    for (c = 0; c < fc; ++c) {
                        col[c] = (int16_t)(src[c] + off);
                    }
                }
            }
            col += fc;
        }
    }
#if ILWP_USE_DSP
    if (!packed) {
        for (c = 0; c + 4 <= k; c += 4) {
            const int16_t t = col0[c + 1];
            col0[c + 1] = col0[c + 2];
            col0[c + 2] = t;
        }
    }
#endif
}

/* acc[0..3] = {a.w0, a.w1, b.w0, b.w1} over k terms. */
static void dot_2x2(const int16_t *a, const int16_t *b, const int8_t *w0, const int8_t *w1, int32_t k,
                    int32_t acc[4])
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, i = 0;
#if ILWP_USE_DSP
    for (; i + 4 <= k; i += 4) {
        const uint32_t a02 = ilwp_read_u32(a + i), a13 = ilwp_read_u32(a + i + 2);
        const uint32_t b02 = ilwp_read_u32(b + i), b13 = ilwp_read_u32(b + i + 2);
        const uint32_t r0 = ilwp_read_u32(w0 + i), r1 = ilwp_read_u32(w1 + i);
        const uint32_t w0_02 = ilwp_sxtb16(r0), w0_13 = ilwp_sxtb16_ror8(r0);
        const uint32_t w1_02 = ilwp_sxtb16(r1), w1_13 = ilwp_sxtb16_ror8(r1);
        s00 = ilwp_smlad(a02, w0_02, s00);
        s00 = ilwp_smlad(a13, w0_13, s00);
        s01 = ilwp_smlad(a02, w1_02, s01);
        s01 = ilwp_smlad(a13, w1_13, s01);
        s10 = ilwp_smlad(b02, w0_02, s10);
        s10 = ilwp_smlad(b13, w0_13, s10);
        s11 = ilwp_smlad(b02, w1_02, s11);
        s11 = ilwp_smlad(b13, w1_13, s11);
    }
#endif
    for (; i < k; ++i) {
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

static inline int8_t requant(const ilwp_conv_params_t *p, int32_t acc, const int32_t *bias, int32_t oc)
{
    if (bias != 0) {
        acc += bias[oc];
    }
    acc = ilwp_multiply_by_quantized_multiplier(acc, p->multiplier[oc], p->shift[oc]);
    acc += p->output_offset;
    return (int8_t)ilwp_clamp_i32(acc, p->act_min, p->act_max);
}

int32_t ilwp_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int16_t *scratch)
{
    int32_t b, pix, g, oc;
    int32_t groups, oc_per_group;
    const int32_t k = p->filter_h * p->filter_w * p->filter_c;
    const int32_t npix = p->output_h * p->output_w;
    int16_t *const col_a = scratch;
    int16_t *const col_b = scratch + k;

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
            int8_t *out_a = out_batch + pix * p->output_c;
            int8_t *out_b = out_a + p->output_c;
            for (g = 0; g < groups; ++g) {
                const int32_t oc_end = (g + 1) * oc_per_group;
                im2col_pixel(p, in_batch, pix, g * p->filter_c, col_a);
                if (two) {
                    im2col_pixel(p, in_batch, pix + 1, g * p->filter_c, col_b);
                }
                for (oc = g * oc_per_group; oc < oc_end; oc += 2) {
                    const int32_t oc1 = (oc + 1 < oc_end) ? oc + 1 : oc;
                    int32_t acc[4];
                    dot_2x2(col_a, two ? col_b : col_a, filter + oc * k, filter + oc1 * k, k, acc);
                    out_a[oc] = requant(p, acc[0], bias, oc);
                    out_a[oc1] = requant(p, acc[1], bias, oc1);
                    if (two) {
                        out_b[oc] = requant(p, acc[2], bias, oc);
                        out_b[oc1] = requant(p, acc[3], bias, oc1);
                    }
                }
            }
        }
    }
    return ILWP_OK;
}
