# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The operator registry: every op the firmware runs, registered once (TFLite Micro's op resolver).

One `OpKernel` per TFLite builtin op name carries every facet the stages need:
  params         graph -> the kernel's quantization constants (ops/quant.py: TFLM's Prepare() on the
                 host); raises UnsupportedOp for options the kernel lacks (the support check asks it)
  emit           params + the C names of the operands -> the kernel call in the generated C (the
                 portable kernel, or the CMSIS-NN glue's ilwp_cmsis_* where codegen puts the layer)
  host           params + numpy buffers -> the same kernel called through ctypes (devtools/host_runner.py)
  scratch_bytes  the portable kernel's scratch for these params (== its *_scratch_size() in C)
  weights        input 1 is a constant int8 weight tensor (what the codec codes)
  operands       how many of the op's inputs the C call takes (the rest, e.g. a RESHAPE's shape or a
                 MEAN's axes, live in the params); None: all of them
  order          which op inputs the C call takes, in its order, where that is not the first `operands`
                 (TRANSPOSE_CONV: input, filter, bias of inputs (shape, filter, input, bias))
  in_place       the output is the input's bytes unchanged (RESHAPE, SQUEEZE, EXPAND_DIMS): the memory
                 plan gives both one buffer, so the kernel copies nothing
  kernels        the C functions of firmware/kernels/ilwp_kernels.h it calls

ops/support.py (what the firmware can run), generate/codegen.py, devtools/host_runner.py and the
tests read this table; adding an op is one entry here, its params in ops/quant.py and its C kernel
(docs/architecture.md walks through one).
"""

from __future__ import annotations

import ctypes as C
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ilwp_embedded.ingest.graph import Graph, Operator
from ilwp_embedded.ops import quant as Q
from ilwp_embedded.ops.cstruct import ctypes_struct

# ilwp_add_s8's optional tables: == ilwp_add_s8_scratch_size(), worth it above a few hundred elements.
ADD_TABLE_BYTES = 2 * 256 * 4
ADD_TABLE_MIN_ELEMS = 512

_P8 = C.POINTER(C.c_int8)
_P32 = C.POINTER(C.c_int32)


@dataclass(frozen=True)
class CallSite:
    """The C operands of one kernel call, named by the generator."""

    params: str  # the step's const params struct, e.g. "p3"
    inputs: tuple[str, ...]  # a pointer expression per operand ("NULL" where absent)
    output: str
    scratch: str = "ilwp_scratch"  # the int16_t scratch buffer
    cmsis: bool = False  # the layer runs on the CMSIS-NN glue (firmware/kernels_cmsis: ilwp_cmsis_*)

    def input(self, k: int) -> str:
        return self.inputs[k] if k < len(self.inputs) else "NULL"

    @property
    def prefix(self) -> str:
        """The kernel set of the layer: ilwp_<op>_s8 (portable) or ilwp_cmsis_<op>_s8."""
        return "ilwp_cmsis_" if self.cmsis else "ilwp_"


@dataclass(frozen=True)
class CCall:
    """A kernel call in C, and the int32 arrays (name, values) it names beside the params struct."""

    text: str
    arrays: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class HostCall:
    """One kernel call on the host: the library of firmware/kernels, params and numpy buffers."""

    lib: C.CDLL
    params: Any
    inputs: tuple[np.ndarray | None, ...]  # one per operand, None where absent
    output: np.ndarray
    nth: int = 0  # earlier calls of the same op in this run (ADD alternates its two forms)


@dataclass(frozen=True)
class OpKernel:
    name: str
    kernels: tuple[str, ...]
    params: Callable[[Graph, Operator], Any]
    emit: Callable[[Any, CallSite], CCall]
    host: Callable[[HostCall], int]
    scratch_bytes: Callable[[Any], int]
    operands: int | None
    weights: bool = False
    order: tuple[int, ...] | None = None
    in_place: bool = False

    def call_inputs(self, op: Operator) -> tuple[int, ...]:
        """The op's tensor indices the C call takes, in its order (-1: an absent optional input)."""
        if self.order is not None:
            return tuple(op.inputs[i] if i < len(op.inputs) else -1 for i in self.order)
        return tuple(op.inputs[:self.operands])


def _p8(a: np.ndarray):
    return a.ctypes.data_as(_P8)


def _p32(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(_P32)


def _none(_p) -> int:
    return 0


def _x_out(fn: str, cmsis: bool) -> Callable[[Any, CallSite], CCall]:
    """Ops called as fn(&params, input, output); `cmsis`: the CMSIS-NN glue has the op too."""
    name = fn[len("ilwp_"):]
    return lambda p, s: CCall(f"{s.prefix if cmsis else 'ilwp_'}{name}(&{s.params}, {s.input(0)}, {s.output})")


def _x_out_host(fn: str) -> Callable[[HostCall], int]:
    return lambda c: getattr(c.lib, fn)(C.byref(ctypes_struct(c.params)), _p8(c.inputs[0]), _p8(c.output))


# --------------------------------------------------------------------------------- weighted layers

def _conv_scratch(p: Q.ConvParams) -> int:
    return p.scratch_bytes


def _conv_emit(p, s: CallSite) -> CCall:
    return CCall(f"{s.prefix}conv2d_s8(&{s.params}, {s.input(0)}, {s.input(1)}, {s.input(2)}, {s.output}, {s.scratch})")


def _conv_host(c: HostCall) -> int:
    L, st = c.lib, ctypes_struct(c.params)
    nbytes = L.ilwp_conv2d_s8_scratch_size(C.byref(st))
    if nbytes != c.params.scratch_bytes:
        raise RuntimeError(f"ilwp_conv2d_s8_scratch_size() = {nbytes}, params say {c.params.scratch_bytes}")
    scratch = np.zeros(max(2, nbytes // 2), np.int16)
    x, w, b = (list(c.inputs) + [None])[:3]
    return L.ilwp_conv2d_s8(C.byref(st), _p8(x), _p8(w), _p32(b), _p8(c.output),
                            scratch.ctypes.data_as(C.POINTER(C.c_int16)))


def _weighted_call(name: str, p, s: CallSite) -> CCall:
    """<prefix><name>(&params, input, filter, bias, output): depthwise and fully connected."""
    return CCall(f"{s.prefix}{name}(&{s.params}, {s.input(0)}, {s.input(1)}, {s.input(2)}, {s.output})")


def _cmsis_dw_kernel(p: Q.DepthwiseConvParams) -> str:
    """The kernel arm_depthwise_conv_wrapper_s8 picks on non-Helium builds (as in V.12.5.1): 3x3 or opt
    for depth multiplier 1, batch 1, undilated; else the general one. Called directly, only it is linked."""
    if p.depth_multiplier == 1 and p.batches == 1 and p.dilation_h == p.dilation_w == 1:
        return "3x3" if p.filter_h == p.filter_w == 3 and p.pad_h <= 1 and p.pad_w <= 1 else "opt"
    return "any"


def _dw_emit(p: Q.DepthwiseConvParams, s: CallSite) -> CCall:
    return _weighted_call(f"depthwise_conv2d_{_cmsis_dw_kernel(p)}_s8" if s.cmsis else "depthwise_conv2d_s8", p, s)


def _fc_emit(p: Q.FullyConnectedParams, s: CallSite) -> CCall:
    return _weighted_call("fully_connected_per_channel_s8" if s.cmsis and p.per_channel else "fully_connected_s8",
                          p, s)


def _weighted_host(fn: str) -> Callable[[HostCall], int]:
    def call(c: HostCall) -> int:
        x, w, b = (list(c.inputs) + [None])[:3]
        return getattr(c.lib, fn)(C.byref(ctypes_struct(c.params)), _p8(x), _p8(w), _p32(b), _p8(c.output))
    return call


# ---------------------------------------------------------------------------------------------- ADD

def _add_scratch(p: Q.AddParams) -> int:
    """The tables pay off on larger tensors."""
    return ADD_TABLE_BYTES if not p.broadcast and p.size >= ADD_TABLE_MIN_ELEMS else 0


def _broadcast_emit(name: str, p, s: CallSite) -> CCall:
    """ilwp_<name>_broadcast_s8 (ADD, MUL): the 4-D output shape and input strides beside the params."""
    n, x, y, out = s.params, s.input(0), s.input(1), s.output
    arrays = ((f"{n}_shape", p.out_shape), (f"{n}_s1", p.in1_strides), (f"{n}_s2", p.in2_strides))
    return CCall(f"ilwp_{name}_broadcast_s8(&{n}, {n}_shape, {x}, {n}_s1, {y}, {n}_s2, {out})",
                 tuple((a, tuple(int(v) for v in vals)) for a, vals in arrays))


def _broadcast_host(name: str, c: HostCall) -> int:
    p = c.params

    def arr(v):
        return (C.c_int32 * 4)(*v)
    return getattr(c.lib, f"ilwp_{name}_broadcast_s8")(C.byref(ctypes_struct(p)), arr(p.out_shape), _p8(c.inputs[0]),
                                                       arr(p.in1_strides), _p8(c.inputs[1]), arr(p.in2_strides),
                                                       _p8(c.output))


def _add_emit(p: Q.AddParams, s: CallSite) -> CCall:
    n, x, y, out = s.params, s.input(0), s.input(1), s.output
    if p.broadcast:
        return _broadcast_emit("add", p, s)
    if not s.cmsis and _add_scratch(p):
        return CCall(f"ilwp_add_s8(&{n}, {x}, {y}, {out}, {p.size}, (int32_t *)(void *){s.scratch})")
    return CCall(f"{s.prefix}add_s8(&{n}, {x}, {y}, {out}, {p.size}, NULL)")


def _add_host(c: HostCall) -> int:
    p, L, st = c.params, c.lib, ctypes_struct(c.params)
    x, y = c.inputs[0], c.inputs[1]
    if p.broadcast:
        return _broadcast_host("add", c)
    # Every other call uses the tables (scratch) and the rest the direct form, so both stay tested.
    scratch = np.zeros(L.ilwp_add_s8_scratch_size() // 4, np.int32) if c.nth % 2 == 0 else None
    return L.ilwp_add_s8(C.byref(st), _p8(x), _p8(y), _p8(c.output), C.c_int32(p.size), _p32(scratch))


def _mul_emit(p: Q.MulParams, s: CallSite) -> CCall:
    if p.broadcast:
        return _broadcast_emit("mul", p, s)
    return CCall(f"{s.prefix}mul_s8(&{s.params}, {s.input(0)}, {s.input(1)}, {s.output}, {p.size})")


def _mul_host(c: HostCall) -> int:
    if c.params.broadcast:
        return _broadcast_host("mul", c)
    return c.lib.ilwp_mul_s8(C.byref(ctypes_struct(c.params)), _p8(c.inputs[0]), _p8(c.inputs[1]), _p8(c.output),
                             C.c_int32(c.params.size))


# ----------------------------------------------------------------------------------- data movement

def _concat_emit(p: Q.ConcatParams, s: CallSite) -> CCall:
    ins = ", ".join(s.inputs)
    return CCall(f"ilwp_concatenation_s8((const int8_t *const[]){{{ins}}}, {s.params}_sizes, "
                 f"{len(s.inputs)}, {p.outer_size}, {s.output})",
                 ((f"{s.params}_sizes", tuple(int(v) for v in p.copy_sizes)),))


def _concat_host(c: HostCall) -> int:
    ins = [np.ascontiguousarray(a) for a in c.inputs]
    ptrs = (_P8 * len(ins))(*[_p8(a) for a in ins])
    sizes = (C.c_int32 * len(ins))(*c.params.copy_sizes)
    return c.lib.ilwp_concatenation_s8(ptrs, sizes, C.c_int32(len(ins)), C.c_int32(c.params.outer_size),
                                       _p8(c.output))


def _reshape_emit(p: Q.ReshapeParams, s: CallSite) -> CCall:
    return CCall(f"ilwp_reshape_s8({s.input(0)}, {s.output}, {p.size})")


def _reshape_host(c: HostCall) -> int:
    return c.lib.ilwp_reshape_s8(_p8(c.inputs[0]), _p8(c.output), C.c_int32(c.params.size))


def _x_out_op(name: str, fn: str, params, cmsis: bool = False) -> OpKernel:
    return OpKernel(name, (fn,), params, _x_out(fn, cmsis), _x_out_host(fn), _none, operands=1)


def _reshape_op(name: str) -> OpKernel:
    return OpKernel(name, ("ilwp_reshape_s8",), Q.reshape_params, _reshape_emit, _reshape_host, _none, operands=1,
                    in_place=True)


REGISTRY: dict[str, OpKernel] = {k.name: k for k in (
    OpKernel("CONV_2D", ("ilwp_conv2d_s8", "ilwp_conv2d_s8_scratch_size"), Q.conv_params, _conv_emit,
             _conv_host, _conv_scratch, operands=3, weights=True),
    OpKernel("DEPTHWISE_CONV_2D", ("ilwp_depthwise_conv2d_s8",), Q.depthwise_conv_params,
             _dw_emit, _weighted_host("ilwp_depthwise_conv2d_s8"), _none,
             operands=3, weights=True),
    OpKernel("FULLY_CONNECTED", ("ilwp_fully_connected_s8",), Q.fully_connected_params,
             _fc_emit, _weighted_host("ilwp_fully_connected_s8"), _none,
             operands=3, weights=True),
    OpKernel("TRANSPOSE_CONV", ("ilwp_transpose_conv_s8",), Q.transpose_conv_params,
             lambda p, s: _weighted_call("transpose_conv_s8", p, s), _weighted_host("ilwp_transpose_conv_s8"),
             _none, operands=3, weights=True, order=Q.TRANSPOSE_CONV_OPERANDS),
    OpKernel("ADD", ("ilwp_add_s8", "ilwp_add_broadcast_s8", "ilwp_add_s8_scratch_size"), Q.add_params,
             _add_emit, _add_host, _add_scratch, operands=2),
    OpKernel("MUL", ("ilwp_mul_s8", "ilwp_mul_broadcast_s8"), Q.mul_params, _mul_emit, _mul_host, _none,
             operands=2),
    _x_out_op("LOGISTIC", "ilwp_lut_s8", Q.logistic_params),
    _x_out_op("TANH", "ilwp_lut_s8", Q.tanh_params),
    _x_out_op("HARD_SWISH", "ilwp_lut_s8", Q.hard_swish_params),
    _x_out_op("RELU", "ilwp_lut_s8", Q.relu_params),
    _x_out_op("RELU6", "ilwp_lut_s8", Q.relu6_params),
    _x_out_op("AVERAGE_POOL_2D", "ilwp_avg_pool2d_s8", Q.pool_params, cmsis=True),
    _x_out_op("MAX_POOL_2D", "ilwp_max_pool2d_s8", Q.pool_params, cmsis=True),
    _x_out_op("SOFTMAX", "ilwp_softmax_s8", Q.softmax_params, cmsis=True),
    _x_out_op("MEAN", "ilwp_mean_s8", Q.mean_params),
    _x_out_op("PAD", "ilwp_pad_s8", Q.pad_params),
    _x_out_op("PADV2", "ilwp_pad_s8", Q.pad_params),
    OpKernel("CONCATENATION", ("ilwp_concatenation_s8",), Q.concat_params, _concat_emit, _concat_host, _none,
             operands=None),
    _reshape_op("RESHAPE"),
    _reshape_op("SQUEEZE"),
    _reshape_op("EXPAND_DIMS"),
)}


def lookup(op: Operator) -> OpKernel:
    """The registered kernel of `op`; UnsupportedOp when the firmware has none."""
    k = REGISTRY.get(op.op)
    if k is None:
        raise Q.UnsupportedOp(f"operator {op.op} #{op.index} has no int8 kernel")
    return k


def op_params(graph: Graph, op: Operator):
    """The kernel parameters of one operator (a dataclass of ops/quant.py)."""
    return lookup(op).params(graph, op)
