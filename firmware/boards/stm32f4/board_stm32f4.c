/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STM32F4 family (STM32F401RE on NUCLEO-F401RE, STM32F405 on QEMU netduinoplus2).
 * Register maps from RM0368 / RM0090: RCC 0x40023800, FLASH 0x40023C00, GPIOA 0x40020000.
 *
 * Clock: with BOARD_CLOCK_PLL_HSI the PLL runs from HSI 16 MHz: /M=16 -> 1 MHz,
 * xN=336 -> VCO 336 MHz, /P -> BOARD_CPU_HZ (84 MHz: P=4, 168 MHz: P=2), /Q=7 -> 48 MHz.
 * Under QEMU (BOARD_CLOCK_EMULATED) the RCC is not modelled: the clock set-up is skipped
 * (its ready bits would never be set) and the USART works at any BRR.
 *
 * USART (old layout): SR +0x00 (TXE bit7, TC bit6, RXNE bit5, ORE bit3), DR +0x04,
 * BRR +0x08, CR1 +0x0C (UE bit13, RXNEIE bit5, TE bit3, RE bit2).  The USART's global interrupt
 * (NVIC 37 USART1, 38 USART2, 39 USART3, 71 USART6: uart.irq in the manifest) is raised while
 * RXNE (or ORE) is set and RXNEIE is on; reading SR then DR clears both.
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"
#include "stm32_gpio.h"

#define RCC_BASE     0x40023800u
#define RCC_CR       REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR  REG32(RCC_BASE + 0x04u)
#define RCC_CFGR     REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR  REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR  REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR  REG32(RCC_BASE + 0x44u)
#define FLASH_ACR    REG32(0x40023C00u)
#define GPIOA_BASE   0x40020000u
#define PLLCFGR_FIELDS (0x3Fu | (0x1FFu << 6) | (3u << 16) | (1u << 22) | (0xFu << 24))

#define USART_SR  REG32(BOARD_UART_BASE + 0x00u)
#define USART_DR  REG32(BOARD_UART_BASE + 0x04u)
#define USART_BRR REG32(BOARD_UART_BASE + 0x08u)
#define USART_CR1 REG32(BOARD_UART_BASE + 0x0Cu)

#define CR1_RXNEIE (1u << 5)
#define SR_RXNE (1u << 5)
#define SR_TC   (1u << 6)
#define SR_TXE  (1u << 7)
#define SR_ORE  (1u << 3)

#if BOARD_CLOCK_PLL_HSI
#define PLL_M 16u
#define PLL_N 336u
#define PLL_P (336000000u / BOARD_CPU_HZ)
#define PLL_Q 7u
typedef char pll_p_is_valid[(PLL_P == 2u || PLL_P == 4u || PLL_P == 6u || PLL_P == 8u) &&
                                    (336000000u % BOARD_CPU_HZ) == 0u ? 1 : -1];
/* Flash wait states at 2.7-3.6 V: one per 30 MHz. */
#define FLASH_WS ((BOARD_CPU_HZ - 1u) / 30000000u)
/* APB1 at most 42 MHz, APB2 at most 84 MHz. */
#define PPRE1 (BOARD_CPU_HZ > 84000000u ? 5u : (BOARD_CPU_HZ > 42000000u ? 4u : 0u))
#define PPRE2 (BOARD_CPU_HZ > 84000000u ? 4u : 0u)

static void clock_init(void)
{
    RCC_CR |= 1u; /* HSION */
    while ((RCC_CR & (1u << 1)) == 0u) {
    }
    RCC_CFGR &= ~3u; /* run from HSI while the PLL is changed */
    while ((RCC_CFGR & (3u << 2)) != 0u) {
    }
    RCC_CR &= ~(1u << 24); /* PLLOFF */
    while ((RCC_CR & (1u << 25)) != 0u) {
    }
    /* Keep the reserved bits: only PLLM, PLLN, PLLP, PLLSRC (0 = HSI) and PLLQ change. */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS) | PLL_M | (PLL_N << 6) | (((PLL_P / 2u) - 1u) << 16) |
                  (0u << 22) | (PLL_Q << 24);
    RCC_CR |= (1u << 24);
    while ((RCC_CR & (1u << 25)) == 0u) {
    }
    FLASH_ACR = FLASH_WS | (1u << 8) | (1u << 9) | (1u << 10); /* prefetch, I- and D-cache */
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13))) | (PPRE1 << 10) | (PPRE2 << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u; /* SW = PLL */
    while ((RCC_CFGR & (3u << 2)) != (2u << 2)) {
    }
}
#endif

static void uart_clock_enable(void)
{
#if BOARD_UART_INSTANCE_USART1
    RCC_APB2ENR |= (1u << 4);
#elif BOARD_UART_INSTANCE_USART2
    RCC_APB1ENR |= (1u << 17);
#elif BOARD_UART_INSTANCE_USART3
    RCC_APB1ENR |= (1u << 18);
#elif BOARD_UART_INSTANCE_USART6
    RCC_APB2ENR |= (1u << 5);
#else
#error "stm32f4: unsupported UART instance"
#endif
}

void board_family_init(void)
{
#if BOARD_CLOCK_PLL_HSI
    clock_init();
#endif
    RCC_AHB1ENR |= (1u << BOARD_UART_TX_PORT) | (1u << BOARD_UART_RX_PORT);
    uart_clock_enable();
    (void)RCC_AHB1ENR; /* read back: the clock is on before the first access */
    stm32_gpio_af(GPIOA_BASE, BOARD_UART_TX_PORT, BOARD_UART_TX_PIN, BOARD_UART_AF, 0);
    stm32_gpio_af(GPIOA_BASE, BOARD_UART_RX_PORT, BOARD_UART_RX_PIN, BOARD_UART_AF, 1);
    USART_CR1 = 0u;
    USART_BRR = (BOARD_UART_CLOCK_HZ + BOARD_UART_BAUD / 2u) / BOARD_UART_BAUD;
    USART_CR1 = (1u << 13) | (1u << 3) | (1u << 2); /* UE, TE, RE */
}

void board_uart_putc(uint8_t c)
{
    while ((USART_SR & SR_TXE) == 0u) {
    }
    USART_DR = c;
}

int board_uart_getc_nonblocking(void)
{
    uint32_t sr = USART_SR;
    if ((sr & (SR_RXNE | SR_ORE)) == 0u) {
        return -1;
    }
    uint32_t dr = USART_DR; /* reading SR then DR also clears an overrun */
    if ((sr & SR_RXNE) == 0u) {
        return -1;
    }
    return (int)(dr & 0xFFu);
}

void board_uart_flush(void)
{
    while ((USART_SR & SR_TXE) == 0u) {
    }
#if !BOARD_CLOCK_EMULATED
    while ((USART_SR & SR_TC) == 0u) {
    }
#endif
}

void board_uart_rx_irq_enable(void) { USART_CR1 |= CR1_RXNEIE; }

void board_uart_irq_handler(void)
{
    uint32_t sr = USART_SR;
    if ((sr & SR_RXNE) != 0u && !board_rx_room()) {
        return; /* masked; RXNE stays set and the byte waits (later ones overrun) */
    }
    uint32_t dr = USART_DR; /* SR then DR: clears RXNE and an overrun */
    if ((sr & SR_RXNE) != 0u) {
        board_rx_put((uint8_t)dr);
    }
}
