/*
 * ilwp_kernels_cmsis.h - extras of the CMSIS-NN backend of ilwp-embed.
 *
 * The backend implements the portable API of ilwp_kernels.h (same names, same parameter
 * structs, same quantization conventions) by calling CMSIS-NN. CMSIS-NN itself is not part
 * of ilwp-embed: the user supplies a checkout (--cmsis-nn PATH or ILWP_CMSIS_NN).
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

#ifdef __cplusplus
}
#endif

#endif /* ILWP_KERNELS_CMSIS_H */
