# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Host-side quantization constants of the int8 kernels, computed exactly as TFLite Micro's Prepare().

Pure functions of a typed Graph operator. Each returns a dataclass whose fields carry the names (and
order) of the matching C struct in firmware/kernels/ilwp_kernels.h; ops/cstruct.py prints them as C
constants for the generator and packs them into ctypes structures for the host runner.

Arithmetic notes (what TFLM does, reproduced here):
- QuantizeMultiplier: frexp in double precision, round(q * 2^31) half away from zero, 2^31 -> 2^30 and
  shift+1, shift < -31 -> (0, 0). Double-rounding build (no TFLITE_SINGLE_ROUNDING).
- Effective conv scale per channel: double(in_scale) * double(filter_scale[c]) / double(out_scale).
- Activation range: zero_point + round(x / scale) in float32, clamped to [-128, 127].
- ADD: left_shift 20; twice_max = 2 * max(s1, s2); inputs s_i / twice_max, output
  twice_max / (2^20 * s_out), each via QuantizeMultiplier (shifts <= 0).
- SOFTMAX: multiplier/left shift of beta * in_scale * 2^26 (capped at 2^31 - 1);
  diff_min = -floor((2^5 - 1) * 2^26 / 2^left_shift).
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, field

import numpy as np

from ilwp_embedded.ingest.graph import Graph, Operator, Tensor
from ilwp_embedded.ops import fixedpoint as FP

INT8_MIN, INT8_MAX = -128, 127


class UnsupportedOp(ValueError):
    """The operator (or one of its settings) has no int8 kernel here."""


# --------------------------------------------------------------------------------------------- basics

def _round_away(x: float) -> int:
    """std::round: halves away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(Q0.31 multiplier, shift) with real ~= multiplier * 2^(shift - 31); shift > 0 is a left shift."""
    real = float(real)
    if real < 0:
        raise ValueError(f"negative multiplier {real}")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def _scale(t: Tensor) -> float:
    if t.quant is None:
        raise UnsupportedOp(f"tensor '{t.name}' is not quantized")
    return float(np.float32(t.quant.scale[0]))


def _zp(t: Tensor) -> int:
    return 0 if t.quant is None else int(t.quant.zero_point[0])


def activation_range(activation: str | None, out: Tensor) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized for int8 (float32 division, std::round)."""
    scale = np.float32(_scale(out))
    zp = _zp(out)

    def q(x: float) -> int:
        return zp + _round_away(float(np.float32(x) / scale))

    act = activation or "NONE"
    if act == "NONE":
        return INT8_MIN, INT8_MAX
    if act == "RELU":
        return max(INT8_MIN, q(0.0)), INT8_MAX
    if act == "RELU6":
        return max(INT8_MIN, q(0.0)), min(INT8_MAX, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(INT8_MIN, q(-1.0)), min(INT8_MAX, q(1.0))
    raise UnsupportedOp(f"fused activation {act} is not supported")


def compute_out_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    """TFLite ComputeOutSize."""
    eff = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    if padding == "VALID":
        return (in_size + stride - eff) // stride
    raise UnsupportedOp(f"padding {padding}")


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> tuple[int, int]:
    """TFLite ComputePaddingWithOffset: (padding before, extra padding after)."""
    eff = (filter_size - 1) * dilation + 1
    total = max(0, (out_size - 1) * stride + eff - in_size)
    return total // 2, total % 2


def padding_hw(padding: str, stride_h: int, stride_w: int, dil_h: int, dil_w: int,
               in_h: int, in_w: int, f_h: int, f_w: int) -> tuple[int, int, int, int]:
    """TFLite ComputePaddingHeightWidth: (pad_h, pad_w, out_h, out_w)."""
    out_h = compute_out_size(padding, in_h, f_h, stride_h, dil_h)
    out_w = compute_out_size(padding, in_w, f_w, stride_w, dil_w)
    pad_h, _ = compute_padding(stride_h, dil_h, in_h, f_h, out_h)
    pad_w, _ = compute_padding(stride_w, dil_w, in_w, f_w, out_w)
    return pad_h, pad_w, out_h, out_w


def _nhwc(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise UnsupportedOp(f"expected a 4-D NHWC tensor, got shape {shape}")
    return tuple(int(d) for d in shape)  # type: ignore[return-value]


def _pad4(shape: tuple[int, ...]) -> list[int]:
    if len(shape) > 4:
        raise UnsupportedOp(f"more than 4 dimensions: {shape}")
    return [1] * (4 - len(shape)) + [int(d) for d in shape]


def _per_channel_multipliers(in_t: Tensor, w_t: Tensor, out_t: Tensor, channels: int) -> tuple[np.ndarray, np.ndarray]:
    in_s = float(np.float32(_scale(in_t)))
    out_s = float(np.float32(_scale(out_t)))
    if w_t.quant is None:
        raise UnsupportedOp(f"filter '{w_t.name}' is not quantized")
    fs = w_t.quant.scale.astype(np.float32)
    mult = np.zeros(channels, np.int32)
    shift = np.zeros(channels, np.int32)
    for c in range(channels):
        f = float(fs[c] if fs.size > 1 else fs[0])
        mult[c], shift[c] = quantize_multiplier(in_s * f / out_s)
    return mult, shift


def _check_int8(graph: Graph, op: Operator, idx: list[int]) -> None:
    for i in idx:
        t = graph.tensor(op.inputs[i]) if i >= 0 else graph.tensor(op.outputs[0])
        if t.dtype != "int8":
            raise UnsupportedOp(f"{op.op} #{op.index}: tensor '{t.name}' is {t.dtype}, only int8 is supported")
    if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = graph.tensor(op.inputs[2])
        if b.dtype != "int32":
            raise UnsupportedOp(f"{op.op} #{op.index}: bias '{b.name}' is {b.dtype}, only int32 is supported")


# --------------------------------------------------------------------------------------------- params

@dataclass
class ConvParams:
    batches: int
    input_h: int
    input_w: int
    input_c: int
    filter_h: int
    filter_w: int
    filter_c: int
    output_h: int
    output_w: int
    output_c: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: np.ndarray = field(repr=False)  # int32 [output_c]
    shift: np.ndarray = field(repr=False)       # int32 [output_c]

    @property
    def scratch_bytes(self) -> int:
        """== ilwp_conv2d_s8_scratch_size(): two int16 im2col columns, each padded to a multiple of 4."""
        k = self.filter_h * self.filter_w * self.filter_c
        return 2 * ((k + 3) // 4 * 4) * 2


@dataclass
class DepthwiseConvParams:
    batches: int
    input_h: int
    input_w: int
    input_c: int
    filter_h: int
    filter_w: int
    output_h: int
    output_w: int
    output_c: int
    depth_multiplier: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: np.ndarray = field(repr=False)
    shift: np.ndarray = field(repr=False)


@dataclass
class FullyConnectedParams:
    batches: int
    input_depth: int
    output_depth: int
    input_offset: int
    filter_offset: int
    output_offset: int
    act_min: int
    act_max: int
    per_channel: int
    multiplier: np.ndarray = field(repr=False)  # int32 [output_depth] or [1]
    shift: np.ndarray = field(repr=False)


@dataclass
class BinaryCall:
    """How a two-input elementwise kernel (ADD, MUL) is called: not part of its C struct."""

    _: KW_ONLY
    size: int = 0
    broadcast: bool = False
    out_shape: tuple[int, int, int, int] = (1, 1, 1, 1)
    in1_strides: tuple[int, int, int, int] = (0, 0, 0, 0)  # elements; 0 on a broadcast dimension
    in2_strides: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class AddParams(BinaryCall):
    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


@dataclass
class PoolParams:
    batches: int
    input_h: int
    input_w: int
    channels: int
    output_h: int
    output_w: int
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    act_min: int
    act_max: int


@dataclass
class SoftmaxParams:
    rows: int
    depth: int
    input_multiplier: int
    input_left_shift: int
    diff_min: int


@dataclass
class MeanParams:
    input_shape: tuple[int, int, int, int]
    reduce: tuple[int, int, int, int]
    num_elements: int
    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


@dataclass
class PadParams:
    input_shape: tuple[int, int, int, int]
    pad_before: tuple[int, int, int, int]
    pad_after: tuple[int, int, int, int]
    pad_value: int


@dataclass
class ConcatParams:
    copy_sizes: tuple[int, ...]
    outer_size: int


@dataclass
class ReshapeParams:
    size: int


# --------------------------------------------------------------------------------------------- per op

def conv_params(graph: Graph, op: Operator) -> ConvParams:
    _check_int8(graph, op, [0, 1, -1])
    x, w, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    o = op.options
    n, ih, iw, ic = _nhwc(x.shape)
    oc, fh, fw, fc = _nhwc(w.shape)
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    dh, dw = int(o.get("dilationHFactor", 1)), int(o.get("dilationWFactor", 1))
    pad_h, pad_w, oh, ow = padding_hw(o.get("padding", "VALID"), sh, sw, dh, dw, ih, iw, fh, fw)
    if _nhwc(y.shape) != (n, oh, ow, oc):
        raise UnsupportedOp(f"CONV_2D #{op.index}: output shape {y.shape} != computed {(n, oh, ow, oc)}")
    if ic % fc or oc % (ic // fc):
        raise UnsupportedOp(f"CONV_2D #{op.index}: input channels {ic} vs filter channels {fc}")
    mult, shift = _per_channel_multipliers(x, w, y, oc)
    lo, hi = activation_range(o.get("fusedActivationFunction"), y)
    return ConvParams(n, ih, iw, ic, fh, fw, fc, oh, ow, oc, sh, sw, dh, dw, pad_h, pad_w,
                      -_zp(x), _zp(y), lo, hi, mult, shift)


def depthwise_conv_params(graph: Graph, op: Operator) -> DepthwiseConvParams:
    _check_int8(graph, op, [0, 1, -1])
    x, w, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    o = op.options
    n, ih, iw, ic = _nhwc(x.shape)
    _, fh, fw, oc = _nhwc(w.shape)
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    dh, dw = int(o.get("dilationHFactor", 1)), int(o.get("dilationWFactor", 1))
    pad_h, pad_w, oh, ow = padding_hw(o.get("padding", "VALID"), sh, sw, dh, dw, ih, iw, fh, fw)
    if oc % ic:
        raise UnsupportedOp(f"DEPTHWISE_CONV_2D #{op.index}: {oc} output channels for {ic} inputs")
    dm = oc // ic  # TFLM derives it from the shapes
    if _nhwc(y.shape) != (n, oh, ow, oc):
        raise UnsupportedOp(f"DEPTHWISE_CONV_2D #{op.index}: output shape {y.shape} != {(n, oh, ow, oc)}")
    mult, shift = _per_channel_multipliers(x, w, y, oc)
    lo, hi = activation_range(o.get("fusedActivationFunction"), y)
    return DepthwiseConvParams(n, ih, iw, ic, fh, fw, oh, ow, oc, dm, sh, sw, dh, dw, pad_h, pad_w,
                               -_zp(x), _zp(y), lo, hi, mult, shift)


def fully_connected_params(graph: Graph, op: Operator) -> FullyConnectedParams:
    _check_int8(graph, op, [0, 1, -1])
    x, w, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    out_depth, depth = int(w.shape[0]), int(w.shape[1])
    total = math.prod(x.shape)
    if total % depth:
        raise UnsupportedOp(f"FULLY_CONNECTED #{op.index}: input size {total} not a multiple of {depth}")
    per_channel = w.quant is not None and w.quant.scale.size > 1
    mult, shift = _per_channel_multipliers(x, w, y, out_depth if per_channel else 1)
    lo, hi = activation_range(op.options.get("fusedActivationFunction"), y)
    return FullyConnectedParams(total // depth, depth, out_depth, -_zp(x), -_zp(w), _zp(y), lo, hi,
                                int(per_channel), mult, shift)


def _strides4(shape4: list[int]) -> list[int]:
    st = [0, 0, 0, 1]
    for d in (2, 1, 0):
        st[d] = st[d + 1] * shape4[d + 1]
    return st


def add_params(graph: Graph, op: Operator) -> AddParams:
    _check_int8(graph, op, [0, 1, -1])
    a, b, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    s1, s2, so = _scale(a), _scale(b), _scale(y)
    left_shift = 20
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    lo, hi = activation_range(op.options.get("fusedActivationFunction"), y)
    p = AddParams(-_zp(a), -_zp(b), _zp(y), left_shift, m1, sh1, m2, sh2, mo, sho, lo, hi)
    _broadcast_strides(graph, op, p)
    return p


def pool_params(graph: Graph, op: Operator) -> PoolParams:
    _check_int8(graph, op, [0, -1])
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    o = op.options
    n, ih, iw, c = _nhwc(x.shape)
    fh, fw = int(o["filterHeight"]), int(o["filterWidth"])
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    pad_h, pad_w, oh, ow = padding_hw(o.get("padding", "VALID"), sh, sw, 1, 1, ih, iw, fh, fw)
    if _nhwc(y.shape) != (n, oh, ow, c):
        raise UnsupportedOp(f"{op.op} #{op.index}: output shape {y.shape} != {(n, oh, ow, c)}")
    lo, hi = activation_range(o.get("fusedActivationFunction"), y)
    return PoolParams(n, ih, iw, c, oh, ow, fh, fw, sh, sw, pad_h, pad_w, lo, hi)


def softmax_params(graph: Graph, op: Operator) -> SoftmaxParams:
    _check_int8(graph, op, [0, -1])
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if _zp(y) != -128 or abs(_scale(y) - 1.0 / 256) > 1e-9:
        raise UnsupportedOp(f"SOFTMAX #{op.index}: int8 output must have scale 1/256, zero point -128")
    beta = float(np.float32(op.options.get("beta", 1.0)))
    integer_bits = 5
    real = min(beta * _scale(x) * float(1 << (31 - integer_bits)), float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise UnsupportedOp(f"SOFTMAX #{op.index}: input scale too small (negative shift)")
    radius = math.floor(((1 << integer_bits) - 1) * float(1 << (31 - integer_bits)) / float(1 << left_shift))
    depth = int(x.shape[-1])
    return SoftmaxParams(math.prod(x.shape) // depth, depth, mult, left_shift, -int(radius))


def mean_params(graph: Graph, op: Operator) -> MeanParams:
    _check_int8(graph, op, [0, -1])
    x, ax, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if ax.data is None:
        raise UnsupportedOp(f"MEAN #{op.index}: axis must be constant")
    rank = len(x.shape)
    axes = {int(a) % rank for a in np.asarray(ax.data).reshape(-1)}
    shape4 = _pad4(x.shape)
    reduce4 = [0] * (4 - rank) + [1 if d in axes else 0 for d in range(rank)]
    n = math.prod(int(x.shape[d]) for d in axes)
    mult, shift = quantize_multiplier(_scale(x) / _scale(y))
    # TFLM (reference QuantizedMeanOrSum) folds 1/num_elements into the multiplier.
    s = (n.bit_length() - 1) if n > 0 else 0
    s = min(s, 32, 31 + shift)
    mult = int((mult << s) // n) if n > 0 else mult
    shift = shift - s
    return MeanParams(tuple(shape4), tuple(reduce4), n, _zp(x), _zp(y), mult, shift)  # type: ignore[arg-type]


def pad_params(graph: Graph, op: Operator) -> PadParams:
    _check_int8(graph, op, [0, -1])
    x, pads, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if pads.data is None:
        raise UnsupportedOp(f"{op.op} #{op.index}: paddings must be constant")
    pd = np.asarray(pads.data).reshape(-1, 2).astype(int)
    rank = len(x.shape)
    before = [0] * (4 - rank) + [int(v) for v in pd[:, 0]]
    after = [0] * (4 - rank) + [int(v) for v in pd[:, 1]]
    value = _zp(y)
    if op.op == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        cv = graph.tensor(op.inputs[2])
        if cv.data is not None:
            value = int(np.asarray(cv.data).reshape(-1)[0])
    return PadParams(tuple(_pad4(x.shape)), tuple(before), tuple(after), value)  # type: ignore[arg-type]


def concat_params(graph: Graph, op: Operator) -> ConcatParams:
    y = graph.tensor(op.outputs[0])
    _check_int8(graph, op, list(range(len(op.inputs))) + [-1])
    for i in op.inputs:
        t = graph.tensor(i)
        if _zp(t) != _zp(y) or np.float32(_scale(t)) != np.float32(_scale(y)):
            raise UnsupportedOp(f"CONCATENATION #{op.index}: input '{t.name}' quantization differs from output")
    rank = len(y.shape)
    axis = int(op.options.get("axis", 0)) % rank
    outer = math.prod(y.shape[:axis])
    copy = tuple(math.prod(graph.tensor(i).shape[axis:]) for i in op.inputs)
    act = op.options.get("fusedActivationFunction") or "NONE"
    if act != "NONE":
        raise UnsupportedOp(f"CONCATENATION #{op.index}: fused activation {act}")
    return ConcatParams(copy, int(outer))


def reshape_params(graph: Graph, op: Operator) -> ReshapeParams:
    return ReshapeParams(math.prod(graph.tensor(op.outputs[0]).shape))


# ------------------------------------------------------------------------ table-driven elementwise ops
# LOGISTIC, TANH and HARD_SWISH map each int8 input to an int8 output through integer arithmetic of the
# input alone, so the host evaluates TFLM's arithmetic (ops/fixedpoint.py) on all 256 inputs and the
# kernel (ilwp_lut_s8) looks the answer up: bit-exact by construction, and faster than the arithmetic.

@dataclass
class LutParams:
    size: int                               # elements
    table: np.ndarray = field(repr=False)   # int8 [256]: output for input i - 128


def _frexp_multiplier(real: float, what: str) -> tuple[int, int]:
    """TFLM's LOGISTIC/TANH Prepare: frexp, then round(q * 2^31) (no 2^31 -> 2^30 correction)."""
    q, shift = math.frexp(real)
    mult = _round_away(q * (1 << 31))
    if mult >= 1 << 31 or shift < 0:
        raise UnsupportedOp(f"{what}: input scale {real / (1 << 27):g} out of the kernel's range")
    return mult, shift


def _sigmoid_like_table(graph: Graph, op: Operator, fn, out_frac_shift: int, out_zp: int) -> np.ndarray:
    """reference_integer_ops::Logistic / Tanh for int8: input in Q4.27, gemmlowp fn, output rounded
    down to 8 bits."""
    x = graph.tensor(op.inputs[0])
    mult, shift = _frexp_multiplier(_scale(x) * float(1 << 27), f"{op.op} #{op.index}")
    radius = math.floor(15.0 * float(1 << 27) / float(1 << shift))  # CalculateInputRadius(4, shift, 31)
    zp = _zp(x)
    table = np.zeros(256, np.int8)
    for i in range(256):
        v = i - 128 - zp
        if v <= -radius:
            r = INT8_MIN
        elif v >= radius:
            r = INT8_MAX
        else:
            q = fn(FP.multiply_by_quantized_multiplier(v, mult, shift), 4)
            r = min(max(FP.rounding_divide_by_pot(q, out_frac_shift) + out_zp, INT8_MIN), INT8_MAX)
        table[i] = r
    return table


def _elementwise_shapes(graph: Graph, op: Operator) -> int:
    _check_int8(graph, op, [0, -1])
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if math.prod(x.shape) != math.prod(y.shape):
        raise UnsupportedOp(f"{op.op} #{op.index}: input and output sizes differ")
    return math.prod(y.shape)


def logistic_params(graph: Graph, op: Operator) -> LutParams:
    size = _elementwise_shapes(graph, op)
    if _zp(graph.tensor(op.outputs[0])) != INT8_MIN:
        raise UnsupportedOp(f"LOGISTIC #{op.index}: int8 output must have zero point -128")
    return LutParams(size, _sigmoid_like_table(graph, op, FP.logistic_q, 31 - 8, INT8_MIN))


def tanh_params(graph: Graph, op: Operator) -> LutParams:
    return LutParams(_elementwise_shapes(graph, op), _sigmoid_like_table(graph, op, FP.tanh_q, 31 - 7, 0))


def relu_params(graph: Graph, op: Operator) -> LutParams:
    """TFLM ReluQuantized for int8 (CalculateReluOpData: a float32 scale ratio, then clamp at the output
    zero point); Keras writes it after a TRANSPOSE_CONV, which does not fuse it."""
    size = _elementwise_shapes(graph, op)
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    mult, shift = quantize_multiplier(float(np.float32(_scale(x)) / np.float32(_scale(y))))
    in_zp, out_zp = _zp(x), _zp(y)
    lo = max(INT8_MIN, out_zp)
    table = np.array([min(max(out_zp + FP.multiply_by_quantized_multiplier(i - 128 - in_zp, mult, shift), lo),
                          INT8_MAX) for i in range(256)], np.int8)
    return LutParams(size, table)


def relu6_params(graph: Graph, op: Operator) -> LutParams:
    """TFLM Relu6Quantized for int8: the input clamped to [its zero point, 6.0 in its quantization]
    (FloatToQuantizedType: float32 division, rounded half away from zero); TFLM ignores the output's
    quantization, and so does the table."""
    size = _elementwise_shapes(graph, op)
    x = graph.tensor(op.inputs[0])
    zero = _zp(x)
    six = min(max(_round_away(float(np.float32(6.0) / np.float32(_scale(x)))) + zero, INT8_MIN), INT8_MAX)
    return LutParams(size, np.clip(np.arange(-128, 128), zero, max(zero, six)).astype(np.int8))


def _int16_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier, then TFLM DownScaleInt32ToInt16Multiplier."""
    m32, exponent = quantize_multiplier(real)
    m16 = FP.INT16_MAX if m32 >= (1 << 31) - 1 - (1 << 15) else (m32 + (1 << 15)) >> 16
    return m16, exponent


def _sat_left_shift16(v: int, amount: int) -> int:
    return min(max(v * (1 << amount), FP.INT16_MIN), FP.INT16_MAX)


def hard_swish_params(graph: Graph, op: Operator) -> LutParams:
    """reference_ops::HardSwish<int8_t> with TFLM's HardSwishPrepare constants (float32 scale ratios)."""
    size = _elementwise_shapes(graph, op)
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    hires = np.float32(1.0 / 128.0) * np.float32(_scale(x))
    out_m, out_e = _int16_multiplier(float(hires / np.float32(_scale(y))))
    relu_m, relu_e = _int16_multiplier(float(hires / (np.float32(3.0) / np.float32(32768.0))))
    if out_e > 0:
        raise UnsupportedOp(f"HARD_SWISH #{op.index}: output scale too small for the int8 kernel")
    in_zp, out_zp = _zp(x), _zp(y)
    table = np.zeros(256, np.int8)
    for i in range(256):
        hi = FP.to_int16((i - 128 - in_zp) * (1 << 7))
        pre_out = FP.srdhm16(hi, out_m)
        r = hi
        if relu_e > 0:
            r = _sat_left_shift16(r, relu_e - 1)
        r = FP.srdhm16(r, relu_m)
        if relu_e > 0:
            r = _sat_left_shift16(r, 1)
        if relu_e < 0:
            r = FP.rounding_divide_by_pot(r, -relu_e)
        r = FP.to_int16((r + (1 << 15)) >> 1)
        pre = FP.to_int16(FP.trunc_div(r * pre_out, 1 << 15))  # SaturatingDoublingHighMul (no rounding)
        v = FP.to_int16(FP.rounding_divide_by_pot(pre, -out_e) + out_zp)
        table[i] = min(max(v, INT8_MIN), INT8_MAX)
    return LutParams(size, table)


# ---------------------------------------------------------------------------------------------- MUL

@dataclass
class MulParams(BinaryCall):
    input1_offset: int
    input2_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def _broadcast_strides(graph: Graph, op: Operator, p: BinaryCall) -> None:
    """Fill the BinaryCall fields: the size, and the broadcast strides when the two input shapes differ."""
    a, b, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    p.size = math.prod(y.shape)
    if tuple(a.shape) == tuple(b.shape):
        return
    out4 = _pad4(y.shape)
    a4, b4 = _pad4(a.shape), _pad4(b.shape)
    sa, sb = _strides4(a4), _strides4(b4)
    p.broadcast = True
    p.out_shape = tuple(out4)
    p.in1_strides = tuple(0 if a4[d] == 1 and out4[d] != 1 else sa[d] for d in range(4))
    p.in2_strides = tuple(0 if b4[d] == 1 and out4[d] != 1 else sb[d] for d in range(4))


def mul_params(graph: Graph, op: Operator) -> MulParams:
    """TFLM CalculateOpDataMul for int8: one multiplier of double(s1) * double(s2) / double(s_out)."""
    _check_int8(graph, op, [0, 1, -1])
    a, b, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    mult, shift = quantize_multiplier(_scale(a) * _scale(b) / _scale(y))
    lo, hi = activation_range(op.options.get("fusedActivationFunction"), y)
    p = MulParams(-_zp(a), -_zp(b), _zp(y), mult, shift, lo, hi)
    _broadcast_strides(graph, op, p)
    return p


# ------------------------------------------------------------------------------------ TRANSPOSE_CONV

@dataclass
class TransposeConvParams:
    batches: int
    input_h: int
    input_w: int
    input_c: int
    filter_h: int
    filter_w: int
    output_h: int
    output_w: int
    output_c: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: np.ndarray = field(repr=False)  # int32 [output_c]
    shift: np.ndarray = field(repr=False)


# TRANSPOSE_CONV's inputs: the output shape, the filter [out_c][fh][fw][in_c], the data, the bias.
TRANSPOSE_CONV_OPERANDS = (2, 1, 3)


def transpose_conv_params(graph: Graph, op: Operator) -> TransposeConvParams:
    """TFLM TransposeConvPrepare: padding from the output size (ComputePaddingHeightWidth on the output,
    as TensorFlow's GetWindowedOutputSize), per-channel multipliers as conv, fused activation."""
    if len(op.inputs) < 3:
        raise UnsupportedOp(f"TRANSPOSE_CONV #{op.index}: expected output shape, filter and input")
    _check_int8(graph, op, [1, 2, -1])
    w, x, y = graph.tensor(op.inputs[1]), graph.tensor(op.inputs[2]), graph.tensor(op.outputs[0])
    if len(op.inputs) > 3 and op.inputs[3] >= 0 and graph.tensor(op.inputs[3]).dtype != "int32":
        raise UnsupportedOp(f"TRANSPOSE_CONV #{op.index}: bias is {graph.tensor(op.inputs[3]).dtype}, "
                            "only int32 is supported")
    o = op.options
    n, ih, iw, ic = _nhwc(x.shape)
    oc, fh, fw, fc = _nhwc(w.shape)
    yn, oh, ow, yc = _nhwc(y.shape)
    if fc != ic or yc != oc or yn != n:
        raise UnsupportedOp(f"TRANSPOSE_CONV #{op.index}: filter {w.shape} does not match input {x.shape} "
                            f"and output {y.shape}")
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    pad_h, pad_w, _, _ = padding_hw(o.get("padding", "VALID"), sh, sw, 1, 1, oh, ow, fh, fw)
    mult, shift = _per_channel_multipliers(x, w, y, oc)
    lo, hi = activation_range(o.get("fusedActivationFunction"), y)
    return TransposeConvParams(n, ih, iw, ic, fh, fw, oh, ow, oc, sh, sw, pad_h, pad_w,
                               -_zp(x), _zp(y), lo, hi, mult, shift)
