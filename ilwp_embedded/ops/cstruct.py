# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""A kernel's params dataclass (ops/quant.py) as its C struct: printed as a designated initializer for
the generated C, or packed into a ctypes Structure for the host runner. One mirror of
firmware/kernels/ilwp_kernels.h, used by both.
"""

from __future__ import annotations

import ctypes as C
from dataclasses import dataclass, fields

import numpy as np

from ilwp_embedded.ops import quant as Q

C_STRUCT_NAMES = {
    Q.ConvParams: "ilwp_conv_params_t",
    Q.DepthwiseConvParams: "ilwp_dw_conv_params_t",
    Q.FullyConnectedParams: "ilwp_fc_params_t",
    Q.AddParams: "ilwp_add_params_t",
    Q.PoolParams: "ilwp_pool_params_t",
    Q.SoftmaxParams: "ilwp_softmax_params_t",
    Q.MeanParams: "ilwp_mean_params_t",
    Q.PadParams: "ilwp_pad_params_t",
    Q.LutParams: "ilwp_lut_params_t",
    Q.MulParams: "ilwp_mul_params_t",
    Q.TransposeConvParams: "ilwp_transpose_conv_params_t",
}
# Fields that say how to call the kernel and are not in its C struct (ADD, MUL).
_CALL_ONLY = frozenset(f.name for f in fields(Q.BinaryCall))

_P32 = C.POINTER(C.c_int32)


def c_struct_name(params) -> str | None:
    """The C struct type of a params dataclass (None for ops called with plain arguments)."""
    return C_STRUCT_NAMES.get(type(params))


def c_struct_fields(params) -> list[str]:
    """Field names that belong to the C struct, in its order."""
    return [f.name for f in fields(params)
            if not (isinstance(params, Q.BinaryCall) and f.name in _CALL_ONLY)]


def _inline_int8(v) -> bool:
    """An int8 ndarray field is an int8_t array inside the struct (a LUT op's table); other ndarray
    fields are int32 arrays beside it, pointed to."""
    return isinstance(v, np.ndarray) and v.dtype == np.int8


@dataclass(frozen=True)
class CStruct:
    """One `static const <ctype> <name> = {...}` and the int32 arrays its pointer fields name."""

    ctype: str
    name: str
    init: tuple[tuple[str, str], ...]  # (field, C initializer) in struct order
    arrays: tuple[tuple[str, tuple[int, ...]], ...]  # (C array name, int32 values)


def c_struct(params, name: str) -> CStruct:
    """The C constant of `params` named `name`; an int32 ndarray field (per-channel multiplier, shift)
    becomes its own int32 array `<name>_<field>`, an int8 one an array initializer in the struct."""
    ctype = c_struct_name(params)
    if ctype is None:
        raise ValueError(f"{type(params).__name__} has no C struct")
    init, arrays = [], []
    for f in c_struct_fields(params):
        v = getattr(params, f)
        if _inline_int8(v):
            init.append((f, "{" + ", ".join(str(int(x)) for x in v.reshape(-1)) + "}"))
        elif isinstance(v, np.ndarray):
            arrays.append((f"{name}_{f}", tuple(int(x) for x in v.reshape(-1))))
            init.append((f, f"{name}_{f}"))
        elif isinstance(v, (tuple, list)):
            init.append((f, "{" + ", ".join(str(int(x)) for x in v) + "}"))
        else:
            init.append((f, str(int(v))))
    return CStruct(ctype, name, tuple(init), tuple(arrays))


def ctypes_struct(params) -> C.Structure:
    """A ctypes Structure with the C struct's layout and the params' values; array fields point into
    int32 copies that the structure keeps alive."""
    ctypes_fields, values, keep = [], {}, []
    for name in c_struct_fields(params):
        v = getattr(params, name)
        if _inline_int8(v):
            ctypes_fields.append((name, C.c_int8 * v.size))
            values[name] = (C.c_int8 * v.size)(*[int(x) for x in v.reshape(-1)])
        elif isinstance(v, np.ndarray):
            arr = np.ascontiguousarray(v, dtype=np.int32)
            keep.append(arr)
            ctypes_fields.append((name, _P32))
            values[name] = arr.ctypes.data_as(_P32)
        elif isinstance(v, tuple):
            ctypes_fields.append((name, C.c_int32 * len(v)))
            values[name] = (C.c_int32 * len(v))(*[int(x) for x in v])
        else:
            ctypes_fields.append((name, C.c_int32))
            values[name] = int(v)
    cls = type(type(params).__name__ + "_C", (C.Structure,), {"_fields_": ctypes_fields})
    s = cls(**values)
    s._keep = keep  # type: ignore[attr-defined]
    return s
