"""Static byte-wise rANS (32-bit state, L = 2^23), the scheme of ryg_rans, written from its design.

The encoder runs over the symbols backwards; the payload starts with the final state (4 bytes,
little endian), so the decoder reads it front to back. The decoder's final state must equal L
and every payload byte must be consumed: a cheap end-to-end integrity check per tensor.
"""

from __future__ import annotations

import numpy as np

from ilwp_embedded.compress.freqtable import FreqTable
from ilwp_embedded.errors import IlwpError

RANS_L = 1 << 23


def encode(symbols: np.ndarray, table: FreqTable) -> bytes:
    p = table.precision
    cum = table.cum
    freqs = table.freqs
    idx = (symbols.astype(np.int64) - table.lo).tolist()
    out = bytearray()
    x = RANS_L
    xmax_unit = (RANS_L >> p) << 8
    for s in reversed(idx):
        f = freqs[s]
        xmax = xmax_unit * f
        while x >= xmax:
            out.append(x & 0xFF)
            x >>= 8
        x = ((x // f) << p) + (x % f) + cum[s]
    out += bytes(((x >> 24) & 0xFF, (x >> 16) & 0xFF, (x >> 8) & 0xFF, x & 0xFF))
    out.reverse()
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
    if not RANS_L <= x < (RANS_L << 8):
        raise IlwpError("corrupt .ilwp: bad rANS initial state")
    pos = 4
    out = [0] * n
    for i in range(n):
        slot = x & mask
        s = slot2sym[slot]
        x = freqs[s] * (x >> p) + slot - cum[s]
        while x < RANS_L:
            if pos >= len(payload):
                raise IlwpError("corrupt .ilwp: rANS payload ends early")
            x = (x << 8) | payload[pos]
            pos += 1
        out[i] = s
    if x != RANS_L or pos != len(payload):
        raise IlwpError("corrupt .ilwp: rANS payload does not end cleanly")
    return np.asarray(out, dtype=np.int64) + table.lo
