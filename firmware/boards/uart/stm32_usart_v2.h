/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The STM32 USART/LPUART of the "new" register layout (F7, L4/L4+, and the LPUART), one driver for
 * every family that has it: CR1 +0x00 (UE bit0, RE bit2, TE bit3, RXNEIE bit5), BRR +0x0C,
 * ISR +0x1C (ORE bit3, RXNE bit5, TC bit6, TXE bit7), ICR +0x20, RDR +0x24, TDR +0x28.
 * The family code enables the peripheral's clock and pins, then calls stm32_usart_v2_init() with
 * the BRR value for its kernel clock (USART: f / baud; LPUART: 256 * f / baud); the driver
 * implements board_uart_putc / _getc_nonblocking / _flush / _rx_irq_enable / _irq_handler.
 * The peripheral's global interrupt is raised while RXNE or ORE is set and CR1.RXNEIE is on.
 * Built for the boards whose manifest says uart.kind stm32-usart-v2 or stm32-lpuart
 * (ilwp_embedded/target/board_support.py).
 */
#ifndef ILWP_STM32_USART_V2_H
#define ILWP_STM32_USART_V2_H

#include <stdint.h>

#include "board.h"
#include "cortexm.h"

#define UART_CR1 REG32(BOARD_UART_BASE + 0x00u)
#define UART_BRR REG32(BOARD_UART_BASE + 0x0Cu)
#define UART_ISR REG32(BOARD_UART_BASE + 0x1Cu)
#define UART_ICR REG32(BOARD_UART_BASE + 0x20u)
#define UART_RDR REG32(BOARD_UART_BASE + 0x24u)
#define UART_TDR REG32(BOARD_UART_BASE + 0x28u)

/* Rounded BRR for a USART (oversampling by 16) and for an LPUART. */
#define STM32_USART_BRR(clock_hz, baud) (((clock_hz) + (baud) / 2u) / (baud))
#define STM32_LPUART_BRR(clock_hz, baud) ((uint32_t)(((uint64_t)(clock_hz) * 256u + (baud) / 2u) / (baud)))

/* 8N1, transmitter and receiver on, at the given BRR (the peripheral's clock already enabled). */
static inline void stm32_usart_v2_init(uint32_t brr)
{
    UART_CR1 = 0u;
    UART_BRR = brr;
    UART_CR1 = (1u << 3) | (1u << 2) | 1u; /* TE, RE, UE */
}

#endif /* ILWP_STM32_USART_V2_H */
