/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* RESHAPE: data is unchanged; copy only when the buffers differ (generated models run it in
 * place). The copy is a byte loop with volatile stores rather than memmove: GCC would otherwise
 * call newlib's memmove, ~250 B of flash, for a branch the generated models do not take. */
#include <stdint.h>

#include "ilwp_kernels.h"

int32_t ilwp_reshape_s8(const int8_t *input, int8_t *output, int32_t size)
{
    volatile int8_t *const out = output;
    int32_t i;
    if (size < 0) {
        return ILWP_ERR_ARG;
    }
    if ((uintptr_t)output < (uintptr_t)input) {
        for (i = 0; i < size; ++i) { /* forward: safe when the output starts first */
            out[i] = input[i];
        }
    } else if (output != input) {
        for (i = size - 1; i >= 0; --i) { /* backward: safe when the input starts first */
            out[i] = input[i];
        }
    }
    return ILWP_OK;
}
