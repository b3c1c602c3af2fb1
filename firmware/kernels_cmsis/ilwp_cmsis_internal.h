/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_cmsis_internal.h - helpers shared by the glue files of the CMSIS-NN backend (not for the
 * generated model: it includes ilwp_kernels_cmsis.h only).
 */
#ifndef ILWP_CMSIS_INTERNAL_H
#define ILWP_CMSIS_INTERNAL_H

#include <stdint.h>

#include "arm_nnfunctions.h"
#include "ilwp_kernels.h"

/* ctx -> the registered work buffer when `need` > 0 bytes fit in it; ILWP_ERR_SCRATCH otherwise. */
int32_t ilwp_cmsis_ctx(cmsis_nn_context *ctx, int32_t need);
/* ARM_CMSIS_NN_SUCCESS -> ILWP_OK, anything else -> ILWP_ERR_CMSIS. */
int32_t ilwp_cmsis_status(arm_cmsis_nn_status s);
void ilwp_cmsis_dims(cmsis_nn_dims *d, int32_t n, int32_t h, int32_t w, int32_t c);

/* The CMSIS-NN arguments of one FULLY_CONNECTED call, per tensor or per channel. */
typedef struct {
    cmsis_nn_fc_params fp;
    cmsis_nn_dims in, flt, bias, out;
    cmsis_nn_context ctx;
} ilwp_cmsis_fc_call;

/* c <- the arguments of an FC layer (work buffer and, on Helium, its kernel sums included);
 * ILWP_ERR_ARG on NULL pointers, a non-zero filter offset, or p->per_channel != per_channel. */
int32_t ilwp_cmsis_fc_prepare(const ilwp_fc_params_t *p, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, const int8_t *output, int per_channel, ilwp_cmsis_fc_call *c);
/* Helium (MVE) builds: the FC kernels read per-row filter sums from the work buffer. The two API
 * generations compute them differently: ilwp_cmsis_kernel_sums_v4.c (arm_vector_sum_s8 with 4 arguments,
 * before CMSIS-NN 24.02) or ilwp_cmsis_kernel_sums_v7.c (7 arguments: offsets and bias folded in). */
void ilwp_cmsis_kernel_sums(int32_t *buf, const ilwp_fc_params_t *p, const int8_t *filter, const int32_t *bias);

#endif /* ILWP_CMSIS_INTERNAL_H */
