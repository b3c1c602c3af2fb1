# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Inter-layer prediction: fixed-point rescaling of a reference tensor's kernels.

Every tensor is viewed as a (channels, kernel) matrix whatever its storage layout, so a
depthwise kernel (channel axis last) can predict from / be predicted by a conv kernel.
"""

from __future__ import annotations

import numpy as np

from ilwp_embedded.compress.streams import MULT_SHIFT

MULT_MAX = 0xFFFF


def as_matrix(flat: np.ndarray, n_channels: int, channel_minor: bool) -> np.ndarray:
    """(C, K) view of a tensor stored channel-major or channel-minor."""
    if channel_minor:
        return flat.reshape(-1, n_channels).T
    return flat.reshape(n_channels, -1)


def from_matrix(m: np.ndarray, channel_minor: bool) -> np.ndarray:
    return (m.T if channel_minor else m).reshape(-1)


def multipliers(ref_scales: np.ndarray, cur_scales: np.ndarray) -> np.ndarray:
    """Q12 ratio s_ref / s_cur (broadcast over (C_cur, C_ref)) so ref*mult ~ cur's integer grid."""
    r = ref_scales.astype(np.float64)[None, :] / cur_scales.astype(np.float64)[:, None]
    return np.clip(np.rint(r * (1 << MULT_SHIFT)), 0, MULT_MAX).astype(np.int64)


def scale_kernel(ref: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """floor((ref*mult + 2^11) / 2^12), clamped to [-127, 127]: exactly what the C decoder does."""
    t = ref.astype(np.int64) * mult + (1 << (MULT_SHIFT - 1))
    return np.clip(t >> MULT_SHIFT, -127, 127)


def predict(ref: np.ndarray, mults: np.ndarray, ref_map: np.ndarray | None) -> np.ndarray:
    """(C, K) prediction; ref is the reference's (C_ref, K) matrix, mult 0 gives prediction 0."""
    src = ref if ref_map is None else ref[ref_map]
    return scale_kernel(src, mults.astype(np.int64)[:, None])


def align_channels(energy: np.ndarray) -> np.ndarray:
    """Channel alignment: an injective map channel -> reference channel (a permutation when the
    counts match) with low total residual energy. Greedy on the sorted (c, j) energies, an
    approximation of the optimal assignment that needs no solver; ties break on (c, j) order."""
    C, Cr = energy.shape
    if Cr < C:
        raise ValueError("alignment needs at least as many reference channels")
    order = np.lexsort((np.arange(C * Cr) % Cr, np.arange(C * Cr) // Cr, energy.reshape(-1)))
    out = np.full(C, -1, dtype=np.int64)
    used = np.zeros(Cr, dtype=bool)
    left = C
    for flat in order:
        c, j = divmod(int(flat), Cr)
        if out[c] < 0 and not used[j]:
            out[c] = j
            used[j] = True
            left -= 1
            if not left:
                break
    return out
