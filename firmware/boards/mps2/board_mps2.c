/*
 * Arm MPS2 family (QEMU mps2-an386 Cortex-M4F, mps2-an500 Cortex-M7): CMSDK APB UART.
 * Registers: DATA +0x00, STATE +0x04 (bit0 TX full, bit1 RX full),
 * CTRL +0x08 (bit0 TX enable, bit1 RX enable), BAUDDIV +0x10 (>= 16).
 * The clocks are fixed by the (emulated) board: nothing to set up.
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"

#define UART_DATA    REG32(BOARD_UART_BASE + 0x00u)
#define UART_STATE   REG32(BOARD_UART_BASE + 0x04u)
#define UART_CTRL    REG32(BOARD_UART_BASE + 0x08u)
#define UART_BAUDDIV REG32(BOARD_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)

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
