/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* MUL int8 on same shapes (TFLM reference_integer_ops::Mul): the broadcasting kernel over one flat
 * dimension, so the arithmetic lives in one place (mul_broadcast_s8.c). */
#include "ilwp_kernels.h"

int32_t ilwp_mul_s8(const ilwp_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                    int32_t size)
{
    const int32_t shape[4] = {1, 1, 1, size};
    const int32_t strides[4] = {0, 0, 0, 1};
    if (size < 0) {
        return ILWP_ERR_ARG;
    }
    return ilwp_mul_broadcast_s8(p, shape, input1, strides, input2, strides, output);
}
