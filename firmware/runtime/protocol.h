/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protocol.h - the ilwp serial protocol, version 2, firmware side (spec: docs/serial-protocol.md).
 *
 * Frame:  A5 5A | type | seq | len (u16 LE) | hcrc | payload[len] | crc32 (u32 LE)
 *   hcrc  = CRC-8 (poly 0x07, init 0) over type, seq, len   (rejects bad lengths at once)
 *   crc32 = CRC-32/ISO-HDLC (zlib's crc32) over type, seq, len, hcrc, payload
 * A frame whose hcrc or crc32 is wrong is never acted on.  C99, no heap.
 */
#ifndef ILWP_PROTOCOL_H
#define ILWP_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "ilwp_decode.h" /* ilwp_crc32_update: the firmware's one CRC-32 */

#define ILWP_PROTO_VERSION 2u
#define ILWP_PROTO_SYNC0 0xA5u
#define ILWP_PROTO_SYNC1 0x5Au
#define ILWP_PROTO_HEADER_BYTES 7u  /* sync x2, type, seq, len x2, hcrc */
#define ILWP_PROTO_TRAILER_BYTES 4u /* crc32 */

/* Largest payload the firmware accepts (a receive buffer of this size is static). */
#ifndef ILWP_PROTO_MAX_PAYLOAD
#define ILWP_PROTO_MAX_PAYLOAD 1028u
#endif
/* Board-time limit between two bytes of one frame; then the parser hunts for sync again. */
#ifndef ILWP_PROTO_BYTE_TIMEOUT_MS
#define ILWP_PROTO_BYTE_TIMEOUT_MS 100u
#endif

/* Message types: host -> device below 0x80, device -> host from 0x80. */
enum {
    ILWP_MSG_HELLO_REQ = 0x01, /* empty                               -> HELLO */
    ILWP_MSG_INPUT = 0x02,     /* u32 offset, bytes                   -> ACK or ERROR */
    ILWP_MSG_RUN = 0x03,       /* u32 input CRC-32                    -> ACK, OUTPUT; or ERROR */
    ILWP_MSG_ECHO = 0x04,      /* any bytes                           -> ECHO_REPLY */
    ILWP_MSG_INPUT_FILE = 0x05, /* u32 offset, host path (QEMU only)  -> ACK or ERROR */
    ILWP_MSG_TEST = 0x7E,      /* u8 action (test firmware only)      -> see spec */
    ILWP_MSG_HELLO = 0x81,
    ILWP_MSG_ACK = 0x82,       /* u32 next offset expected */
    ILWP_MSG_OUTPUT = 0x83,
    ILWP_MSG_ECHO_REPLY = 0x84,
    ILWP_MSG_ERROR = 0x8F      /* u8 code, i32 detail */
};

/* The ERROR frame's codes on the wire (docs/serial-protocol.md): not ilwp_status values, which
 * travel as an ERROR's detail or in HELLO. */
enum {
    ILWP_PROTO_ERR_BAD_CRC = 1,          /* detail: 0 */
    ILWP_PROTO_ERR_BAD_LENGTH = 2,       /* detail: the payload length */
    ILWP_PROTO_ERR_UNKNOWN_TYPE = 3,     /* detail: the type */
    ILWP_PROTO_ERR_BAD_OFFSET = 4,       /* detail: the offset expected next */
    ILWP_PROTO_ERR_INPUT_INCOMPLETE = 5, /* detail: bytes received so far */
    ILWP_PROTO_ERR_MODEL_INIT = 6,       /* detail: ilwp_model_init()'s status */
    ILWP_PROTO_ERR_RUN_FAILED = 7,       /* detail: ilwp_model_run()'s status */
    ILWP_PROTO_ERR_INPUT_MISMATCH = 8,   /* detail: CRC-32 of the input held (not the one RUN names) */
    ILWP_PROTO_ERR_FILE_READ = 9         /* detail: host_file_read()'s status */
};

/* Test actions of ILWP_MSG_TEST (firmware built with ILWP_PROTO_TEST_COMMANDS only). */
enum {
    ILWP_TEST_HANG = 1,
    ILWP_TEST_FAULT = 2,
    ILWP_TEST_EXIT = 3,
    ILWP_TEST_HANG_IN_RUN = 4,
    ILWP_TEST_RX_COST = 5 /* u16 k: k calls of the receive handler, k of an empty one: 2 x u32 */
};

typedef struct {
    uint8_t type;
    uint8_t seq;
    uint16_t len;
    uint8_t payload[ILWP_PROTO_MAX_PAYLOAD];
} ilwp_frame;

/* Receive results. */
#define ILWP_RX_FRAME 1      /* a valid frame is in *f */
#define ILWP_RX_BAD_CRC (-2) /* header valid, payload CRC wrong: f->type/seq/len are set */
#define ILWP_RX_TOO_LONG (-3) /* header valid, len > ILWP_PROTO_MAX_PAYLOAD: f->type/seq/len set */
#define ILWP_RX_CUT_SHORT (-4) /* header valid, then a byte timeout: f->type/seq/len set */

/* Blocks until a frame (or a frame whose header is valid but whose body is not) arrives.
 * Garbage and bad headers are skipped silently. */
int ilwp_proto_recv(ilwp_frame *f);

/* Writes one frame built from up to three payload parts (a part may be NULL with size 0). */
void ilwp_proto_send(uint8_t type, uint8_t seq, const void *a, size_t na, const void *b, size_t nb,
                     const void *c, size_t nc);
void ilwp_proto_send_error(uint8_t seq, uint8_t code, int32_t detail);

uint8_t ilwp_crc8(const uint8_t *data, size_t n);

/* Little-endian helpers. */
void ilwp_put_u16(uint8_t *p, uint16_t v);
void ilwp_put_u32(uint8_t *p, uint32_t v);
uint32_t ilwp_get_u32(const uint8_t *p);

#endif /* ILWP_PROTOCOL_H */
