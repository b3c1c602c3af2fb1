/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_prof.c - QEMU TCG plugin (API v1, QEMU 7.2): per-PC execution counts, taken branches,
 * jumps into each PC and memory accesses, for a timed region of a Cortex-M guest.
 *
 * Built at use time by ilwp_embedded/cycles/plugin.py with `gcc -O2 -fPIC -shared`. Debian's
 * QEMU ships no qemu-plugin.h, so the few API declarations used are written out below.
 *
 * Arguments (-plugin ilwp_prof.so,arg=out=F,arg=start=0xA,arg=stop=0xB[,arg=marks=FILE]):
 *   out    result file (binary, written as the guest runs, flushed at the end of every region)
 *   start  PC whose execution opens a region; stop: PC whose execution closes it
 *   marks  optional text file of PCs (hex, one a line): inside a region, executing one closes
 *          the current segment (per-layer attribution, e.g. the return addresses of the calls of
 *          the generated model's schedule)
 *
 * Counting: every instruction carries inline 64-bit counters (executions, memory accesses);
 * a callback at the start of every translation block sees where control went: when a block does
 * not start where the previous one fell through, the previous block's last instruction jumped
 * (taken branch, or an exception entry/return) and the block's first instruction was jumped into.
 * Segments are the differences of the counters between two boundaries, so nothing runs per
 * instruction in C. QEMU 7.2 sometimes reports a 16-bit Thumb instruction as 4 bytes: the size is
 * taken from the first halfword. A block whose last instruction did not run (cut short at an I/O
 * access under icount) is not counted as jumping.
 *
 * Result file: little-endian records of 6 uint32 words (kind, a, b, c, d, e):
 *   1 INSN   idx, pc, size, first halfword(s), 0        (a PC first translated)
 *   2 BEGIN  region number
 *   3 SEG    region, mark index (0xFFFFFFFF: the region's stop), number of COUNT records that follow
 *   4 COUNT  idx, executions, taken (jumped out), jumped in, memory accesses   (of that segment)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of QEMU's plugin API v1 (include/qemu/qemu-plugin.h, QEMU 7.2) ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_mem_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_mem_rw rw,
                                          enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* ---- state ---- */
#define MAX_INSNS (1u << 18)      /* distinct PCs translated */
#define HASH_BITS 19
#define HASH_SIZE (1u << HASH_BITS)
#define MAX_MARKS 4096
#define NO_IDX 0xFFFFFFFFu

typedef struct {
    uint32_t first_idx;   /* first instruction's index */
    uint32_t last_idx;    /* last instruction's index */
    uint64_t fallthrough; /* address after the last instruction */
} tb_info;

static uint64_t exec_n[MAX_INSNS], mem_n[MAX_INSNS], taken_n[MAX_INSNS], jin_n[MAX_INSNS];
static uint64_t base_exec[MAX_INSNS], base_mem[MAX_INSNS], base_taken[MAX_INSNS], base_jin[MAX_INSNS];
static uint32_t pcs[MAX_INSNS];
static uint32_t n_insns;
static uint32_t hash_pc[HASH_SIZE];
static uint32_t hash_idx[HASH_SIZE];
static uint64_t start_pc = 1, stop_pc = 1; /* odd: never a Thumb PC until set */
static uint64_t marks[MAX_MARKS];
static uint32_t n_marks;
static FILE *out;
static int in_region;
static uint32_t region;
static const tb_info *prev_tb;
static uint64_t prev_last_seen; /* the previous block's last instruction's count when it started */
static int overflow;

static void put(uint32_t k, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
{
    uint32_t r[6] = {k, a, b, c, d, e};
    fwrite(r, sizeof r, 1, out);
}

static uint32_t sat32(uint64_t v) { return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v; }

static uint32_t index_of(uint32_t pc, uint32_t size, uint32_t data)
{
    uint32_t h = ((pc >> 1) * 2654435761u) >> (32 - HASH_BITS);
    for (;;) {
        if (hash_idx[h] == 0u) {
            break;
        }
        if (hash_pc[h] == pc) {
            return hash_idx[h] - 1u;
        }
        h = (h + 1u) & (HASH_SIZE - 1u);
    }
    if (n_insns >= MAX_INSNS - 1u) {
        overflow = 1;
        return MAX_INSNS - 1u; /* a shared overflow slot; reported as idx MAX_INSNS-1 */
    }
    uint32_t idx = n_insns++;
    hash_pc[h] = pc;
    hash_idx[h] = idx + 1u;
    pcs[idx] = pc;
    put(1u, idx, pc, size, data, 0u);
    return idx;
}

static void snapshot(void)
{
    memcpy(base_exec, exec_n, n_insns * sizeof exec_n[0]);
    memcpy(base_mem, mem_n, n_insns * sizeof mem_n[0]);
    memcpy(base_taken, taken_n, n_insns * sizeof taken_n[0]);
    memcpy(base_jin, jin_n, n_insns * sizeof jin_n[0]);
}

static void flush_segment(uint32_t mark)
{
    uint32_t changed = 0u;
    for (uint32_t i = 0; i < n_insns; ++i) {
        if (exec_n[i] != base_exec[i] || taken_n[i] != base_taken[i] || jin_n[i] != base_jin[i]) {
            changed++;
        }
    }
    put(3u, region, mark, changed, 0u, 0u);
    for (uint32_t i = 0; i < n_insns; ++i) {
        if (exec_n[i] != base_exec[i] || taken_n[i] != base_taken[i] || jin_n[i] != base_jin[i]) {
            put(4u, i, sat32(exec_n[i] - base_exec[i]), sat32(taken_n[i] - base_taken[i]),
                sat32(jin_n[i] - base_jin[i]), sat32(mem_n[i] - base_mem[i]));
        }
    }
    snapshot();
}

static void on_start(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    (void)ud;
    if (in_region) {
        return; /* re-entered (a recursive start): keep the open region */
    }
    in_region = 1;
    put(2u, region, 0u, 0u, 0u, 0u);
    snapshot();
}

static void on_stop(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    (void)ud;
    if (!in_region) {
        return;
    }
    flush_segment(0xFFFFFFFFu);
    in_region = 0;
    region++;
    fflush(out);
}

static void on_mark(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    if (in_region) {
        flush_segment((uint32_t)(uintptr_t)ud);
    }
}

static void on_tb(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    const tb_info *t = (const tb_info *)ud;
    uint64_t pc = pcs[t->first_idx];
    /* A block cut short (with icount, an I/O access not at a block's end makes QEMU re-run that one
     * instruction in a block of its own, with no callbacks but memory ones) did not jump: its last
     * instruction never ran. */
    if (prev_tb != NULL && prev_tb->fallthrough != pc && exec_n[prev_tb->last_idx] != prev_last_seen) {
        taken_n[prev_tb->last_idx]++;
        jin_n[t->first_idx]++;
    }
    prev_tb = t;
    prev_last_seen = exec_n[t->last_idx];
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) {
        return;
    }
    tb_info *t = (tb_info *)malloc(sizeof *t); /* host side; lives as long as QEMU may run the block */
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        const uint8_t *d = (const uint8_t *)qemu_plugin_insn_data(insn);
        uint32_t hw = (uint32_t)d[0] | ((uint32_t)d[1] << 8);
        uint32_t size = ((hw >> 11) >= 0x1Du) ? 4u : 2u; /* Thumb: 32-bit iff bits 15:11 are 0b111(01|10|11) */
        uint32_t data = hw;
        if (size == 4u && qemu_plugin_insn_size(insn) >= 4) {
            data |= ((uint32_t)d[2] | ((uint32_t)d[3] << 8)) << 16;
        }
        uint32_t idx = index_of((uint32_t)pc, size, data);
        if (i == 0) {
            t->first_idx = idx;
        }
        t->last_idx = idx;
        t->fallthrough = pc + size;
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &exec_n[idx], 1);
        qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW, QEMU_PLUGIN_INLINE_ADD_U64, &mem_n[idx], 1);
        if (pc == start_pc) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (pc == stop_pc) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        for (uint32_t m = 0; m < n_marks; ++m) {
            if (marks[m] == pc) {
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS,
                                                       (void *)(uintptr_t)m);
            }
        }
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS, t);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *ud)
{
    (void)id;
    (void)ud;
    if (out != NULL) {
        if (overflow) {
            put(5u, n_insns, 0u, 0u, 0u, 0u); /* more PCs than MAX_INSNS: results incomplete */
        }
        fclose(out);
        out = NULL;
    }
}

static int read_marks(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    unsigned long long v;
    while (n_marks < MAX_MARKS && fscanf(f, "%llx", &v) == 1) {
        marks[n_marks++] = (uint64_t)v & ~1ull;
    }
    fclose(f);
    return 0;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    const char *out_path = NULL;
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (strncmp(a, "out=", 4) == 0) {
            out_path = a + 4;
        } else if (strncmp(a, "start=", 6) == 0) {
            start_pc = strtoull(a + 6, NULL, 0) & ~1ull;
        } else if (strncmp(a, "stop=", 5) == 0) {
            stop_pc = strtoull(a + 5, NULL, 0) & ~1ull;
        } else if (strncmp(a, "marks=", 6) == 0) {
            if (read_marks(a + 6) != 0) {
                fprintf(stderr, "ilwp_prof: cannot read marks file %s\n", a + 6);
                return -1;
            }
        } else {
            fprintf(stderr, "ilwp_prof: unknown argument %s\n", a);
            return -1;
        }
    }
    if (out_path == NULL) {
        fprintf(stderr, "ilwp_prof: out=FILE is required\n");
        return -1;
    }
    out = fopen(out_path, "wb");
    if (out == NULL) {
        fprintf(stderr, "ilwp_prof: cannot write %s\n", out_path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
