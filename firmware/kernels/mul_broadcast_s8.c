/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* MUL int8 with 4-D broadcasting (mirrors TFLM reference_integer_ops::BroadcastMul6DSlow; ilwp_mul_s8
 * calls it on one flat dimension): (x1 + off1) * (x2 + off2), requantized once, then the fused
 * activation. */
#include "ilwp_broadcast.h"
#include "ilwp_fixedpoint.h"
#include "ilwp_kernels.h"

static int8_t mul_one(const void *params, int32_t a, int32_t b)
{
    const ilwp_mul_params_t *p = (const ilwp_mul_params_t *)params;
    const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
    const int32_t r = p->output_offset + ilwp_multiply_by_quantized_multiplier(prod, p->output_multiplier,
                                                                               p->output_shift);
    return (int8_t)ilwp_clamp_i32(r, p->act_min, p->act_max);
}

int32_t ilwp_mul_broadcast_s8(const ilwp_mul_params_t *p, const int32_t out_shape[4],
                              const int8_t *input1, const int32_t in1_strides[4],
                              const int8_t *input2, const int32_t in2_strides[4], int8_t *output)
{
    ilwp_broadcast4(mul_one, p, out_shape, input1, in1_strides, input2, in2_strides, output);
    return ILWP_OK;
}
