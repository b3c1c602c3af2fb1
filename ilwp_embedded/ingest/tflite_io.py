# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Read a .tflite flatbuffer into a typed Graph and write a Graph back, through the official schema.

Reading validates structure (indices in range, constant buffers the size their shapes say), so later
stages and the golden interpreter never see a malformed flatbuffer: a corrupt file is refused here with
one line naming the problem.
"""

from __future__ import annotations

import hashlib

import math
from typing import Any

import flatbuffers
import numpy as np

from ilwp_embedded.errors import IlwpError, cause
from ilwp_embedded.ingest.graph import Graph, Operator, Quantization, Tensor
from ilwp_embedded.ingest.schema import (
    ACTIVATION_NAMES, BUILTIN_OP_NAMES, NUMPY_DTYPES, PADDING_NAMES, TENSOR_TYPE_NAMES, fb,
)

_TYPE_CODES = {name: code for code, name in TENSOR_TYPE_NAMES.items()}
_OP_CODES = {name: code for code, name in BUILTIN_OP_NAMES.items()}
# Buffers start 16-byte aligned, as the TFLite converter writes them: kernels may read int32/int64
# constants in place on targets that fault on unaligned access.
_BUFFER_ALIGN = 16


def read_tflite(data: bytes, source: str = "model") -> Graph:
    """Parse and validate a .tflite flatbuffer. Raises IlwpError naming the problem."""
    if len(data) < 8 or not fb.Model.ModelBufferHasIdentifier(data, 0):
        raise IlwpError(f"{source} is not a TFLite flatbuffer (no 'TFL3' identifier)")
    try:
        model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    except Exception as e:  # the generated reader raises anything on corrupt offsets
        raise IlwpError(f"{source} is a corrupt TFLite flatbuffer ({cause(e)})") from None
    try:
        return _to_graph(model, source)
    except IlwpError:
        raise
    except Exception as e:  # garbage that parsed but does not make a graph
        raise IlwpError(f"{source} is a corrupt TFLite model ({type(e).__name__}: {e})") from None


def _to_graph(model: Any, source: str) -> Graph:
    subgraphs = model.subgraphs or []
    if len(subgraphs) != 1:
        raise IlwpError(f"{source} has {len(subgraphs)} subgraphs; only single-subgraph models are supported")
    sg = subgraphs[0]
    buffers = model.buffers or []
    codes = model.operatorCodes or []
    raw_tensors = sg.tensors or []
    n = len(raw_tensors)

    tensors = []
    for i, t in enumerate(raw_tensors):
        name = _text(t.name) or f"tensor_{i}"
        tname = TENSOR_TYPE_NAMES.get(t.type)
        if tname not in NUMPY_DTYPES:
            raise IlwpError(f"{source}: tensor '{name}' has unsupported type {tname or t.type}")
        dtype = NUMPY_DTYPES[tname]
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        if any(d < 0 for d in shape):
            raise IlwpError(f"{source}: tensor '{name}' has a negative dimension {shape}")
        if not 0 <= t.buffer < max(len(buffers), 1):
            raise IlwpError(f"{source}: tensor '{name}' points at buffer {t.buffer} of {len(buffers)}")
        data = None
        buf = buffers[t.buffer] if buffers else None
        if buf is not None and (buf.offset or buf.size):
            raise IlwpError(f"{source}: tensor '{name}' uses an external buffer (models over 2 GB are not supported)")
        if buf is not None and buf.data is not None and len(buf.data) > 0:
            raw = np.asarray(buf.data, dtype=np.uint8)
            expect = math.prod(shape) * np.dtype(dtype).itemsize
            if raw.size != expect:
                raise IlwpError(f"{source}: tensor '{name}' has {raw.size} bytes of data, its shape {shape} needs {expect}")
            data = raw.view(dtype).reshape(shape).copy()
        tensors.append(Tensor(
            index=i, name=name, shape=shape, dtype=dtype,
            quant=_quantization(t.quantization, shape, name, source),
            data=data,
            shape_signature=tuple(int(d) for d in t.shapeSignature) if t.shapeSignature is not None else None,
            is_variable=bool(t.isVariable),
        ))

    def check_indices(idx, what):
        out = tuple(int(v) for v in (idx if idx is not None else ()))
        for v in out:
            if not -1 <= v < n:
                raise IlwpError(f"{source}: {what} refers to tensor {v}, the model has {n}")
        return out

    operators = []
    for k, o in enumerate(sg.operators or []):
        if not 0 <= o.opcodeIndex < len(codes):
            raise IlwpError(f"{source}: operator {k} has opcode index {o.opcodeIndex} of {len(codes)}")
        code = codes[o.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = BUILTIN_OP_NAMES.get(builtin)
        if name is None:
            raise IlwpError(f"{source}: operator {k} has unknown builtin code {builtin}")
        operators.append(Operator(
            index=k, op=name, version=int(code.version),
            inputs=check_indices(o.inputs, f"operator {k} ({name})"),
            outputs=check_indices(o.outputs, f"operator {k} ({name})"),
            options=_readable_options(o.builtinOptions),
            raw_options=o.builtinOptions, raw_options_type=int(o.builtinOptionsType),
            custom_code=_text(code.customCode),
        ))
    inputs = check_indices(sg.inputs, "the graph's inputs")
    outputs = check_indices(sg.outputs, "the graph's outputs")
    if not inputs or not outputs or min(inputs + outputs) < 0:
        raise IlwpError(f"{source}: the graph has no valid inputs or outputs")
    return Graph(tensors=tensors, operators=operators, inputs=inputs, outputs=outputs,
                 name=_text(sg.name) or "", description=_text(model.description) or "")


def _quantization(q: Any, shape: tuple[int, ...], name: str, source: str) -> Quantization | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scale = np.asarray(q.scale, dtype=np.float32)
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else np.zeros(scale.size), dtype=np.int64)
    if zp.size != scale.size:
        raise IlwpError(f"{source}: tensor '{name}' has {scale.size} scales but {zp.size} zero points")
    axis = int(q.quantizedDimension)
    if scale.size > 1 and not (0 <= axis < len(shape) and shape[axis] == scale.size):
        raise IlwpError(f"{source}: tensor '{name}' has {scale.size} scales on axis {axis} of shape {shape}")
    if not np.all(np.isfinite(scale)):
        raise IlwpError(f"{source}: tensor '{name}' has a non-finite quantization scale")
    return Quantization(scale=scale, zero_point=zp, axis=axis)


def _readable_options(opts: Any) -> dict[str, Any]:
    if opts is None:
        return {}
    out = {}
    for k, v in vars(opts).items():
        if k == "padding":
            v = PADDING_NAMES.get(v, v)
        elif k == "fusedActivationFunction":
            v = ACTIVATION_NAMES.get(v, v)
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out


def _text(v: Any) -> str | None:
    if v is None:
        return None
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


class _AlignedBufferT(fb.BufferT):
    """A BufferT whose data vector starts on a 16-byte boundary."""

    def Pack(self, builder):
        data = None
        if self.data is not None:
            payload = np.ascontiguousarray(self.data, dtype=np.uint8).tobytes()
            builder.StartVector(1, len(payload), _BUFFER_ALIGN)
            builder.head -= len(payload)
            builder.Bytes[builder.head: builder.head + len(payload)] = payload
            data = builder.EndVector()
        fb.BufferStart(builder)
        if data is not None:
            fb.BufferAddData(builder, data)
        return fb.BufferEnd(builder)


def write_tflite(graph: Graph) -> bytes:
    """Serialize a Graph to .tflite bytes: one buffer per constant tensor, buffer 0 empty."""
    model = fb.ModelT()
    model.version = 3
    model.description = graph.description or "ilwp-embed"
    model.buffers = [_AlignedBufferT()]
    codes: dict[tuple[int, str | None, int], int] = {}
    model.operatorCodes = []

    sg = fb.SubGraphT()
    sg.name = graph.name or "main"
    sg.tensors = []
    for t in graph.tensors:
        ft = fb.TensorT()
        ft.shape = list(t.shape)
        ft.type = _TYPE_CODES[_tflite_type_name(t.dtype)]
        ft.name = t.name
        ft.isVariable = t.is_variable
        if t.shape_signature is not None:
            ft.shapeSignature = list(t.shape_signature)
        if t.quant is not None:
            q = fb.QuantizationParametersT()
            q.scale = [float(s) for s in t.quant.scale]
            q.zeroPoint = [int(z) for z in t.quant.zero_point]
            q.quantizedDimension = int(t.quant.axis)
            ft.quantization = q
        if t.data is not None:
            b = _AlignedBufferT()
            b.data = np.frombuffer(np.ascontiguousarray(t.data).tobytes(), dtype=np.uint8)
            ft.buffer = len(model.buffers)
            model.buffers.append(b)
        sg.tensors.append(ft)

    sg.operators = []
    for op in graph.operators:
        builtin = _OP_CODES[op.op]
        key = (builtin, op.custom_code, op.version)
        if key not in codes:
            oc = fb.OperatorCodeT()
            oc.builtinCode = builtin
            oc.deprecatedBuiltinCode = min(builtin, 127)
            oc.customCode = op.custom_code
            oc.version = op.version
            codes[key] = len(model.operatorCodes)
            model.operatorCodes.append(oc)
        fo = fb.OperatorT()
        fo.opcodeIndex = codes[key]
        fo.inputs = list(op.inputs)
        fo.outputs = list(op.outputs)
        fo.builtinOptionsType = op.raw_options_type
        fo.builtinOptions = op.raw_options
        sg.operators.append(fo)
    sg.inputs = list(graph.inputs)
    sg.outputs = list(graph.outputs)
    model.subgraphs = [sg]

    builder = flatbuffers.Builder(1024 + graph.const_bytes() * 2)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _tflite_type_name(dtype: str) -> str:
    for name, np_name in NUMPY_DTYPES.items():
        if np_name == dtype:
            return name
    raise ValueError(f"no TFLite type for {dtype}")


def graph_hash(graph: Graph) -> str:
    """The model's identity, as the firmware reports it: the first 16 hex of sha256 of its .tflite."""
    return hashlib.sha256(write_tflite(graph)).hexdigest()[:16]
