# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""RESHAPE's copy (taken when the buffers differ) keeps memmove's semantics: in place, disjoint, and
overlapping in either direction."""

from __future__ import annotations

import ctypes as C

import numpy as np
from helpers import kernel_lib  # noqa: F401  (fixture)


def _reshape(lib, buf: np.ndarray, src: int, dst: int, n: int) -> int:
    p = buf.ctypes.data_as(C.POINTER(C.c_int8))
    base = C.cast(p, C.c_void_p).value
    f = lib.ilwp_reshape_s8
    f.restype = C.c_int32
    f.argtypes = [C.c_void_p, C.c_void_p, C.c_int32]
    return f(base + src, base + dst, n)


def test_reshape_copies_like_memmove(kernel_lib):  # noqa: F811
    lib = C.CDLL(str(kernel_lib))
    rng = np.random.default_rng(0)
    orig = rng.integers(-128, 128, 300).astype(np.int8)
    for src, dst, n in [(0, 0, 100), (0, 150, 100), (150, 0, 100), (10, 3, 200), (3, 10, 200), (0, 1, 299),
                        (1, 0, 299), (5, 9, 0)]:
        buf = orig.copy()
        assert _reshape(lib, buf, src, dst, n) == 0
        want = orig.copy()
        want[dst:dst + n] = orig[src:src + n]
        np.testing.assert_array_equal(buf, want, err_msg=f"src {src} dst {dst} n {n}")
    buf = orig.copy()
    assert _reshape(lib, buf, 0, 8, -1) == -10  # ILWP_ERR_ARG (firmware/include/ilwp_status.h)
    np.testing.assert_array_equal(buf, orig)
