/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_cmsis_nn.c - the ilwp_kernels.h API on top of CMSIS-NN (glue only: no CMSIS-NN code here).
 *
 * Mapping (all constants come precomputed from ilwp_embedded/generate/quant.py, as for the
 * portable kernels; TFLM's own CMSIS-NN kernels pass the same values). Each function takes the
 * parameter struct of its portable counterpart in ilwp_kernels.h (ilwp_cmsis_X <-> ilwp_X):
 *   ilwp_cmsis_conv2d_s8           -> arm_convolve_wrapper_s8 (+ arm_convolve_wrapper_s8_get_buffer_size)
 *   ilwp_cmsis_depthwise_conv2d_s8 -> arm_depthwise_conv_wrapper_s8 (+ its get_buffer_size); the generator
 *     calls the wrapper's choice directly: ilwp_cmsis_depthwise_conv2d_{3x3,opt,any}_s8 ->
 *     arm_depthwise_conv_3x3_s8 / arm_depthwise_conv_s8_opt / arm_depthwise_conv_s8
 *   ilwp_cmsis_fully_connected_s8  -> arm_fully_connected_s8 (per tensor, zero filter offset)
 *   ilwp_cmsis_add_s8              -> arm_elementwise_add_s8
 *   ilwp_cmsis_mul_s8              -> arm_elementwise_mul_s8
 *   ilwp_cmsis_avg_pool2d_s8       -> arm_avgpool_s8 (+ arm_avgpool_s8_get_buffer_size)
 *   ilwp_cmsis_max_pool2d_s8       -> arm_max_pool_s8
 *   ilwp_cmsis_softmax_s8          -> arm_softmax_s8
 * Per-channel FC (ilwp_cmsis_fc_per_channel.c) and the Helium kernel sums (ilwp_cmsis_kernel_sums_v4.c
 * or _v7.c) depend on the CMSIS-NN API generation: ilwp_embedded/generate/cmsis_nn.py compiles the
 * file that matches the given copy. The generator calls the portable kernel (firmware/kernels/) for
 * every layer the given CMSIS-NN lacks or computes wrongly (grouped conv before it handled groups,
 * per-channel FC before v7.0.0, FC with a filter zero point), and for MEAN, PAD, CONCATENATION,
 * RESHAPE, broadcasting ADD and MUL, LOGISTIC, TANH, HARD_SWISH and TRANSPOSE_CONV; each function is in its own section, so only what the model calls is
 * linked.
 *
 * Conventions shared by both sides: input_offset = -input zero point, output_offset = +output
 * zero point (CMSIS-NN's header calls it "negative of the zero value" but TFLM, and CMSIS-NN's
 * arithmetic, add it), FC filter_offset = -filter zero point, shifts > 0 mean left shifts,
 * activation ranges already clamped to [-128, 127]. CMSIS-NN takes non-const multiplier/shift
 * pointers but only reads them: the casts below drop const on read-only tables.
 */
#include <stddef.h>
#include <stdint.h>

#include "arm_nnfunctions.h"
#include "ilwp_kernels.h"
#include "ilwp_cmsis_internal.h"
#include "ilwp_kernels_cmsis.h"

static void *ilwp_cmsis_buf;
static int32_t ilwp_cmsis_buf_bytes;

void ilwp_cmsis_nn_set_scratch(void *buf, int32_t bytes)
{
    ilwp_cmsis_buf = buf;
    ilwp_cmsis_buf_bytes = buf != NULL ? bytes : 0;
}

/* A context for a kernel that needs `need` bytes: the registered buffer, or an error. */
int32_t ilwp_cmsis_ctx(cmsis_nn_context *ctx, int32_t need)
{
    ctx->buf = NULL;
    ctx->size = 0;
    if (need <= 0) {
        return ILWP_OK;
    }
    if (ilwp_cmsis_buf == NULL || need > ilwp_cmsis_buf_bytes) {
        return ILWP_ERR_SCRATCH;
    }
    ctx->buf = ilwp_cmsis_buf;
    ctx->size = need;
    return ILWP_OK;
}

int32_t ilwp_cmsis_status(arm_cmsis_nn_status s)
{
    return s == ARM_CMSIS_NN_SUCCESS ? ILWP_OK : ILWP_ERR_CMSIS;
}

void ilwp_cmsis_dims(cmsis_nn_dims *d, int32_t n, int32_t h, int32_t w, int32_t c)
{
    d->n = n;
    d->h = h;
    d->w = w;
    d->c = c;
}

/* The (h, w) pairs and the activation range the conv, depthwise and pooling parameters share. */
static void ilwp_cmsis_tile(cmsis_nn_tile *t, int32_t h, int32_t w)
{
    t->h = h;
    t->w = w;
}

static void ilwp_cmsis_act(cmsis_nn_activation *a, int32_t min, int32_t max)
{
    a->min = min;
    a->max = max;
}

/* ------------------------------------------------------------------------------------------ CONV_2D */

static void ilwp_conv_cmsis(const ilwp_conv_params_t *p, cmsis_nn_conv_params *cp, cmsis_nn_dims *in,
                            cmsis_nn_dims *flt, cmsis_nn_dims *bias, cmsis_nn_dims *out)
{
    cp->input_offset = p->input_offset;
    cp->output_offset = p->output_offset;
    ilwp_cmsis_tile(&cp->stride, p->stride_h, p->stride_w);
    ilwp_cmsis_tile(&cp->padding, p->pad_h, p->pad_w);
    ilwp_cmsis_tile(&cp->dilation, p->dilation_h, p->dilation_w);
    ilwp_cmsis_act(&cp->activation, p->act_min, p->act_max);
    ilwp_cmsis_dims(in, p->batches, p->input_h, p->input_w, p->input_c);
    ilwp_cmsis_dims(flt, p->output_c, p->filter_h, p->filter_w, p->filter_c);
    ilwp_cmsis_dims(bias, 1, 1, 1, p->output_c);
    ilwp_cmsis_dims(out, p->batches, p->output_h, p->output_w, p->output_c);
}

int32_t ilwp_cmsis_conv2d_s8_scratch_size(const ilwp_conv_params_t *p)
{
    cmsis_nn_conv_params cp;
    cmsis_nn_dims in, flt, bias, out;
    ilwp_conv_cmsis(p, &cp, &in, &flt, &bias, &out);
    return arm_convolve_wrapper_s8_get_buffer_size(&cp, &in, &flt, &out);
}

int32_t ilwp_cmsis_conv2d_s8(const ilwp_conv_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int16_t *scratch)
{
    cmsis_nn_conv_params cp;
    cmsis_nn_per_channel_quant_params q;
    cmsis_nn_dims in, flt, bd, out;
    cmsis_nn_context ctx;
    int32_t need;
    if (p == NULL || input == NULL || filter == NULL || output == NULL) {
        return ILWP_ERR_ARG;
    }
    ilwp_conv_cmsis(p, &cp, &in, &flt, &bd, &out);
    need = arm_convolve_wrapper_s8_get_buffer_size(&cp, &in, &flt, &out);
    ctx.buf = NULL;
    ctx.size = 0;
    if (need > 0) {
        /* The caller's scratch (ilwp_conv2d_s8_scratch_size() bytes); when it is the registered
         * buffer, its registered size is checked too. */
        if (scratch == NULL || ((void *)scratch == ilwp_cmsis_buf && need > ilwp_cmsis_buf_bytes)) {
            return ILWP_ERR_SCRATCH;
        }
        ctx.buf = scratch;
        ctx.size = need;
    }
    q.multiplier = (int32_t *)(uintptr_t)p->multiplier;
    q.shift = (int32_t *)(uintptr_t)p->shift;
    return ilwp_cmsis_status(arm_convolve_wrapper_s8(&ctx, &cp, &q, &in, input, &flt, filter, &bd, bias, &out, output));
}

/* ------------------------------------------------------------------------------- DEPTHWISE_CONV_2D */

/* The CMSIS-NN arguments of one depthwise call (every variant passes the same ones). */
typedef struct {
    cmsis_nn_dw_conv_params dp;
    cmsis_nn_per_channel_quant_params q;
    cmsis_nn_dims in, flt, bias, out;
    cmsis_nn_context ctx; /* no work buffer until a variant asks for one */
} ilwp_dw_call;

/* c <- the arguments of a depthwise layer; ILWP_ERR_ARG on NULL pointers. */
static int32_t ilwp_dw_cmsis(const ilwp_dw_conv_params_t *p, const void *input, const void *filter, const void *output,
                             ilwp_dw_call *c)
{
    if (p == NULL || input == NULL || filter == NULL || output == NULL) {
        return ILWP_ERR_ARG;
    }
    c->dp.input_offset = p->input_offset;
    c->dp.output_offset = p->output_offset;
    c->dp.ch_mult = p->depth_multiplier;
    ilwp_cmsis_tile(&c->dp.stride, p->stride_h, p->stride_w);
    ilwp_cmsis_tile(&c->dp.padding, p->pad_h, p->pad_w);
    ilwp_cmsis_tile(&c->dp.dilation, p->dilation_h, p->dilation_w);
    ilwp_cmsis_act(&c->dp.activation, p->act_min, p->act_max);
    ilwp_cmsis_dims(&c->in, p->batches, p->input_h, p->input_w, p->input_c);
    ilwp_cmsis_dims(&c->flt, 1, p->filter_h, p->filter_w, p->output_c);
    ilwp_cmsis_dims(&c->bias, 1, 1, 1, p->output_c);
    ilwp_cmsis_dims(&c->out, p->batches, p->output_h, p->output_w, p->output_c);
    c->q.multiplier = (int32_t *)(uintptr_t)p->multiplier;
    c->q.shift = (int32_t *)(uintptr_t)p->shift;
    return ilwp_cmsis_ctx(&c->ctx, 0);
}

/* The layer as the 3x3 / opt kernels need it: depth multiplier 1, batch 1, undilated. */
static int ilwp_dw_simple(const ilwp_dw_conv_params_t *p)
{
    return p->depth_multiplier == 1 && p->batches == 1 && p->dilation_h == 1 && p->dilation_w == 1;
}

/* CMSIS-NN's wrapper: it picks 3x3 / opt / general at run time (all three are linked). */
int32_t ilwp_cmsis_depthwise_conv2d_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, int8_t *output)
{
    ilwp_dw_call c;
    int32_t rc = ilwp_dw_cmsis(p, input, filter, output, &c);
    if (rc == ILWP_OK) {
        rc = ilwp_cmsis_ctx(&c.ctx, arm_depthwise_conv_wrapper_s8_get_buffer_size(&c.dp, &c.in, &c.flt, &c.out));
    }
    if (rc != ILWP_OK) {
        return rc;
    }
    return ilwp_cmsis_status(arm_depthwise_conv_wrapper_s8(&c.ctx, &c.dp, &c.q, &c.in, input, &c.flt, filter, &c.bias,
                                                           bias, &c.out, output));
}

/* The wrapper's choice made by the generator (codegen._cmsis_dw_kernel), so that only the kernel the
 * layer uses is linked. 3x3: the simple case, a 3x3 filter, padding <= 1. */
int32_t ilwp_cmsis_depthwise_conv2d_3x3_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output)
{
    ilwp_dw_call c;
    int32_t rc = ilwp_dw_cmsis(p, input, filter, output, &c);
    if (rc != ILWP_OK) {
        return rc;
    }
    if (!ilwp_dw_simple(p) || p->filter_h != 3 || p->filter_w != 3 || p->pad_h > 1 || p->pad_w > 1) {
        return ILWP_ERR_ARG;
    }
    return ilwp_cmsis_status(
        arm_depthwise_conv_3x3_s8(&c.ctx, &c.dp, &c.q, &c.in, input, &c.flt, filter, &c.bias, bias, &c.out, output));
}

/* opt: the simple case (work buffer on DSP builds). */
int32_t ilwp_cmsis_depthwise_conv2d_opt_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output)
{
    ilwp_dw_call c;
    int32_t rc = ilwp_dw_cmsis(p, input, filter, output, &c);
    if (rc != ILWP_OK) {
        return rc;
    }
    if (!ilwp_dw_simple(p)) {
        return ILWP_ERR_ARG;
    }
    rc = ilwp_cmsis_ctx(&c.ctx, arm_depthwise_conv_s8_opt_get_buffer_size(&c.in, &c.flt));
    if (rc != ILWP_OK) {
        return rc;
    }
    return ilwp_cmsis_status(
        arm_depthwise_conv_s8_opt(&c.ctx, &c.dp, &c.q, &c.in, input, &c.flt, filter, &c.bias, bias, &c.out, output));
}

/* general: any depth multiplier, batch and dilation (no work buffer). */
int32_t ilwp_cmsis_depthwise_conv2d_any_s8(const ilwp_dw_conv_params_t *p, const int8_t *input, const int8_t *filter,
                                           const int32_t *bias, int8_t *output)
{
    ilwp_dw_call c;
    int32_t rc = ilwp_dw_cmsis(p, input, filter, output, &c);
    if (rc != ILWP_OK) {
        return rc;
    }
    return ilwp_cmsis_status(
        arm_depthwise_conv_s8(&c.ctx, &c.dp, &c.q, &c.in, input, &c.flt, filter, &c.bias, bias, &c.out, output));
}

/* --------------------------------------------------------------------------------- FULLY_CONNECTED */

int32_t ilwp_cmsis_fc_prepare(const ilwp_fc_params_t *p, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, const int8_t *output, int per_channel, ilwp_cmsis_fc_call *c)
{
    int32_t rc;
    /* CMSIS-NN's FC kernels take a zero filter offset only (V.12.5.1's per-tensor one ignores it;
     * the per-channel one requires it, as TFLM does) */
    if (p == NULL || input == NULL || filter == NULL || output == NULL || !p->per_channel != !per_channel ||
        p->filter_offset != 0) {
        return ILWP_ERR_ARG;
    }
    c->fp.input_offset = p->input_offset;
    c->fp.filter_offset = p->filter_offset;
    c->fp.output_offset = p->output_offset;
    ilwp_cmsis_act(&c->fp.activation, p->act_min, p->act_max);
    ilwp_cmsis_dims(&c->in, p->batches, 1, 1, p->input_depth);
    ilwp_cmsis_dims(&c->flt, p->input_depth, 1, 1, p->output_depth); /* n: accumulation depth, c: output depth */
    ilwp_cmsis_dims(&c->bias, 1, 1, 1, p->output_depth);
    ilwp_cmsis_dims(&c->out, p->batches, 1, 1, p->output_depth);
    rc = ilwp_cmsis_ctx(&c->ctx, arm_fully_connected_s8_get_buffer_size(&c->flt));
    if (rc == ILWP_OK && c->ctx.buf != NULL) {
        ilwp_cmsis_kernel_sums((int32_t *)c->ctx.buf, p, filter, bias); /* Helium (MVE) builds only */
    }
    return rc;
}

/* Per-tensor FC. The generator calls it only with a zero filter offset; per-channel FC is
 * ilwp_cmsis_fully_connected_per_channel_s8 (its own file, compiled only for CMSIS-NN versions that
 * have arm_fully_connected_per_channel_s8). */
int32_t ilwp_cmsis_fully_connected_s8(const ilwp_fc_params_t *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, int8_t *output)
{
    ilwp_cmsis_fc_call c;
    cmsis_nn_per_tensor_quant_params q;
    int32_t rc = ilwp_cmsis_fc_prepare(p, input, filter, bias, output, 0, &c);
    if (rc != ILWP_OK) {
        return rc;
    }
    q.multiplier = p->multiplier[0];
    q.shift = p->shift[0];
    return ilwp_cmsis_status(
        arm_fully_connected_s8(&c.ctx, &c.fp, &q, &c.in, input, &c.flt, filter, &c.bias, bias, &c.out, output));
}

/* ----------------------------------------------------------------------------------------------- ADD */

/* arm_elementwise_add_s8 computes every rescale: it takes no tables (scratch is ignored, may be NULL). */
int32_t ilwp_cmsis_add_s8_scratch_size(void)
{
    return 0;
}

int32_t ilwp_cmsis_add_s8(const ilwp_add_params_t *p, const int8_t *input1, const int8_t *input2,
                    int8_t *output, int32_t size, int32_t *scratch)
{
    (void)scratch;
    if (p == NULL || input1 == NULL || input2 == NULL || output == NULL || size < 0) {
        return ILWP_ERR_ARG;
    }
    return ilwp_cmsis_status(arm_elementwise_add_s8(input1, input2, p->input1_offset, p->input1_multiplier,
                                                    p->input1_shift, p->input2_offset, p->input2_multiplier,
                                                    p->input2_shift, p->left_shift, output, p->output_offset,
                                                    p->output_multiplier, p->output_shift, p->act_min,
                                                    p->act_max, size));
}

/* ----------------------------------------------------------------------------------------------- MUL */

int32_t ilwp_cmsis_mul_s8(const ilwp_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                          int32_t size)
{
    if (p == NULL || input1 == NULL || input2 == NULL || output == NULL || size < 0) {
        return ILWP_ERR_ARG;
    }
    return ilwp_cmsis_status(arm_elementwise_mul_s8(input1, input2, p->input1_offset, p->input2_offset, output,
                                                    p->output_offset, p->output_multiplier, p->output_shift,
                                                    p->act_min, p->act_max, size));
}

/* ------------------------------------------------------------------------------------------- POOLING */

/* The CMSIS-NN arguments of one pooling call (no work buffer until the caller asks for one). */
typedef struct {
    cmsis_nn_pool_params pp;
    cmsis_nn_dims in, flt, out;
    cmsis_nn_context ctx;
} ilwp_pool_call;

/* c <- the arguments of a pooling layer; ILWP_ERR_ARG on NULL pointers. */
static int32_t ilwp_pool_cmsis(const ilwp_pool_params_t *p, const void *input, const void *output, ilwp_pool_call *c)
{
    if (p == NULL || input == NULL || output == NULL) {
        return ILWP_ERR_ARG;
    }
    ilwp_cmsis_tile(&c->pp.stride, p->stride_h, p->stride_w);
    ilwp_cmsis_tile(&c->pp.padding, p->pad_h, p->pad_w);
    ilwp_cmsis_act(&c->pp.activation, p->act_min, p->act_max);
    ilwp_cmsis_dims(&c->in, p->batches, p->input_h, p->input_w, p->channels);
    ilwp_cmsis_dims(&c->flt, 1, p->filter_h, p->filter_w, 1);
    ilwp_cmsis_dims(&c->out, p->batches, p->output_h, p->output_w, p->channels);
    return ilwp_cmsis_ctx(&c->ctx, 0);
}

int32_t ilwp_cmsis_avg_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output)
{
    ilwp_pool_call c;
    int32_t rc = ilwp_pool_cmsis(p, input, output, &c);
    if (rc == ILWP_OK) {
        rc = ilwp_cmsis_ctx(&c.ctx, arm_avgpool_s8_get_buffer_size(p->output_w, p->channels));
    }
    if (rc != ILWP_OK) {
        return rc;
    }
    return ilwp_cmsis_status(arm_avgpool_s8(&c.ctx, &c.pp, &c.in, input, &c.flt, &c.out, output));
}

int32_t ilwp_cmsis_max_pool2d_s8(const ilwp_pool_params_t *p, const int8_t *input, int8_t *output)
{
    ilwp_pool_call c;
    int32_t rc = ilwp_pool_cmsis(p, input, output, &c);
    if (rc != ILWP_OK) {
        return rc;
    }
    return ilwp_cmsis_status(arm_max_pool_s8(&c.ctx, &c.pp, &c.in, input, &c.flt, &c.out, output));
}

/* ------------------------------------------------------------------------------------------- SOFTMAX */

int32_t ilwp_cmsis_softmax_s8(const ilwp_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->depth <= 0 || p->depth > 256) {
        return ILWP_ERR_ARG;
    }
    arm_softmax_s8(input, p->rows, p->depth, p->input_multiplier, p->input_left_shift, p->diff_min, output);
    return ILWP_OK;
}
