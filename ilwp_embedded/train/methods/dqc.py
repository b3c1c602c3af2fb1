# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Dynamic quantization coding (DQC): a non-uniform per-tensor codebook of 2^bits entries,
k-means initialised (optionally with an exact zero entry), its entries trained during fine-tuning
with straight-through gradients (assignments recomputed every step: "dynamic").

Deployment needs no new decoder: the int8 weights take at most 2^bits distinct values per tensor,
so the container's per-tensor rANS table over int8 symbols is exactly "entropy-coded indices plus
the table" (the table's used entries are the codebook), decoded on the device by the existing
rANS lookup.
"""

from __future__ import annotations

import numpy as np

from ilwp_embedded.train.methods.codebook import integer_codebook, kmeans_1d, snap
from ilwp_embedded.train.methods.common import Log, Options, weight_tensors, with_weights
from ilwp_embedded.train.methods.result import Quantized
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph

BITS = (1, 2, 3, 4, 5, 6, 7)


def check(opts: Options) -> None:
    if opts.bits not in BITS:
        raise IlwpError(f"dqc takes --bits 1..7 (codebook entries per tensor = 2^bits), got {opts.bits:g}")


def codebooks(graph: Graph, bits: int, zero: bool) -> dict[int, np.ndarray]:
    """Per weight tensor: sorted float k-means codebook of at most 2^bits entries."""
    return {wt.index: kmeans_1d(wt.tensor.data, 2 ** bits, zero) for wt in weight_tensors(graph)}


def apply_codebooks(graph: Graph, books: dict[int, np.ndarray]) -> Graph:
    """Every weight snapped to its tensor's codebook rounded onto the int8 grid."""
    new = {}
    for wt in weight_tensors(graph):
        cb = integer_codebook(books[wt.index])
        new[wt.index] = snap(wt.tensor.data.astype(np.float64), cb).astype(np.int8)
    return with_weights(graph, new)


def quantize(graph: Graph, opts: Options, log: Log = print) -> Quantized:
    check(opts)
    bits = int(opts.bits)
    books = codebooks(graph, bits, opts.zero)
    out = apply_codebooks(graph, books)
    val = None
    if opts.epochs > 0:
        from ilwp_embedded.train.methods.retrain import codebook_quantizer, retrain

        quantizers = {i: codebook_quantizer(cb, opts.zero) for i, cb in books.items()}
        # the trained graph holds round(codebook[idx]): still <= 2^bits values per tensor
        out, val = retrain(graph, quantizers, opts, log)
    info = {"bits": bits, "zero": opts.zero, "epochs": opts.epochs,
            "codebook_sizes": {str(i): int(np.unique(t).size) for i, t in
                               ((wt.index, wt.tensor.data) for wt in weight_tensors(out))}}
    return Quantized(out, info, val_accuracy=val)
