/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STM32F7 family (STM32F746ZG on NUCLEO-F746ZG).  Register maps from RM0385:
 * RCC 0x40023800, PWR 0x40007000, FLASH 0x40023C00, GPIOA 0x40020000.
 * Built here, never run here: no emulator models this chip.
 *
 * Clock: PLL from HSI 16 MHz: /M=8 -> 2 MHz, xN=216 -> VCO 432 MHz, /P=2 -> 216 MHz,
 * /Q=9 -> 48 MHz; voltage scale 1 with over-drive (needed above 180 MHz), 7 flash wait
 * states with ART accelerator and prefetch; APB1 /4 (54 MHz), APB2 /2 (108 MHz).
 * Cortex-M7 instruction and data caches on (invalidated first; nothing here uses DMA, so
 * the write-back data cache needs no maintenance afterwards).
 *
 * USART (new layout): the shared driver, firmware/boards/uart/stm32_usart_v2.c.
 * USART3's kernel clock is PCLK1 after reset (RCC_DCKCFGR2 USART3SEL = 00).
 * The USART's global interrupt: NVIC 37 USART1, 38 USART2, 39 USART3, 71 USART6 (uart.irq in
 * the manifest).
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"
#include "stm32_gpio.h"
#include "stm32_usart_v2.h"

#define RCC_BASE     0x40023800u
#define RCC_CR       REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR  REG32(RCC_BASE + 0x04u)
#define RCC_CFGR     REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR  REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR  REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR  REG32(RCC_BASE + 0x44u)
#define PWR_CR1      REG32(0x40007000u)
#define PWR_CSR1     REG32(0x40007004u)
#define FLASH_ACR    REG32(0x40023C00u)
#define GPIOA_BASE   0x40020000u
#define PLLCFGR_FIELDS (0x3Fu | (0x1FFu << 6) | (3u << 16) | (1u << 22) | (0xFu << 24))

#if BOARD_CLOCK_PLL_HSI
typedef char cpu_hz_is_216mhz[BOARD_CPU_HZ == 216000000u ? 1 : -1];

static void clock_init(void)
{
    RCC_APB1ENR |= (1u << 28); /* PWREN */
    (void)RCC_APB1ENR;
    PWR_CR1 |= (3u << 14);     /* VOS = scale 1 */
    RCC_CR |= 1u;              /* HSION */
    while ((RCC_CR & (1u << 1)) == 0u) {
    }
    RCC_CR &= ~(1u << 24);
    while ((RCC_CR & (1u << 25)) != 0u) {
    }
    /* Keep the reserved bits: only PLLM, PLLN, PLLP, PLLSRC (0 = HSI) and PLLQ change. */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS) | 8u | (216u << 6) | (0u << 16) | (0u << 22) | (9u << 24);
    RCC_CR |= (1u << 24);
    while ((RCC_CR & (1u << 25)) == 0u) {
    }
    PWR_CR1 |= (1u << 16); /* over-drive enable */
    while ((PWR_CSR1 & (1u << 16)) == 0u) {
    }
    PWR_CR1 |= (1u << 17); /* over-drive switching */
    while ((PWR_CSR1 & (1u << 17)) == 0u) {
    }
    FLASH_ACR = 7u | (1u << 8) | (1u << 9); /* 7 WS, prefetch, ART */
    while ((FLASH_ACR & 0xFu) != 7u) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13))) | (5u << 10) | (4u << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u; /* SW = PLL */
    while ((RCC_CFGR & (3u << 2)) != (2u << 2)) {
    }
}
#endif

static void icache_enable(void)
{
    cm_dsb();
    cm_isb();
    SCB_ICIALLU = 0u;
    cm_dsb();
    cm_isb();
    SCB_CCR |= (1u << 17);
    cm_dsb();
    cm_isb();
}

/* Level 1 D-cache: invalidate every line by set/way (CCSIDR: sets in [27:13], ways in
 * [12:3], log2(words per line) - 2 in [2:0]), then enable it (CCR.DC). */
static void dcache_enable(void)
{
    SCB_CSSELR = 0u;
    cm_dsb();
    const uint32_t ccsidr = SCB_CCSIDR;
    const uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    const uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    const uint32_t line_shift = (ccsidr & 7u) + 4u;
    const uint32_t way_shift = ways > 1u ? (uint32_t)__builtin_clz(ways - 1u) : 0u;
    for (uint32_t set = 0; set < sets; ++set) {
        for (uint32_t way = 0; way < ways; ++way) {
            SCB_DCISW = (way << way_shift) | (set << line_shift);
        }
    }
    cm_dsb();
    SCB_CCR |= (1u << 16);
    cm_dsb();
    cm_isb();
}

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
#error "stm32f7: unsupported UART instance"
#endif
}

void board_family_init(void)
{
#if BOARD_CLOCK_PLL_HSI
    clock_init();
#endif
    icache_enable();
    dcache_enable();
    RCC_AHB1ENR |= (1u << BOARD_UART_TX_PORT) | (1u << BOARD_UART_RX_PORT);
    uart_clock_enable();
    (void)RCC_AHB1ENR;
    stm32_gpio_af(GPIOA_BASE, BOARD_UART_TX_PORT, BOARD_UART_TX_PIN, BOARD_UART_AF, 0);
    stm32_gpio_af(GPIOA_BASE, BOARD_UART_RX_PORT, BOARD_UART_RX_PIN, BOARD_UART_AF, 1);
    stm32_usart_v2_init(STM32_USART_BRR(BOARD_UART_CLOCK_HZ, BOARD_UART_BAUD));
}
