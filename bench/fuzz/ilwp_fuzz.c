/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* Mutation fuzzer for firmware/decoder/ilwp_decode.c, meant to be built with
 * -fsanitize=address,undefined so any out-of-bounds access or UB aborts the run.
 *
 *   ilwp_fuzz ITERATIONS SECONDS SEED seed1.ilwp [seed2.ilwp ...]
 *
 * Each iteration copies a seed blob into an exactly sized heap buffer, applies 1-4 mutations
 * (bit flips, byte overwrites with interesting values, truncation, deletion, insertion,
 * varint/length-field edits), then decodes it twice: with CRC checking bypassed, and with the
 * CRC recomputed so the blob passes ilwp_open's check. Either way the parser and the rANS
 * decoder see corrupt content: a CRC check alone would make fuzzing useless.
 * Prints a histogram of return codes; exits non-zero if nothing reached the deep checks.
 * Built with -DILWP_LIBFUZZER it instead provides LLVMFuzzerTestOneInput for clang's libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "ilwp_decode.h"

#define MAX_RECORDS 64u
#define N_CODES 16

static long counts[N_CODES];

static int32_t run_decode(const uint8_t *blob, uint32_t len, uint32_t flags, uint32_t out_cap)
{
    int8_t *out = (int8_t *)malloc(out_cap ? out_cap : 1u); /* exact size: ASan sees overruns */
    uint32_t offsets[MAX_RECORDS + 1], ids[MAX_RECORDS];
    ilwp_work w;
    int32_t rc;
    /* exact-size slot table, now and then smaller than the blob needs (must be refused, not overrun) */
    w.slot_log2 = (rnd() % 8u) ? ILWP_MAX_PRECISION : rnd() % (ILWP_MAX_PRECISION + 1u);
    w.slot = (uint32_t *)malloc(sizeof(uint32_t) << w.slot_log2);
    rc = ilwp_decode_all(blob, len, flags, out, out_cap, offsets, ids, MAX_RECORDS, &w);
    free(w.slot);
    free(out);
    counts[rc < 0 ? (uint32_t)(-rc) % N_CODES : 0u]++;
    return rc;
}

static void fix_crc(uint8_t *b, uint32_t len)
{
    uint32_t crc;
    if (len < 4u) return;
    crc = ilwp_crc32_update(0u, b, len - 4u);
    b[len - 4u] = (uint8_t)crc;
    b[len - 3u] = (uint8_t)(crc >> 8);
    b[len - 2u] = (uint8_t)(crc >> 16);
    b[len - 1u] = (uint8_t)(crc >> 24);
}

/* Makes the header's section lengths agree with the (mutated) size again, so the mutation
 * reaches the record parser instead of failing the first size check. */
static void fix_lengths(uint8_t *b, uint32_t len)
{
    uint32_t slen, rlen;
    if (len < 20u) return;
    slen = (uint32_t)b[12] | (uint32_t)b[13] << 8 | (uint32_t)b[14] << 16 | (uint32_t)b[15] << 24;
    if (slen > len - 20u) slen = 0;
    rlen = len - 20u - slen;
    b[8] = (uint8_t)rlen; b[9] = (uint8_t)(rlen >> 8); b[10] = (uint8_t)(rlen >> 16); b[11] = (uint8_t)(rlen >> 24);
    b[12] = (uint8_t)slen; b[13] = (uint8_t)(slen >> 8); b[14] = (uint8_t)(slen >> 16); b[15] = (uint8_t)(slen >> 24);
}

/* Mutates src into a fresh exactly sized buffer; returns it and its length. */
static uint8_t *mutate(const uint8_t *src, uint32_t len, uint32_t *out_len)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0F, 0x10, 0x40};
    uint32_t cap = len + 64u, n = len, m, k, pos;
    uint8_t *b = (uint8_t *)malloc(cap), *res;
    memcpy(b, src, len);
    m = 1u + rnd() % 4u;
    for (k = 0; k < m && n > 0; k++) {
        pos = rnd() % n;
        switch (rnd() % 9u) {
        case 0: b[pos] ^= (uint8_t)(1u << (rnd() % 8u)); break;
        case 1: b[pos] = (uint8_t)rnd(); break;
        case 2: b[pos] = interesting[rnd() % sizeof interesting]; break;
        case 3: n = pos + (n - pos) * (rnd() % 2u); break; /* truncate (or keep) */
        case 4: n = (uint32_t)lose_bytes(b, n, pos, 1u + rnd() % 8u); break; /* delete a short range */
        case 5: n = (uint32_t)insert_random(b, n, cap, pos, 1u + rnd() % 8u); break;
        case 6: /* varint-like field edit: a maximal or large varint */
            b[pos] = 0xFF;
            if (pos + 1u < n) b[pos + 1u] = (uint8_t)(rnd() | 0x80u);
            if (pos + 2u < n) b[pos + 2u] = (uint8_t)(rnd() & 0x7Fu);
            break;
        case 7: /* header length fields (records_len at 8, skeleton_len at 12) */
            if (n >= 16u) {
                uint32_t off = (rnd() & 1u) ? 8u : 12u, v = rnd() % (n + 16u);
                b[off] = (uint8_t)v; b[off + 1] = (uint8_t)(v >> 8); b[off + 2] = (uint8_t)(v >> 16); b[off + 3] = (uint8_t)(v >> 24);
            }
            break;
        default: /* small arithmetic on a byte, hits counts and dimensions */
            b[pos] = (uint8_t)(b[pos] + (rnd() % 5u) - 2u);
            break;
        }
    }
    res = (uint8_t *)malloc(n ? n : 1u);
    memcpy(res, b, n);
    free(b);
    *out_len = n;
    return res;
}

#ifdef ILWP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0xFFFFFFu) return 0;
    run_decode(data, (uint32_t)size, ILWP_FLAG_SKIP_CRC, 1u << 20);
    return 0;
}
#else
int main(int argc, char **argv)
{
    uint8_t *seeds[16];
    uint32_t lens[16], caps[16], n_seeds, i, it, iters;
    double seconds;
    clock_t t0 = clock();
    if (argc < 5) { fprintf(stderr, "usage: %s ITERATIONS SECONDS SEED seed.ilwp...\n", argv[0]); return 2; }
    iters = (uint32_t)strtoul(argv[1], 0, 10);
    seconds = atof(argv[2]);
    rnd_seed(argv[3]);
    n_seeds = (uint32_t)(argc - 4) > 16u ? 16u : (uint32_t)(argc - 4);
    for (i = 0; i < n_seeds; i++) {
        uint32_t offsets[MAX_RECORDS + 1], ids[MAX_RECORDS];
        int8_t *out = (int8_t *)malloc(1u << 22);
        static uint32_t slots[1u << ILWP_MAX_PRECISION];
        ilwp_work w;
        int32_t rc;
        w.slot = slots;
        w.slot_log2 = ILWP_MAX_PRECISION;
        size_t n;
        seeds[i] = load(argv[4 + i], &n);
        lens[i] = (uint32_t)n;
        rc = ilwp_decode_all(seeds[i], lens[i], 0, out, 1u << 22, offsets, ids, MAX_RECORDS, &w);
        free(out);
        if (rc <= 0) { fprintf(stderr, "seed %s does not decode (rc %d)\n", argv[4 + i], (int)rc); return 1; }
        caps[i] = offsets[rc]; /* exact decoded size: an overrun of the output shows under ASan */
    }
    for (it = 0; it < iters; it++) {
        uint32_t s = rnd() % n_seeds, len, cap;
        uint8_t *b = mutate(seeds[s], lens[s], &len);
        cap = (rnd() % 4u) ? caps[s] : rnd() % (caps[s] + 1u);
        if (rnd() % 4u) fix_lengths(b, len);
        run_decode(b, len, ILWP_FLAG_SKIP_CRC, cap);
        fix_crc(b, len);
        run_decode(b, len, 0, cap);
        free(b);
        if ((it & 255u) == 0u && (double)(clock() - t0) / CLOCKS_PER_SEC > seconds) { it++; break; }
    }
    for (i = 0; i < n_seeds; i++) free(seeds[i]);
    printf("iterations %u\n", it);
    for (i = 0; i < N_CODES; i++) if (counts[i]) printf("rc %s%u: %ld\n", i ? "-" : "ok/", i, counts[i]);
    /* deep checks reached: table, reference and rANS stream errors must all have occurred */
    return (counts[6] && counts[9] && counts[1]) ? 0 : 3;
}
#endif
