/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Free-running 64-bit timer.
 *
 * SysTick always runs from the core clock with RVR = 0xFFFFFF and counts its
 * wraps in the interrupt.  Under QEMU -icount shift=0 one instruction is 1 ns of
 * virtual time, so ticks * 1e9 / BOARD_TIMER_CLOCK_HZ counts instructions.  On real
 * boards with a DWT the 32-bit CYCCNT is read instead and extended to 64 bits; the
 * SysTick interrupt (every 2^24 cycles) samples it often enough never to miss a wrap.
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"

#define SYSTICK_RELOAD 0xFFFFFFu

static volatile uint32_t systick_wraps;

#if BOARD_TIMER_DWT
static uint32_t dwt_last;
static uint32_t dwt_high;
#endif

void timer_init(void)
{
#if BOARD_TIMER_DWT
    DEMCR |= (1u << 24);
    DWT_LAR = 0xC5ACCE55u; /* harmless where there is no lock */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= 1u;
    dwt_last = 0u;
    dwt_high = 0u;
#endif
    systick_wraps = 0u;
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0u;
    SYST_CSR = (1u << 2) | (1u << 1) | 1u; /* core clock, interrupt, enable */
}

#if BOARD_TIMER_DWT
uint64_t timer_now(void)
{
    uint32_t primask = cm_irq_save();
    uint32_t now = DWT_CYCCNT;
    if (now < dwt_last) {
        dwt_high++;
    }
    dwt_last = now;
    uint64_t result = ((uint64_t)dwt_high << 32) | now;
    cm_irq_restore(primask);
    return result;
}

void SysTick_Handler(void)
{
    systick_wraps++;
    (void)timer_now();
}
#else
/* ticks * UNIT_HZ / CLOCK_HZ with the fraction in lowest terms (BOARD_TIMER_SCALE_NUM / _DEN,
 * reduced on the host), so the product overflows only after 2^64 / NUM ticks.  A 64-bit division
 * would link libgcc's __udivmoddi4 (~700 B): the mps2 boards need none (DEN = 1, 40 instructions
 * per tick), and a DEN below 2^16 (netduinoplus2: 125/21) is divided 16 bits at a time, each step
 * a 32-bit division by a constant (remainder < DEN keeps every dividend within 32 bits). */
static uint64_t ticks_to_units(uint64_t ticks)
{
    const uint64_t x = ticks * (uint64_t)BOARD_TIMER_SCALE_NUM;
#if BOARD_TIMER_SCALE_DEN == 1
    return x;
#elif BOARD_TIMER_SCALE_DEN <= 0xFFFF
    const uint32_t d = BOARD_TIMER_SCALE_DEN;
    const uint32_t hi = (uint32_t)(x >> 32);
    const uint32_t mid = ((hi % d) << 16) | ((uint32_t)x >> 16);
    const uint32_t lo = ((mid % d) << 16) | ((uint32_t)x & 0xFFFFu);
    return ((uint64_t)(hi / d) << 32) | ((mid / d) << 16) | (lo / d);
#else
    return x / (uint64_t)BOARD_TIMER_SCALE_DEN;
#endif
}

uint64_t timer_now(void)
{
    uint32_t wraps;
    uint32_t value;
    /* Value 0 lasts one timer clock (the reload state, also the state right after timer_init
     * wrote CVR = 0); reading it would count a whole period ahead, so it is read again. A wrap
     * whose exception is still pending (interrupts masked) has reloaded CVR but not counted yet. */
    for (;;) {
        uint32_t w0 = systick_wraps;
        uint32_t pending;
        value = SYST_CVR;
        pending = (SCB_ICSR >> 26) & 1u;
        if (w0 != systick_wraps || value == 0u) {
            continue; /* the handler ran meanwhile, or the reload state: read again */
        }
        /* pending and a freshly reloaded (high) value: the wrap happened, uncounted */
        wraps = w0 + ((pending != 0u && value > SYSTICK_RELOAD / 2u) ? 1u : 0u);
        break;
    }
    return ticks_to_units(((uint64_t)wraps << 24) + (SYSTICK_RELOAD - value));
}

void SysTick_Handler(void)
{
    systick_wraps++;
}
#endif

const char *timer_unit(void) { return BOARD_TIMER_UNIT; }

uint32_t timer_unit_hz(void) { return BOARD_TIMER_UNIT_HZ; }
