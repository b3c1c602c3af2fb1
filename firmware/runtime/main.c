/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the inference firmware: answers the ilwp serial protocol v2 (docs/serial-protocol.md).
 *
 * Boot: board_init, interrupt-driven reception into rx_ring, ilwp_model_init (verifies the weight
 * blob), HELLO frame with the init status.
 * Loop: INPUT chunks are acked, RUN (naming the input's CRC-32) runs the model and answers OUTPUT
 * (output tensor, elapsed timer count, decode ticks, CRC-32 of the input it ran on, bytes received
 * during the run).  While a run computes, the UART interrupt keeps filling rx_ring: the host streams
 * the next input meanwhile, and its frames are parsed once the OUTPUT is out.
 * A failed init refuses INPUT and RUN.
 *
 * Build options: ILWP_FORCE_INIT_STATUS=<n<0> pretends init failed (tests of the refusal path);
 * ILWP_PROTO_TEST_COMMANDS=1 adds the TEST message (hang, fault, exit, receive-handler cost)
 * for harness tests.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#pragma GCC optimize("Os")
#endif
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "ilwp_model.h"
#include "ilwp_ticks.h"
#include "protocol.h"

#define OUTPUT_HEAD_BYTES 24u /* status, elapsed u64, decode ticks, input crc, rx bytes */
#if ILWP_MODEL_OUTPUT_BYTES + OUTPUT_HEAD_BYTES > ILWP_PROTO_MAX_PAYLOAD
#error "the output tensor does not fit one OUTPUT frame: raise ILWP_PROTO_MAX_PAYLOAD"
#endif

/* The receive ring holds what arrives while a run computes: one whole input's INPUT frames and a
 * RUN frame, rounded up to a power of two (at least 2048: one largest frame and then some; at most
 * 16384, so a big input costs RAM only for its first 16 KiB: the host streams no more than HELLO's
 * rx_buffer ahead). */
#define INPUT_CHUNK (ILWP_PROTO_MAX_PAYLOAD - 4u)
#define RX_NEED                                                                                    \
    (ILWP_MODEL_INPUT_BYTES +                                                                      \
     ((ILWP_MODEL_INPUT_BYTES + INPUT_CHUNK - 1u) / INPUT_CHUNK) * (4u + ILWP_PROTO_HEADER_BYTES + \
                                                                    ILWP_PROTO_TRAILER_BYTES) +    \
     64u)
#ifndef ILWP_PROTO_RX_RING_BYTES
#define ILWP_PROTO_RX_RING_BYTES                                                                   \
    (RX_NEED <= 2048u ? 2048u : RX_NEED <= 4096u ? 4096u : RX_NEED <= 8192u ? 8192u : 16384u)
#endif
typedef char rx_ring_is_a_power_of_two
    [(ILWP_PROTO_RX_RING_BYTES & (ILWP_PROTO_RX_RING_BYTES - 1u)) == 0u ? 1 : -1];

#ifndef ILWP_PROTO_TEST_COMMANDS
#define ILWP_PROTO_TEST_COMMANDS 0
#endif

uint32_t ilwp_ticks(void) { return (uint32_t)timer_now(); }

static ilwp_frame rx;
static uint8_t rx_ring[ILWP_PROTO_RX_RING_BYTES];
static int32_t init_status;
static uint32_t init_decode_ticks;
static uint32_t received;  /* input bytes received in order since the last offset-0 chunk */
static int have_output;    /* the cached OUTPUT answers a repeated RUN (same seq and CRC) */
static uint8_t output_seq;
static uint32_t output_crc; /* CRC-32 of the input the cached OUTPUT is for */
static uint8_t output_head[OUTPUT_HEAD_BYTES];
static int8_t output_copy[ILWP_MODEL_OUTPUT_BYTES];
#if ILWP_PROTO_TEST_COMMANDS
static int hang_in_next_run; /* TEST 4: the next RUN never ends (a model that hangs) */
#endif

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = 0;
    while (s[n] != '\0' && n < 255u) {
        p[1 + n] = (uint8_t)s[n];
        ++n;
    }
    p[0] = (uint8_t)n;
    return n + 1u;
}

static void send_hello(uint8_t seq)
{
    static uint8_t p[27 + 4 * 256];
    size_t n = 0;
    p[n++] = (uint8_t)ILWP_PROTO_VERSION;
    p[n++] = (uint8_t)((ILWP_PROTO_TEST_COMMANDS ? 1u : 0u) | (BOARD_SEMIHOSTING ? 2u : 0u));
    ilwp_put_u32(&p[n], (uint32_t)init_status);
    n += 4;
    ilwp_put_u32(&p[n], ILWP_MODEL_INPUT_BYTES);
    n += 4;
    ilwp_put_u32(&p[n], ILWP_MODEL_OUTPUT_BYTES);
    n += 4;
    ilwp_put_u16(&p[n], (uint16_t)ILWP_PROTO_MAX_PAYLOAD);
    n += 2;
    ilwp_put_u32(&p[n], timer_unit_hz());
    n += 4;
    ilwp_put_u32(&p[n], init_decode_ticks);
    n += 4;
    ilwp_put_u32(&p[n], (uint32_t)sizeof rx_ring);
    n += 4;
    const char *const strs[4] = {board_name(), timer_unit(), ilwp_model_hash, ILWP_MODEL_DECODE_MODE};
    for (size_t i = 0; i < 4u; ++i) { /* one loop: put_str inlined 4 times cost ~100 B of flash */
        n += put_str(&p[n], strs[i]);
    }
    ilwp_proto_send(ILWP_MSG_HELLO, seq, p, n, NULL, 0, NULL, 0);
}

static void on_input(const ilwp_frame *f)
{
    if (init_status < 0) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_MODEL_INIT, init_status);
        return;
    }
    if (f->len < 4u) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_BAD_LENGTH, (int32_t)f->len);
        return;
    }
    uint32_t offset = ilwp_get_u32(f->payload);
    uint32_t n = (uint32_t)f->len - 4u;
    if (offset > ILWP_MODEL_INPUT_BYTES || n > ILWP_MODEL_INPUT_BYTES - offset) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_BAD_LENGTH, (int32_t)f->len);
        return;
    }
    if (offset == 0u) {
        received = 0u; /* a new input */
    }
    if (offset == received) {
        int8_t *in = ilwp_model_input();
        for (uint32_t i = 0; i < n; ++i) {
            in[offset + i] = (int8_t)f->payload[4u + i];
        }
        received += n; /* (a cached OUTPUT stays: its RUN may be resent while this streams in) */
    } else if (offset + n > received) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_BAD_OFFSET, (int32_t)received);
        return;
    } /* else: a repeat of a chunk already stored (its ACK was lost): ACK again */
    uint8_t ack[4];
    ilwp_put_u32(ack, received);
    ilwp_proto_send(ILWP_MSG_ACK, f->seq, ack, sizeof ack, NULL, 0, NULL, 0);
}

#if BOARD_SEMIHOSTING
/* The whole input from a host file by semihosting (QEMU only: about 50 us instead of 140 ms
 * through the emulated UART); RUN's CRC check still decides what runs. */
static void on_input_file(const ilwp_frame *f)
{
    if (init_status < 0) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_MODEL_INIT, init_status);
        return;
    }
    if (f->len < 5u) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_BAD_LENGTH, (int32_t)f->len);
        return;
    }
    received = 0u;
    int rc = host_file_read((const char *)&f->payload[4], (uint32_t)f->len - 4u, ilwp_get_u32(f->payload),
                            ilwp_model_input(), ILWP_MODEL_INPUT_BYTES);
    if (rc != (int)ILWP_MODEL_INPUT_BYTES) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_FILE_READ, rc);
        return;
    }
    received = ILWP_MODEL_INPUT_BYTES;
    uint8_t ack[4];
    ilwp_put_u32(ack, received);
    ilwp_proto_send(ILWP_MSG_ACK, f->seq, ack, sizeof ack, NULL, 0, NULL, 0);
}
#endif

static void send_output(uint8_t seq)
{
    ilwp_proto_send(ILWP_MSG_OUTPUT, seq, output_head, sizeof output_head, output_copy,
                    sizeof output_copy, NULL, 0);
}

static void on_run(const ilwp_frame *f)
{
    if (init_status < 0) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_MODEL_INIT, init_status);
        return;
    }
    if (f->len != 4u) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_BAD_LENGTH, (int32_t)f->len);
        return;
    }
    uint32_t want_crc = ilwp_get_u32(f->payload);
    if (have_output && f->seq == output_seq && want_crc == output_crc) {
        send_output(f->seq); /* the host did not get our OUTPUT: the same answer again */
        return;
    }
    if (received != ILWP_MODEL_INPUT_BYTES) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_INPUT_INCOMPLETE, (int32_t)received);
        return;
    }
    uint32_t in_crc = ilwp_crc32_update(0u, ilwp_model_input(), ILWP_MODEL_INPUT_BYTES);
    if (in_crc != want_crc) {
        /* not the input the host means (e.g. the next one streamed in before a resent RUN) */
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_INPUT_MISMATCH, (int32_t)in_crc);
        return;
    }
    /* Tell the host the run has started: it then waits the long run timeout, and resends
     * RUN at once when this ACK does not come. */
    ilwp_proto_send(ILWP_MSG_ACK, f->seq, NULL, 0, NULL, 0, NULL, 0);
    have_output = 0;
#if ILWP_PROTO_TEST_COMMANDS
    while (hang_in_next_run) {
        __asm__ volatile("" ::: "memory");
    }
#endif
    uint32_t rx0 = uart_rx_count();
    uint64_t t0 = timer_now();
    int32_t rc = ilwp_model_run();
    uint64_t t1 = timer_now();
    uint32_t rx_in_run = uart_rx_count() - rx0;
    received = 0u; /* the arena reuses the input's memory */
    if (rc != 0) {
        ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_RUN_FAILED, rc);
        return;
    }
    const int8_t *out = ilwp_model_output();
    for (uint32_t i = 0; i < ILWP_MODEL_OUTPUT_BYTES; ++i) {
        output_copy[i] = out[i];
    }
    uint64_t elapsed = t1 - t0;
    ilwp_put_u32(&output_head[0], (uint32_t)rc);
    ilwp_put_u32(&output_head[4], (uint32_t)elapsed);
    ilwp_put_u32(&output_head[8], (uint32_t)(elapsed >> 32));
    ilwp_put_u32(&output_head[12], ilwp_model_decode_ticks());
    ilwp_put_u32(&output_head[16], in_crc);
    ilwp_put_u32(&output_head[20], rx_in_run);
    have_output = 1;
    output_seq = f->seq;
    output_crc = in_crc;
    send_output(f->seq);
}

#if ILWP_PROTO_TEST_COMMANDS
static void on_test(const ilwp_frame *f)
{
    uint8_t action = f->len > 0u ? f->payload[0] : 0u;
    if (action == ILWP_TEST_HANG) {
        volatile uint32_t spin = 0u;
        for (;;) {
            spin++;
        }
    } else if (action == ILWP_TEST_FAULT) {
        void (*bad)(void) = (void (*)(void))0xFFFFFFF0u; /* not executable: HardFault */
        bad();
    } else if (action == ILWP_TEST_EXIT) {
        board_exit(f->len > 1u ? (int)f->payload[1] : 0);
    } else if (action == ILWP_TEST_HANG_IN_RUN) {
        hang_in_next_run = 1;
        ilwp_proto_send(ILWP_MSG_ACK, f->seq, NULL, 0, NULL, 0, NULL, 0);
        return;
    } else if (action == ILWP_TEST_RX_COST && f->len == 3u) {
        /* the receive handler's cost per byte without bytes placed by host timing */
        const uint32_t k = (uint32_t)f->payload[1] | ((uint32_t)f->payload[2] << 8);
        uint8_t units[8];
        ilwp_put_u32(&units[0], uart_rx_handler_units(k, 1));
        ilwp_put_u32(&units[4], uart_rx_handler_units(k, 0));
        ilwp_proto_send(ILWP_MSG_ACK, f->seq, units, sizeof units, NULL, 0, NULL, 0);
        return;
    }
    ilwp_proto_send_error(f->seq, ILWP_PROTO_ERR_UNKNOWN_TYPE, (int32_t)f->type);
}
#endif

int main(void)
{
    board_init();
    uart_rx_use_ring(rx_ring, (uint32_t)sizeof rx_ring);
#ifdef ILWP_FORCE_INIT_STATUS
    init_status = (int32_t)(ILWP_FORCE_INIT_STATUS);
#else
    init_status = ilwp_model_init();
#endif
    init_decode_ticks = ilwp_model_decode_ticks();
    send_hello(0u);
    for (;;) {
        int r = ilwp_proto_recv(&rx);
        if (r == ILWP_RX_BAD_CRC || r == ILWP_RX_CUT_SHORT) {
            ilwp_proto_send_error(rx.seq, ILWP_PROTO_ERR_BAD_CRC, r == ILWP_RX_CUT_SHORT ? 1 : 0);
            continue;
        }
        if (r == ILWP_RX_TOO_LONG) {
            ilwp_proto_send_error(rx.seq, ILWP_PROTO_ERR_BAD_LENGTH, (int32_t)rx.len);
            continue;
        }
        switch (rx.type) {
        case ILWP_MSG_HELLO_REQ:
            send_hello(rx.seq);
            break;
        case ILWP_MSG_INPUT:
            on_input(&rx);
            break;
        case ILWP_MSG_RUN:
            on_run(&rx);
            break;
#if BOARD_SEMIHOSTING
        case ILWP_MSG_INPUT_FILE:
            on_input_file(&rx);
            break;
#endif
        case ILWP_MSG_ECHO:
            ilwp_proto_send(ILWP_MSG_ECHO_REPLY, rx.seq, rx.payload, rx.len, NULL, 0, NULL, 0);
            break;
#if ILWP_PROTO_TEST_COMMANDS
        case ILWP_MSG_TEST:
            on_test(&rx);
            break;
#endif
        default:
            ilwp_proto_send_error(rx.seq, ILWP_PROTO_ERR_UNKNOWN_TYPE, (int32_t)rx.type);
            break;
        }
    }
}
