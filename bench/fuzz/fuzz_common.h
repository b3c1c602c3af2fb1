/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* What the mutation fuzzers of bench/fuzz share: a seeded generator and seed-file loading. */
#ifndef ILWP_FUZZ_COMMON_H
#define ILWP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

/* xorshift64*: deterministic for a given seed */
static inline uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static inline void rnd_seed(const char *decimal)
{
    rng_state = strtoull(decimal, 0, 10) * 2654435761ULL + 88172645463325252ULL;
}

/* A whole seed file in a fresh heap buffer; exits 2 if it cannot be read or is empty. */
static inline uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *b;
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n <= 0) { fprintf(stderr, "%s: empty seed\n", path); exit(2); }
    b = (uint8_t *)malloc((size_t)n);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Mutations of b[0..n): the new length. */
static inline size_t lose_bytes(uint8_t *b, size_t n, size_t pos, size_t cnt)
{
    if (cnt > n - pos) cnt = n - pos;
    memmove(b + pos, b + pos + cnt, n - pos - cnt);
    return n - cnt;
}

static inline size_t insert_random(uint8_t *b, size_t n, size_t cap, size_t pos, size_t cnt)
{
    if (n + cnt > cap) return n;
    memmove(b + pos + cnt, b + pos, n - pos);
    for (size_t i = 0; i < cnt; i++) b[pos + i] = (uint8_t)rnd();
    return n + cnt;
}

#endif /* ILWP_FUZZ_COMMON_H */
