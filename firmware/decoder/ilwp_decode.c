/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/* ilwp_decode.c: see ilwp_decode.h and docs/blob-format.md (the one spec with the encoder). */
#include "ilwp_decode.h"

/* ILWP_SMALL: code run once per blob or tensor for size, the per-slot and per-symbol loops
 * (fill_slots, rans_loop) for speed */
#include "../include/ilwp_compiler.h"

#define HEADER_LEN 16u
#define RANS_L (1ul << 16)
#define MULT_SHIFT 12
#define MAX_STEP 127u

#if defined(__GNUC__)
/* Keeps a refill a branch (taken by under half the symbols) rather than a 4-instruction IT block. */
#define ILWP_KEEP_BRANCH() __asm__ volatile("")
/* Keeps p a register stepped by each access (a post-increment store), not offsets from one
 * pointer moved once per unrolled block (one add more per block). */
#define ILWP_KEEP_STEP(p) __asm__("" : "+r"(p))
#else
#define ILWP_KEEP_BRANCH() ((void)0)
#define ILWP_KEEP_STEP(p) ((void)0)
#endif
/* Pair symbols (format v5) decode unless a firmware built for blobs without them sets ILWP_PAIRS 0
 * (the generator does: their set-up and loop cost flash). */
#ifndef ILWP_PAIRS
#define ILWP_PAIRS 1
#endif
/* Four symbols per loop test, unless the whole file is built for size (-Os). */
#if defined(__OPTIMIZE_SIZE__)
#define ILWP_UNROLL 0
#else
#define ILWP_UNROLL 1
#endif

typedef struct {
    const uint8_t *p;
    uint32_t pos, end;
} cursor;

static uint32_t rd_le(const uint8_t *p, uint32_t n)
{
    uint32_t v = 0;
    while (n--) v = (v << 8) | p[n];
    return v;
}

static int rd_byte(cursor *c, uint32_t *v)
{
    if (c->pos >= c->end) return ILWP_ERR_TRUNCATED;
    *v = c->p[c->pos++];
    return ILWP_OK;
}

static int rd_varint(cursor *c, uint32_t *v)
{
    uint32_t i, b, x = 0;
    for (i = 0; i < 5u; i++) {
        if (rd_byte(c, &b)) return ILWP_ERR_TRUNCATED;
        if (i == 4u && b > 0x0Fu) return ILWP_ERR_FORMAT; /* >= 2^32 */
        x |= (b & 0x7Fu) << (7u * i);
        if (b < 0x80u) { *v = x; return ILWP_OK; }
    }
    return ILWP_ERR_FORMAT;
}

static int skip(cursor *c, uint32_t n)
{
    if (n > c->end - c->pos) return ILWP_ERR_TRUNCATED;
    c->pos += n;
    return ILWP_OK;
}

/* The firmware's one CRC-32 (the blob's check here, the serial protocol's frames in
 * firmware/runtime/protocol.c). A call, not inlined into ilwp_open: one copy in flash. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
uint32_t ilwp_crc32_update(uint32_t crc, const void *data, size_t n)
{
    /* CRC-32/ISO-HDLC (zlib; IEEE, reflected 0xEDB88320) a nibble at a time: a 64-byte table in
     * flash instead of 1 KB */
    static const uint32_t tab[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
        0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ tab[crc & 15u];
        crc = (crc >> 4) ^ tab[crc & 15u];
    }
    return ~crc;
}

ILWP_SMALL int ilwp_open(ilwp_reader *r, const uint8_t *blob, uint32_t len, uint32_t flags)
{
    uint32_t rlen, slen;
    if (!blob || len < HEADER_LEN + 4u) return ILWP_ERR_TRUNCATED;
    if (rd_le(blob, 4) != 0x50574C49u) return ILWP_ERR_MAGIC; /* "ILWP" */
    if (blob[4] != 5u) return ILWP_ERR_VERSION;
    if (blob[5] > 1u) return ILWP_ERR_FORMAT;
    rlen = rd_le(blob + 8, 4);
    slen = rd_le(blob + 12, 4);
    if (rlen > len - HEADER_LEN - 4u || slen != len - HEADER_LEN - 4u - rlen) return ILWP_ERR_TRUNCATED;
    if (!(flags & ILWP_FLAG_SKIP_CRC) && ilwp_crc32_update(0u, blob, len - 4u) != rd_le(blob + len - 4u, 4))
        return ILWP_ERR_CRC;
    r->blob = blob;
    r->pos = HEADER_LEN;
    r->records_end = HEADER_LEN + rlen;
    r->n_records = (uint16_t)rd_le(blob + 6, 2);
    r->next = 0;
    r->lossy = blob[5];
    return ILWP_OK;
}

ILWP_SMALL int ilwp_next(ilwp_reader *r, ilwp_tensor *t)
{
    cursor c;
    uint32_t mf, side, kern;
    if (r->next >= r->n_records) return r->pos == r->records_end ? ILWP_END : ILWP_ERR_FORMAT;
    c.p = r->blob;
    c.pos = r->pos;
    c.end = r->records_end;
    if (rd_byte(&c, &mf)) return ILWP_ERR_TRUNCATED;
    t->mode = mf & 3u;
    /* bits 5-6: pair symbols (format v5), refused by a build without them; bit 7 must be 0 */
    if ((mf >> (ILWP_PAIRS ? 7 : 5)) || t->mode == 3u) return ILWP_ERR_FORMAT;
    t->pairs = (uint8_t)(mf >> 5);
    t->channel_minor = (uint8_t)((mf >> 2) & 1u);
    t->ref_channel_minor = (uint8_t)((mf >> 3) & 1u);
    t->step = 1u; /* bit 4: a lossy record, whose step follows (format v4) */
    if (rd_varint(&c, &t->tensor_id) || rd_varint(&c, &t->n_channels) || rd_varint(&c, &kern) ||
        ((mf & 16u) && rd_varint(&c, &t->step)))
        return ILWP_ERR_TRUNCATED;
    if (!t->n_channels || !kern || kern > 0xFFFFFFFFu / t->n_channels || !t->step || t->step > MAX_STEP ||
        ((mf & 16u) && t->step == 1u))
        return ILWP_ERR_FORMAT;
    t->n_elems = t->n_channels * kern;
    t->ref_record = 0;
    t->ref_channels = 0;
    t->side_off = c.pos;
    if (t->mode != ILWP_MODE_INTRA) {
        if (rd_varint(&c, &t->ref_record) || rd_varint(&c, &t->ref_channels)) return ILWP_ERR_TRUNCATED;
        if (t->ref_record >= r->next || !t->ref_channels) return ILWP_ERR_REF;
        if (t->mode == ILWP_MODE_COLLOCATED && t->ref_channels != t->n_channels) return ILWP_ERR_REF;
        t->side_off = c.pos;
        side = t->n_channels > 0x7FFFFFFFu / 4u ? 0xFFFFFFFFu : t->n_channels * (t->mode == ILWP_MODE_SEARCHED ? 4u : 2u);
        if (skip(&c, side)) return ILWP_ERR_TRUNCATED;
    }
    if (rd_varint(&c, &t->table_len)) return ILWP_ERR_TRUNCATED;
    t->table_off = c.pos;
    if (skip(&c, t->table_len) || rd_varint(&c, &t->payload_len)) return ILWP_ERR_TRUNCATED;
    t->payload_off = c.pos;
    if (skip(&c, t->payload_len)) return ILWP_ERR_TRUNCATED;
    t->index = r->next;
    r->pos = c.pos;
    r->next++;
    return ILWP_OK;
}

/* MSB-first bit reader over the frequency table. It looks at the next 32 bits at once, which may
 * reach 4 bytes past the table: they are inside the blob (the payload length, at least a byte, and
 * the CRC follow it), and a code that would use them is rejected. */
typedef struct {
    const uint8_t *p;
    uint32_t bit, nbits;
} bits;

static uint32_t peek32(const bits *b)
{
    const uint8_t *q = b->p + (b->bit >> 3);
    uint32_t sh = b->bit & 7u;
    uint32_t v;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__) || defined(__i386__))
    __builtin_memcpy(&v, q, 4); /* one unaligned load and a byte reversal */
    v = __builtin_bswap32(v);
#else
    v = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
#endif
    return (v << sh) | (((uint32_t)q[4] << sh) >> 8);
}

/* n <= 32 bits */
ILWP_SMALL static int get_bits(bits *b, uint32_t n, uint32_t *v)
{
    if (n > b->nbits - b->bit) return ILWP_ERR_TABLE;
    *v = n ? peek32(b) >> (32u - n) : 0u;
    b->bit += n;
    return ILWP_OK;
}

/* exp-Golomb-k: z <= 16 zero bits, then the z + k + 1 bits of u + 2^k (a 1 first) */
ILWP_SMALL static int get_eg(bits *b, uint32_t k, uint32_t *v)
{
    uint32_t z = 0, n, x = peek32(b);
    if (x < 0x8000u) return ILWP_ERR_TABLE; /* 17 or more zeros */
#if defined(__GNUC__)
    z = (uint32_t)__builtin_clz(x);
#else
    while (!(x << z & 0x80000000u)) z++;
#endif
    n = 2u * z + k + 1u; /* the whole code, up to 40 bits */
    if (n > b->nbits - b->bit) return ILWP_ERR_TABLE;
    if (n > 32u) { /* the z + k >= 16 bits after the prefix, and its 1 */
        b->bit += z + 1u;
        n = z + k;
        x = (1u << n) | (peek32(b) >> (32u - n));
    } else {
        x >>= 32u - n;
    }
    b->bit += n;
    *v = x - (1u << k);
    return ILWP_OK;
}

/* Per-symbol frequencies from the parsed values (bins or knots, docs/blob-format.md) into
 * freq[0..n-1], back to front and in place, a run of symbols at a time: segment j (symbols j*2^wl ..)
 * reads values j and j + 1 before it writes symbols >= j*2^wl, and only symbol j can be value j
 * (2^wl = 1). A knot segment is a ramp, acc = V[j] * (w - r) + V[j+1] * r + w/2 changing by
 * V[j+1] - V[j] per symbol, so a run's largest frequency is at one of its ends. With edges, the
 * first and last symbols are runs of their own (e[0], e[1]). Returns the sum; the largest frequency
 * in *mx and in *best the first run that has it. */
ILWP_SMALL static uint32_t expand_freqs(uint16_t *freq, uint32_t n, uint32_t wl, uint32_t interp,
                                        const uint32_t *e, uint32_t edges, uint32_t *mx, uint16_t **best)
{
    uint16_t *p = freq + n, *p0, *pb = freq;
    uint32_t s, j, v, acc, d, f, sum = 0, m = 0;
    while (p > freq) {
        s = (uint32_t)(p - freq) - 1u; /* the run's last symbol */
        j = s >> wl;
        p0 = freq + (j << wl);
        d = 0;
        if (edges && (s == n - 1u || s == 0u)) {
            v = e[s != 0u];
            p0 = p - 1;
        } else {
            v = freq[j];
            if (interp && s > j << wl) d = (uint32_t)freq[j + 1u] - v; /* r > 0: knot j + 1 exists */
            if (edges && p0 == freq) p0++;
        }
        acc = (v << wl) + (1u << wl >> 1) + d * (s - (j << wl)); /* mod 2^32, as acc -= d below */
        f = acc >> wl;
        if (f >= m) { /* >=: going down, the first run with the largest frequency is found last */
            m = f;
            pb = p0;
        }
        do {
            f = acc >> wl;
            *--p = (uint16_t)f;
            sum += f;
            acc -= d;
        } while (p > p0);
        p = p0;
        if (f >= m) {
            m = f;
            pb = p0;
        }
    }
    *mx = m;
    *best = pb;
    return sum;
}

/* Parses the table: symbol s's frequency into w->freq[s]; returns P (> 0), *lo and *n_sym,
 * or an error (< 0). */
ILWP_SMALL static int build_table(const uint8_t *p, uint32_t len, ilwp_work *w, int32_t *lo, uint32_t *n_sym)
{
    bits b;
    uint32_t prec, lo8, n, wl, interp, edges, delta, k, nv, i, v, prev = 0, sum, m, e[2] = {0u, 0u};
    uint16_t *best;
    b.p = p;
    b.bit = 0;
    b.nbits = len > 0x1FFFFFFFu ? 0xFFFFFFFFu : len * 8u;
    if (get_bits(&b, 29, &v)) return ILWP_ERR_TABLE; /* P:4 lo:8 n-1:8 wl:3 interp:1 edges:1 delta:1 k:3 */
    prec = v >> 25;
    lo8 = (v >> 17) & 0xFFu;
    n = ((v >> 9) & 0xFFu) + 1u;
    wl = (v >> 6) & 7u;
    interp = (v >> 5) & 1u;
    edges = (v >> 4) & 1u;
    delta = (v >> 3) & 1u;
    k = v & 7u;
    *lo = lo8 >= 128u ? (int32_t)lo8 - 256 : (int32_t)lo8;
    if (!prec || prec > ILWP_MAX_PRECISION || prec > w->slot_log2 || !w->slot || *lo + (int32_t)n > 128 ||
        (edges && n < 2u))
        return ILWP_ERR_TABLE;
    m = 1u << prec;
    /* bins: one value per 2^wl symbols; knots: at symbols 0, 2^wl, ... up to the last symbol */
    nv = interp ? ((n - 1u + (1u << wl) - 1u) >> wl) + 1u : (n + (1u << wl) - 1u) >> wl;
    /* the values go to freq[0..nv-1] first (nv <= n), then are expanded per symbol */
    for (i = 0; i < nv + 2u * edges; i++) {
        if (get_eg(&b, k, &v)) return ILWP_ERR_TABLE;
        if (delta) v = (v & 1u) ? prev - ((v + 1u) >> 1) : prev + (v >> 1);
        if (v > m) return ILWP_ERR_TABLE; /* also catches prev - x wrapping below 0 */
        if (i < nv) w->freq[i] = (uint16_t)v;
        else e[i - nv] = v;
        prev = v;
    }
    /* the remainder goes to the first symbol of largest frequency */
    sum = expand_freqs(w->freq, n, wl, interp && wl, e, edges, &v, &best);
    if (sum > m) return ILWP_ERR_TABLE;
    while (*best != v) best++; /* the first symbol of its run with it */
    *best = (uint16_t)(*best + (m - sum));
    *n_sym = n;
    return (int)prec;
}

static int32_t clamp127(int32_t v)
{
    return v > 127 ? 127 : (v < -127 ? -127 : v);
}

/* Slot entry of a symbol: what one rANS step needs, the same in each of the symbol's f slots.
 * Bits 0-7 the output byte, 8 spare (the byte's carry from 0xFF to 0x00 while filling), 9-20
 * the frequency f (<= 2^11), 21-31 cum, the symbol's first slot (< 2^11). */
#define SLOT_F_SHIFT 9
#define SLOT_CUM_SHIFT 21

/* Fills w->slot from the frequencies in w->freq (they sum to m = 2^P: exactly m slots are written).
 * The output byte is lo + s, intra lossy (lossy_step > 0): the dequantised weight. A symbol's
 * entry is one value, stored eight slots at a time, which may run up to seven slots into the next
 * symbols' (rewritten by them) while 8 or more slots follow it; the last few are stored exactly. */
ILWP_SMALL static ILWP_NOINLINE void fill_slots(ilwp_work *w, uint32_t n_sym, int32_t lo, uint32_t lossy_step)
{
    const uint16_t *fp = w->freq, *const fend = w->freq + n_sym, *fcut = fend;
    uint32_t *p, *q = w->slot, base = (uint32_t)lo & 0xFFu, e, f, tail = 0;
    int32_t v;
    while (fcut != fp && tail < 8u) tail += *--fcut; /* symbols from fcut on have < 8 slots after them */
    for (;;) {
        if (fp == fend) return;
        f = *fp++;
        e = base + (f << SLOT_F_SHIFT);
        base += (f << SLOT_CUM_SHIFT) + 1u;
        if (lossy_step) { /* the dequantised weight */
            v = clamp127(((int32_t)(fp - w->freq) - 1 + lo) * (int32_t)lossy_step);
            e = (e & ~0x1FFu) | ((uint32_t)v & 0xFFu);
        }
        p = q;
        q += f;
        if (fp <= fcut) {
            do {
                p[0] = e;
                p[1] = e;
                p[2] = e;
                p[3] = e;
                p[4] = e;
                p[5] = e;
                p[6] = e;
                p[7] = e;
                p += 8;
            } while (p < q);
        } else {
            for (; p != q; p++) *p = e;
        }
    }
}

#if ILWP_PAIRS
/* The output byte of symbol value v: intra lossy (step > 0) the dequantised weight, else v itself. */
static uint8_t byte_of(int32_t v, uint32_t step)
{
    return (uint8_t)(step ? clamp127(v * (int32_t)step) : v);
}
#endif

/* clamp(floor((ref * mult + 2048) / 4096), -127, 127). |ref * mult| < 2^23: biased by 2^24 the sum is
 * positive, so an unsigned shift floors it (no right shift of a negative value). */
static int32_t scale_pred(int32_t ref, uint32_t mult)
{
    uint32_t t = (uint32_t)(ref * (int32_t)mult) + (1u << 24) + (1u << (MULT_SHIFT - 1));
    return clamp127((int32_t)(t >> MULT_SHIFT) - (1 << (24 - MULT_SHIFT)));
}


/* The next 16-bit payload word (little endian); one halfword load where the target allows it. */
static uint32_t rd16(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__) || defined(__i386__))
    uint16_t v;
    __builtin_memcpy(&v, p, 2);
    return v;
#else
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
#endif
}

#if ILWP_PAIRS
/* Stores two bytes, little endian (the first weight first); one halfword store where allowed. */
static void wr16(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__) || defined(__i386__))
    uint16_t h = (uint16_t)v;
    __builtin_memcpy(p, &h, 2);
#else
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
#endif
}
#endif

/* The renormalisation after a symbol (rANS and pair loops, on their locals x, pay, words): a 16-bit
 * word in when the state fell below RANS_L. Unchecked inside the runs that hold a word for every
 * symbol; checked (no word left: the payload is cut short) for a run's last symbols. */
#define RANS_REFILL()                                                \
    do {                                                             \
        if (x < RANS_L) {                                            \
            ILWP_KEEP_BRANCH();                                      \
            x = (x << 16) | rd16(pay);                               \
            pay += 2;                                                \
        }                                                            \
    } while (0)
#define RANS_REFILL_CHECKED()                                        \
    do {                                                             \
        if (x < RANS_L) {                                            \
            if (words == 0u) return ILWP_ERR_TRUNCATED;              \
            x = (x << 16) | rd16(pay);                               \
            pay += 2;                                                \
        }                                                            \
    } while (0)

/* The rANS symbols of one tensor: per symbol one slot-table load, one multiply-add, and at most
 * one 16-bit refill. A symbol reads at most one word, so while the payload holds a word for every
 * symbol left in a run, the run needs no end checks: runs of min(symbols, words) go unchecked, four
 * symbols per loop test (ILWP_UNROLL); only a symbol decoded with no whole word left is checked. */
static ILWP_NOINLINE int rans_loop(uint32_t *px, const uint8_t **ppay, const uint8_t *pay_end,
                                   const uint32_t *tab, uint32_t prec, uint8_t *out, const uint8_t *out_end)
{
    const uint32_t mask = (1u << prec) - 1u;
    const uint8_t *pay = *ppay;
    uint32_t x = *px, e, j, n, words;
#define RANS_SYMBOL()                                                \
    do {                                                             \
        j = x & mask;                                                \
        e = tab[j];                                                  \
        *out++ = (uint8_t)e;                                         \
        ILWP_KEEP_STEP(out);                                         \
        x = ((e >> SLOT_F_SHIFT) & 0xFFFu) * (x >> prec) + j - (e >> SLOT_CUM_SHIFT); \
    } while (0)
#define RANS_STEP()                                                  \
    do {                                                             \
        RANS_SYMBOL();                                               \
        RANS_REFILL();                                               \
    } while (0)
    while (out != out_end) {
        words = (uint32_t)(pay_end - pay) >> 1;
        n = (uint32_t)(out_end - out);
        n = n < words ? n : words; /* symbols that cannot run out of payload */
#if ILWP_UNROLL
        if (n >= 4u) {
            for (n >>= 2; n > 0u; n--) {
                RANS_STEP();
                RANS_STEP();
                RANS_STEP();
                RANS_STEP();
            }
            continue;
        }
#endif
        /* one symbol, its refill checked: under four left to run unchecked (a run's end, a tensor's
         * last symbols) */
        RANS_SYMBOL();
        RANS_REFILL_CHECKED();
    }
#undef RANS_STEP
#undef RANS_SYMBOL
    *px = x;
    *ppay = pay;
    return ILWP_OK;
}

#if ILWP_PAIRS
/* Pair symbols (format v5), set up from the n symbols' frequencies in freq[] (sum 2^prec): the n^2 <= 256
 * pairs' frequencies f2[a n + b] = 1 + floor(f[a] f[b] (2^p2 - n^2) / 2^(2 prec)), the remainder to the
 * first largest, into the slot table (entry byte: the pair's index), then freq[a n + b] = the pair's two
 * output bytes. In place, last pair first: pair i reads f[i / n] and f[i % n], both at or below i, not
 * yet overwritten (no copy, no memcpy). f[a] f[b] < 2^22 and 2^p2 - n^2 < 2^11: the product is split at
 * bit prec so it stays in 32 bits (a floor of a floor: exact). */
ILWP_SMALL static ILWP_NOINLINE int pair_setup(ilwp_work *w, uint32_t n, int32_t lo, uint32_t prec, uint32_t p2,
                                               uint32_t step)
{
    uint32_t a, b, i = n * n, q, v, sum = 0, mx = 0, ib = 0, k = (1u << p2) - n * n;
    if (n < 2u || n > 16u || p2 > w->slot_log2) return ILWP_ERR_TABLE;
    while (i--) {
        q = (uint32_t)w->freq[i / n] * w->freq[i % n];
        v = 1u + (((q >> prec) * k + (((q & ((1u << prec) - 1u)) * k) >> prec)) >> prec);
        w->freq[i] = (uint16_t)v;
        sum += v;
        if (v >= mx) { /* >=: going down, the first pair with the largest is found last */
            mx = v;
            ib = i;
        }
    }
    w->freq[ib] = (uint16_t)(w->freq[ib] + ((1u << p2) - sum));
    fill_slots(w, n * n, 0, 0u);
    for (i = 0, a = 0; a < n; a++) {
        for (b = 0; b < n; b++) w->freq[i++] = (uint16_t)(byte_of(lo + (int32_t)a, step) | (byte_of(lo + (int32_t)b, step) << 8));
    }
    return ILWP_OK;
}

/* The rANS symbols of a pair record: as rans_loop, but a slot entry's byte is the pair's index and
 * p2[index] its two output bytes (one halfword store). An odd record's last pair stores one byte. */
static ILWP_NOINLINE int pair_loop(uint32_t *px, const uint8_t **ppay, const uint8_t *pay_end, const uint32_t *tab,
                                   const uint16_t *p2, uint32_t prec, uint8_t *out, const uint8_t *out_end)
{
    const uint32_t mask = (1u << prec) - 1u;
    const uint8_t *pay = *ppay;
    uint32_t x = *px, e, j, n, words, v;
#define PAIR_SYMBOL()                                                \
    do {                                                             \
        j = x & mask;                                                \
        e = tab[j];                                                  \
        v = p2[e & 0xFFu];                                           \
        x = ((e >> SLOT_F_SHIFT) & 0xFFFu) * (x >> prec) + j - (e >> SLOT_CUM_SHIFT); \
    } while (0)
#define PAIR_STEP()                                                  \
    do {                                                             \
        PAIR_SYMBOL();                                               \
        wr16(out, v);                                                \
        out += 2;                                                    \
        ILWP_KEEP_STEP(out);                                         \
        RANS_REFILL();                                               \
    } while (0)
    while (out != out_end) {
        words = (uint32_t)(pay_end - pay) >> 1;
        n = (uint32_t)(out_end - out) >> 1; /* whole pairs left */
        n = n < words ? n : words;
#if ILWP_UNROLL
        if (n >= 4u) {
            for (n >>= 2; n > 0u; n--) {
                PAIR_STEP();
                PAIR_STEP();
                PAIR_STEP();
                PAIR_STEP();
            }
            continue;
        }
#endif
        PAIR_SYMBOL();
        if (out_end - out >= 2) {
            wr16(out, v);
            out += 2;
        } else {
            *out++ = (uint8_t)v; /* an odd record's last pair: its first symbol only */
        }
        RANS_REFILL_CHECKED();
    }
#undef PAIR_STEP
#undef PAIR_SYMBOL
    *px = x;
    *ppay = pay;
    return ILWP_OK;
}
#endif

ILWP_SMALL int ilwp_decode(const ilwp_reader *r, const ilwp_tensor *t, const int8_t *ref, uint32_t ref_len,
                int8_t *out, uint32_t out_len, ilwp_work *w)
{
    const uint8_t *pay = r->blob + t->payload_off;
    const uint8_t *const pay_end = pay + t->payload_len;
    const uint8_t *side = r->blob + t->side_off;
    uint8_t *const o = (uint8_t *)out; /* stores mod 256 */
    uint32_t x, n_sym, i, kern, ch, k, rch, mult, sc, sk, rsc, rsk;
    int32_t lo, v;
    int prec, intra;

    if (out_len != t->n_elems || !out) return ILWP_ERR_BUFFER;
    kern = t->n_elems / t->n_channels;
    if (t->mode != ILWP_MODE_INTRA && (!ref || (uint64_t)t->ref_channels * kern != ref_len))
        return ILWP_ERR_REF;
    /* pass 1: symbols to bytes. Intra: the weight itself (lossy: dequantised). Inter: the
     * residual symbol, an int8 too (lo + n_sym <= 128), combined with the prediction below. */
    intra = t->mode == ILWP_MODE_INTRA;
    if (t->table_len == 0u) {
        /* stored (format v3): one int8 symbol per payload byte, no table and no rANS */
#if ILWP_PAIRS
        if (t->pairs) return ILWP_ERR_STREAM; /* no pairs without a table */
#endif
        if (t->payload_len != t->n_elems) return ILWP_ERR_STREAM;
        for (i = 0; i < t->n_elems; i++) {
            v = (int8_t)pay[i];
            o[i] = (uint8_t)(intra && t->step > 1u ? clamp127(v * (int32_t)t->step) : v);
        }
        x = RANS_L; /* the end checks below then hold */
        pay = pay_end;
    } else {
        prec = build_table(r->blob + t->table_off, t->table_len, w, &lo, &n_sym);
        if (prec < 0) return prec;
        if (t->payload_len < 4u) return ILWP_ERR_TRUNCATED;
        x = rd_le(pay, 4);
        pay += 4;
        if (x < RANS_L) return ILWP_ERR_STREAM;
        sc = intra && t->step > 1u ? t->step : 0u; /* intra lossy: bytes are dequantised weights */
#if ILWP_PAIRS
        if (t->pairs) { /* P2 = 8 + the code */
            if (pair_setup(w, n_sym, lo, (uint32_t)prec, t->pairs + 8u, sc)) return ILWP_ERR_TABLE;
            if (pair_loop(&x, &pay, pay_end, w->slot, w->freq, t->pairs + 8u, (uint8_t *)out, (uint8_t *)out + t->n_elems))
                return ILWP_ERR_TRUNCATED;
        } else
#endif
        {
            fill_slots(w, n_sym, lo, sc);
            if (rans_loop(&x, &pay, pay_end, w->slot, (uint32_t)prec, (uint8_t *)out, (uint8_t *)out + t->n_elems))
                return ILWP_ERR_TRUNCATED;
        }
    }
    if (!intra) {
        /* pass 2, in place: add the prediction. Element (c, k) is at c * sc + k * sk: channel-major
         * (c, k) or channel-minor (k, c) storage; its reference (j, k) likewise at j * rsc + k * rsk. */
        sc = t->channel_minor ? 1u : kern;
        sk = t->channel_minor ? t->n_channels : 1u;
        rsc = t->ref_channel_minor ? 1u : kern;
        rsk = t->ref_channel_minor ? t->ref_channels : 1u;
        for (ch = 0; ch < t->n_channels; ch++) {
            rch = t->mode == ILWP_MODE_SEARCHED ? rd_le(side + 2u * (t->n_channels + ch), 2) : ch;
            if (rch >= t->ref_channels) return ILWP_ERR_REF;
            mult = rd_le(side + 2u * ch, 2);
            for (k = 0; k < kern; k++) {
                i = ch * sc + k * sk;
                v = scale_pred(ref[rch * rsc + k * rsk], mult) + out[i] * (int32_t)t->step;
                o[i] = (uint8_t)(t->step > 1u ? clamp127(v) : v); /* lossless: mod 256 */
            }
        }
    }
    if (x != RANS_L || pay != pay_end) return ILWP_ERR_STREAM;
    return ILWP_OK;
}

ILWP_SMALL int32_t ilwp_decode_all(const uint8_t *blob, uint32_t len, uint32_t flags, int8_t *out, uint32_t out_cap,
                        uint32_t *offsets, uint32_t *tensor_ids, uint32_t max_records, ilwp_work *w)
{
    ilwp_reader r;
    ilwp_tensor t;
    uint32_t n = 0, used = 0;
    int rc = ilwp_open(&r, blob, len, flags);
    if (rc) return rc;
    offsets[0] = 0;
    for (;;) {
        const int8_t *ref = 0;
        uint32_t ref_len = 0;
        rc = ilwp_next(&r, &t);
        if (rc == ILWP_END) return (int32_t)n;
        if (rc) return rc;
        if (n >= max_records) return ILWP_ERR_BUFFER;
        if (t.n_elems > out_cap - used) return ILWP_ERR_BUFFER;
        if (t.mode != ILWP_MODE_INTRA) {
            ref = out + offsets[t.ref_record];
            ref_len = offsets[t.ref_record + 1u] - offsets[t.ref_record];
        }
        rc = ilwp_decode(&r, &t, ref, ref_len, out + used, t.n_elems, w);
        if (rc) return rc;
        if (tensor_ids) tensor_ids[n] = t.tensor_id;
        used += t.n_elems;
        offsets[++n] = used;
    }
}
