# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Size fields of an .ilwp file, the same as `compress --json` prints (for `inspect X.ilwp`), and
the text lines both commands print from them."""

from __future__ import annotations

import zlib

import numpy as np

from ilwp_embedded.compress import container, rans
from ilwp_embedded.compress.decoder import record_symbols
from ilwp_embedded.compress.freqtable import read_table
from ilwp_embedded.compress.streams import MODE_NAMES
from ilwp_embedded.errors import IlwpError


def _entropy(symbols: np.ndarray) -> float:
    _, c = np.unique(symbols, return_counts=True)
    c = c.astype(np.float64)
    return float(-(c * np.log2(c / c.sum())).sum())


def side_constants(graph) -> dict:
    """Bytes of what a model needs beside its weights: int32 biases and per-output-channel
    requantisation (int32 multiplier + int32 shift, as the generated firmware stores them)."""
    biases = channels = 0
    for op, t in graph.coded_weights():
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            biases += int(np.prod(graph.tensors[op.inputs[2]].shape))
        channels += int(t.shape[-1] if op.op == "DEPTHWISE_CONV_2D" else t.shape[0])
    return {"bias_bytes": 4 * biases, "requant_bytes": 8 * channels}


def blob_summary(blob: bytes, source: str) -> dict:
    try:
        cont = container.unpack(blob)
    except IlwpError as e:  # name the file: the container's own errors cannot
        raise IlwpError(f"{source}: {e}") from None
    names, graph = {}, None
    if cont.skeleton:
        from ilwp_embedded.ingest.tflite_io import read_tflite

        try:
            graph = read_tflite(zlib.decompress(cont.skeleton), f"{source} skeleton")
        except zlib.error:
            raise IlwpError(f"{source}: corrupt model skeleton section") from None
        names = {t.index: (t.name, list(t.shape)) for t in graph.tensors}
    weights = sum(r.n_elems for r in cont.records)
    skel = len(cont.skeleton)
    coded = len(blob) - skel
    tensors, bound = [], 0.0
    for r in cont.records:
        sym = record_symbols(r)
        h = _entropy(np.asarray(sym)) if r.n_elems else 0.0
        bound += h
        name, shape = names.get(r.tensor_id, (f"tensor {r.tensor_id}", [r.n_elems]))
        tensors.append({"tensor": r.tensor_id, "name": name, "shape": shape, "mode": MODE_NAMES[r.mode],
                        "ref_tensor": cont.records[r.ref_record].tensor_id if r.mode else None,
                        "inter_channels": int(np.count_nonzero(r.mults)) if r.mode else 0, "step": r.step,
                        "bits": 8 * len(container.record_bytes(r)), "entropy_bits": round(h, 1)})
    out = {"weights": weights, "int8_bytes": weights, "coded_bytes": coded, "skeleton_bytes": skel,
           "file_bytes": len(blob), "bits_per_weight": 8 * coded / weights if weights else 0.0,
           "entropy_bound_bits": round(bound, 1),
           "overhead_vs_bound": (8 * coded / bound - 1) if bound else None,
           "lossy": cont.lossy, "tensors": tensors}
    if graph is not None:
        out.update(total_fields(coded, weights, graph))
    return out


def total_fields(coded_bytes: int, weights: int, graph) -> dict:
    side = side_constants(graph)
    total = coded_bytes + side["bias_bytes"] + side["requant_bytes"]
    return {**side, "total_bytes": total, "total_bits_per_weight": 8 * total / weights if weights else 0.0}


def size_line(s: dict) -> str:
    """The sizes of a `compress --json` or `blob_summary` dict in one line (`compress`, `inspect`)."""
    return (f"{s['weights']} weights, {s['int8_bytes']} B int8 -> {s['coded_bytes']} B coded "
            f"({s['bits_per_weight']:.3f} bits/weight, order-0 bound {s['entropy_bound_bits'] / 8:.0f} B), "
            f"skeleton {s['skeleton_bytes']} B")


def tensor_line(t: dict) -> str:
    """One entry of `blob_summary(...)["tensors"]`: id, name, mode (<- its reference), step, bytes."""
    ref = f" <- {t['ref_tensor']}" if t["ref_tensor"] is not None else ""
    return f"  {t['tensor']:4d} {t['name'][:40]:40s} {t['mode']}{ref} step {t['step']} {t['bits'] // 8} B"
