/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* CONCATENATION int8 (mirrors TFLM reference_ops::Concatenation; quantization is shared). */
#include <string.h>

#include "ilwp_kernels.h"

int32_t ilwp_concatenation_s8(const int8_t *const *inputs, const int32_t *copy_sizes, int32_t num_inputs,
                              int32_t outer_size, int8_t *output)
{
    int32_t k, i;
    for (k = 0; k < outer_size; ++k) {
        for (i = 0; i < num_inputs; ++i) {
            const int32_t n = copy_sizes[i];
            memcpy(output, inputs[i] + k * n, (size_t)n);
            output += n;
        }
    }
    return ILWP_OK;
}
