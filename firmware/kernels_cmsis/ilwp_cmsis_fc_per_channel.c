/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_cmsis_fc_per_channel.c - per-channel FULLY_CONNECTED on arm_fully_connected_per_channel_s8.
 *
 * That kernel first appears in CMSIS-NN v7.0.0: this file is compiled only when arm_nnfunctions.h
 * declares it (ilwp_embedded/generate/cmsis_nn.py); with older versions the generator calls the
 * portable ilwp_fully_connected_s8 for per-channel layers instead.
 */
#include <stddef.h>
#include <stdint.h>

#include "ilwp_cmsis_internal.h"
#include "ilwp_kernels_cmsis.h"

int32_t ilwp_cmsis_fully_connected_per_channel_s8(const ilwp_fc_params_t *p, const int8_t *input,
                                                  const int8_t *filter, const int32_t *bias, int8_t *output)
{
    ilwp_cmsis_fc_call c;
    cmsis_nn_per_channel_quant_params q;
    int32_t rc = ilwp_cmsis_fc_prepare(p, input, filter, bias, output, 1, &c);
    if (rc != ILWP_OK) {
        return rc;
    }
    q.multiplier = (int32_t *)(uintptr_t)p->multiplier;
    q.shift = (int32_t *)(uintptr_t)p->shift;
    return ilwp_cmsis_status(
        arm_fully_connected_per_channel_s8(&c.ctx, &c.fp, &q, &c.in, input, &c.flt, filter, &c.bias, bias, &c.out, output));
}
