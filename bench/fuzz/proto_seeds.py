# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Seeds for bench/fuzz/proto_fuzz.c: byte streams of valid frames, as the host sends them and as
the device answers, made by run/framing.py.   python bench/fuzz/proto_seeds.py OUT_DIR"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

from ilwp_embedded.run import framing as P


def seed_streams() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, 3072, dtype=np.uint8).tobytes()
    crc = struct.pack("<I", P.crc32(image))
    host = [P.encode_frame(P.HELLO_REQ, 1)]
    host += [P.encode_frame(P.INPUT, 2 + k, struct.pack("<I", off) + image[off:off + 1024])
             for k, off in enumerate(range(0, len(image), 1024))]
    host += [P.encode_frame(P.RUN, 5, crc), P.encode_frame(P.ECHO, 6, bytes(range(256))),
             P.encode_frame(P.TEST, 7, bytes([P.TEST_RX_COST, 0x10, 0x00]))]
    device = [P.encode_frame(P.HELLO, 1, bytes([P.VERSION, 1]) + struct.pack("<iIIHIII", 0, 3072, 10, 1028, 10**9, 0, 4096)
                             + b"\x07qemu-m4\x0cinstructions\x104c87e92c9285b7e3\x03raw"),
              P.encode_frame(P.ACK, 2, struct.pack("<I", 1024)),
              P.encode_frame(P.OUTPUT, 5, rng.integers(0, 256, 34, dtype=np.uint8).tobytes()),
              P.encode_frame(P.ERROR, 9, bytes([P.ERR_BAD_CRC]) + struct.pack("<i", 1))]
    edge = [P.encode_frame(0xA5, 0x5A, b"\xA5\x5A" * 3), P.encode_frame(P.ECHO, 0xFF, b""),
            P.encode_frame(P.ECHO, 0, bytes([0xA5]) * 1028)]  # sync bytes everywhere; the largest payload
    return {"host": b"".join(host), "device": b"".join(device), "edge": b"".join(edge)}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for name, data in seed_streams().items():
        (out / f"{name}.bin").write_bytes(data)
