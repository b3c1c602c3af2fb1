# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The ilwp serial protocol v2, its bytes: message types, error codes, frames and their CRCs
(spec: docs/serial-protocol.md; the firmware's side: firmware/runtime/protocol.c, identical).

Frame: A5 5A | type | seq | len u16 LE | hcrc | payload | crc32 u32 LE
  hcrc  = CRC-8 (poly 0x07) over type, seq, len;  crc32 = zlib.crc32 over type..payload.
"""

from __future__ import annotations

import collections
import struct
import zlib
from dataclasses import dataclass

VERSION = 2
SYNC = b"\xA5\x5A"
HEADER_BYTES = 7
TRAILER_BYTES = 4

# host -> device
HELLO_REQ, INPUT, RUN, ECHO, INPUT_FILE, TEST = 0x01, 0x02, 0x03, 0x04, 0x05, 0x7E
# device -> host
HELLO, ACK, OUTPUT, ECHO_REPLY, ERROR = 0x81, 0x82, 0x83, 0x84, 0x8F
TYPE_NAMES = {HELLO_REQ: "HELLO_REQ", INPUT: "INPUT", RUN: "RUN", ECHO: "ECHO", INPUT_FILE: "INPUT_FILE", TEST: "TEST",
              HELLO: "HELLO", ACK: "ACK", OUTPUT: "OUTPUT", ECHO_REPLY: "ECHO_REPLY", ERROR: "ERROR"}

ERR_BAD_CRC, ERR_BAD_LENGTH, ERR_UNKNOWN_TYPE, ERR_BAD_OFFSET = 1, 2, 3, 4
ERR_INPUT_INCOMPLETE, ERR_MODEL_INIT, ERR_RUN_FAILED, ERR_INPUT_MISMATCH, ERR_FILE_READ = 5, 6, 7, 8, 9
ERROR_NAMES = {ERR_BAD_CRC: "bad CRC", ERR_BAD_LENGTH: "bad length", ERR_UNKNOWN_TYPE: "unknown type",
               ERR_BAD_OFFSET: "bad offset", ERR_INPUT_INCOMPLETE: "input incomplete",
               ERR_MODEL_INIT: "model init failed", ERR_RUN_FAILED: "model run failed",
               ERR_INPUT_MISMATCH: "input held is not the one named",
               ERR_FILE_READ: "semihosting file read failed"}
TEST_HANG, TEST_FAULT, TEST_EXIT, TEST_HANG_IN_RUN, TEST_RX_COST = 1, 2, 3, 4, 5


def crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc32(data: bytes, crc: int = 0) -> int:
    return zlib.crc32(data, crc) & 0xFFFFFFFF


def encode_frame(type_: int, seq: int, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError("payload longer than 65535 bytes")
    head = struct.pack("<BBH", type_, seq & 0xFF, len(payload))
    head += bytes([crc8(head)])
    return SYNC + head + payload + struct.pack("<I", crc32(head + payload))


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes

    @property
    def name(self) -> str:
        return TYPE_NAMES.get(self.type, f"0x{self.type:02X}")


class FrameParser:
    """Streaming decoder: feed bytes, take frames.  Skips garbage and frames with a bad CRC
    (scanning again from the byte after their sync), counting what it dropped: damaged frames
    whose header held are counted by seq (whose answer was lost), the others as unknown."""

    def __init__(self, max_payload: int = 0xFFFF):
        self.buf = bytearray()
        self.max_payload = max_payload
        self.dropped_bytes = 0
        self.bad_frames = 0
        self.bad_unknown = 0
        self.bad_seqs: collections.Counter[int] = collections.Counter()

    def _bad(self, seq: int | None) -> None:
        self.bad_frames += 1
        if seq is None:
            self.bad_unknown += 1
        else:
            self.bad_seqs[seq] += 1

    def _header_seq(self) -> int | None:
        """The seq of the frame at the start of the buffer if its header is intact."""
        if len(self.buf) < HEADER_BYTES or not self.buf.startswith(SYNC):
            return None
        head = bytes(self.buf[2:7])
        ok = crc8(head[:4]) == head[4] and struct.unpack("<H", head[2:4])[0] <= self.max_payload
        return head[1] if ok else None

    def feed(self, data: bytes) -> None:
        self.buf += data

    def _drop(self, n: int) -> None:
        del self.buf[:n]
        self.dropped_bytes += n

    def next(self) -> Frame | None:
        while True:
            i = self.buf.find(SYNC)
            if i < 0:
                keep = 1 if self.buf[-1:] == SYNC[:1] else 0
                self._drop(len(self.buf) - keep)
                return None
            if i:
                self._drop(i)
            if len(self.buf) < HEADER_BYTES:
                return None
            head = bytes(self.buf[2:7])
            type_, seq, n = struct.unpack("<BBH", head[:4])
            if crc8(head[:4]) != head[4] or n > self.max_payload:
                self._bad(None)
                self._drop(1)
                continue
            total = HEADER_BYTES + n + TRAILER_BYTES
            if len(self.buf) < total:
                return None
            payload = bytes(self.buf[7:7 + n])
            (crc,) = struct.unpack("<I", self.buf[7 + n:total])
            if crc != crc32(head + payload):
                self._bad(seq)
                self._drop(1)
                continue
            del self.buf[:total]
            return Frame(type_, seq, payload)

    def abandon_partial(self) -> None:
        """After a timeout: a partial frame in the buffer will not complete; rescan past its sync."""
        if self.buf.startswith(SYNC):
            self._bad(self._header_seq())
            self._drop(1)
