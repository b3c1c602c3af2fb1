/* Board API parts that are the same on every Cortex-M family: byte I/O on top of the
 * family's UART hooks, timeouts on the board timer, and the exit path. */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "cortexm.h"

void board_init(void)
{
    board_family_init();
    timer_init();
}

const char *board_name(void) { return BOARD_NAME; }

void uart_write(const void *buf, size_t n)
{
    const uint8_t *p = (const uint8_t *)buf;
    for (size_t i = 0; i < n; ++i) {
        board_uart_putc(p[i]);
    }
}

void uart_puts(const char *s)
{
    while (*s != '\0') {
        board_uart_putc((uint8_t)*s++);
    }
}

void uart_flush(void) { board_uart_flush(); }

/* The family hook consumes the byte it reads, so uart_rx_ready() keeps it here. */
static int board_uart_peeked = -1;

int uart_rx_ready(void)
{
    if (board_uart_peeked < 0) {
        board_uart_peeked = board_uart_getc_nonblocking();
    }
    return board_uart_peeked >= 0;
}

int uart_read_byte(uint32_t timeout_ms)
{
    if (board_uart_peeked >= 0) {
        int c = board_uart_peeked;
        board_uart_peeked = -1;
        return c;
    }
    int c = board_uart_getc_nonblocking();
    if (c >= 0 || timeout_ms == 0u) {
        return c >= 0 ? c : UART_TIMEOUT;
    }
    const int forever = (timeout_ms == UART_WAIT_FOREVER);
    const uint64_t deadline = timer_now() + (uint64_t)timeout_ms * (BOARD_TIMER_UNIT_HZ / 1000u);
    for (;;) {
        c = board_uart_getc_nonblocking();
        if (c >= 0) {
            return c;
        }
        if (!forever && timer_now() >= deadline) {
            return UART_TIMEOUT;
        }
    }
}

#if BOARD_SEMIHOSTING
/* ARM semihosting call: op in r0, argument block in r1, BKPT 0xAB (Thumb). */
static int semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int)r0;
}
#endif

void board_exit(int code)
{
    board_uart_flush();
#if BOARD_SEMIHOSTING
    /* SYS_EXIT_EXTENDED (0x20): {ADP_Stopped_ApplicationExit, code}; QEMU exits with code. */
    const uint32_t block[2] = {0x20026u, (uint32_t)code};
    (void)semihost_call(0x20u, block);
#else
    (void)code;
#endif
    for (;;) {
        __asm__ volatile("wfi");
    }
}
