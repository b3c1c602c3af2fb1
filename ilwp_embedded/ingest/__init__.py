# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Ingest: a .tflite (or a Keras/SavedModel converted to one) into the typed Graph."""

from __future__ import annotations

import os
from pathlib import Path

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import read_input_file
from ilwp_embedded.ingest.graph import Graph, Operator, Quantization, Tensor
from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite

__all__ = ["Graph", "Operator", "Quantization", "Tensor", "load_graph", "read_tflite", "write_tflite"]


def load_graph(path: str | os.PathLike) -> Graph:
    """Read and validate a .tflite file; one-line IlwpError for anything else."""
    p = Path(path)
    if p.suffix in (".h5", ".keras", ".hdf5") or (p.is_dir() and (p / "saved_model.pb").exists()):
        raise IlwpError(f"{p} is a Keras/SavedModel model; turn it into int8 .tflite with `ilwp-embed convert` first")
    data = read_input_file(p, "model")
    if data[:4] == b"ILWP" or (p.suffix == ".ilwp" and data[4:8] != b"TFL3"):
        raise IlwpError(f"{p} is a compressed .ilwp model; this command takes a .tflite "
                        f"(`ilwp-embed decompress {p.name} -o M.tflite`)")
    return read_tflite(data, str(p))
