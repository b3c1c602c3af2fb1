/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* Cortex-M core registers used by the common board code (ARMv7-M System Control Space). */
#ifndef ILWP_CORTEXM_H
#define ILWP_CORTEXM_H

#include <stdint.h>

#include "board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define SCB_CPACR   REG32(0xE000ED88u) /* coprocessor access: CP10/CP11 full = 0xF << 20 */
#define SCB_CCR     REG32(0xE000ED14u) /* IC bit 17, DC bit 16 (Cortex-M7) */
#define SCB_ICIALLU REG32(0xE000EF50u) /* I-cache invalidate all (Cortex-M7) */
#define SCB_CCSIDR  REG32(0xE000ED80u) /* cache size id of the level chosen in CSSELR (Cortex-M7) */
#define SCB_CSSELR  REG32(0xE000ED84u) /* 0 = level 1 data cache */
#define SCB_DCISW   REG32(0xE000EF60u) /* D-cache invalidate by set/way (Cortex-M7) */

#define SCB_ICSR    REG32(0xE000ED04u) /* PENDSTSET bit 26: a SysTick exception is pending */
#define SYST_CSR REG32(0xE000E010u) /* ENABLE bit0, TICKINT bit1, CLKSOURCE bit2 */
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)

#define NVIC_ISER(n) REG32(0xE000E100u + 4u * ((n) >> 5)) /* set-enable, bit n % 32 */
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * ((n) >> 5)) /* clear-enable, bit n % 32 */

#define DEMCR      REG32(0xE000EDFCu) /* TRCENA bit 24 */
#define DWT_CTRL   REG32(0xE0001000u) /* CYCCNTENA bit 0 */
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR    REG32(0xE0001FB0u) /* lock access (Cortex-M7): 0xC5ACCE55 unlocks */

static inline void cm_dsb(void) { __asm__ volatile("dsb 0xF" ::: "memory"); }
static inline void cm_isb(void) { __asm__ volatile("isb 0xF" ::: "memory"); }
static inline void cm_nop(void) { __asm__ volatile("nop"); }

static inline uint32_t cm_irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void cm_irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* The receive ring filled by the UART interrupt (board_common.c).  Single producer (the
 * interrupt), single consumer (uart_read_byte); head and tail run free, size is a power of two,
 * so head - tail is the fill level.  buf == NULL: reception is polled. */
typedef struct {
    uint8_t *buf;
    uint32_t mask;            /* size - 1 */
    volatile uint32_t head;   /* written by the interrupt only */
    volatile uint32_t tail;   /* written by the reader only */
    volatile uint32_t stalled; /* the ring was full: the interrupt is masked until a read */
} board_rx_ring;

extern board_rx_ring board_rx;

/* For the family's UART interrupt: 1 if a byte can be stored.  When the ring is full the
 * interrupt is masked in the NVIC (the byte stays in the UART) and 0 is returned; the next
 * uart_read_byte() unmasks it. */
static inline int board_rx_room(void)
{
    if (board_rx.head - board_rx.tail <= board_rx.mask) {
        return 1;
    }
    board_rx.stalled = 1u;
    NVIC_ICER(BOARD_UART_IRQ) = 1u << (BOARD_UART_IRQ & 31u);
    return 0;
}

static inline void board_rx_put(uint8_t c)
{
    uint32_t h = board_rx.head;
    board_rx.buf[h & board_rx.mask] = c;
    board_rx.head = h + 1u;
}

/* Timer hooks shared by startup.c and timer.c. */
void timer_init(void);
void SysTick_Handler(void);

#endif /* ILWP_CORTEXM_H */
