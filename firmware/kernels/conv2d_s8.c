/* CONV_2D int8, per-channel requantization (mirrors TFLM reference_integer_ops::ConvPerChannel). */
#include <string.h>

#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_conv2d_s8_scratch_size(const ilwp_conv_params_t *p)
{
    return p->filter_h * p->filter_w * p->filter_c * (int32_t)sizeof(int16_t);
}

/* Build the im2col column of one output pixel and one group: (input + input_offset) as int16,
 * 0 where the filter tap falls into the padding (TFLM skips those taps). */
static void im2col_pixel(const ilwp_conv_params_t *p, const int8_t *in_batch, int32_t iy0, int32_t ix0,
                         int32_t ch0, int16_t *col)
{
    const int32_t fc = p->filter_c;
    const int16_t off = (int16_t)p->input_offset;
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

static int8_t requant(const ilwp_conv_params_t *p, int32_t acc, int32_t oc)
{
    acc = ilwp_multiply_by_quantized_multiplier(acc, p->multiplier[oc], p->shift[oc]);
    acc += p->output_offset;
    return (int8_t)ilwp_clamp_i32(acc, p->act_min, p->act_max);
}

int32_t ilwp_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int16_t *scratch)
{
    int32_t b, oy, ox, g, oc;
    int32_t groups, oc_per_group;
    const int32_t k = p->filter_h * p->filter_w * p->filter_c;

    if (p->filter_c <= 0 || p->input_c % p->filter_c != 0) {
        return ILWP_ERR_ARG;
    }
    groups = p->input_c / p->filter_c;
    if (p->output_c % groups != 0) {
        return ILWP_ERR_ARG;
    }
    oc_per_group = p->output_c / groups;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (g = 0; g < groups; ++g) {
                    const int32_t oc_end = (g + 1) * oc_per_group;
                    im2col_pixel(p, in_batch, iy0, ix0, g * p->filter_c, scratch);
                    oc = g * oc_per_group;
                    /* Two output channels per pass: each column value is loaded once. */
                    for (; oc + 1 < oc_end; oc += 2) {
                        const int8_t *w0 = filter + oc * k;
                        const int8_t *w1 = w0 + k;
                        int32_t acc0 = 0, acc1 = 0, i;
                        for (i = 0; i < k; ++i) {
                            const int32_t v = scratch[i];
                            acc0 += v * w0[i];
                            acc1 += v * w1[i];
                        }
                        if (bias != 0) {
                            acc0 += bias[oc];
                            acc1 += bias[oc + 1];
                        }
                        output[oc] = requant(p, acc0, oc);
                        output[oc + 1] = requant(p, acc1, oc + 1);
                    }
                    if (oc < oc_end) {
                        const int8_t *w0 = filter + oc * k;
                        int32_t acc0 = 0, i;
                        for (i = 0; i < k; ++i) {
                            acc0 += scratch[i] * w0[i];
                        }
                        if (bias != 0) {
                            acc0 += bias[oc];
                        }
                        output[oc] = requant(p, acc0, oc);
                    }
                }
                output += p->output_c;
            }
        }
    }
    return ILWP_OK;
}
