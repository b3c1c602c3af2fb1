/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
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

board_rx_ring board_rx;

void uart_rx_use_ring(uint8_t *ring, uint32_t size)
{
    board_rx.mask = size - 1u; /* size is a power of two (board.h) */
    board_rx.head = 0u;
    board_rx.tail = 0u;
    board_rx.stalled = 0u;
    board_rx.buf = ring;
    board_uart_rx_irq_enable();
    NVIC_ISER(BOARD_UART_IRQ) = 1u << (BOARD_UART_IRQ & 31u);
}

uint32_t uart_rx_count(void) { return board_rx.head; }

/* An empty call target with the same loop around it as the handler (uart_rx_handler_units). */
static void rx_handler_nothing(void) {}

uint32_t uart_rx_handler_units(uint32_t k, int handler)
{
    /* Called through a volatile pointer so that both loops are the same instructions. */
    void (*volatile fn)(void) = handler ? board_uart_irq_handler : rx_handler_nothing;
    uint32_t primask = cm_irq_save(); /* no SysTick or UART interrupt inside the interval */
    const uint32_t head = board_rx.head;
    const uint32_t tail = board_rx.tail;
    const uint32_t stalled = board_rx.stalled;
    if (board_rx.buf == NULL || head - tail > board_rx.mask) {
        cm_irq_restore(primask);
        return 0u; /* no ring, or a full one (slot `head` holds an unread byte) */
    }
    const uint64_t t0 = timer_now();
    for (uint32_t i = 0; i < k; ++i) {
        board_rx.head = head; /* every call stores into the same free slot: the ring's bytes stay */
        fn();
    }
    const uint64_t t1 = timer_now();
    board_rx.head = head;
    board_rx.tail = tail;
    board_rx.stalled = stalled;
    cm_irq_restore(primask);
    return (uint32_t)(t1 - t0);
}

/* One byte from the ring or, before uart_rx_use_ring(), straight from the UART; -1 if none. */
static int rx_take(void)
{
    if (board_rx.buf == NULL) {
        return board_uart_getc_nonblocking();
    }
    uint32_t t = board_rx.tail;
    if (t == board_rx.head) {
        return -1;
    }
    int c = board_rx.buf[t & board_rx.mask];
    board_rx.tail = t + 1u;
    /* After the tail moved: an interrupt that found the ring full set stalled before masking
     * itself, and one that comes now sees the room. */
    if (board_rx.stalled != 0u) {
        board_rx.stalled = 0u;
        NVIC_ISER(BOARD_UART_IRQ) = 1u << (BOARD_UART_IRQ & 31u);
    }
    return c;
}

/* rx_take() consumes the byte it reads, so uart_rx_ready() keeps it here. */
static int board_uart_peeked = -1;

int uart_rx_ready(void)
{
    if (board_uart_peeked < 0) {
        board_uart_peeked = rx_take();
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
    int c = rx_take();
    if (c >= 0 || timeout_ms == 0u) {
        return c >= 0 ? c : UART_TIMEOUT;
    }
    const int forever = (timeout_ms == UART_WAIT_FOREVER);
    const uint64_t deadline = timer_now() + (uint64_t)timeout_ms * (BOARD_TIMER_UNIT_HZ / 1000u);
    for (;;) {
        c = rx_take();
        if (c >= 0) {
            return c;
        }
        if (!forever && timer_now() >= deadline) {
            return UART_TIMEOUT;
        }
        if (board_rx.buf != NULL) {
            /* Sleep until an interrupt (a byte, or a SysTick wrap that lets the deadline be
             * checked).  Under QEMU a spinning core takes a host CPU from the thread that
             * delivers the bytes: sleeping made the link 2x faster on a loaded host.  Interrupts
             * are masked from the test to the WFI, so a byte cannot slip in between (a pending
             * interrupt still ends the WFI). */
            uint32_t primask = cm_irq_save();
            if (board_rx.head == board_rx.tail) {
                __asm__ volatile("wfi");
            }
            cm_irq_restore(primask);
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

int host_file_read(const char *path, uint32_t path_len, uint32_t offset, void *dst, uint32_t n)
{
#if BOARD_SEMIHOSTING
    char name[256];
    volatile char *const to = name; /* a plain copy loop would call memcpy (~300 B of newlib) */
    if (path_len >= sizeof name) {
        return -1;
    }
    for (uint32_t i = 0; i < path_len; ++i) {
        to[i] = path[i];
    }
    name[path_len] = '\0';
    const uint32_t open_args[3] = {(uint32_t)(uintptr_t)name, 1u /* "rb" */, path_len};
    int fd = semihost_call(0x01u /* SYS_OPEN */, open_args);
    if (fd < 0) {
        return -2;
    }
    int rc = (int)n;
    const uint32_t seek_args[2] = {(uint32_t)fd, offset};
    const uint32_t read_args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)dst, n};
    if (semihost_call(0x0Au /* SYS_SEEK */, seek_args) != 0) {
        rc = -3;
    } else if (semihost_call(0x06u /* SYS_READ: returns the bytes NOT read */, read_args) != 0) {
        rc = -4;
    }
    const uint32_t close_args[1] = {(uint32_t)fd};
    (void)semihost_call(0x02u /* SYS_CLOSE */, close_args);
    return rc;
#else
    (void)path;
    (void)path_len;
    (void)offset;
    (void)dst;
    (void)n;
    return -1;
#endif
}

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
