/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protocol.c - framing, CRCs and the receive state machine of the ilwp serial protocol v2.
 * Spec: docs/serial-protocol.md.  Reads with uart_read_byte() (timeouts in board time),
 * writes with uart_write().  No heap, no stdio; state is one small pushback buffer.
 */
#include "protocol.h"

#include <string.h>

#include "board.h"

/* The byte-wise helpers below stay calls: GCC -O2 inlines them at every call site (~450 B of flash
 * in all) for speed that a serial link cannot use. */
#if defined(__GNUC__)
#define ILWP_NOINLINE __attribute__((noinline))
#else
#define ILWP_NOINLINE
#endif

/* CRC-8, polynomial 0x07, init 0, not reflected. */
ILWP_NOINLINE uint8_t ilwp_crc8(const uint8_t *data, size_t n)
{
    uint8_t crc = 0u;
    for (size_t i = 0; i < n; ++i) {
        crc ^= data[i];
        for (int b = 0; b < 8; ++b) {
            crc = (uint8_t)((crc & 0x80u) != 0u ? (((unsigned)crc << 1) ^ 0x07u) : ((unsigned)crc << 1));
        }
    }
    return crc;
}

void ilwp_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void ilwp_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint32_t ilwp_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Bytes of a rejected header are scanned again for a sync pattern (a real frame may start
 * inside them).  Invariant: 0 <= pb_pos <= pb_len <= sizeof pb. */
static uint8_t pb[ILWP_PROTO_HEADER_BYTES];
static size_t pb_len, pb_pos;

ILWP_NOINLINE static int next_byte(uint32_t timeout_ms)
{
    if (pb_pos < pb_len) {
        return pb[pb_pos++];
    }
    return uart_read_byte(timeout_ms); /* the board waits (on its receive ring) */
}

static void push_back(const uint8_t *bytes, size_t n)
{
    /* The pushed bytes, then the unread pushback bytes, up to the header size.  One merged loop
     * and a whole-buffer copy: plain byte-copy loops become memcpy calls (~300 B of newlib). */
    uint8_t tmp[ILWP_PROTO_HEADER_BYTES] = {0};
    const size_t unread = pb_len - pb_pos;
    size_t k = n + unread < sizeof tmp ? n + unread : sizeof tmp;
    for (size_t i = 0; i < k; ++i) {
        tmp[i] = i < n ? bytes[i] : pb[pb_pos + (i - n)];
    }
    memcpy(pb, tmp, sizeof pb);
    pb_len = k;
    pb_pos = 0;
}

int ilwp_proto_recv(ilwp_frame *f)
{
    for (;;) {
        int c = next_byte(UART_WAIT_FOREVER);
        if (c != (int)ILWP_PROTO_SYNC0) {
            continue;
        }
        c = next_byte(ILWP_PROTO_BYTE_TIMEOUT_MS);
        while (c == (int)ILWP_PROTO_SYNC0) {
            c = next_byte(ILWP_PROTO_BYTE_TIMEOUT_MS);
        }
        if (c != (int)ILWP_PROTO_SYNC1) {
            continue;
        }
        uint8_t h[5];
        size_t got = 0;
        while (got < sizeof h) {
            c = next_byte(ILWP_PROTO_BYTE_TIMEOUT_MS);
            if (c < 0) {
                break;
            }
            h[got++] = (uint8_t)c;
        }
        if (got < sizeof h) {
            continue; /* cut short: hunt again */
        }
        if (ilwp_crc8(h, 4) != h[4]) {
            push_back(h, sizeof h);
            continue;
        }
        f->type = h[0];
        f->seq = h[1];
        f->len = (uint16_t)(h[2] | (h[3] << 8));
        uint32_t crc = ilwp_crc32_update(0u, h, sizeof h);
        if (f->len > ILWP_PROTO_MAX_PAYLOAD) {
            /* Not skipped by count: a header damaged into a huge length would swallow the
             * resends.  Its bytes are scanned for sync like garbage. */
            return ILWP_RX_TOO_LONG;
        }
        uint32_t i;
        for (i = 0; i < f->len; ++i) {
            c = next_byte(ILWP_PROTO_BYTE_TIMEOUT_MS);
            if (c < 0) {
                break;
            }
            f->payload[i] = (uint8_t)c;
        }
        if (i < f->len) {
            return ILWP_RX_CUT_SHORT;
        }
        uint8_t t[4];
        for (i = 0; i < 4u; ++i) {
            c = next_byte(ILWP_PROTO_BYTE_TIMEOUT_MS);
            if (c < 0) {
                break;
            }
            t[i] = (uint8_t)c;
        }
        if (i < 4u) {
            return ILWP_RX_CUT_SHORT;
        }
        crc = ilwp_crc32_update(crc, f->payload, f->len);
        return crc == ilwp_get_u32(t) ? ILWP_RX_FRAME : ILWP_RX_BAD_CRC;
    }
}

void ilwp_proto_send(uint8_t type, uint8_t seq, const void *a, size_t na, const void *b, size_t nb,
                     const void *c, size_t nc)
{
    uint8_t h[ILWP_PROTO_HEADER_BYTES];
    size_t len = na + nb + nc;
    h[0] = ILWP_PROTO_SYNC0;
    h[1] = ILWP_PROTO_SYNC1;
    h[2] = type;
    h[3] = seq;
    ilwp_put_u16(&h[4], (uint16_t)len);
    h[6] = ilwp_crc8(&h[2], 4);
    uint32_t crc = ilwp_crc32_update(0u, &h[2], 5);
    crc = ilwp_crc32_update(crc, a, na);
    crc = ilwp_crc32_update(crc, b, nb);
    crc = ilwp_crc32_update(crc, c, nc);
    uint8_t t[4];
    ilwp_put_u32(t, crc);
    uart_write(h, sizeof h);
    uart_write(a, na);
    uart_write(b, nb);
    uart_write(c, nc);
    uart_write(t, sizeof t);
}

void ilwp_proto_send_error(uint8_t seq, uint8_t code, int32_t detail)
{
    uint8_t p[5];
    p[0] = code;
    ilwp_put_u32(&p[1], (uint32_t)detail);
    ilwp_proto_send(ILWP_MSG_ERROR, seq, p, sizeof p, NULL, 0, NULL, 0);
}
