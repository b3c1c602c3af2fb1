/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STM32L4+ family (STM32L4R5ZI on NUCLEO-L4R5ZI, the MLPerf Tiny reference board).
 * Register maps from RM0432: RCC 0x40021000, PWR 0x40007000, FLASH 0x40022000,
 * GPIOA 0x48000000.  Built here, never run here: no emulator models this chip.
 *
 * Clock: PLL from HSI16: /M=2 -> 8 MHz, xN=30 -> VCO 240 MHz, /R=2 -> 120 MHz, in
 * range 1 boost mode (PWR_CR5.R1MODE = 0) with 5 flash wait states; the AHB runs /2 for
 * the switch to the PLL and is set back to /1 afterwards, as RM0432 asks above 80 MHz.
 * APB1 = APB2 = 120 MHz.  LPUART1 is clocked from PCLK1 (RCC_CCIPR LPUART1SEL = 00).
 * Port G pins 2-15 are powered from VDDIO2: PWR_CR2.IOSV must be set before using PG7/PG8.
 *
 * LPUART1 / USART1 / USART2 (new layout): the shared driver, firmware/boards/uart/stm32_usart_v2.c
 * (LPUART: BRR = 256 * f / baud). The global interrupt: NVIC 70 LPUART1, 37 USART1, 38 USART2
 * (uart.irq in the manifest).
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"
#include "stm32_gpio.h"
#include "stm32_usart_v2.h"

#define RCC_BASE     0x40021000u
#define RCC_CR       REG32(RCC_BASE + 0x00u)
#define RCC_CFGR     REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR  REG32(RCC_BASE + 0x0Cu)
#define RCC_AHB2ENR  REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1 REG32(RCC_BASE + 0x58u)
#define RCC_APB1ENR2 REG32(RCC_BASE + 0x5Cu)
#define RCC_APB2ENR  REG32(RCC_BASE + 0x60u)
#define RCC_CCIPR    REG32(RCC_BASE + 0x88u)
#define PWR_CR1      REG32(0x40007000u)
#define PWR_CR2      REG32(0x40007004u)
#define PWR_SR2      REG32(0x40007014u)
#define PWR_CR5      REG32(0x40007080u)
#define FLASH_ACR    REG32(0x40022000u)
#define GPIOA_BASE   0x48000000u

#if BOARD_CLOCK_PLL_HSI
static void delay_loops(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; ++i) {
    }
}

typedef char cpu_hz_is_120mhz[BOARD_CPU_HZ == 120000000u ? 1 : -1];

static void clock_init(void)
{
    RCC_APB1ENR1 |= (1u << 28); /* PWREN */
    (void)RCC_APB1ENR1;
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* VOS = range 1 */
    while ((PWR_SR2 & (1u << 10)) != 0u) {        /* VOSF */
    }
    PWR_CR5 &= ~(1u << 8); /* R1MODE = 0: range 1 boost, up to 120 MHz */
    RCC_CR |= (1u << 8);   /* HSION */
    while ((RCC_CR & (1u << 10)) == 0u) {
    }
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 5u | (1u << 8) | (1u << 9) | (1u << 10);
    while ((FLASH_ACR & 0xFu) != 5u) {
    }
    RCC_CR &= ~(1u << 24);
    while ((RCC_CR & (1u << 25)) != 0u) {
    }
    /* PLLSRC = HSI16 (10), PLLM = 2 (field 1), PLLN = 30, PLLR = 2 (00), PLLREN. */
    RCC_PLLCFGR = 2u | (1u << 4) | (30u << 8) | (0u << 25) | (1u << 24);
    RCC_CR |= (1u << 24);
    while ((RCC_CR & (1u << 25)) == 0u) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 8) | (7u << 11))) | (8u << 4); /* AHB /2 */
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u;                                            /* SW = PLL */
    while ((RCC_CFGR & (3u << 2)) != (3u << 2)) {
    }
    delay_loops(200u); /* at least 1 us at the intermediate AHB clock */
    RCC_CFGR &= ~(0xFu << 4); /* AHB /1 */
}
#endif

void board_family_init(void)
{
#if BOARD_CLOCK_PLL_HSI
    clock_init();
#endif
    RCC_APB1ENR1 |= (1u << 28); /* PWREN, for IOSV */
    (void)RCC_APB1ENR1;
    PWR_CR2 |= (1u << 9);       /* IOSV: VDDIO2 valid, port G usable */
    RCC_AHB2ENR |= (1u << BOARD_UART_TX_PORT) | (1u << BOARD_UART_RX_PORT);
#if BOARD_UART_INSTANCE_LPUART1
    RCC_CCIPR &= ~(3u << 10);   /* LPUART1 clock = PCLK1 */
    RCC_APB1ENR2 |= 1u;
#elif BOARD_UART_INSTANCE_USART2
    RCC_CCIPR &= ~(3u << 2);
    RCC_APB1ENR1 |= (1u << 17);
#elif BOARD_UART_INSTANCE_USART1
    RCC_CCIPR &= ~3u;
    RCC_APB2ENR |= (1u << 14);
#else
#error "stm32l4: unsupported UART instance"
#endif
    (void)RCC_AHB2ENR;
    stm32_gpio_af(GPIOA_BASE, BOARD_UART_TX_PORT, BOARD_UART_TX_PIN, BOARD_UART_AF, 0);
    stm32_gpio_af(GPIOA_BASE, BOARD_UART_RX_PORT, BOARD_UART_RX_PIN, BOARD_UART_AF, 1);
#if BOARD_UART_INSTANCE_LPUART1
    stm32_usart_v2_init(STM32_LPUART_BRR(BOARD_UART_CLOCK_HZ, BOARD_UART_BAUD));
#else
    stm32_usart_v2_init(STM32_USART_BRR(BOARD_UART_CLOCK_HZ, BOARD_UART_BAUD));
#endif
}
