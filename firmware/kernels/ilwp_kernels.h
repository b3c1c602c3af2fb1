/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_kernels.h - portable C99 int8 kernels of ilwp-embed.
 *
 * Conventions
 *  - Layouts are TFLite's: activations NHWC, conv filters [out_c][fh][fw][in_c/groups],
 *    depthwise filters [1][fh][fw][out_c], fully connected filters [out][in].
 *  - Every quantization constant is computed on the host
 *    (ilwp_embedded/generate/quant.py) exactly like TFLite Micro's Prepare():
 *      input_offset  = -input_zero_point
 *      output_offset = +output_zero_point
 *      multiplier/shift = QuantizeMultiplier(effective scale): Q0.31 multiplier,
 *      shift > 0 means a left shift, shift < 0 a right shift.
 *      act_min/act_max = fused activation clamped to [-128, 127] in output quanta.
 *  - No allocation: any scratch buffer is owned by the caller and sized by the
 *    matching *_scratch_size() function.
 *  - Functions return ILWP_OK (0) or ILWP_ERR_ARG on invalid arguments (ilwp_status.h).
 */
#ifndef ILWP_KERNELS_H
#define ILWP_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "../include/ilwp_status.h" /* ILWP_OK, ILWP_ERR_ARG */

/* CONV_2D (per-channel quantized, optional groups = input_c / filter_c). */
typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w, filter_c; /* filter_c: input channels per group */
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;                 /* top / left padding */
    int32_t input_offset;                 /* -input zero point */
    int32_t output_offset;                /* output zero point */
    int32_t act_min, act_max;
    const int32_t *multiplier;            /* [output_c] */
    const int32_t *shift;                 /* [output_c] */
} ilwp_conv_params_t;

/* Bytes of scratch ilwp_conv2d_s8 needs (an int16 im2col column of one output pixel). */
int32_t ilwp_conv2d_s8_scratch_size(const ilwp_conv_params_t *p);
/* bias may be NULL. scratch: ilwp_conv2d_s8_scratch_size() bytes, 4-byte aligned. */
int32_t ilwp_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int16_t *scratch);

/* DEPTHWISE_CONV_2D (per-channel quantized). output_c = input_c * depth_multiplier. */
typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t output_h, output_w, output_c;
    int32_t depth_multiplier;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;            /* [output_c] */
    const int32_t *shift;                 /* [output_c] */
} ilwp_dw_conv_params_t;

int32_t ilwp_depthwise_conv2d_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, int8_t *output);

/* FULLY_CONNECTED: output[b][o] = requant(bias[o] + sum_i (in[b][i]+input_offset)*(w[o][i]+filter_offset)). */
typedef struct {
    int32_t batches;
    int32_t input_depth;                  /* accumulation depth */
    int32_t output_depth;
    int32_t input_offset, filter_offset, output_offset;
    int32_t act_min, act_max;
    int32_t per_channel;                  /* 0: multiplier[0]/shift[0] for all outputs */
    const int32_t *multiplier;
    const int32_t *shift;
} ilwp_fc_params_t;

int32_t ilwp_fully_connected_s8(const ilwp_fc_params_t *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output);

/* ADD (TFLite int8 scheme: both inputs rescaled to 2*max(scale) with left_shift = 20). */
typedef struct {
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift; /* shifts <= 0 */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} ilwp_add_params_t;

/* Elementwise, same shapes. scratch: NULL (compute every rescale), or ilwp_add_s8_scratch_size()
 * bytes, 4-byte aligned, used for two 256-entry tables of the per-input rescaled values (faster for
 * tensors of more than a few hundred elements; results are identical). */
int32_t ilwp_add_s8_scratch_size(void);
int32_t ilwp_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output, int32_t size, int32_t *scratch);
/* Broadcasting form on 4-D output shapes; strides in elements, 0 on a broadcast dimension. */
int32_t ilwp_add_broadcast_s8(const ilwp_add_params_t *p, const int32_t out_shape[4],
                              const int8_t *input1, const int32_t in1_strides[4],
                              const int8_t *input2, const int32_t in2_strides[4], int8_t *output);

/* AVERAGE_POOL_2D / MAX_POOL_2D (no requantization: input and output share quantization). */
typedef struct {
    int32_t batches;
    int32_t input_h, input_w, channels;
    int32_t output_h, output_w;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} ilwp_pool_params_t;

int32_t ilwp_avg_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output);
int32_t ilwp_max_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output);

/* SOFTMAX int8 -> int8 (gemmlowp fixed-point exp, output scale 1/256, zero point -128). */
typedef struct {
    int32_t rows;                         /* product of all but the last dimension */
    int32_t depth;                        /* last dimension, <= 256 */
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} ilwp_softmax_params_t;

int32_t ilwp_softmax_s8(const ilwp_softmax_params_t *p, const int8_t *input, int8_t *output);

/* MEAN over any subset of the (up to 4, left-padded with 1) input dimensions. */
typedef struct {
    int32_t input_shape[4];
    int32_t reduce[4];                    /* 1 on reduced dimensions */
    int32_t num_elements;                 /* product of reduced dimensions */
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;            /* already divided by num_elements (host side) */
} ilwp_mean_params_t;

int32_t ilwp_mean_s8(const ilwp_mean_params_t *p, const int8_t *input, int8_t *output);

/* PAD / PADV2 on 4-D shapes (left-padded with 1). */
typedef struct {
    int32_t input_shape[4];
    int32_t pad_before[4];
    int32_t pad_after[4];
    int32_t pad_value;                    /* int8 value written into the padding */
} ilwp_pad_params_t;

int32_t ilwp_pad_s8(const ilwp_pad_params_t *p, const int8_t *input, int8_t *output);

/* CONCATENATION (inputs share the output quantization, as TFLM requires):
 * for each of outer_size blocks, copy copy_sizes[i] bytes from each input in turn. */
int32_t ilwp_concatenation_s8(const int8_t *const *inputs, const int32_t *copy_sizes, int32_t num_inputs,
                              int32_t outer_size, int8_t *output);

/* LOGISTIC, TANH, HARD_SWISH, RELU, RELU6: output[i] = table[input[i] + 128], the table computed on
 * the host from TFLM's integer arithmetic for the op's quantization (ilwp_embedded/ops/quant.py). */
typedef struct {
    int32_t size;                         /* elements */
    int8_t table[256];
} ilwp_lut_params_t;

int32_t ilwp_lut_s8(const ilwp_lut_params_t *p, const int8_t *input, int8_t *output);

/* MUL: requant((x1 + input1_offset) * (x2 + input2_offset)) with multiplier of s1 * s2 / s_out. */
typedef struct {
    int32_t input1_offset, input2_offset, output_offset;
    int32_t output_multiplier, output_shift; /* shift > 0: left */
    int32_t act_min, act_max;
} ilwp_mul_params_t;

int32_t ilwp_mul_s8(const ilwp_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                    int32_t size);
/* Broadcasting form on 4-D output shapes; strides in elements, 0 on a broadcast dimension. */
int32_t ilwp_mul_broadcast_s8(const ilwp_mul_params_t *p, const int32_t out_shape[4],
                              const int8_t *input1, const int32_t in1_strides[4],
                              const int8_t *input2, const int32_t in2_strides[4], int8_t *output);

/* TRANSPOSE_CONV (per-channel quantized). Filter [output_c][filter_h][filter_w][input_c]; padding
 * from the output size as TFLM computes it. bias may be NULL. */
typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;            /* [output_c] */
    const int32_t *shift;                 /* [output_c] */
} ilwp_transpose_conv_params_t;

int32_t ilwp_transpose_conv_s8(const ilwp_transpose_conv_params_t *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output);

/* RESHAPE: a byte copy (nothing when input == output). */
int32_t ilwp_reshape_s8(const int8_t *input, int8_t *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* ILWP_KERNELS_H */
