/* SPDX-FileCopyrightText: 2026 The ilwp-embed authors */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ilwp_dsp.h - optional Cortex-M4/M7/M33 DSP (SIMD32) fast path helpers.
 *
 * ILWP_USE_DSP is 1 when the target has the DSP extension (__ARM_FEATURE_DSP) and
 * ILWP_NO_DSP is not defined; the helpers then map to ACLE intrinsics.  Defining
 * ILWP_EMULATE_DSP on any other target selects the same code path with portable C
 * definitions of the intrinsics, so the host tests exercise the fast path's data
 * layout and loop structure bit for bit.
 *
 * ILWP_DSP_ASM is 1 on top of that where the conv inner loop may be GCC inline assembly (a real
 * Thumb-2 DSP target, GCC or clang, optimising build: the loop needs 14 registers, so not at -O0,
 * where r7 is the frame pointer). Otherwise the same loop is compiled from C.
 */
#ifndef ILWP_DSP_H
#define ILWP_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(ILWP_NO_DSP)
#include <arm_acle.h>
#define ILWP_USE_DSP 1
#define ILWP_NATIVE_DSP 1
/* Sign-extend bytes 0 and 2 into two int16 halves. */
static inline uint32_t ilwp_sxtb16(uint32_t x) { return (uint32_t)__sxtb16(x); }
/* Sign-extend bytes 1 and 3 into two int16 halves (one SXTB16 with ROR #8). */
static inline uint32_t ilwp_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
/* a + ilwp_sxtb16(x) and a + ilwp_sxtb16_ror8(x), per 16-bit half (wrapping): one SXTAB16. */
static inline uint32_t ilwp_sxtab16(uint32_t a, uint32_t x) { return (uint32_t)__sxtab16(a, x); }
static inline uint32_t ilwp_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
/* acc + lo(a)*lo(b) + hi(a)*hi(b), halves signed 16-bit. */
static inline int32_t ilwp_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad(a, b, acc); }
/* Two independent 16-bit additions (wrapping). */
static inline uint32_t ilwp_sadd16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16(a, b); }
/* Saturate to [-128, 127] (SSAT). */
static inline int32_t ilwp_sat_s8(int32_t x) { return __ssat(x, 8); }
#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__thumb2__)
#define ILWP_DSP_ASM 1
#endif
#elif defined(ILWP_EMULATE_DSP)
#define ILWP_USE_DSP 1
static inline uint32_t ilwp_sxtb16(uint32_t x)
{
    const uint32_t lo = (uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)(x & 0xffu);
    const uint32_t hi = (uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)((x >> 16) & 0xffu);
    return lo | (hi << 16);
}
static inline uint32_t ilwp_sxtb16_ror8(uint32_t x) { return ilwp_sxtb16((x >> 8) | (x << 24)); }
static inline int32_t ilwp_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t p0 = (int32_t)(int16_t)(a & 0xffffu) * (int32_t)(int16_t)(b & 0xffffu);
    const int32_t p1 = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p0 + (uint32_t)p1);
}
static inline uint32_t ilwp_sadd16(uint32_t a, uint32_t b)
{
    const uint32_t lo = (a + b) & 0xffffu;
    const uint32_t hi = ((a >> 16) + (b >> 16)) & 0xffffu;
    return lo | (hi << 16);
}
static inline uint32_t ilwp_sxtab16(uint32_t a, uint32_t x) { return ilwp_sadd16(a, ilwp_sxtb16(x)); }
static inline uint32_t ilwp_sxtab16_ror8(uint32_t a, uint32_t x) { return ilwp_sadd16(a, ilwp_sxtb16_ror8(x)); }
static inline int32_t ilwp_sat_s8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#else
#define ILWP_USE_DSP 0
static inline int32_t ilwp_sat_s8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#endif
#ifndef ILWP_DSP_ASM
#define ILWP_DSP_ASM 0
#endif

/* (a * b + c * 2^32 + 2^31) >> 32 in exact 64-bit arithmetic (wrapping): SMMLAR, the high word of a
 * product plus c, rounded. */
#if defined(ILWP_NATIVE_DSP)
static inline int32_t ilwp_smmlar(int32_t a, int32_t b, int32_t c)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}
#else
static inline int32_t ilwp_smmlar(int32_t a, int32_t b, int32_t c)
{
    const uint64_t v = (uint64_t)((int64_t)a * b) + ((uint64_t)(uint32_t)c << 32) + 0x80000000u;
    return (int32_t)(uint32_t)(v >> 32);
}
#endif

/* Unaligned-safe 32-bit loads and stores (single LDR/STR on Cortex-M3 and later). */
static inline uint32_t ilwp_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static inline void ilwp_write_u32(void *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }

#endif /* ILWP_DSP_H */
