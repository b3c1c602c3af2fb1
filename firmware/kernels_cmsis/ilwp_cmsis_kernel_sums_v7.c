/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_cmsis_kernel_sums_v7.c - FC kernel sums for CMSIS-NN 24.02 and later: arm_vector_sum_s8 takes
 * the input and filter offsets and the bias and folds them into the sums.
 * Compiled instead of ilwp_cmsis_kernel_sums_v4.c when arm_nnfunctions.h declares the 7-argument form.
 */
#include <stdint.h>

#include "ilwp_cmsis_internal.h"

void ilwp_cmsis_kernel_sums(int32_t *buf, const ilwp_fc_params_t *p, const int8_t *filter, const int32_t *bias)
{
    (void)arm_vector_sum_s8(buf, p->input_depth, p->output_depth, filter, p->input_offset, p->filter_offset, bias);
}
