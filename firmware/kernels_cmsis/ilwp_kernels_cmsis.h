/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_kernels_cmsis.h - the CMSIS-NN backend of ilwp-embed.
 *
 * Each ilwp_cmsis_X function takes the same parameter struct, quantization conventions and return
 * codes as the portable ilwp_X of ilwp_kernels.h, and computes it with CMSIS-NN. The generator
 * (ilwp_embedded/generate/codegen.py) picks, layer by layer, ilwp_cmsis_X where the given CMSIS-NN
 * version computes the layer right, and the portable ilwp_X otherwise; only what the model calls
 * is linked. CMSIS-NN itself is not part of ilwp-embed: the pinned copy comes from
 * `ilwp-embed setup-cmsis-nn`, or the user supplies a checkout (--cmsis-nn PATH or ILWP_CMSIS_NN).
 *
 * Some CMSIS-NN kernels need a work buffer (im2col columns, DSP depthwise and average-pool
 * accumulators, MVE kernel sums) while the portable API passes a scratch buffer to CONV_2D
 * only. The generated model therefore registers its one scratch buffer with
 * ilwp_cmsis_nn_set_scratch() before running; every kernel asks CMSIS-NN's own
 * *_get_buffer_size() for what it needs on the target it was compiled for and returns
 * ILWP_ERR_SCRATCH instead of overrunning a buffer that is too small.
 */
#ifndef ILWP_KERNELS_CMSIS_H
#define ILWP_KERNELS_CMSIS_H

#include <stdint.h>

#include "ilwp_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ILWP_KERNELS_CMSIS_NN 1

/* The work buffer shared by all layers (4-byte aligned); NULL/0 unregisters it. */
void ilwp_cmsis_nn_set_scratch(void *buf, int32_t bytes);

int32_t ilwp_cmsis_conv2d_s8_scratch_size(const ilwp_conv_params_t *p);
/* Not for grouped convolutions unless the CMSIS-NN version handles groups (V.12.5.1 does not). */
int32_t ilwp_cmsis_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output, int16_t *scratch);
int32_t ilwp_cmsis_depthwise_conv2d_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, int8_t *output);
/* The kernel the wrapper would pick, called directly (only it is linked): 3x3 (depth multiplier 1, batch 1,
 * undilated, 3x3, padding <= 1), opt (depth multiplier 1, batch 1, undilated), any (every shape);
 * ILWP_ERR_ARG outside their domains. */
int32_t ilwp_cmsis_depthwise_conv2d_3x3_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output);
int32_t ilwp_cmsis_depthwise_conv2d_opt_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output);
int32_t ilwp_cmsis_depthwise_conv2d_any_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output);
/* Per-tensor, zero filter offset (ILWP_ERR_ARG otherwise). */
int32_t ilwp_cmsis_fully_connected_s8(const ilwp_fc_params_t *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, int8_t *output);
/* Per-channel, zero filter offset; only with CMSIS-NN v7.0.0 and later (ilwp_cmsis_fc_per_channel.c). */
int32_t ilwp_cmsis_fully_connected_per_channel_s8(const ilwp_fc_params_t *p, const int8_t *input,
                                                  const int8_t *filter, const int32_t *bias, int8_t *output);
int32_t ilwp_cmsis_add_s8_scratch_size(void);
int32_t ilwp_cmsis_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                          int32_t size, int32_t *scratch);
/* Same shapes only (broadcasting MUL runs on the portable ilwp_mul_broadcast_s8). */
int32_t ilwp_cmsis_mul_s8(const ilwp_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                          int32_t size);
int32_t ilwp_cmsis_avg_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output);
int32_t ilwp_cmsis_max_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output);
int32_t ilwp_cmsis_softmax_s8(const ilwp_softmax_params_t *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* ILWP_KERNELS_CMSIS_H */
