/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* PAD / PADV2 int8 on 4-D shapes (mirrors TFLM reference_ops::Pad: padding filled with pad_value). */
#include <string.h>

#include "ilwp_kernels.h"

int32_t ilwp_pad_s8(const ilwp_pad_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t os[4], d, i0, i1, i2;
    const int8_t fill = (int8_t)p->pad_value;
    for (d = 0; d < 4; ++d) {
        if (p->pad_before[d] < 0 || p->pad_after[d] < 0) {
            return ILWP_ERR_ARG;
        }
        os[d] = p->pad_before[d] + p->input_shape[d] + p->pad_after[d];
    }
    for (i0 = 0; i0 < os[0]; ++i0) {
        for (i1 = 0; i1 < os[1]; ++i1) {
            for (i2 = 0; i2 < os[2]; ++i2) {
                const int32_t a = i0 - p->pad_before[0];
                const int32_t b = i1 - p->pad_before[1];
                const int32_t c = i2 - p->pad_before[2];
                if (a < 0 || a >= p->input_shape[0] || b < 0 || b >= p->input_shape[1] || c < 0 ||
                    c >= p->input_shape[2]) {
                    memset(output, fill, (size_t)os[3]);
                } else {
                    const int8_t *src =
                        input + ((a * p->input_shape[1] + b) * p->input_shape[2] + c) * p->input_shape[3];
                    memset(output, fill, (size_t)p->pad_before[3]);
                    memcpy(output + p->pad_before[3], src, (size_t)p->input_shape[3]);
                    memset(output + p->pad_before[3] + p->input_shape[3], fill, (size_t)p->pad_after[3]);
                }
                output += os[3];
            }
        }
    }
    return ILWP_OK;
}
