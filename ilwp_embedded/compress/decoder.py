# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Python reference decoder: the executable reading of docs/blob-format.md the C decoder must match."""

from __future__ import annotations

import zlib

import numpy as np

from ilwp_embedded.compress import container, rans
from ilwp_embedded.compress.freqtable import pair_table, read_table
from ilwp_embedded.compress.predict import as_matrix, from_matrix, predict
from ilwp_embedded.compress.residual import reconstruct
from ilwp_embedded.compress.streams import MODE_INTRA, MODE_SEARCHED, Container
from ilwp_embedded.errors import IlwpError


def record_symbols(r) -> np.ndarray:
    """The record's symbols: rANS-decoded, or stored (no table: one int8 per payload byte)."""
    if not r.table:
        if len(r.payload) != r.n_elems:
            raise IlwpError(f"corrupt .ilwp: stored record of {r.n_elems} symbols has {len(r.payload)} bytes")
        return np.frombuffer(r.payload, np.int8).astype(np.int64)
    t = read_table(r.table)
    if r.pair_log2:  # pair a * n_sym + b: two symbols; an odd record's last pair keeps only its first
        idx = rans.decode(r.payload, pair_table(t, r.pair_log2), (r.n_elems + 1) // 2)
        both = np.stack([idx // t.n_sym, idx % t.n_sym], 1).reshape(-1)[:r.n_elems]
        return both.astype(np.int64) + t.lo
    return np.asarray(rans.decode(r.payload, t, r.n_elems), dtype=np.int64)


def decode_records(cont: Container) -> list[np.ndarray]:
    """Flat int8 arrays (storage order), one per record, in decode order."""
    out: list[np.ndarray] = []
    for i, r in enumerate(cont.records):
        q = as_matrix(record_symbols(r), r.n_channels, r.channel_minor)
        if r.mode == MODE_INTRA:
            pred = np.zeros_like(q)
        else:
            ref = cont.records[r.ref_record]
            if ref.n_channels != r.ref_channels or ref.kernel != r.kernel or ref.channel_minor != r.ref_channel_minor:
                raise IlwpError(f"corrupt .ilwp: record {i} references an incompatible tensor")
            R = as_matrix(out[r.ref_record].astype(np.int64), ref.n_channels, ref.channel_minor)
            ref_map = np.asarray(r.ref_map) if r.mode == MODE_SEARCHED else None
            pred = predict(R, np.asarray(r.mults, dtype=np.int64), ref_map)
        out.append(from_matrix(reconstruct(q, pred, r.step), r.channel_minor).astype(np.int8))
    return out


def decode_blob(blob: bytes, check_crc: bool = True) -> dict[int, np.ndarray]:
    """{tensor index: flat int8 weights} of an .ilwp file."""
    cont = container.unpack(blob, check_crc)
    return {r.tensor_id: w for r, w in zip(cont.records, decode_records(cont))}


def decompress_to_tflite(blob: bytes, source: str = ".ilwp") -> bytes:
    """The complete .tflite: the skeleton section with the decoded weights put back."""
    from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite

    try:
        cont = container.unpack(blob)
    except IlwpError as e:
        raise IlwpError(f"{source}: {e}") from None  # the file, not just ".ilwp"
    if not cont.skeleton:
        raise IlwpError(f"{source} carries no model skeleton (weights-only blob); cannot rebuild a .tflite")
    try:
        model = zlib.decompress(cont.skeleton)
    except zlib.error:
        raise IlwpError(f"{source}: corrupt model skeleton section") from None
    g = read_tflite(model, f"{source} skeleton")
    try:
        weights = {r.tensor_id: w for r, w in zip(cont.records, decode_records(cont))}
    except IlwpError as e:
        raise IlwpError(f"{source}: {e}") from None
    updates = {}
    for tid, w in weights.items():
        if tid >= len(g.tensors) or g.tensors[tid].dtype != "int8" or int(np.prod(g.tensors[tid].shape)) != w.size:
            raise IlwpError(f"{source}: record for tensor {tid} does not fit the model skeleton")
        updates[tid] = (w.reshape(g.tensors[tid].shape), None)
    return write_tflite(g.with_tensor_data(updates))
