# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Scalar codebooks on the int8 grid: 1-D k-means over a tensor's integer weights.

Weights in quanta take at most 255 values, so k-means runs on the histogram (exact, fast).
With `zero`, one entry is pinned at 0 (pruned weights stay exactly zero, the cheapest symbol)."""

from __future__ import annotations

import numpy as np


def kmeans_1d(w: np.ndarray, k: int, zero: bool = True, iters: int = 50) -> np.ndarray:
    """Sorted distinct float centroids (at most k) minimising the squared error of `w` (integer
    values). Quantile initialisation; with `zero` the entry nearest 0 is pinned at exactly 0."""
    values, cnt = np.unique(np.asarray(w).reshape(-1).astype(np.int64), return_counts=True)
    v = values.astype(np.float64)
    cdf = np.cumsum(cnt) / cnt.sum()
    cent = np.unique(v[np.minimum(np.searchsorted(cdf, (np.arange(k) + 0.5) / k), len(v) - 1)])
    if zero:
        cent[np.argmin(np.abs(cent))] = 0.0
        cent = np.unique(cent)
    while len(cent) < min(k, len(v)):  # peaky histograms repeat quantiles: add the worst-coded value
        err = cnt * (v - snap(v, cent)) ** 2
        cent = np.unique(np.append(cent, v[np.argmax(err)]))
    for _ in range(iters):
        idx = nearest(v, cent)
        new = cent.copy()
        for j in range(len(cent)):
            m = idx == j
            if m.any() and not (zero and cent[j] == 0.0):
                new[j] = np.average(v[m], weights=cnt[m])
        new = np.unique(new)
        if len(new) == len(cent) and np.allclose(new, cent):
            break
        cent = new
    return cent


def nearest(w: np.ndarray, cent: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (ties to the lower), for sorted `cent`."""
    w = np.asarray(w, dtype=np.float64)
    if len(cent) == 1:
        return np.zeros(w.shape, dtype=np.int64)
    mid = (cent[1:] + cent[:-1]) / 2
    return np.searchsorted(mid, w, side="left").astype(np.int64)


def integer_codebook(cent: np.ndarray) -> np.ndarray:
    """Centroids rounded onto the int8 grid (duplicates merged): the values the model will hold."""
    return np.unique(np.clip(np.rint(cent), -127, 127))


def snap(w: np.ndarray, cent: np.ndarray) -> np.ndarray:
    """Each weight replaced by its nearest entry of the sorted codebook `cent`."""
    return cent[nearest(w, cent)]
