/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* AVERAGE_POOL_2D int8 (mirrors TFLM reference_integer_ops::AveragePool: round half away from zero). */
#include "../include/ilwp_compiler.h" /* ILWP_SMALL: a model's last pool, compiled for size */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

ILWP_SMALL int32_t ilwp_avg_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, oy, ox, c, fy, fx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + b * p->input_h * p->input_w * p->channels;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t fy_s = ilwp_max_i32(0, -iy0);
            const int32_t fy_e = ilwp_min_i32(p->filter_h, p->input_h - iy0);
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fx_s = ilwp_max_i32(0, -ix0);
                const int32_t fx_e = ilwp_min_i32(p->filter_w, p->input_w - ix0);
                const int32_t count = (fy_e - fy_s) * (fx_e - fx_s);
                if (count <= 0) {
                    return ILWP_ERR_ARG;
                }
                for (c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    for (fy = fy_s; fy < fy_e; ++fy) {
                        const int8_t *row = in_batch + ((iy0 + fy) * p->input_w + ix0) * p->channels + c;
                        for (fx = fx_s; fx < fx_e; ++fx) {
                            acc += row[fx * p->channels];
                        }
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *output++ = (int8_t)ilwp_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return ILWP_OK;
}
