# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""MSB-first bit packing and exp-Golomb codes, used only for the small frequency tables."""

from __future__ import annotations

from ilwp_embedded.errors import IlwpError

MAX_EG_ZEROS = 16  # a longer zero run can only come from a corrupt stream


class BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def put(self, value: int, nbits: int) -> None:
        for i in range(nbits - 1, -1, -1):
            self.bits.append((value >> i) & 1)

    def put_eg(self, value: int, k: int) -> None:
        """Exp-Golomb of order k: (len-k-1) zeros, then value + 2^k in binary."""
        v = value + (1 << k)
        n = v.bit_length()
        self.put(0, n - k - 1)
        self.put(v, n)

    def to_bytes(self) -> bytes:
        out = bytearray()
        for i in range(0, len(self.bits), 8):
            chunk = self.bits[i:i + 8]
            b = 0
            for bit in chunk:
                b = (b << 1) | bit
            out.append(b << (8 - len(chunk)))
        return bytes(out)


def eg_len(value: int, k: int) -> int:
    n = (value + (1 << k)).bit_length()
    return 2 * n - k - 1


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def get(self, nbits: int) -> int:
        v = 0
        for _ in range(nbits):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise IlwpError("corrupt .ilwp: frequency table ends early")
            v = (v << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def get_eg(self, k: int) -> int:
        z = 0
        while self.get(1) == 0:
            z += 1
            if z > MAX_EG_ZEROS:
                raise IlwpError("corrupt .ilwp: bad exp-Golomb code in a frequency table")
        v = (1 << (z + k)) | self.get(z + k)
        return v - (1 << k)
