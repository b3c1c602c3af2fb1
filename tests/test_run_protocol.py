# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The serial protocol's framing, CRCs and resynchronisation: the firmware's C code (compiled for
the host with a byte-stream shim) and the host's Python code agree, frame for frame; the C parser
fuzzed under ASan/UBSan (bench/fuzz_protocol.sh)."""

from __future__ import annotations

import ctypes as C
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from conftest import REPO

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.run import framing as P
from ilwp_embedded.run.hello import parse_hello

RUNTIME = REPO / "firmware" / "runtime"
DECODER = REPO / "firmware" / "decoder"  # ilwp_crc32_update, the one CRC-32
SHIM = REPO / "tests" / "run_shim" / "proto_host_shim.c"
MAX_PAYLOAD = 1028

# docs/serial-protocol.md, "Example": HELLO_REQ seq 1, ACK seq 7 of next offset 1024, and RUN seq 9
# of the input whose CRC-32 is 0x12345678.
EXAMPLE_HELLO_REQ = bytes.fromhex("a55a01010000" "7d" "49b44a6d")
EXAMPLE_ACK = bytes.fromhex("a55a82070400" "5f" "00040000" "abe16aed")
EXAMPLE_RUN = bytes.fromhex("a55a03090400" "54" "78563412" "96263e77")


class CFrame(C.Structure):
    _fields_ = [("type", C.c_uint8), ("seq", C.c_uint8), ("len", C.c_uint16),
                ("payload", C.c_uint8 * MAX_PAYLOAD)]


@pytest.fixture(scope="module")
def cproto(tmp_path_factory):
    d = tmp_path_factory.mktemp("proto")
    (d / "board_config.h").write_text("/* host test: no board */\n")
    so = d / "proto.so"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC",
                    f"-I{d}", f"-I{REPO / 'firmware' / 'include'}", f"-I{RUNTIME}", f"-I{DECODER}", "-o", str(so),
                    str(RUNTIME / "protocol.c"), str(DECODER / "ilwp_decode.c"), str(SHIM)], check=True, capture_output=True, text=True)
    lib = C.CDLL(str(so))
    lib.ilwp_crc32_update.restype = C.c_uint32
    lib.ilwp_crc32_update.argtypes = [C.c_uint32, C.c_char_p, C.c_size_t]
    lib.ilwp_crc8.restype = C.c_uint8
    lib.ilwp_crc8.argtypes = [C.c_char_p, C.c_size_t]
    lib.shim_set_input.argtypes = [C.c_char_p, C.c_size_t]
    lib.shim_recv.argtypes = [C.POINTER(CFrame)]
    lib.shim_take_output.restype = C.c_size_t
    lib.shim_take_output.argtypes = [C.c_char_p, C.c_size_t]
    lib.shim_send.argtypes = [C.c_uint8, C.c_uint8, C.c_char_p, C.c_size_t]
    return lib


def c_parse(lib, stream: bytes) -> list[tuple]:
    """Everything the firmware's parser makes of a byte stream: (result, type, seq, payload)."""
    buf = C.create_string_buffer(stream, len(stream))
    lib.shim_set_input(buf, len(stream))
    out = []
    f = CFrame()
    while True:
        r = lib.shim_recv(C.byref(f))
        if r == 0:
            return out
        out.append((r, f.type, f.seq, bytes(f.payload[:f.len]) if r == 1 else None))


def c_send(lib, type_: int, seq: int, payload: bytes) -> bytes:
    lib.shim_send(type_, seq, payload, len(payload))
    dst = C.create_string_buffer(1 << 16)
    n = lib.shim_take_output(dst, len(dst))
    return dst.raw[:n]


def py_parse(stream: bytes, step: int = 7) -> list[P.Frame]:
    p = P.FrameParser()
    out = []
    for i in range(0, len(stream), step):  # fed in pieces, as a link delivers it
        p.feed(stream[i:i + step])
        while (f := p.next()) is not None:
            out.append(f)
    return out


def test_crcs_match_zlib_and_python(cproto):
    rng = np.random.default_rng(0)
    for n in (0, 1, 5, 100, 3072):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert cproto.ilwp_crc32_update(0, data, n) == zlib.crc32(data) == P.crc32(data)
        assert cproto.ilwp_crc8(data, n) == P.crc8(data)
    assert P.crc8(b"123456789") == 0xF4  # CRC-8 (poly 0x07) check value
    assert P.crc32(b"123456789") == 0xCBF43926


def test_stored_examples_decode():
    assert P.encode_frame(P.HELLO_REQ, 1) == EXAMPLE_HELLO_REQ
    assert P.encode_frame(P.ACK, 7, struct.pack("<I", 1024)) == EXAMPLE_ACK
    (f,) = py_parse(EXAMPLE_ACK)
    assert (f.type, f.seq, struct.unpack("<I", f.payload)[0]) == (P.ACK, 7, 1024)
    assert P.encode_frame(P.RUN, 9, struct.pack("<I", 0x12345678)) == EXAMPLE_RUN


def test_c_and_python_encode_the_same_frames(cproto):
    rng = np.random.default_rng(1)
    for n in (0, 1, 4, 17, 1028):
        payload = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        t, s = int(rng.integers(0, 256)), int(rng.integers(0, 256))
        assert c_send(cproto, t, s, payload) == P.encode_frame(t, s, payload)


def test_c_parser_decodes_python_frames_through_garbage(cproto):
    rng = np.random.default_rng(2)
    frames = [(P.INPUT, k, rng.integers(0, 256, int(rng.integers(0, 1029)), dtype=np.uint8).tobytes())
              for k in range(20)]
    stream = b""
    for t, s, p in frames:
        # garbage containing sync bytes and fake headers precedes every frame
        stream += bytes([0xA5, 0x5A, 0x02, 0x01, 0xFF, 0xFF, 0x00, 0xA5]) + rng.bytes(int(rng.integers(0, 40)))
        stream += P.encode_frame(t, s, p)
    got = [g for g in c_parse(cproto, stream) if g[0] == 1]
    assert [(t, s, p) for _, t, s, p in got] == frames


def test_c_parser_reports_bad_crc_and_too_long_and_resyncs(cproto):
    good = P.encode_frame(P.RUN, 9)
    bad = bytearray(P.encode_frame(P.INPUT, 3, b"\x00\x00\x00\x00abc"))
    bad[10] ^= 0x10  # payload byte
    too_long = P.encode_frame(P.INPUT, 4, bytes(MAX_PAYLOAD + 1))
    res = c_parse(cproto, bytes(bad) + good + too_long + good)
    assert [(r, t, s) for r, t, s, _ in res] == [
        (P_RX_BAD_CRC, P.INPUT, 3), (1, P.RUN, 9), (P_RX_TOO_LONG, P.INPUT, 4), (1, P.RUN, 9)]


P_RX_BAD_CRC, P_RX_TOO_LONG = -2, -3


def test_c_parser_finds_a_frame_inside_a_rejected_header(cproto):
    # a stray sync pair right before a real frame: its "header" is the real frame's first bytes
    good = P.encode_frame(P.ECHO, 5, b"hi")
    res = c_parse(cproto, b"\xA5\x5A" + good[:3] + good)
    assert [(r, t, s, p) for r, t, s, p in res][-1] == (1, P.ECHO, 5, b"hi")
    res = c_parse(cproto, b"\xA5\x5A" + good)  # sync, sync, then the frame
    assert res == [(1, P.ECHO, 5, b"hi")]


def test_c_parser_drops_a_frame_cut_short(cproto):
    good = P.encode_frame(P.ECHO, 6, b"payload")
    res = c_parse(cproto, good[:-3])  # the rest never comes: the byte timeout ends it (NAKed)
    assert res == [(-4, P.ECHO, 6, None)]
    # with no pause, the cut frame swallows the start of the resend (answered BAD_CRC): the
    # next resend gets through
    assert c_parse(cproto, good[:-3] + good + good) == [(-2, P.ECHO, 6, None), (1, P.ECHO, 6, b"payload")]


def test_python_parser_never_accepts_a_damaged_frame():
    rng = np.random.default_rng(3)
    sent = [P.encode_frame(P.OUTPUT, k % 256, rng.bytes(int(rng.integers(0, 64)))) for k in range(300)]
    stream = bytearray(b"".join(sent))
    for _ in range(400):  # flips, drops and duplicates at random places
        i = int(rng.integers(0, len(stream)))
        op = rng.integers(0, 3)
        if op == 0:
            stream[i] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:
            del stream[i]
        else:
            stream.insert(i, stream[i])
    originals = {(f.seq, f.payload) for f in py_parse(b"".join(sent))}
    got = py_parse(bytes(stream), step=13)
    assert got, "some frames must survive"
    assert all((f.type, (f.seq, f.payload) in originals) == (P.OUTPUT, True) for f in got)
    assert len(got) < 300


def test_hello_payload_round_trip():
    p = bytes([2, 1]) + struct.pack("<iIIHIII", -50, 3072, 10, 1028, 10**9, 7, 4096)
    for s in (b"qemu-m4", b"instructions", b"4c87e92c9285b7e3", b"raw"):
        p += bytes([len(s)]) + s
    h = parse_hello(p)
    assert (h.board, h.timer_unit, h.model_hash, h.decode_mode) == ("qemu-m4", "instructions", "4c87e92c9285b7e3", "raw")
    assert not h.init_ok and "-50" in h.init_problem() and h.test_commands
    assert (h.version, h.rx_buffer, h.max_payload) == (2, 4096, 1028)
    with pytest.raises(IlwpError, match="v1"):  # a version 1 device is refused by name
        parse_hello(bytes([1]) + p[1:])
    with pytest.raises(IlwpError, match="malformed"):
        parse_hello(p[:20])


def _fuzz(iterations: int, protocol_c=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, **({"PROTOCOL_C": str(protocol_c)} if protocol_c else {}))
    return subprocess.run(["bash", str(REPO / "bench" / "fuzz_protocol.sh"), "0", "1", str(iterations)],
                          capture_output=True, text=True, timeout=300, env=env)


def test_bounded_fuzz_run_of_the_device_parser_asan_ubsan():
    """bench/fuzz_protocol.sh for a fixed count of mutated frame streams (no time limit): no
    sanitizer report, no failed check, every receive result reached."""
    run = _fuzz(10000)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "iterations 10000" in run.stdout and "round trips 1250" in run.stdout, run.stdout


def test_the_fuzz_run_finds_a_planted_bug(tmp_path):
    """The same run over a copy of protocol.c whose length check lets 8 bytes too many in."""
    src = (RUNTIME / "protocol.c").read_text()
    check = "if (f->len > ILWP_PROTO_MAX_PAYLOAD) {"
    assert src.count(check) == 1
    mutant = tmp_path / "protocol.c"
    mutant.write_text(src.replace(check, "if (f->len > ILWP_PROTO_MAX_PAYLOAD + 8u) {"))
    run = _fuzz(10000, mutant)
    assert run.returncode != 0 and ("proto_fuzz: " in run.stderr or "AddressSanitizer" in run.stderr), run.stderr[-2000:]
