"""quant.py helpers on known values (TFLM QuantizeMultiplier / padding conventions)."""

from __future__ import annotations

import math

import numpy as np

from ilwp_embedded.generate import quant as Q


def test_quantize_multiplier_known_values():
    assert Q.quantize_multiplier(0.0) == (0, 0)
    assert Q.quantize_multiplier(0.5) == (1 << 30, 0)
    assert Q.quantize_multiplier(1.0) == (1 << 30, 1)
    assert Q.quantize_multiplier(0.25) == (1 << 30, -1)
    # rounding to 2^31 renormalizes
    assert Q.quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)
    # tiny multipliers flush to zero like TFLM
    assert Q.quantize_multiplier(2.0 ** -40) == (0, 0)


def test_quantize_multiplier_accuracy():
    rng = np.random.default_rng(0)
    for v in rng.uniform(1e-6, 4.0, 200):
        m, s = Q.quantize_multiplier(float(v))
        assert (1 << 30) <= m < (1 << 31)
        assert math.isclose(m * 2.0 ** (s - 31), v, rel_tol=2 ** -30)


def test_padding_same_valid():
    # SAME, stride 2, 3x3 on 9 -> out 5, total pad 2 -> (1, 0)
    assert Q.compute_out_size("SAME", 9, 3, 2) == 5
    assert Q.compute_padding(2, 1, 9, 3, 5) == (1, 0)
    # SAME, stride 2, 3x3 on 8 -> out 4, total pad 1 -> (0, 1)
    assert Q.compute_padding(2, 1, 8, 3, 4) == (0, 1)
    assert Q.compute_out_size("VALID", 9, 3, 2, 1) == 4
    assert Q.padding_hw("SAME", 1, 1, 2, 2, 10, 10, 3, 3) == (2, 2, 10, 10)
