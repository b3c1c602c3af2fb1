/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* Output of the bench programs of bench/m4/: "label<decimal>\n" lines on the board's console UART
 * (no printf: no newlib stdio in the images). The programs are ordinary firmware of the board API
 * (firmware/include/board.h), built for qemu-m4 with the product's start-up and linker script. */
#ifndef ILWP_BENCH_IO_H
#define ILWP_BENCH_IO_H

#include <stdint.h>

void bench_put_u(const char *label, uint64_t v);

#endif /* ILWP_BENCH_IO_H */
