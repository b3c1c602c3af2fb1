/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cortex-M startup: vector table (core exceptions, SysTick, and the external interrupts up
 * to the console UART's, BOARD_UART_IRQ, the only one used) and the reset handler, which
 * enables the FPU for hard-float builds, copies .data from flash, zeroes .bss and runs main().
 * Symbols _sidata/_sdata/_edata/_sbss/_ebss/_estack come from the generated
 * linker script (firmware/boards/cortexm/linker.ld.j2).
 */
#include <stdint.h>

#include "board.h"
#include "cortexm.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);

/* Reset must not touch floating point before CPACR is set; it has no float code. */
void Reset_Handler(void)
{
#if BOARD_HAS_FPU
    SCB_CPACR |= (0xFu << 20); /* CP10, CP11: full access */
    cm_dsb();
    cm_isb();
#endif
    /* volatile stores: GCC would turn these loops into memcpy/memset calls, linking ~470 B of
     * newlib that nothing else needs; once at boot, the plain loops cost nothing that matters. */
    const uint32_t *src = &_sidata;
    for (volatile uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (volatile uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0u;
    }
    board_exit(main());
}

/* Any unexpected exception: report it and stop (QEMU exits with status 0xFA). */
void Default_Handler(void)
{
    static const char msg[] = "\nFAULT\n";
    for (const char *p = msg; *p != '\0'; ++p) {
        board_uart_putc((uint8_t)*p);
    }
    board_exit(0xFA);
}

typedef void (*vector_t)(void);

/* Every external interrupt but the UART's is unexpected: Default_Handler (a range initialiser,
 * then the UART's entry over it). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".isr_vector"), used)) const vector_t vector_table[16u + BOARD_UART_IRQ + 1u] = {
    (vector_t)(uintptr_t)&_estack, /* initial stack pointer */
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,      /* reserved */
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,               /* reserved */
    Default_Handler, /* PendSV */
    SysTick_Handler,
    [16 ... 16u + BOARD_UART_IRQ] = Default_Handler,
    [16u + BOARD_UART_IRQ] = board_uart_irq_handler,
};
#pragma GCC diagnostic pop
