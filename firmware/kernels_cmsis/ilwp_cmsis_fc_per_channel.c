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
    cmsis_nn_fc_params fp;
    cmsis_nn_per_channel_quant_params q;
    cmsis_nn_dims in, flt, bd, out;
    cmsis_nn_context ctx;
    int32_t rc;
    if (p == NULL || input == NULL || filter == NULL || output == NULL || !p->per_channel) {
        return ILWP_ERR_ARG;
    }
    if (p->filter_offset != 0) {
        return ILWP_ERR_ARG; /* CMSIS-NN's per-channel FC requires a zero filter offset, as TFLM does */
    }
    ilwp_cmsis_fc_setup(p, &fp, &in, &flt, &bd, &out);
    rc = ilwp_cmsis_ctx(&ctx, arm_fully_connected_s8_get_buffer_size(&flt));
    if (rc != ILWP_OK) {
        return rc;
    }
    if (ctx.buf != NULL) {
        ilwp_cmsis_kernel_sums((int32_t *)ctx.buf, p, filter, bias); /* Helium (MVE) builds only */
    }
    q.multiplier = (int32_t *)(uintptr_t)p->multiplier;
    q.shift = (int32_t *)(uintptr_t)p->shift;
    return ilwp_cmsis_status(
        arm_fully_connected_per_channel_s8(&ctx, &fp, &q, &in, input, &flt, filter, &bd, bias, &out, output));
}
