/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello: the board bring-up firmware the tests use.
 *
 * Prints "ILWP hello board=<id> unit=<timer unit>" on boot, then reads lines
 * ('\n'-terminated, at most 127 bytes) and answers:
 *   "time"      -> runs a fixed integer + float workload and prints
 *                  "elapsed=<count> unit=<unit> result=<checksum>"
 *   "now"       -> "now=<timer_now()>"
 *   "spin <n>"  -> counts a volatile loop to n, prints "elapsed=<count> unit=<unit>"
 *                  (long enough spins cross SysTick wraps: checks the wrap counting)
 *   "exit <n>"  -> "bye <n>", then board_exit(n) (QEMU exits with status n)
 *   anything else is echoed back as "echo:<line>".
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define LINE_MAX 128u

static void put_u64(uint64_t v)
{
    char buf[21];
    size_t i = sizeof buf;
    buf[--i] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    uart_puts(&buf[i]);
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix != '\0') {
        if (*s++ != *prefix++) {
            return 0;
        }
    }
    return 1;
}

static int equals(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

static uint32_t parse_uint(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10u + (uint32_t)(*s++ - '0');
    }
    return v;
}

/* Deterministic work: integer hashing plus single-precision float (exercises the FPU). */
static uint32_t workload(void)
{
    volatile float acc = 0.0f;
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < 20000u; ++i) {
        h = (h ^ i) * 16777619u;
        acc = acc * 0.5f + (float)(h & 0xFFu);
    }
    return h ^ (uint32_t)acc;
}

int main(void)
{
    board_init();
    uart_puts("ILWP hello board=");
    uart_puts(board_name());
    uart_puts(" unit=");
    uart_puts(timer_unit());
    uart_puts("\n");

    char line[LINE_MAX];
    size_t len = 0;
    for (;;) {
        int c = uart_read_byte(UART_WAIT_FOREVER);
        if (c < 0) {
            continue;
        }
        if (c != '\n') {
            if (c != '\r' && len < LINE_MAX - 1u) {
                line[len++] = (char)c;
            }
            continue;
        }
        line[len] = '\0';
        len = 0;
        if (equals(line, "time")) {
            uint64_t t0 = timer_now();
            uint32_t result = workload();
            uint64_t t1 = timer_now();
            uart_puts("elapsed=");
            put_u64(t1 - t0);
            uart_puts(" unit=");
            uart_puts(timer_unit());
            uart_puts(" result=");
            put_u64(result);
            uart_puts("\n");
        } else if (starts_with(line, "spin ")) {
            const uint32_t n = parse_uint(line + 5);
            uint64_t t0 = timer_now();
            for (volatile uint32_t i = 0; i < n; ++i) {
            }
            uint64_t t1 = timer_now();
            uart_puts("elapsed=");
            put_u64(t1 - t0);
            uart_puts(" unit=");
            uart_puts(timer_unit());
            uart_puts("\n");
        } else if (equals(line, "now")) {
            uart_puts("now=");
            put_u64(timer_now());
            uart_puts("\n");
        } else if (starts_with(line, "exit ")) {
            const uint32_t code = parse_uint(line + 5);
            uart_puts("bye ");
            put_u64(code);
            uart_puts("\n");
            board_exit((int)code);
        } else {
            uart_puts("echo:");
            uart_puts(line);
            uart_puts("\n");
        }
    }
}
