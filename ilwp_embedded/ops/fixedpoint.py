# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""gemmlowp's scalar int32/int16 fixed-point arithmetic and TFLM's MultiplyByQuantizedMultiplier, on
Python ints, bit for bit (double-rounding build), for the elementwise ops whose int8 result is a
function of the int8 input alone: the host evaluates that function on all 256 inputs once and the
firmware looks the answer up (ops/quant.py lut_params, firmware/kernels/lut_s8.c).

Independent implementation from reading gemmlowp's fixedpoint.h and TFLM's reference kernels. A
FixedPoint<int32, I> value is its raw int32 here; I (integer bits) is passed where it matters.
"""

from __future__ import annotations

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


def wrap32(x: int) -> int:
    """Two's complement int32 wrap-around (FixedPoint + and - on raw int32)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def trunc_div(a: int, b: int) -> int:
    """C++ integer division (towards zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def srdhm(a: int, b: int, bits: int = 32) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul for int32 (bits=32) or int16 (bits=16)."""
    lo = -(1 << (bits - 1))
    if a == b == lo:
        return (1 << (bits - 1)) - 1
    ab = a * b
    nudge = (1 << (bits - 2)) if ab >= 0 else 1 - (1 << (bits - 2))
    return trunc_div(ab + nudge, 1 << (bits - 1))


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent, ties away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def sat_rounding_mul_by_pot(x: int, exponent: int) -> int:
    """gemmlowp SaturatingRoundingMultiplyByPOT<exponent> on int32."""
    if exponent > 0:
        threshold = (1 << (31 - exponent)) - 1
        if x > threshold:
            return INT32_MAX
        if x < -threshold:
            return INT32_MIN
        return wrap32(x << exponent)
    return rounding_divide_by_pot(x, -exponent) if exponent < 0 else x


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLM MultiplyByQuantizedMultiplier (double rounding): shift > 0 is a left shift."""
    left, right = max(shift, 0), max(-shift, 0)
    return rounding_divide_by_pot(srdhm(wrap32(x * (1 << left)), multiplier), right)


def _mul(a: int, b: int) -> int:
    """FixedPoint * FixedPoint (integer bits add)."""
    return srdhm(a, b)


def _rescale(raw: int, src_bits: int, dst_bits: int) -> int:
    return sat_rounding_mul_by_pot(raw, src_bits - dst_bits)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    constant_term, one_third = 1895147668, 715827883
    x = wrap32(a + (1 << 28))  # a + 1/8
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = sat_rounding_mul_by_pot(x4, -2)
    poly = sat_rounding_mul_by_pot(wrap32(_mul(wrap32(x4_over_4 + x3), one_third) + x2), -1)
    return wrap32(constant_term + _mul(constant_term, wrap32(x + poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """gemmlowp exp_on_negative_values: FixedPoint<int32, integer_bits> -> FixedPoint<int32, 0>."""
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    a_mod = wrap32((a & (one_quarter - 1)) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(_rescale(a_mod, integer_bits, 0))
    remainder = wrap32(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent and remainder & (1 << (frac + exponent)):
            result = _mul(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return INT32_MAX if a == 0 else result


def _rounding_half_sum(a: int, b: int) -> int:
    s = a + b
    return trunc_div(s + (1 if s >= 0 else -1), 2)


def _newton_reciprocal(a: int) -> int:
    """x ~= 1 / (half of 1 + a) in FixedPoint<int32, 2>, a in FixedPoint<int32, 0> [0, 1)."""
    half_denominator = _rounding_half_sum(a, INT32_MAX)
    x = wrap32(1515870810 + _mul(half_denominator, -1010580540))  # 48/17 - 32/17 * d
    for _ in range(3):
        one_minus = wrap32((1 << 29) - _mul(half_denominator, x))
        x = wrap32(x + _rescale(_mul(x, one_minus), 4, 2))
    return x


def logistic_q(a: int, integer_bits: int) -> int:
    """gemmlowp logistic: FixedPoint<int32, integer_bits> -> FixedPoint<int32, 0>."""
    if a == 0:
        return 1 << 30
    positive = a > 0
    e = exp_on_negative_values(wrap32(-a if positive else a), integer_bits)
    r = _rescale(_newton_reciprocal(e), 1, 0)  # one_over_one_plus_x: ExactMulByPot<-1>, Rescale<0>
    return r if positive else wrap32(INT32_MAX - r)


def tanh_q(a: int, integer_bits: int) -> int:
    """gemmlowp tanh: FixedPoint<int32, integer_bits> -> FixedPoint<int32, 0>."""
    if a == 0:
        return 0
    negative = a < 0
    n = a if negative else wrap32(-a)
    t = exp_on_negative_values(n, integer_bits + 1)  # ExactMulByPot<1>: same raw, one more integer bit
    r = _rescale(wrap32(_newton_reciprocal(t) - (1 << 29)), 2, 0)  # one_minus_x_over_one_plus_x
    return wrap32(-r) if negative else r


def srdhm16(a: int, b: int) -> int:
    return srdhm(a, b, bits=16)


def to_int16(x: int) -> int:
    """static_cast<int16_t>: wrap to 16 bits."""
    return ((x + (1 << 15)) & 0xFFFF) - (1 << 15)
