/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* LOGISTIC, TANH, HARD_SWISH, RELU, RELU6 int8: a 256-entry table computed on the host from TFLM's
 * integer arithmetic (reference_integer_ops::Logistic / Tanh, reference_ops::HardSwish, ReluQuantized,
 * Relu6Quantized), whose int8 result depends on the int8 input alone; ilwp_embedded/ops/quant.py
 * builds it. */
#include "ilwp_kernels.h"

int32_t ilwp_lut_s8(const ilwp_lut_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    if (p == 0 || p->size < 0) {
        return ILWP_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        output[i] = p->table[(int32_t)input[i] + 128]; /* index in [0, 255] for every int8 */
    }
    return ILWP_OK;
}
