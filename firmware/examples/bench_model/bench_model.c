/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_model: one inference of the generated model on a fixed input, timed with the board timer.
 *
 * bench_input.h (written by the build) holds `bench_input[BENCH_N][ILWP_MODEL_INPUT_BYTES]`. For each
 * input it prints
 *   "ILWP bench board=<id> unit=<unit> init=<rc> run=<rc> elapsed=<count> out=<v0>,<v1>,..."
 * then exits with 0 (every call returned 0) or 1. Under QEMU -icount shift=0 the count is
 * instructions (SysTick resolution: 40 instructions on mps2-an386).
 * Built with ILWP_STEP_HOOK, each line is followed by
 *   "ILWP steps <t1>,<t2>,..." : the timer count at the end of each step, from the start of the run.
 */
#include <stddef.h>
#include <stdint.h>

#include "bench_input.h"
#include "board.h"
#include "ilwp_model.h"

#ifdef ILWP_STEP_HOOK
static uint64_t step_end[ILWP_MODEL_STEPS];
static uint64_t run_start;
void ilwp_step_done(uint32_t step);
void ilwp_step_done(uint32_t step)
{
    if (step < (uint32_t)ILWP_MODEL_STEPS) {
        step_end[step] = timer_now() - run_start;
    }
}
#endif

static void put_i64(int64_t v)
{
    char buf[22];
    size_t i = sizeof buf;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
    buf[--i] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(u % 10u));
        u /= 10u;
    } while (u != 0u);
    if (v < 0) {
        buf[--i] = '-';
    }
    uart_puts(&buf[i]);
}

/* One inference of input n: prints its line, returns 0 when both calls succeeded. */
static int run_one(int32_t rc_init, uint32_t n)
{
    int32_t rc_run = -1;
    uint64_t t0, t1;
    uint32_t i;
    for (i = 0; i < ILWP_MODEL_INPUT_BYTES; i++) {
        ilwp_model_input()[i] = bench_input[n][i];
    }
    t0 = timer_now();
#ifdef ILWP_STEP_HOOK
    run_start = t0;
#endif
    if (rc_init == 0) {
        rc_run = ilwp_model_run();
    }
    t1 = timer_now();
    uart_puts("ILWP bench board=");
    uart_puts(board_name());
    uart_puts(" unit=");
    uart_puts(timer_unit());
    uart_puts(" init=");
    put_i64(rc_init);
    uart_puts(" run=");
    put_i64(rc_run);
    uart_puts(" elapsed=");
    put_i64((int64_t)(t1 - t0));
    uart_puts(" out=");
    for (i = 0; i < ILWP_MODEL_OUTPUT_BYTES; i++) {
        put_i64(ilwp_model_output()[i]);
        uart_puts(i + 1u < ILWP_MODEL_OUTPUT_BYTES ? "," : "\n");
    }
#ifdef ILWP_STEP_HOOK
    uart_puts("ILWP steps ");
    for (i = 0; i < (uint32_t)ILWP_MODEL_STEPS; i++) {
        put_i64((int64_t)step_end[i]);
        uart_puts(i + 1u < (uint32_t)ILWP_MODEL_STEPS ? "," : "\n");
    }
#endif
    return rc_init == 0 && rc_run == 0 ? 0 : 1;
}

int main(void)
{
    int failed = 0;
    uint32_t n;
    int32_t rc_init;
    board_init();
    rc_init = ilwp_model_init();
    for (n = 0; n < BENCH_N; n++) {
        failed |= run_one(rc_init, n);
    }
    uart_flush();
    board_exit(failed);
}
