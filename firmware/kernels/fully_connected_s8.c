/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* FULLY_CONNECTED int8 (mirrors TFLM reference_integer_ops::FullyConnected, per-tensor or per-channel). */
#include "../include/ilwp_compiler.h" /* ILWP_SMALL: a model's few dense layers, compiled for size */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

ILWP_SMALL int32_t ilwp_fully_connected_s8(const ilwp_fc_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output)
{
    int32_t b, o, i;
    const int32_t depth = p->input_depth;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * depth;
        for (o = 0; o < p->output_depth; ++o) {
            const int8_t *w = filter + o * depth;
            const int32_t q = p->per_channel ? o : 0;
            int32_t acc = 0;
            for (i = 0; i < depth; ++i) {
                acc += (in[i] + p->input_offset) * (w[i] + p->filter_offset);
            }
            if (bias != 0) {
                acc += bias[o];
            }
            acc = ilwp_multiply_by_quantized_multiplier(acc, p->multiplier[q], p->shift[q]);
            acc += p->output_offset;
            output[b * p->output_depth + o] = (int8_t)ilwp_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
    return ILWP_OK;
}
