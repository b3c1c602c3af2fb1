# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The baselines ILWP is measured against: weight sharing by k-means, stored as TFLM-style lookup
tables (fixed-length indices) or with Huffman-coded indices (Deep Compression). Clustered in the
int8 domain so the shared values are int8 and the model runs as is; every bit is counted
(indices, the int8 codebook, and for Huffman the code lengths)."""

from __future__ import annotations

import heapq

import numpy as np


def huffman_bits(counts: np.ndarray) -> int:
    """Code length of the symbols under an optimal Huffman code (lengths from the usual merge)."""
    c = [int(v) for v in counts if v > 0]
    if len(c) == 1:
        return c[0]
    heap = [(v, i, [i]) for i, v in enumerate(c)]
    depth = [0] * len(c)
    heapq.heapify(heap)
    uid = len(c)
    while len(heap) > 1:
        a, _, la = heapq.heappop(heap)
        b, _, lb = heapq.heappop(heap)
        for i in la + lb:
            depth[i] += 1
        heapq.heappush(heap, (a + b, uid, la + lb))
        uid += 1
    return sum(v * d for v, d in zip(c, depth))


def kmeans(w: np.ndarray, k: int, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(int8 weights on k shared values, cluster index per weight): linear init, Lloyd iterations."""
    v = w.reshape(-1).astype(np.float64)
    cent = np.linspace(v.min(), v.max(), k)
    for _ in range(iters):
        idx = np.abs(v[:, None] - cent[None, :]).argmin(1)
        sums = np.bincount(idx, weights=v, minlength=k)
        cnt = np.bincount(idx, minlength=k)
        cent = np.where(cnt > 0, sums / np.maximum(cnt, 1), cent)
    cent = np.clip(np.rint(cent), -127, 127)
    idx = np.abs(v[:, None] - cent[None, :]).argmin(1)
    return cent[idx].astype(np.int8).reshape(w.shape), idx


def lut_bits(n: int, k: int) -> int:
    """TFLM-style lookup table: ceil(log2 k)-bit indices plus k int8 entries."""
    return n * int(np.ceil(np.log2(k))) + 8 * k


def huffman_coded_bits(idx: np.ndarray, k: int) -> int:
    """Huffman-coded indices plus the int8 codebook and a 5-bit code length per entry."""
    return huffman_bits(np.bincount(idx, minlength=k)) + k * 8 + k * 5
