/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_io.h"

#include "board.h"

void bench_put_u(const char *label, uint64_t v)
{
    char buf[24];
    uint32_t i = sizeof buf;
    buf[--i] = '\0';
    buf[--i] = '\n';
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u && i > 0u);
    uart_puts(label);
    uart_puts(&buf[i]);
}
