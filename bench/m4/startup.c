/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal bench-only startup for QEMU mps2-an386: vector table, .data/.bss set-up, SysTick
 * instruction counter, semihosting output and exit. (The real board startup lives in boards/.) */
#include <stdint.h>

extern uint32_t _etext, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

volatile uint32_t systick_wraps;

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define ICSR (*(volatile uint32_t *)0xE000ED04u)

void SysTick_Handler(void) { systick_wraps++; }

static void semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void bench_puts(const char *s) { semihost(0x04u, s); } /* SYS_WRITE0 */

/* "label<decimal>\n" without printf (no newlib stdio in the bench images). */
void bench_put_u(const char *label, uint64_t v)
{
    char buf[40];
    int i = 39;
    buf[i] = 0;
    buf[--i] = '\n';
    do { buf[--i] = (char)('0' + v % 10u); v /= 10u; } while (v && i > 0);
    bench_puts(label);
    bench_puts(buf + i);
}

void bench_exit(uint32_t code)
{
    uint32_t block[2] = {0x20026u, code}; /* ADP_Stopped_ApplicationExit, exit code */
    semihost(0x20u, block);               /* SYS_EXIT_EXTENDED */
    for (;;) {}
}

void systick_start(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0u;
    systick_wraps = 0u;
    SYST_CSR = 7u; /* core clock source, interrupt on wrap, enable */
}

/* Elapsed SysTick ticks (down-counter, wraps counted in the handler). */
uint64_t systick_ticks(void)
{
    uint32_t w, v, pend;
    do {
        w = systick_wraps;
        v = SYST_CVR;
        pend = ICSR & (1u << 26); /* PENDSTSET */
    } while (w != systick_wraps);
    if (pend && v > 0x800000u) w++; /* the counter reloaded, its handler has not run yet */
    return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}

void Reset_Handler(void)
{
    uint32_t *src = &_etext, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    bench_exit((uint32_t)main());
}

static void Default_Handler(void)
{
    bench_puts("fault\n");
    bench_exit(99u);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler,
    SysTick_Handler,
};
