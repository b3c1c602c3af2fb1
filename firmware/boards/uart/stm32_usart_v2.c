/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* STM32 USART/LPUART, new register layout: see stm32_usart_v2.h. */
#include "stm32_usart_v2.h"

#include <stdint.h>

#define ISR_ORE  (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TC   (1u << 6)
#define ISR_TXE  (1u << 7)

void board_uart_putc(uint8_t c)
{
    while ((UART_ISR & ISR_TXE) == 0u) {
    }
    UART_TDR = c;
}

int board_uart_getc_nonblocking(void)
{
    uint32_t isr = UART_ISR;
    if ((isr & ISR_ORE) != 0u) {
        UART_ICR = ISR_ORE;
    }
    if ((isr & ISR_RXNE) == 0u) {
        return -1;
    }
    return (int)(UART_RDR & 0xFFu);
}

void board_uart_flush(void)
{
    while ((UART_ISR & ISR_TC) == 0u) {
    }
}

void board_uart_rx_irq_enable(void)
{
    UART_CR1 |= (1u << 5); /* RXNEIE */
}

void board_uart_irq_handler(void)
{
    uint32_t isr = UART_ISR;
    if ((isr & ISR_ORE) != 0u) {
        UART_ICR = ISR_ORE; /* a byte was lost: the protocol's CRC catches it */
    }
    if ((isr & ISR_RXNE) == 0u || !board_rx_room()) {
        return; /* nothing, or masked with the byte waiting */
    }
    board_rx_put((uint8_t)(UART_RDR & 0xFFu));
}
