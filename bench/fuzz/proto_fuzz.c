/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* Mutation fuzzer for firmware/runtime/protocol.c, driven through the host shim
 * tests/run_shim/proto_host_shim.c and built with -fsanitize=address,undefined so that any
 * out-of-bounds access or undefined behaviour aborts the run.
 *
 *   proto_fuzz ITERATIONS SECONDS SEED seed1.bin [seed2.bin ...]   (SECONDS of CPU time, 0: no limit)
 *
 * A seed is a byte stream of valid frames (bench/fuzz/proto_seeds.py, from run/framing.py).  Each
 * iteration mutates one (bit flips, sync pairs, cuts, splices, header lengths with the header
 * CRC made valid again, and now and then the frame CRC too, so the parser's deep paths are
 * reached), copies it into an exactly sized heap buffer, and lets ilwp_proto_recv() parse it all
 * into an exactly sized heap frame.  Checked on every result: it is one of the four, a valid
 * frame occurs in the input byte for byte, the lengths agree with the result; and a random frame
 * sent with ilwp_proto_send() parses back the same.  A failed check aborts (exit 134).
 * Exits 3 if some result never occurred (the mutations did not reach the deep paths).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "protocol.h"

/* tests/run_shim/proto_host_shim.c (no header: the ctypes tests declare these too) */
void shim_set_input(const uint8_t *data, size_t n);
int shim_recv(ilwp_frame *f);
size_t shim_take_output(uint8_t *dst, size_t cap);
void shim_send(uint8_t type, uint8_t seq, const uint8_t *p, size_t n);

#define MAX_SEEDS 16u
#define FRAME_MAX (ILWP_PROTO_HEADER_BYTES + ILWP_PROTO_MAX_PAYLOAD + ILWP_PROTO_TRAILER_BYTES)

static const uint8_t *seeds[MAX_SEEDS];
static size_t seed_lens[MAX_SEEDS], n_seeds;
static long results[5]; /* RX_FRAME, BAD_CRC, TOO_LONG, CUT_SHORT, input used up */
static long round_trips;

static void fail(const char *what, long it)
{
    fprintf(stderr, "proto_fuzz: %s (iteration %ld)\n", what, it);
    abort();
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; ++i) {
        if (memcmp(hay + i, needle, m) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The frame starting at b[pos] (a sync pair there) gets length `len`, a valid header CRC, and,
 * when `fix_crc` and its bytes are all there, a valid frame CRC. */
static void set_header(uint8_t *b, size_t n, size_t pos, uint16_t len, int fix_crc)
{
    if (pos + ILWP_PROTO_HEADER_BYTES > n) {
        return;
    }
    b[pos] = ILWP_PROTO_SYNC0;
    b[pos + 1] = ILWP_PROTO_SYNC1;
    ilwp_put_u16(&b[pos + 4], len);
    b[pos + 6] = ilwp_crc8(&b[pos + 2], 4);
    size_t end = pos + ILWP_PROTO_HEADER_BYTES + len;
    if (fix_crc && end + ILWP_PROTO_TRAILER_BYTES <= n) {
        ilwp_put_u32(&b[end], ilwp_crc32_update(0u, &b[pos + 2], 5u + len));
    }
}

/* A mutant of seed s in a fresh, exactly sized buffer. */
static uint8_t *mutate(size_t s, size_t *out_len)
{
    static const uint8_t interesting[] = {0xA5, 0x5A, 0x00, 0xFF, 0x01, 0x02, 0x03, 0x04, 0x7E, 0x80};
    static const uint16_t lengths[] = {0, 1, 4, 5, 1024, ILWP_PROTO_MAX_PAYLOAD - 1u, ILWP_PROTO_MAX_PAYLOAD,
                                       ILWP_PROTO_MAX_PAYLOAD + 1u, 0x7FFF, 0xFFFF};
    size_t cap = seed_lens[s] + 2u * FRAME_MAX + 64u, n = seed_lens[s];
    uint8_t *b = (uint8_t *)malloc(cap), *res;
    memcpy(b, seeds[s], n);
    uint32_t m = 1u + rnd() % 6u;
    for (uint32_t k = 0; k < m && n > 0; ++k) {
        size_t pos = rnd() % n, cnt;
        switch (rnd() % 10u) {
        case 0: b[pos] ^= (uint8_t)(1u << (rnd() % 8u)); break;
        case 1: b[pos] = (uint8_t)rnd(); break;
        case 2: b[pos] = interesting[rnd() % sizeof interesting]; break;
        case 3: /* a sync pair (a frame may start inside a rejected header) */
            if (n + 2u <= cap) {
                memmove(b + pos + 2, b + pos, n - pos);
                b[pos] = ILWP_PROTO_SYNC0;
                b[pos + 1] = ILWP_PROTO_SYNC1;
                n += 2u;
            }
            break;
        case 4: n = pos; break; /* cut: the rest never comes */
        case 5: n = lose_bytes(b, n, pos, 1u + rnd() % 8u); break;
        case 6: /* a range of another seed (or this one) spliced in */
        {
            size_t o = rnd() % n_seeds, from = rnd() % seed_lens[o];
            cnt = 1u + rnd() % FRAME_MAX;
            if (cnt > seed_lens[o] - from) cnt = seed_lens[o] - from;
            if (n + cnt > cap) break;
            memmove(b + pos + cnt, b + pos, n - pos);
            memcpy(b + pos, seeds[o] + from, cnt);
            n += cnt;
            break;
        }
        case 7: n = insert_random(b, n, cap, pos, 1u + rnd() % 16u); break;
        default: /* a header at pos with another length, its header CRC valid; at times its CRC too */
            set_header(b, n, pos, (rnd() & 1u) ? lengths[rnd() % (sizeof lengths / sizeof lengths[0])]
                                                : (uint16_t)(rnd() % (ILWP_PROTO_MAX_PAYLOAD + 16u)),
                       (int)(rnd() & 1u));
            break;
        }
    }
    res = (uint8_t *)malloc(n ? n : 1u);
    memcpy(res, b, n);
    free(b);
    *out_len = n;
    return res;
}

/* Everything ilwp_proto_recv() makes of `in`, checked. */
static void parse_all(const uint8_t *in, size_t n, ilwp_frame *f, long it)
{
    static uint8_t enc[FRAME_MAX];
    shim_set_input(in, n);
    for (size_t calls = 0;; ++calls) {
        if (calls > n + 1u) {
            fail("more results than input bytes: the parser does not advance", it);
        }
        int r = shim_recv(f);
        switch (r) {
        case 0: results[4]++; return;
        case ILWP_RX_FRAME:
            results[0]++;
            if (f->len > ILWP_PROTO_MAX_PAYLOAD) fail("valid frame longer than the maximum", it);
            shim_send(f->type, f->seq, f->payload, f->len);
            if (shim_take_output(enc, sizeof enc) != ILWP_PROTO_HEADER_BYTES + f->len + ILWP_PROTO_TRAILER_BYTES ||
                !contains(in, n, enc, ILWP_PROTO_HEADER_BYTES + f->len + ILWP_PROTO_TRAILER_BYTES)) {
                fail("valid frame that is not in the input", it);
            }
            break;
        case ILWP_RX_BAD_CRC: results[1]++; /* fall through */
        case ILWP_RX_CUT_SHORT:
            if (r == ILWP_RX_CUT_SHORT) results[3]++;
            if (f->len > ILWP_PROTO_MAX_PAYLOAD) fail("rejected frame's length over the maximum", it);
            break;
        case ILWP_RX_TOO_LONG:
            results[2]++;
            if (f->len <= ILWP_PROTO_MAX_PAYLOAD) fail("TOO_LONG with a length within the maximum", it);
            break;
        default: fail("unknown receive result", it);
        }
    }
}

/* A random frame (every other one an ERROR) through ilwp_proto_send() and back through
 * ilwp_proto_recv(). */
static void round_trip(ilwp_frame *f, long it)
{
    static uint8_t payload[ILWP_PROTO_MAX_PAYLOAD], wire[FRAME_MAX];
    size_t len = rnd() % (ILWP_PROTO_MAX_PAYLOAD + 1u);
    uint8_t type = (uint8_t)rnd(), seq = (uint8_t)rnd();
    for (size_t i = 0; i < len; ++i) payload[i] = (uint8_t)rnd();
    if (it % 16 == 0) {
        type = ILWP_MSG_ERROR;
        len = 5u;
        ilwp_proto_send_error(seq, payload[0], (int32_t)ilwp_get_u32(&payload[1]));
    } else {
        shim_send(type, seq, payload, len);
    }
    size_t n = shim_take_output(wire, sizeof wire);
    uint8_t *exact = (uint8_t *)malloc(n);
    memcpy(exact, wire, n);
    shim_set_input(exact, n);
    if (shim_recv(f) != ILWP_RX_FRAME || f->type != type || f->seq != seq || f->len != len ||
        memcmp(f->payload, payload, len) != 0) {
        fail("a sent frame does not parse back", it);
    }
    free(exact);
    round_trips++;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s ITERATIONS SECONDS SEED seed.bin...\n", argv[0]);
        return 2;
    }
    long iters = strtol(argv[1], 0, 10), it;
    double seconds = atof(argv[2]);
    rnd_seed(argv[3]);
    n_seeds = (size_t)(argc - 4) > MAX_SEEDS ? MAX_SEEDS : (size_t)(argc - 4);
    /* exactly sized: a write past the payload is a heap overflow under ASan */
    ilwp_frame *f = (ilwp_frame *)malloc(sizeof *f);
    for (size_t i = 0; i < n_seeds; ++i) {
        seeds[i] = load(argv[4 + i], &seed_lens[i]);
        parse_all(seeds[i], seed_lens[i], f, -1);
    }
    if (results[1] || results[2] || results[3] || !results[0]) {
        fprintf(stderr, "the seeds must be valid frames only\n");
        return 2;
    }
    results[0] = results[4] = 0;
    clock_t t0 = clock();
    for (it = 0; it < iters; ++it) {
        size_t len;
        uint8_t *b = mutate(rnd() % n_seeds, &len);
        parse_all(b, len, f, it);
        free(b);
        if (it % 8 == 0) round_trip(f, it);
        if (seconds > 0 && (it & 255) == 0 && (double)(clock() - t0) / CLOCKS_PER_SEC > seconds) {
            ++it;
            break;
        }
    }
    printf("iterations %ld\nframes %ld, bad crc %ld, too long %ld, cut short %ld, inputs used up %ld, round trips %ld\n",
           it, results[0], results[1], results[2], results[3], results[4], round_trips);
    for (size_t i = 0; i < n_seeds; ++i) free((void *)seeds[i]);
    free(f);
    return (results[0] && results[1] && results[2] && results[3]) ? 0 : 3;
}
