# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Lossy coding helpers: per-tensor step maps, and the int8 model that the decoder rebuilds."""

from __future__ import annotations

from ilwp_embedded.compress.encoder import EncodeResult, encode_graph
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.ingest.tflite_io import write_tflite


def uniform_steps(graph: Graph, step: int) -> dict[int, int]:
    """{weight tensor index: step} for every coded tensor: the form a rate-accuracy search edits."""
    return {t.index: step for _, t in graph.weight_tensors() if t.dtype == "int8"}


def encode_lossy(graph: Graph, steps: int | dict[int, int]) -> tuple[EncodeResult, bytes]:
    """The coded result and the .tflite whose weights are exactly the decoder's reconstruction.

    Scales and biases are kept: weights stay on the same integer grid, so the biases (int32 at
    input_scale * weight_scale) stay consistent and the model runs unchanged on TFLM."""
    res = encode_graph(graph, steps)
    return res, write_tflite(res.graph)
