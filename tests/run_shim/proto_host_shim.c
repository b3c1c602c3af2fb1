/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* Host test shim: firmware/runtime/protocol.c over in-memory byte streams (ctypes tests).
 * uart_read_byte() takes bytes from `rx`; when they run out a timed read times out (the clock
 * advances 1 ms a call) and a wait that goes on for 10,000 empty polls ends the call (longjmp),
 * so every test call terminates. */
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "protocol.h"

static const uint8_t *rx;
static size_t rx_len, rx_pos;
static uint8_t tx[1 << 16];
static size_t tx_len;
static jmp_buf out_of_input;

int uart_read_byte(uint32_t timeout_ms)
{
    if (rx_pos < rx_len) {
        return rx[rx_pos++];
    }
    if (timeout_ms == UART_WAIT_FOREVER) {
        longjmp(out_of_input, 1);
    }
    return UART_TIMEOUT;
}

static uint64_t now_us;
static uint32_t empty_polls;

uint64_t timer_now(void) { return now_us += 1000u; }
uint32_t timer_unit_hz(void) { return 1000000u; }

int uart_rx_ready(void)
{
    if (rx_pos < rx_len) {
        empty_polls = 0;
        return 1;
    }
    if (++empty_polls > 10000u) {
        empty_polls = 0;
        longjmp(out_of_input, 1);
    }
    return 0;
}

void uart_write(const void *buf, size_t n)
{
    if (n > sizeof tx - tx_len) {
        n = sizeof tx - tx_len;
    }
    if (n != 0u) {
        memcpy(tx + tx_len, buf, n);
    }
    tx_len += n;
}

void shim_set_input(const uint8_t *data, size_t n)
{
    rx = data;
    rx_len = n;
    rx_pos = 0;
}

/* One ilwp_proto_recv(): its result, or 0 when the input ran out first. */
int shim_recv(ilwp_frame *f)
{
    if (setjmp(out_of_input) != 0) {
        return 0;
    }
    return ilwp_proto_recv(f);
}

size_t shim_take_output(uint8_t *dst, size_t cap)
{
    size_t n = tx_len < cap ? tx_len : cap;
    memcpy(dst, tx, n);
    tx_len = 0;
    return n;
}

void shim_send(uint8_t type, uint8_t seq, const uint8_t *p, size_t n)
{
    /* split in three parts to exercise the multi-part CRC */
    size_t a = n / 3, b = n / 3;
    ilwp_proto_send(type, seq, p, a, p + a, b, p + a + b, n - a - b);
}
