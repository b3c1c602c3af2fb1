/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ADD int8 with 4-D broadcasting (mirrors TFLM reference_integer_ops::BroadcastAdd4DSlow). */
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

int32_t ilwp_add_broadcast_s8(const ilwp_add_params_t *p, const int32_t out_shape[4],
                              const int8_t *input1, const int32_t in1_strides[4],
                              const int8_t *input2, const int32_t in2_strides[4], int8_t *output)
{
    int32_t d0, d1, d2, d3;
    for (d0 = 0; d0 < out_shape[0]; ++d0) {
        for (d1 = 0; d1 < out_shape[1]; ++d1) {
            for (d2 = 0; d2 < out_shape[2]; ++d2) {
                const int8_t *a_row = input1 + d0 * in1_strides[0] + d1 * in1_strides[1] + d2 * in1_strides[2];
                const int8_t *b_row = input2 + d0 * in2_strides[0] + d1 * in2_strides[1] + d2 * in2_strides[2];
                for (d3 = 0; d3 < out_shape[3]; ++d3) {
                    const int32_t a = (a_row[d3 * in1_strides[3]] + p->input1_offset) * (1 << p->left_shift);
                    const int32_t b = (b_row[d3 * in2_strides[3]] + p->input2_offset) * (1 << p->left_shift);
                    const int32_t sa =
                        ilwp_multiply_by_quantized_multiplier_lt_one(a, p->input1_multiplier, p->input1_shift);
                    const int32_t sb =
                        ilwp_multiply_by_quantized_multiplier_lt_one(b, p->input2_multiplier, p->input2_shift);
                    int32_t r = ilwp_multiply_by_quantized_multiplier_lt_one(sa + sb, p->output_multiplier,
                                                                             p->output_shift);
                    r += p->output_offset;
                    *output++ = (int8_t)ilwp_clamp_i32(r, p->act_min, p->act_max);
                }
            }
        }
    }
    return ILWP_OK;
}
