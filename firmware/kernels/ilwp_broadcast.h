/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* The 4-D walk of the broadcasting binary kernels (ADD, MUL; TFLM's BroadcastBinaryOpSimple): every
 * output element in order, each input read through its strides (0 on a broadcast dimension). Called
 * with a constant `op`, the inlined walk calls it directly (GCC folds the pointer). */
#ifndef ILWP_BROADCAST_H
#define ILWP_BROADCAST_H

#include <stdint.h>

typedef int8_t (*ilwp_binary_op)(const void *params, int32_t a, int32_t b);

static inline void ilwp_broadcast4(ilwp_binary_op op, const void *params, const int32_t out_shape[4],
                                   const int8_t *input1, const int32_t in1_strides[4],
                                   const int8_t *input2, const int32_t in2_strides[4], int8_t *output)
{
    int32_t d0, d1, d2, d3;
    for (d0 = 0; d0 < out_shape[0]; ++d0) {
        for (d1 = 0; d1 < out_shape[1]; ++d1) {
            for (d2 = 0; d2 < out_shape[2]; ++d2) {
                const int8_t *a = input1 + d0 * in1_strides[0] + d1 * in1_strides[1] + d2 * in1_strides[2];
                const int8_t *b = input2 + d0 * in2_strides[0] + d1 * in2_strides[1] + d2 * in2_strides[2];
                for (d3 = 0; d3 < out_shape[3]; ++d3) {
                    *output++ = op(params, a[d3 * in1_strides[3]], b[d3 * in2_strides[3]]);
                }
            }
        }
    }
}

#endif /* ILWP_BROADCAST_H */
