# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Residual (de)quantisation. Step 1 is lossless: residuals wrap mod 256, so any int8 (even -128)
comes back exactly. Step >= 2 is lossy: a dead-zone quantiser, reconstruction clamped to
[-127, 127] (the symmetric int8 range TFLite expects of weights)."""

from __future__ import annotations

import numpy as np


def deadzone_offset(step: int) -> int:
    # Rounding offset step//3 (< step/2) widens the zero bin: cheaper symbols, H.264-style.
    return step // 3


def quantize(w: np.ndarray, pred: np.ndarray, step: int) -> np.ndarray:
    r = w.astype(np.int64) - pred
    if step == 1:
        return ((r + 128) & 0xFF) - 128
    q = (np.abs(r) + deadzone_offset(step)) // step
    return np.sign(r) * q


def reconstruct(q: np.ndarray, pred: np.ndarray, step: int) -> np.ndarray:
    if step == 1:
        return ((pred + q + 128) & 0xFF) - 128
    return np.clip(pred + q * step, -127, 127)
