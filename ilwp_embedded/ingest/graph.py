# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The typed graph every stage works on: tensors, operators, graph inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per `axis` channel."""

    scale: np.ndarray  # float32, shape (1,) or (channels,)
    zero_point: np.ndarray  # int64, same shape as scale
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "int8", "int32", "float32", ...
    quant: Quantization | None = None
    data: np.ndarray | None = None  # set for constant tensors (weights, biases, shapes)
    shape_signature: tuple[int, ...] | None = None
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        return 0 if self.data is None else int(self.data.nbytes)


@dataclass
class Operator:
    index: int
    op: str  # builtin operator name, e.g. "CONV_2D"
    version: int
    inputs: tuple[int, ...]  # tensor indices, -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)  # readable view (padding, strides, ...)
    # The generated options object and its union type, kept so a write-back is faithful.
    raw_options: Any = None
    raw_options_type: int = 0
    custom_code: str | None = None


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    name: str = ""
    description: str = ""

    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]

    def weight_tensors(self) -> list[tuple[Operator, Tensor]]:
        """The (operator, weight) pairs of the WEIGHTED_OPS (input 1 of each), in order."""
        out = []
        for op in self.operators:
            if op.op in WEIGHTED_OPS and len(op.inputs) > 1 and op.inputs[1] >= 0:
                t = self.tensors[op.inputs[1]]
                if t.is_constant:
                    out.append((op, t))
        return out

    def coded_weights(self) -> list[tuple[Operator, Tensor]]:
        """The int8 weight tensors the codec codes: each once (shared weights), in graph order."""
        seen, out = set(), []
        for op, t in self.weight_tensors():
            if t.dtype == "int8" and t.index not in seen:
                seen.add(t.index)
                out.append((op, t))
        return out

    def const_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    def with_tensor_data(self, updates: dict[int, tuple[np.ndarray, Quantization | None]]) -> "Graph":
        """A copy with some constant tensors' data (and quantization) replaced."""
        tensors = list(self.tensors)
        for i, (data, quant) in updates.items():
            t = tensors[i]
            if tuple(data.shape) != t.shape:
                raise ValueError(f"tensor {t.name}: new data shape {data.shape} != {t.shape}")
            tensors[i] = replace(t, data=np.ascontiguousarray(data.astype(t.dtype)),
                                 quant=quant if quant is not None else t.quant)
        return replace(self, tensors=tensors)


WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")  # input 1: the weights
