/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ilwp_status: the one status type of ilwp-embed's C (kernels, weight decoder, CMSIS-NN glue,
 * generated model), as arm_cmsis_nn_status is CMSIS-NN's. 0 is success, ILWP_END a normal end;
 * every error is negative and has one meaning. Internal functions return it as int / int32_t; the
 * generated model's API (ilwp_model.h: ilwp_model_init, ilwp_model_run) returns ilwp_status itself.
 *
 * The decoder's codes (-1 .. -9) reach the host as ilwp_model_init()'s status (HELLO); a kernel
 * failure in ilwp_model_run() is reported as ILWP_MODEL_ERR_KERNEL - step.
 */
#ifndef ILWP_STATUS_H
#define ILWP_STATUS_H

typedef enum {
    ILWP_OK = 0,
    ILWP_END = 1, /* ilwp_next: no more records */

    /* weight blob (firmware/decoder) */
    ILWP_ERR_TRUNCATED = -1, /* a read would pass the end of the blob or a section */
    ILWP_ERR_MAGIC = -2,
    ILWP_ERR_VERSION = -3,
    ILWP_ERR_CRC = -4,
    ILWP_ERR_FORMAT = -5, /* a field holds an impossible value */
    ILWP_ERR_TABLE = -6,  /* bad frequency table (or P above the work's slot_log2) */
    ILWP_ERR_REF = -7,    /* missing or mismatched reference tensor */
    ILWP_ERR_BUFFER = -8, /* caller's output buffer has the wrong size */
    ILWP_ERR_STREAM = -9, /* rANS payload inconsistent (does not end cleanly) */

    /* kernels (firmware/kernels, firmware/kernels_cmsis) */
    ILWP_ERR_ARG = -10,     /* invalid arguments (shapes, parameters, NULL) */
    ILWP_ERR_SCRATCH = -11, /* the registered scratch buffer is smaller than CMSIS-NN needs */
    ILWP_ERR_CMSIS = -12,   /* CMSIS-NN refused the arguments */

    /* generated model (templates/ilwp_model.c.j2) */
    ILWP_MODEL_ERR_BLOB = -50,   /* the blob's records are not the ones this firmware was built for */
    ILWP_MODEL_ERR_KERNEL = -100 /* minus the failing step */
} ilwp_status;

#endif
