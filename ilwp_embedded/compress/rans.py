# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Static rANS with 32-bit state and 16-bit renormalisation (L = 2^16), the word variant of
ryg_rans, written from its design: one refill branch per symbol at most, half as many refills
as byte-wise rANS, which matters on a Cortex-M4.

The encoder runs over the symbols backwards; the payload starts with the final state (4 bytes,
little endian) followed by the emitted 16-bit words (little endian) in reverse order, so the
decoder reads front to back. The decoder's final state must equal L and every payload byte
must be consumed: a cheap end-to-end integrity check per tensor.
"""

from __future__ import annotations

import numpy as np

from ilwp_embedded.compress.freqtable import FreqTable
from ilwp_embedded.errors import IlwpError

RANS_L = 1 << 16


def encode(symbols: np.ndarray, table: FreqTable) -> bytes:
    p = table.precision
    cum = table.cum
    freqs = table.freqs
    idx = (symbols.astype(np.int64) - table.lo).tolist()
    words: list[int] = []
    x = RANS_L
    xmax_unit = (RANS_L >> p) << 16
    for s in reversed(idx):
        f = freqs[s]
        if x >= xmax_unit * f:  # one 16-bit word always suffices: x < 2^32
            words.append(x & 0xFFFF)
            x >>= 16
        x = ((x // f) << p) + (x % f) + cum[s]
    out = bytearray(x.to_bytes(4, "little"))
    for wd in reversed(words):
        out += wd.to_bytes(2, "little")
    return bytes(out)


def decode(payload: bytes, table: FreqTable, n: int) -> np.ndarray:
    p = table.precision
    mask = (1 << p) - 1
    cum = table.cum
    freqs = table.freqs
    slot2sym = np.repeat(np.arange(len(freqs)), freqs).tolist()
    if len(payload) < 4:
        raise IlwpError("corrupt .ilwp: rANS payload shorter than its state")
    x = int.from_bytes(payload[:4], "little")
    if x < RANS_L:
        raise IlwpError("corrupt .ilwp: bad rANS initial state")
    pos = 4
    out = [0] * n
    for i in range(n):
        slot = x & mask
        s = slot2sym[slot]
        x = freqs[s] * (x >> p) + slot - cum[s]
        if x < RANS_L:
            if pos + 2 > len(payload):
                raise IlwpError("corrupt .ilwp: rANS payload ends early")
            x = (x << 16) | payload[pos] | (payload[pos + 1] << 8)
            pos += 2
        out[i] = s
    if x != RANS_L or pos != len(payload):
        raise IlwpError("corrupt .ilwp: rANS payload does not end cleanly")
    return np.asarray(out, dtype=np.int64) + table.lo
