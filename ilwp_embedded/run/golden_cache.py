# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Golden outputs (TFLite Micro), computed once per (model hash, dataset digest) and kept on disk.

A sharded or repeated validation asks the interpreter nothing twice: the outputs of every input
are one .npy file named by the model's hash and a digest of the exact model inputs (dataset,
order, limit and input quantization all included).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from ilwp_embedded.datasets import cache_dir
from ilwp_embedded.fileio import atomic_write_bytes
from ilwp_embedded.golden import Golden
from ilwp_embedded.ingest.graph import Graph


def dataset_digest(xs: np.ndarray) -> str:
    """The first 16 hex of sha256 over the model inputs' shape, dtype and bytes."""
    h = hashlib.sha256(f"{xs.shape}:{xs.dtype.str}:".encode())
    h.update(np.ascontiguousarray(xs).tobytes())
    return h.hexdigest()[:16]


def cache_path(model_hash: str, digest: str, directory: Path | None = None) -> Path:
    return Path(directory or cache_dir() / "golden") / f"{model_hash}-{digest}.npy"


def golden_outputs(graph: Graph, xs: np.ndarray, model_hash: str, directory: Path | None = None) -> np.ndarray:
    """Output 0 of every input (N, output elements), int8: from the cache, else computed and cached."""
    path = cache_path(model_hash, dataset_digest(xs), directory)
    try:
        out = np.load(path, allow_pickle=False)
        if out.shape[0] == len(xs):
            return out
    except (OSError, ValueError):
        pass  # absent or damaged: computed again below
    out = Golden(graph).run_batch(xs).reshape(len(xs), -1).astype(np.int8)
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return out
