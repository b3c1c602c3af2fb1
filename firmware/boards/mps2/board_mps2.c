/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arm MPS2 family (QEMU mps2-an386 Cortex-M4F, mps2-an500 Cortex-M7): CMSDK APB UART.
 * Registers: DATA +0x00, STATE +0x04 (bit0 TX full, bit1 RX full),
 * CTRL +0x08 (bit0 TX enable, bit1 RX enable, bit3 RX interrupt enable),
 * INTSTATUS +0x0C (read; write 1 to clear: bit1 RX), BAUDDIV +0x10 (>= 16).
 * The RX interrupt (NVIC 0 for UART0 on AN385/AN386/AN500) follows INTSTATUS bit 1, which a byte
 * sets only while CTRL bit 3 is on, and which stays set until cleared: reading DATA does not.
 * The clocks are fixed by the (emulated) board: nothing to set up.
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"

#define UART_DATA    REG32(BOARD_UART_BASE + 0x00u)
#define UART_STATE   REG32(BOARD_UART_BASE + 0x04u)
#define UART_CTRL    REG32(BOARD_UART_BASE + 0x08u)
#define UART_INTSTATUS REG32(BOARD_UART_BASE + 0x0Cu)
#define UART_BAUDDIV REG32(BOARD_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_RX_INTEN (1u << 3)
#define INT_RX        (1u << 1)

void board_family_init(void)
{
    UART_CTRL = 0u;
    UART_BAUDDIV = BOARD_UART_CLOCK_HZ / BOARD_UART_BAUD;
    UART_CTRL = (1u << 0) | (1u << 1);
}

void board_uart_putc(uint8_t c)
{
    while ((UART_STATE & STATE_TX_FULL) != 0u) {
    }
    UART_DATA = c;
}

int board_uart_getc_nonblocking(void)
{
    if ((UART_STATE & STATE_RX_FULL) == 0u) {
        return -1;
    }
    return (int)(UART_DATA & 0xFFu);
}

void board_uart_flush(void)
{
    while ((UART_STATE & STATE_TX_FULL) != 0u) {
    }
}

void board_uart_rx_irq_enable(void)
{
    uint32_t primask = cm_irq_save();
    UART_CTRL |= CTRL_RX_INTEN;
    /* A byte received before the enable raised no interrupt status and never will: take it. */
    if ((UART_STATE & STATE_RX_FULL) != 0u && (UART_INTSTATUS & INT_RX) == 0u && board_rx_room()) {
        board_rx_put((uint8_t)UART_DATA);
    }
    cm_irq_restore(primask);
}

/* Entered only with INTSTATUS RX set, i.e. with a byte in DATA. */
void board_uart_irq_handler(void)
{
    if (!board_rx_room()) {
        return; /* masked; the status stays set and the byte waits */
    }
    UART_INTSTATUS = INT_RX; /* cleared before the read: the next byte sets it again */
    board_rx_put((uint8_t)UART_DATA);
}
