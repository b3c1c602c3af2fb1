/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* DEPTHWISE_CONV_2D int8, per-channel (mirrors TFLM reference_integer_ops::DepthwiseConvPerChannel).
 * Taps falling into the padding are skipped (tap ranges computed once per output pixel). With
 * depth_multiplier 1, four neighbouring channels are accumulated together so that inputs and
 * weights are read contiguously. */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

static inline int8_t requant(int32_t acc, int32_t mult, int32_t shift, int32_t out_off, int32_t lo, int32_t hi)
{
    acc = ilwp_requantize(acc, mult, shift) + out_off;
    return (int8_t)ilwp_clamp_i32(acc, lo, hi);
}

int32_t ilwp_depthwise_conv2d_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, int8_t *output)
{
    /* Locals: output stores are int8_t and may alias the struct, so nothing is re-read through p. */
    const int32_t in_h = p->input_h, in_w = p->input_w, in_c = p->input_c;
    const int32_t f_h = p->filter_h, f_w = p->filter_w;
    const int32_t out_h = p->output_h, out_w = p->output_w, out_c = p->output_c;
    const int32_t dm = p->depth_multiplier;
    const int32_t st_h = p->stride_h, st_w = p->stride_w, dil_h = p->dilation_h, dil_w = p->dilation_w;
    const int32_t pad_h = p->pad_h, pad_w = p->pad_w;
    const int32_t in_off = p->input_offset, out_off = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *const mult = p->multiplier;
    const int32_t *const shift = p->shift;
    const int32_t batches = p->batches;
    int32_t b, oy, ox, ic, m;

    if (out_c != in_c * dm) {
        return ILWP_ERR_ARG;
    }
    for (b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * st_h - pad_h;
            int32_t fy_s, fy_e;
            ilwp_tap_range(iy0, dil_h, f_h, in_h, &fy_s, &fy_e);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * st_w - pad_w;
                int32_t fx_s, fx_e, fy, fx;
                ilwp_tap_range(ix0, dil_w, f_w, in_w, &fx_s, &fx_e);
                if (dm == 1) {
                    int32_t c = 0;
                    for (; c + 4 <= out_c; c += 4) {
                        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                        int8_t r0, r1, r2, r3;
                        for (fy = fy_s; fy < fy_e; ++fy) {
                            const int32_t iy = iy0 + fy * dil_h;
                            for (fx = fx_s; fx < fx_e; ++fx) {
                                const int8_t *ip = in_batch + (iy * in_w + ix0 + fx * dil_w) * in_c + c;
                                const int8_t *wp = filter + (fy * f_w + fx) * out_c + c;
                                a0 += (ip[0] + in_off) * wp[0];
                                a1 += (ip[1] + in_off) * wp[1];
                                a2 += (ip[2] + in_off) * wp[2];
                                a3 += (ip[3] + in_off) * wp[3];
                            }
                        }
                        if (bias != 0) {
                            a0 += bias[c];
                            a1 += bias[c + 1];
                            a2 += bias[c + 2];
                            a3 += bias[c + 3];
                        }
                        r0 = requant(a0, mult[c], shift[c], out_off, lo, hi);
                        r1 = requant(a1, mult[c + 1], shift[c + 1], out_off, lo, hi);
                        r2 = requant(a2, mult[c + 2], shift[c + 2], out_off, lo, hi);
                        r3 = requant(a3, mult[c + 3], shift[c + 3], out_off, lo, hi);
                        output[c] = r0;
                        output[c + 1] = r1;
                        output[c + 2] = r2;
                        output[c + 3] = r3;
                    }
                    for (; c < out_c; ++c) {
                        int32_t acc = 0;
                        for (fy = fy_s; fy < fy_e; ++fy) {
                            const int32_t iy = iy0 + fy * dil_h;
                            for (fx = fx_s; fx < fx_e; ++fx) {
                                acc += (in_batch[(iy * in_w + ix0 + fx * dil_w) * in_c + c] + in_off) *
                                       filter[(fy * f_w + fx) * out_c + c];
                            }
                        }
                        if (bias != 0) {
                            acc += bias[c];
                        }
                        output[c] = requant(acc, mult[c], shift[c], out_off, lo, hi);
                    }
                } else {
                    for (ic = 0; ic < in_c; ++ic) {
                        for (m = 0; m < dm; ++m) {
                            const int32_t oc = ic * dm + m;
                            int32_t acc = 0;
                            for (fy = fy_s; fy < fy_e; ++fy) {
                                const int32_t iy = iy0 + fy * dil_h;
                                for (fx = fx_s; fx < fx_e; ++fx) {
                                    acc += (in_batch[(iy * in_w + ix0 + fx * dil_w) * in_c + ic] + in_off) *
                                           filter[(fy * f_w + fx) * out_c + oc];
                                }
                            }
                            if (bias != 0) {
                                acc += bias[oc];
                            }
                            output[oc] = requant(acc, mult[oc], shift[oc], out_off, lo, hi);
                        }
                    }
                }
                output += out_c;
            }
        }
    }
    return ILWP_OK;
}
