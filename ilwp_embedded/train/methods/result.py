# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""A method's output: the int8 graph to code and run, and what the method reports about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ilwp_embedded.ingest.graph import Graph


@dataclass
class Quantized:
    graph: Graph  # int8 weights on the model's own scales: coded by the container, run as is
    info: dict = field(default_factory=dict)  # method-specific settings and statistics (JSON-able)
    val_accuracy: float | None = None  # on the held-back validation split, when retrained
    # Transform quantization only: what a transform-domain stream decoded on the device would cost.
    device_stream: dict | None = None
