# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""What every quantization method shares: the int8 weight tensors of a graph as (C, K) matrices in
units of int8 quanta, the graph rebuilt from new int8 weights, and the options a method reads.

Every method keeps the model's own per-channel scales, so its output is an int8 graph on the same
integer grid: biases (int32 at input_scale * weight_scale) stay consistent, the golden interpreter
and the firmware run it unchanged, and the container codes it losslessly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ilwp_embedded.compress.encoder import channel_layout
from ilwp_embedded.compress.predict import as_matrix, from_matrix
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph, Operator, Tensor

Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """Method settings; each method reads the ones it needs (documented on the method)."""

    bits: float = 4.0  # dqc/slq: codebook bits per tensor; tq: average bits per coefficient
    zero: bool = True  # dqc/slq: the codebook holds an exact 0
    step: int = 1  # ilwp: residual step (1 = lossless)
    axis: str = "auto"  # tq: transform axis (out, in, spatial, auto = cheapest per tensor)
    epochs: float = 0.0  # > 0: retrain with the quantizer in the loop (needs training data)
    stages: int = 4  # slq/mlq: incremental stages (fraction frozen doubles towards 1)
    lr: float = 1e-3
    batch: int = 64
    train_limit: int | None = None  # a prefix of the training split (quick runs, tests)
    data_dir: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class WeightTensor:
    op: Operator
    tensor: Tensor
    channels: int
    channel_minor: bool

    @property
    def index(self) -> int:
        return self.tensor.index

    def matrix(self, data: np.ndarray | None = None) -> np.ndarray:
        """(C, K) int64 view of the int8 weights (or of `data`, same layout)."""
        d = self.tensor.data if data is None else data
        return as_matrix(np.asarray(d).reshape(-1).astype(np.int64), self.channels, self.channel_minor)

    def from_matrix(self, m: np.ndarray) -> np.ndarray:
        """Back to the tensor's own shape, int8, on the symmetric grid [-127, 127]."""
        flat = from_matrix(np.clip(np.rint(m), -127, 127).astype(np.int64), self.channel_minor)
        return flat.astype(np.int8).reshape(self.tensor.shape)


# Tensors smaller than this stay exactly int8 (coded losslessly): they cost nothing that matters,
# and a one-weight-per-channel tensor (the imported ResNets' input normalisation, a 1x1 depthwise
# kernel of three 127s) has no distribution to fit: DQC's range-based codebook set it to 0 and
# the model fell to 10 % top-1.
MIN_QUANTIZED = 32


def weight_tensors(graph: Graph) -> list[WeightTensor]:
    """The int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED weights, each once, in graph order
    (the tensors the codec codes), except those under MIN_QUANTIZED weights."""
    every = [WeightTensor(op, t, *channel_layout(t, op.op)) for op, t in graph.coded_weights()]
    out = [wt for wt in every if wt.tensor.data.size >= MIN_QUANTIZED] or every
    if not out:
        raise IlwpError("the model has no int8 CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED weights "
                        "(float model?); quantise it to int8 first")
    return out


def with_weights(graph: Graph, new: dict[int, np.ndarray]) -> Graph:
    """The graph with some int8 weight tensors replaced; scales and biases kept."""
    return graph.with_tensor_data({i: (np.asarray(w, dtype=np.int8), None) for i, w in new.items()})


def distinct_values(graph: Graph) -> dict[int, int]:
    """Number of distinct int8 values per coded weight tensor."""
    return {wt.index: int(np.unique(wt.tensor.data).size) for wt in weight_tensors(graph)}
