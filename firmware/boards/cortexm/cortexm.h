/* Cortex-M core registers used by the common board code (ARMv7-M System Control Space). */
#ifndef ILWP_CORTEXM_H
#define ILWP_CORTEXM_H

#include <stdint.h>

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

/* Timer hooks shared by startup.c and timer.c. */
void timer_init(void);
void SysTick_Handler(void);

#endif /* ILWP_CORTEXM_H */
