/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ADD int8 with 4-D broadcasting (mirrors TFLM reference_integer_ops::BroadcastAdd4DSlow). */
#include "ilwp_broadcast.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

static int8_t add_one(const void *params, int32_t x1, int32_t x2)
{
    const ilwp_add_params_t *p = (const ilwp_add_params_t *)params;
    const int32_t a = (x1 + p->input1_offset) * (1 << p->left_shift);
    const int32_t b = (x2 + p->input2_offset) * (1 << p->left_shift);
    const int32_t sa = ilwp_multiply_by_quantized_multiplier_lt_one(a, p->input1_multiplier, p->input1_shift);
    const int32_t sb = ilwp_multiply_by_quantized_multiplier_lt_one(b, p->input2_multiplier, p->input2_shift);
    const int32_t r = ilwp_multiply_by_quantized_multiplier_lt_one(sa + sb, p->output_multiplier, p->output_shift);
    return (int8_t)ilwp_clamp_i32(r + p->output_offset, p->act_min, p->act_max);
}

int32_t ilwp_add_broadcast_s8(const ilwp_add_params_t *p, const int32_t out_shape[4],
                              const int8_t *input1, const int32_t in1_strides[4],
                              const int8_t *input2, const int32_t in2_strides[4], int8_t *output)
{
    ilwp_broadcast4(add_one, p, out_shape, input1, in1_strides, input2, in2_strides, output);
    return ILWP_OK;
}
