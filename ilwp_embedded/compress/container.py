# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Serialisation of the .ilwp container; byte layout specified in docs/blob-format.md."""

from __future__ import annotations

import struct
import zlib

from ilwp_embedded.compress.streams import MODE_INTRA, MODE_SEARCHED, Container, TensorRecord
from ilwp_embedded.errors import IlwpError

MAGIC = b"ILWP"
VERSION = 5  # 5: pair symbols; 4: knot tables, 3-bit widths, edge frequencies; 3: stored records (table_len 0); 2: table precision P <= 11 (1: P <= 15)
HEADER = struct.Struct("<4sBBHII")  # magic, version, flags, n_records, records_len, skeleton_len
FLAG_LOSSY = 1
MAX_STEP = 127
PAIR_BASE = 8  # mode_flags bits 5-6 = P2 - 8 (pair symbols, v5)


def put_varint(out: bytearray, v: int) -> None:
    if not 0 <= v < 1 << 32:
        raise ValueError(f"varint out of range: {v}")
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


class _Cursor:
    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise IlwpError("corrupt .ilwp: record ends early")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        v = 0
        for i in range(5):
            b = self.byte()
            v |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                if v >= 1 << 32:
                    break
                return v
        raise IlwpError("corrupt .ilwp: bad varint")

    def take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise IlwpError("corrupt .ilwp: record ends early")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def u16s(self, n: int) -> tuple[int, ...]:
        raw = self.take(2 * n)
        return struct.unpack(f"<{n}H", raw)


def record_bytes(r: TensorRecord) -> bytes:
    lossy = r.step > 1  # the step is coded only then: lossless records save its byte
    pairs = r.pair_log2 - PAIR_BASE if r.pair_log2 else 0  # bits 5-6: P2 - 8, 0 = single symbols
    out = bytearray([r.mode | (r.channel_minor << 2) | (r.ref_channel_minor << 3) | (lossy << 4) | (pairs << 5)])
    for v in (r.tensor_id, r.n_channels, r.kernel) + ((r.step,) if lossy else ()):
        put_varint(out, v)
    if r.mode != MODE_INTRA:
        put_varint(out, r.ref_record)
        put_varint(out, r.ref_channels)
        out += struct.pack(f"<{r.n_channels}H", *r.mults)
        if r.mode == MODE_SEARCHED:
            out += struct.pack(f"<{r.n_channels}H", *r.ref_map)
    put_varint(out, len(r.table))
    out += r.table
    put_varint(out, len(r.payload))
    out += r.payload
    return bytes(out)


def pack(c: Container) -> bytes:
    recs = b"".join(record_bytes(r) for r in c.records)
    head = HEADER.pack(MAGIC, VERSION, FLAG_LOSSY if c.lossy else 0, len(c.records), len(recs), len(c.skeleton))
    body = head + recs + c.skeleton
    return body + struct.pack("<I", zlib.crc32(body))


def _parse_record(cur: _Cursor, index: int) -> TensorRecord:
    mf = cur.byte()
    mode = mf & 3
    if mf >> 7 or mode == 3:
        raise IlwpError(f"corrupt .ilwp: record {index} has unknown mode bits {mf:#x}")
    tensor_id, ch, kernel = (cur.varint() for _ in range(3))
    step = cur.varint() if mf & 16 else 1
    n = ch * kernel
    if n == 0 or n >= 1 << 32 or not 1 <= step <= MAX_STEP or (mf & 16 and step == 1):
        raise IlwpError(f"corrupt .ilwp: record {index} has bad dimensions or step")
    kw = {}
    if mode != MODE_INTRA:
        ref, rch = cur.varint(), cur.varint()
        if ref >= index or rch == 0:
            raise IlwpError(f"corrupt .ilwp: record {index} has a bad reference")
        kw = dict(ref_record=ref, ref_channels=rch, mults=cur.u16s(ch))
        if mode == MODE_SEARCHED:
            kw["ref_map"] = cur.u16s(ch)
            if max(kw["ref_map"]) >= rch:
                raise IlwpError(f"corrupt .ilwp: record {index} maps to a missing reference channel")
        elif rch != ch:
            raise IlwpError(f"corrupt .ilwp: record {index}: collocated reference has other channels")
    table = cur.take(cur.varint())
    payload = cur.take(cur.varint())
    pairs = (mf >> 5) & 3
    if pairs and not table:
        raise IlwpError(f"corrupt .ilwp: record {index} is stored but flagged as pair symbols")
    return TensorRecord(tensor_id, mode, bool(mf & 4), n, ch, step, ref_channel_minor=bool(mf & 8),
                        table=table, payload=payload, pair_log2=PAIR_BASE + pairs if pairs else 0, **kw)


def unpack(data: bytes, check_crc: bool = True) -> Container:
    if len(data) < HEADER.size + 4:
        raise IlwpError("not an .ilwp file (too short)")
    magic, version, flags, n, rlen, slen = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise IlwpError("not an .ilwp file (bad magic)")
    if version != VERSION:
        raise IlwpError(f".ilwp version {version} is not supported (this decoder reads {VERSION}; "
                        "re-run ilwp-embed compress on the model to write it anew)")
    if flags & ~FLAG_LOSSY:
        raise IlwpError(f"corrupt .ilwp: unknown header flags {flags:#x}")
    if HEADER.size + rlen + slen + 4 != len(data):
        raise IlwpError("corrupt .ilwp: section lengths do not match the file size")
    if check_crc and zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise IlwpError("corrupt .ilwp: CRC32 mismatch")
    cur = _Cursor(data, HEADER.size, HEADER.size + rlen)
    records = tuple(_parse_record(cur, i) for i in range(n))
    if cur.pos != cur.end:
        raise IlwpError("corrupt .ilwp: trailing bytes after the last record")
    skel = data[HEADER.size + rlen:HEADER.size + rlen + slen]
    return Container(bool(flags & FLAG_LOSSY), records, skel)
