/* DEPTHWISE_CONV_2D int8, per-channel (mirrors TFLM reference_integer_ops::DepthwiseConvPerChannel). */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

/* First and one-past-last filter tap index whose input coordinate origin + t*dilation is in [0, size). */
static void tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *start, int32_t *end)
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

int32_t ilwp_depthwise_conv2d_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, int8_t *output)
{
    int32_t b, oy, ox, ic, m;
    if (p->output_c != p->input_c * p->depth_multiplier) {
        return ILWP_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t fy_s, fy_e;
            tap_range(iy0, p->dilation_h, p->filter_h, p->input_h, &fy_s, &fy_e);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_s, fx_e;
                tap_range(ix0, p->dilation_w, p->filter_w, p->input_w, &fx_s, &fx_e);
                for (ic = 0; ic < p->input_c; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0, fy, fx;
                        for (fy = fy_s; fy < fy_e; ++fy) {
                            const int32_t iy = iy0 + fy * p->dilation_h;
                            const int8_t *in_row = in_batch + (iy * p->input_w) * p->input_c + ic;
                            const int8_t *f_row = filter + (fy * p->filter_w) * p->output_c + oc;
                            for (fx = fx_s; fx < fx_e; ++fx) {
                                const int32_t ix = ix0 + fx * p->dilation_w;
                                acc += (in_row[ix * p->input_c] + p->input_offset) * f_row[fx * p->output_c];
                            }
                        }
                        if (bias != 0) {
                            acc += bias[oc];
                        }
                        acc = ilwp_multiply_by_quantized_multiplier(acc, p->multiplier[oc], p->shift[oc]);
                        acc += p->output_offset;
                        output[oc] = (int8_t)ilwp_clamp_i32(acc, p->act_min, p->act_max);
                    }
                }
                output += p->output_c;
            }
        }
    }
    return ILWP_OK;
}
