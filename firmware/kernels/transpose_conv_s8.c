/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* TRANSPOSE_CONV int8, per-channel (TFLM reference_integer_ops::TransposeConv). TFLM scatters each
 * input pixel into an int32 buffer of the whole output; this kernel gathers instead: output pixel
 * (oy, ox) takes filter tap (fy, fx) from input (iy, ix) when iy * stride_h - pad_h + fy == oy (and
 * likewise for x). The int32 sums are the same terms, so the results are identical, and no
 * output-sized scratch is needed. The filter zero point is 0 (TFLM ignores it). */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_transpose_conv_s8(const ilwp_transpose_conv_params_t *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output)
{
    int32_t b, oy, ox, oc, fy, fx, c;
    if (p == 0 || p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
        return ILWP_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            for (ox = 0; ox < p->output_w; ++ox) {
                for (oc = 0; oc < p->output_c; ++oc) {
                    int32_t acc = 0;
                    for (fy = 0; fy < p->filter_h; ++fy) {
                        const int32_t ty = oy + p->pad_h - fy; /* = iy * stride_h */
                        int32_t iy;
                        if (ty < 0 || ty % p->stride_h != 0) {
                            continue;
                        }
                        iy = ty / p->stride_h;
                        if (iy >= p->input_h) {
                            continue;
                        }
                        for (fx = 0; fx < p->filter_w; ++fx) {
                            const int32_t tx = ox + p->pad_w - fx;
                            const int8_t *x, *w;
                            int32_t ix;
                            if (tx < 0 || tx % p->stride_w != 0) {
                                continue;
                            }
                            ix = tx / p->stride_w;
                            if (ix >= p->input_w) {
                                continue;
                            }
                            x = in_b + (iy * p->input_w + ix) * p->input_c;
                            w = filter + ((oc * p->filter_h + fy) * p->filter_w + fx) * p->input_c;
                            for (c = 0; c < p->input_c; ++c) {
                                acc += (x[c] + p->input_offset) * w[c];
                            }
                        }
                    }
                    if (bias != 0) {
                        acc += bias[oc];
                    }
                    acc = ilwp_multiply_by_quantized_multiplier(acc, p->multiplier[oc], p->shift[oc]);
                    *output++ = (int8_t)ilwp_clamp_i32(acc + p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
    return ILWP_OK;
}
