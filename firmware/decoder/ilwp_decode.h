/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ilwp_decode: C99 decoder for .ilwp weight blobs (format: docs/blob-format.md).
 *
 * No malloc, no recursion, no global state. Every read is checked against the end of the
 * blob; a corrupt blob yields a negative error code. Two APIs:
 *   streaming: ilwp_open, then per tensor ilwp_next (header) + ilwp_decode (weights);
 *              an inter-predicted tensor needs its reference's decoded weights from the caller.
 *   all at once: ilwp_decode_all into one caller buffer.
 * Build option ILWP_PAIRS (default 1): 0 leaves out pair symbols (format v5) and rejects their records;
 * the generator sets it for a blob without them (their set-up and loop cost flash).
 */
#ifndef ILWP_DECODE_H
#define ILWP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "../include/ilwp_status.h" /* ILWP_OK, ILWP_END, ILWP_ERR_TRUNCATED .. ILWP_ERR_STREAM */

#define ILWP_FLAG_SKIP_CRC 1u   /* ilwp_open: do not verify the CRC32 (fuzzing, trusted flash) */

#define ILWP_MODE_INTRA 0u
#define ILWP_MODE_COLLOCATED 1u
#define ILWP_MODE_SEARCHED 2u

typedef struct {
    const uint8_t *blob;
    uint32_t pos;          /* offset of the next record */
    uint32_t records_end;  /* end of the records section */
    uint16_t n_records;
    uint16_t next;         /* decode-order index of the next record */
    uint8_t lossy;
} ilwp_reader;

typedef struct {
    uint32_t index;        /* decode-order index of this record */
    uint32_t tensor_id;    /* tensor index in the .tflite subgraph */
    uint32_t n_elems;
    uint32_t n_channels;
    uint32_t step;         /* 1 lossless, >= 2 lossy */
    uint32_t mode;         /* ILWP_MODE_* */
    uint32_t ref_record;   /* inter modes: record whose decoded weights ilwp_decode needs */
    uint32_t ref_channels;
    uint8_t channel_minor;
    uint8_t ref_channel_minor;
    uint8_t pairs;         /* 0: a rANS symbol per weight; 1..3: one per two weights, 2^(8 + pairs) slots (v5) */
    /* blob offsets, filled by ilwp_next */
    uint32_t side_off;     /* u16 multipliers, then (searched) u16 reference channels */
    uint32_t table_off, table_len, payload_off, payload_len;
} ilwp_tensor;

/* Largest table precision P of format versions 2 to 5 (pair precision P2 included): the frequencies of a
 * tensor sum to 2^P. */
#define ILWP_MAX_PRECISION 11u

/* Decoder tables: caller-provided scratch, reused for every tensor. The caller points slot at
 * 2^slot_log2 uint32_t (8 KB for slot_log2 = ILWP_MAX_PRECISION; the generator sizes it to the
 * blob's largest P, and may lend it memory that is idle while decoding); a table with a larger
 * P is rejected with ILWP_ERR_TABLE. slot[j] is everything one rANS step needs for state slot j,
 * so a symbol costs one table load: bits 0-7 the output byte (weight or residual), 9-20 the
 * symbol's frequency, 21-31 its first slot (bit 8 unused). The entry is the same in all slots of a
 * symbol, so the table fills with block stores. */
typedef struct {
    uint32_t *slot;
    uint32_t slot_log2;
    uint16_t freq[256]; /* symbol frequencies (used while building slot) */
} ilwp_work;

int ilwp_open(ilwp_reader *r, const uint8_t *blob, uint32_t len, uint32_t flags);
int ilwp_next(ilwp_reader *r, ilwp_tensor *t);
/* ref: the decoded weights of record t->ref_record (ref_len = its n_elems); NULL for intra. */
int ilwp_decode(const ilwp_reader *r, const ilwp_tensor *t, const int8_t *ref, uint32_t ref_len,
                int8_t *out, uint32_t out_len, ilwp_work *w);
/* Decodes every record into out, back to back; offsets[i] = start of record i's weights,
 * offsets[n] = total (offsets needs max_records + 1 entries). Returns the record count or < 0. */
int32_t ilwp_decode_all(const uint8_t *blob, uint32_t len, uint32_t flags, int8_t *out, uint32_t out_cap,
                        uint32_t *offsets, uint32_t *tensor_ids, uint32_t max_records, ilwp_work *w);
/* CRC-32/ISO-HDLC (zlib's crc32) of n bytes, continuing from crc (start with 0): the firmware's one
 * CRC-32, also the serial protocol's. */
uint32_t ilwp_crc32_update(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
