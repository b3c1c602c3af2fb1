/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * board.h - the small bare-metal board API every ilwp-embed firmware uses.
 *
 * One implementation per board family lives in firmware/boards/<family>/; the
 * Cortex-M common parts (startup, timer, exit) in firmware/boards/cortexm/.
 * Board constants (BOARD_NAME, clocks, UART base, timer unit) come from the
 * generated board_config.h, rendered from boards/<id>.json by the build.
 *
 * C99, no heap, no stdio.  All calls are blocking calls.  Interrupts: SysTick (timer wrap
 * counting) and, once uart_rx_use_ring() was called, the UART's receive interrupt.
 */
#ifndef ILWP_BOARD_H
#define ILWP_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "board_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* uart_read_byte() timeout meaning "wait for ever". */
#define UART_WAIT_FOREVER 0xFFFFFFFFu
/* uart_read_byte() return value when no byte arrived in time. */
#define UART_TIMEOUT (-1)

/* Clocks, pins, UART and timer.  Call once, first thing in main(). */
void board_init(void);

/* Board id from the manifest, e.g. "qemu-m4". */
const char *board_name(void);

/* Blocking write of n bytes to the host link (the board's console UART). */
void uart_write(const void *buf, size_t n);
/* Blocking write of a NUL-terminated string. */
void uart_puts(const char *s);
/* Wait until every byte written has left the UART. */
void uart_flush(void);
/* 1 when a received byte is waiting, else 0; never blocks. */
int uart_rx_ready(void);
/* One received byte (0..255), or UART_TIMEOUT after timeout_ms milliseconds of
 * board time (virtual time under QEMU -icount).  0 polls once;
 * UART_WAIT_FOREVER never times out. */
int uart_read_byte(uint32_t timeout_ms);
/* Interrupt-driven reception: from this call on, the UART's receive interrupt moves every byte
 * into ring (size a power of two, >= 2; the caller owns the memory), and uart_rx_ready() /
 * uart_read_byte() read from it, so bytes keep arriving while the program computes.  A full ring
 * masks the interrupt until the next read: the byte waits in the UART (QEMU holds further input;
 * a real UART overruns and loses bytes, which the serial protocol's CRCs catch). */
void uart_rx_use_ring(uint8_t *ring, uint32_t size);
/* Bytes the receive interrupt has stored since uart_rx_use_ring() (wraps at 2^32). */
uint32_t uart_rx_count(void);

/* Test firmware only: the timer units that k direct calls of the receive interrupt handler
 * take (handler != 0) or of an empty function with the same call loop (handler == 0), with
 * interrupts masked and the ring's state restored afterwards; the caller guarantees that no
 * byte arrives meanwhile.  Their difference / k + 1 (the empty function's return) is the
 * handler's instructions per byte, free of host timing (docs/serial-protocol.md, TEST 5). */
uint32_t uart_rx_handler_units(uint32_t k, int handler);

/* Free-running 64-bit count in timer_unit() units since board_init():
 * "instructions" under QEMU -icount shift=0 (SysTick with wrap counting),
 * "cycles" on real boards (DWT CYCCNT extended to 64 bits). */
uint64_t timer_now(void);
const char *timer_unit(void);
/* Units per second (1e9 for QEMU instructions: 1 ns of virtual time each). */
uint32_t timer_unit_hz(void);

/* Semihosting (QEMU boards only): n bytes at `offset` of the host file `path` (path_len bytes,
 * no NUL needed, at most 255) into dst.  Returns n, or < 0: -1 no semihosting on this board or
 * path too long, -2 open failed, -3 seek failed, -4 fewer bytes than n. */
int host_file_read(const char *path, uint32_t path_len, uint32_t offset, void *dst, uint32_t n);

/* End the program: under QEMU a semihosting SYS_EXIT_EXTENDED that becomes
 * QEMU's exit status; on real boards the UART is flushed and the core sleeps. */
void board_exit(int code) __attribute__((noreturn));

/* Family hooks used by the common Cortex-M code (not for applications). */
void board_family_init(void);
void board_uart_putc(uint8_t c);
int board_uart_getc_nonblocking(void); /* byte or -1 */
void board_uart_flush(void);
void board_uart_rx_irq_enable(void); /* the UART raises BOARD_UART_IRQ when a byte arrives */
void board_uart_irq_handler(void);   /* that interrupt: bytes into the ring (cortexm.h) */

#ifdef __cplusplus
}
#endif

#endif /* ILWP_BOARD_H */
