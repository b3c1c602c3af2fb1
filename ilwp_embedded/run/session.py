# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The host's side of a conversation with a device over the ilwp serial protocol v2 (spec:
docs/serial-protocol.md; frames and CRCs: framing.py; the device's self-description: hello.py).

`Device` speaks it over a `Link`: every request carries a sequence number, every wait has a
timeout, a request is retried (same seq) on timeout or a BAD_CRC error, and answers with another
seq (late duplicates) are dropped.  A result is returned only from frames whose CRCs hold and
whose echo of the input's CRC-32 matches what was sent: never a wrong result, or an IlwpError.
`Device.infer_many` keeps two inputs in flight: the next input streams into the device's receive
ring while it runs the current one.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.run.framing import (ACK, ECHO, ECHO_REPLY, ERR_BAD_CRC, ERR_BAD_LENGTH, ERR_BAD_OFFSET,
                                       ERR_INPUT_INCOMPLETE, ERR_INPUT_MISMATCH, ERROR, ERROR_NAMES, HEADER_BYTES,
                                       HELLO, HELLO_REQ, INPUT, INPUT_FILE, OUTPUT, RUN, SYNC, TEST, TEST_RX_COST,
                                       TRAILER_BYTES, TYPE_NAMES, Frame, FrameParser, crc32, encode_frame)
from ilwp_embedded.run.hello import Hello, parse_hello

# how Device.infer_many moves inputs to the board; auto: semihosting where the link and the
# firmware offer it (QEMU), else serial
INPUTS_VIA = ("auto", "serial", "semihosting")
OUTPUT_HEAD = struct.Struct("<iQIII")  # status, elapsed, decode ticks, input CRC-32, bytes received in the run


@dataclass(frozen=True)
class Inference:
    output: np.ndarray  # int8, flat
    elapsed: int  # timer count of the run (unit: `unit`), the receive interrupt's work included
    unit: str
    decode_ticks: int
    rx_in_run: int  # bytes the device received (by interrupt) while it ran: the overlap


@dataclass
class LinkStats:
    frames_sent: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0
    timeouts: int = 0
    nak_bad_crc: int = 0
    input_restarts: int = 0
    ahead_bytes: int = 0  # input bytes streamed while the device ran the previous input
    rx_in_run_bytes: int = 0  # bytes the device received during its runs (its OUTPUTs say)
    events: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.events) < 50:
            self.events.append(what)


class DeviceError(IlwpError):
    """The device answered with an ERROR frame."""

    def __init__(self, request: str, code: int, detail: int):
        self.code, self.detail = code, detail
        super().__init__(f"device refused {request}: {ERROR_NAMES.get(code, f'error {code}')} "
                         f"(code {code}, detail {detail})")


class NoAnswer(IlwpError):
    """A request got no valid answer in all its attempts (the link or the device is failing)."""


MIN_CHUNK = 32
STALL_S = 0.3  # a frame whose bytes stop coming for this long lost some: it is abandoned


class Device:
    """The host's side of one board running the inference firmware."""

    def __init__(self, link, timeout_s: float = 1.0, run_timeout_s: float = 60.0, retries: int = 8,
                 chunk_bytes: int | None = None, inputs_via: str = "serial"):
        if inputs_via not in INPUTS_VIA:
            raise IlwpError(f"inputs via {inputs_via!r}: expected one of {', '.join(INPUTS_VIA)}")
        self.inputs_via = inputs_via
        self.link = link
        self.timeout_s = timeout_s
        self.run_timeout_s = run_timeout_s
        self.retries = retries
        self.chunk_bytes = chunk_bytes
        self.parser = FrameParser()
        self.stats = LinkStats()
        self.hello_info: Hello | None = None
        self._seq = 0
        self._chunk = 0  # the INPUT chunk size now in use (adapts to the link's error rate)
        self._ahead: dict[int, Frame | None] = {}  # seq of a chunk sent ahead -> its answer
        self._slowest_run_s = 0.0

    # -- frames -----------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        if self._seq == 0:  # seq 0 is the boot HELLO's: keep it unambiguous
            self._seq = 1
        return self._seq

    def _send(self, type_: int, seq: int, payload: bytes = b"") -> None:
        data = encode_frame(type_, seq, payload)
        self.link.write(data)
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(data)

    def read_frame(self, timeout_s: float, stop_on_damage: bool = False, seq: int | None = None) -> Frame | None:
        """The next valid frame, or None after timeout_s; IlwpError if the link died.

        stop_on_damage: return None as soon as a damaged frame was seen (a bad CRC, or a frame
        whose bytes stopped coming for STALL_S): the answer it carried is lost, resend now.  With
        `seq`, only a damaged frame that may have been seq's answer counts (its header was
        damaged too, or said seq): answers to other requests in flight are no reason to resend."""
        deadline = time.monotonic() + timeout_s
        p = self.parser
        bad0, unknown0, ours0 = p.bad_frames, p.bad_unknown, p.bad_seqs[seq] if seq is not None else 0
        last_rx = time.monotonic()
        while True:
            f = p.next()
            if f is not None:
                return f
            now = time.monotonic()
            if p.buf.startswith(SYNC) and now - last_rx > STALL_S:
                p.abandon_partial()  # a frame that lost bytes: it will never complete
                continue
            if stop_on_damage and (p.bad_frames > bad0 if seq is None else
                                   p.bad_unknown > unknown0 or p.bad_seqs[seq] > ours0):
                return None
            left = deadline - now
            if left <= 0:
                p.abandon_partial()
                return None
            data = self.link.read(4096, min(left, 0.05 if p.buf else 0.25))
            if data:
                last_rx = time.monotonic()
                self.stats.bytes_received += len(data)
                p.feed(data)
            else:
                self.link.check_alive()

    def _answer(self, f: Frame, seq: int, name: str, payload: bytes) -> str:
        """'resend', 'ignore' or 'ok' for a frame received while waiting for seq's answer."""
        if f.type == HELLO and f.seq == 0:
            raise IlwpError(f"the device restarted while answering {name} ({self.link.describe_state()})")
        if f.seq != seq:
            if f.seq in self._ahead and self._ahead[f.seq] is None:
                self._ahead[f.seq] = f  # the answer to a chunk sent ahead: finish_ahead() reads it
            else:
                self.stats.note(f"dropped a late {f.name} seq {f.seq} (waiting for seq {seq})")
            return "ignore"
        if f.type == ERROR:
            code, detail = struct.unpack("<Bi", f.payload[:5]) if len(f.payload) >= 5 else (0, 0)
            if code == ERR_BAD_CRC or (code == ERR_BAD_LENGTH and detail != len(payload)):
                self.stats.nak_bad_crc += 1  # (a length the device saw wrong: corrupted too)
                return "resend"
            raise DeviceError(name, code, detail)
        return "ok"

    def request(self, type_: int, payload: bytes, answers: tuple[int, ...], timeout_s: float | None = None,
                retries: int | None = None) -> Frame:
        """Send one request and return its answer (a frame of a type in `answers` with its seq).
        Resends with the same seq on timeout, a damaged answer or BAD_CRC; raises DeviceError on
        other ERRORs and NoAnswer when every attempt failed."""
        # a frame takes ~45 us/byte into QEMU (more on a loaded host, 87 us/byte at 115200 baud)
        timeout_s = (self.timeout_s if timeout_s is None else timeout_s) + len(payload) * 0.0005
        retries = self.retries if retries is None else retries
        seq = self._next_seq()
        name = TYPE_NAMES.get(type_, hex(type_))
        for attempt in range(retries + 1):
            if attempt:
                self.stats.retries += 1
            self._send(type_, seq, payload)
            deadline = time.monotonic() + timeout_s
            while True:
                f = self.read_frame(max(0.0, deadline - time.monotonic()), stop_on_damage=True, seq=seq)
                if f is None:
                    self.stats.timeouts += 1
                    self.stats.note(f"no answer to {name} seq {seq} (timeout or damaged)")
                    break
                verdict = self._answer(f, seq, name, payload)
                if verdict == "resend":
                    break
                if verdict == "ok":
                    if f.type in answers:
                        return f
                    self.stats.note(f"unexpected {f.name} seq {f.seq} for {name}")
        raise NoAnswer(f"no valid answer to {name} after {retries + 1} attempts "
                       f"(timeout {timeout_s:.3g} s): {self.link.describe_state()}")

    # -- messages ---------------------------------------------------------------------------
    def connect(self, banner_timeout_s: float = 10.0) -> Hello:
        """Wait for the boot HELLO (QEMU: the firmware starts when the link connects), else ask."""
        deadline = time.monotonic() + banner_timeout_s
        while time.monotonic() < deadline:
            f = self.read_frame(deadline - time.monotonic())
            if f is not None and f.type == HELLO:
                self.hello_info = parse_hello(f.payload)
                return self.hello_info
        return self.hello()

    def hello(self) -> Hello:
        f = self.request(HELLO_REQ, b"", (HELLO,))
        self.hello_info = parse_hello(f.payload)
        return self.hello_info

    def echo(self, data: bytes, timeout_s: float | None = None) -> bytes:
        return self.request(ECHO, data, (ECHO_REPLY,), timeout_s=timeout_s).payload

    def test(self, action: int, arg: int = 0, timeout_s: float | None = None) -> Frame:
        return self.request(TEST, bytes([action, arg]), (ACK,), timeout_s=timeout_s, retries=0)

    def rx_handler_units(self, k: int) -> tuple[int, int]:
        """TEST 5: timer units of k direct calls of the receive interrupt handler, and of k calls
        of an empty function in the same loop (test firmware; nothing may be sent meanwhile)."""
        f = self.request(TEST, bytes([TEST_RX_COST]) + struct.pack("<H", k), (ACK,), retries=0)
        if len(f.payload) != 8:
            raise IlwpError(f"TEST 5 answer has {len(f.payload)} bytes, not 8")
        return struct.unpack("<II", f.payload)

    def _info(self) -> Hello:
        if self.hello_info is None:
            self.connect()
        assert self.hello_info is not None
        return self.hello_info

    def _input_bytes(self, x: np.ndarray) -> bytes:
        data = np.ascontiguousarray(x).tobytes()
        if len(data) != self._info().input_bytes:
            raise IlwpError(f"input has {len(data)} bytes; the firmware's model takes {self._info().input_bytes}")
        return data

    def _top_chunk(self) -> int:
        info = self._info()
        return min(self.chunk_bytes or info.max_payload - 4, info.max_payload - 4)

    def send_input(self, x: np.ndarray) -> None:
        """Upload x chunk by chunk, each ACKed before the next."""
        self._upload(self._input_bytes(x), 0)

    def _upload(self, data: bytes, start: int) -> None:
        """Stop-and-wait upload from byte `start` (the device holds the bytes before it)."""
        top = self._top_chunk()
        chunk = min(self._chunk or top, top)
        for restart in range(3):
            off = start if restart == 0 else 0
            good = 0
            try:
                while off < len(data):
                    part = data[off:off + chunk]
                    try:
                        f = self.request(INPUT, struct.pack("<I", off) + part, (ACK,),
                                         retries=2 * self.retries if chunk <= MIN_CHUNK else 3)
                    except NoAnswer:
                        if chunk <= MIN_CHUNK:
                            raise
                        # a noisy link: smaller frames get through more often (same offset again)
                        chunk = max(MIN_CHUNK, chunk // 2)
                        self.stats.note(f"chunk size down to {chunk}")
                        good = 0
                        continue
                    (nxt,) = struct.unpack("<I", f.payload[:4])
                    if not off + len(part) <= nxt <= len(data):
                        # (more than this part: an earlier, longer send of the same bytes whose
                        # ACK was lost had been stored; the input CRC checks it all)
                        raise DeviceError("INPUT", ERR_BAD_OFFSET, nxt)
                    off = nxt
                    good += 1
                    if good >= 16 and chunk < top:
                        chunk, good = min(top, chunk * 2), 0
                self._chunk = chunk
                return
            except DeviceError as e:
                if e.code not in (ERR_BAD_OFFSET, ERR_INPUT_INCOMPLETE) or restart == 2:
                    raise
                self.stats.input_restarts += 1
                self.stats.note(f"input upload restarted: {e}")

    def send_ahead(self, x: np.ndarray) -> "Ahead":
        """Stream the first chunks of x without waiting for answers, while the device runs the
        previous input: as many as its receive ring holds (HELLO rx_buffer) beside a resent RUN.
        They are answered once the run is over; finish_ahead() collects the answers."""
        data = self._input_bytes(x)
        top = self._top_chunk()
        chunk = min(self._chunk or top, top)
        budget = self._info().rx_buffer - (HEADER_BYTES + 4 + TRAILER_BYTES)
        chunks = []
        off = 0
        while off < len(data):
            part = data[off:off + chunk]
            wire = HEADER_BYTES + 4 + len(part) + TRAILER_BYTES
            if wire > budget:
                break
            seq = self._next_seq()
            self._send(INPUT, seq, struct.pack("<I", off) + part)
            chunks.append((seq, off, off + len(part)))
            budget -= wire
            off += len(part)
        self._ahead = {seq: None for seq, _, _ in chunks}
        self.stats.ahead_bytes += off
        return Ahead(data, tuple(chunks))

    def finish_ahead(self, ahead: "Ahead") -> None:
        """Collect the answers to the chunks send_ahead() streamed, then upload the rest of the
        input stop-and-wait from the furthest offset an ACK reported (from byte 0 if none did)."""
        if ahead.chunks:
            last = ahead.chunks[-1][0]
            wires = [end - off + HEADER_BYTES + 4 + TRAILER_BYTES for _, off, end in ahead.chunks]
            deadline = time.monotonic() + self.timeout_s + sum(wires) * 0.0005
            gap = self.timeout_s + max(wires) * 0.0005  # one chunk's arrival and answer
            lost0 = self.parser.bad_seqs[last]
            # the device answers in order: the last chunk's answer ends the wait, and so does
            # its damage or a silence longer than one chunk takes (a chunk was lost)
            while self._ahead.get(last) is None and self.parser.bad_seqs[last] == lost0:
                f = self.read_frame(max(0.0, min(gap, deadline - time.monotonic())),
                                    stop_on_damage=True, seq=last)
                if f is None:
                    break
                self._answer(f, -1, "INPUT", b"")  # files it in self._ahead (or drops it)
        # `received` on the device only grows after chunk 0, so the furthest ACK is where it
        # stands (were it wrong, BAD_OFFSET restarts the upload; the input CRC checks it all)
        start = 0
        for seq, _, end in ahead.chunks:
            f = self._ahead.get(seq)
            if f is not None and f.type == ACK and len(f.payload) >= 4:
                (nxt,) = struct.unpack_from("<I", f.payload)
                if end <= nxt <= len(ahead.data):
                    start = max(start, nxt)
        self._ahead = {}
        if start < len(ahead.data):
            self.stats.note(f"input sent ahead ACKed up to {start} of {len(ahead.data)}")
        self._upload(ahead.data, start)

    def run(self, input_crc: int, on_sent=None, retries: int | None = None) -> Frame:
        """RUN (naming the input's CRC-32) -> ACK (the run started), then OUTPUT.  The ACK is
        awaited the ordinary timeout, the OUTPUT the run timeout: run_timeout_s or, once runs have
        been seen, 10x the slowest (at least 5 s).  A lost or damaged answer makes the host resend
        RUN with the same seq: the device answers a repeated RUN from its cached OUTPUT without
        running again.  A resend is answered after the run in progress and the bytes streamed
        since the first send: it waits that much longer.  on_sent: called once, after the first
        send (host work that overlaps the run, e.g. send_ahead)."""
        retries = self.retries if retries is None else retries
        run_wait = self.run_timeout_s
        if self._slowest_run_s:
            run_wait = min(run_wait, max(5.0, 10 * self._slowest_run_s))
        seq = self._next_seq()
        payload = struct.pack("<I", input_crc)
        t0 = time.monotonic()
        behind = 0.0  # extra wait for a resend's answer
        for attempt in range(retries + 1):
            if attempt:
                self.stats.retries += 1
            sent0 = self.stats.bytes_sent
            self._send(RUN, seq, payload)
            if on_sent is not None:
                on_sent()
                on_sent = None
                behind = self._slowest_run_s + (self.stats.bytes_sent - sent0) * 0.0005
            deadline = time.monotonic() + self.timeout_s + (behind if attempt else 0.0)
            started = False
            while True:
                f = self.read_frame(max(0.0, deadline - time.monotonic()), stop_on_damage=True, seq=seq)
                if f is None:
                    self.stats.timeouts += 1
                    self.stats.note(f"no {'OUTPUT' if started else 'ACK'} for RUN seq {seq}")
                    break
                verdict = self._answer(f, seq, "RUN", payload)
                if verdict == "resend":
                    break
                if verdict == "ignore":
                    continue
                if f.type == ACK and not started:
                    started = True
                    deadline = time.monotonic() + run_wait
                elif f.type == OUTPUT:
                    self._slowest_run_s = max(self._slowest_run_s, time.monotonic() - t0)
                    return f
        raise NoAnswer(f"no valid answer to RUN after {retries + 1} attempts (run timeout "
                       f"{run_wait:.3g} s): {self.link.describe_state()}")

    def infer(self, x: np.ndarray, while_running=None) -> tuple[np.ndarray, int, str, int]:
        """(output int8 flat, elapsed, timer unit, decode ticks) for one input; checked end to end.

        while_running: called once while the device computes (host work to overlap)."""
        r, _ = self._infer_one(x, None, None, while_running)
        return r.output, r.elapsed, r.unit, r.decode_ticks

    def infer_many(self, xs, while_running=None) -> Iterator[Inference]:
        """The checked Inference of every input of xs, in order.  Over serial with two inputs in
        flight: input k+1 is streamed (send_ahead) while the device runs input k.  With
        inputs_via="semihosting" (QEMU) each input is read by the board from a host file.

        while_running(k): called once while the device computes input k."""
        if self.resolved_inputs_via() == "semihosting":
            yield from self._infer_many_from_file(xs, while_running)
            return
        ahead = None
        for k, x in enumerate(xs):
            nxt = xs[k + 1] if k + 1 < len(xs) else None
            work = (lambda k=k: while_running(k)) if while_running is not None else None
            result, ahead = self._infer_one(x, ahead, nxt, work)
            yield result

    def resolved_inputs_via(self) -> str:
        """"serial" or "semihosting": inputs_via with "auto" decided by the link and the HELLO."""
        info = self._info()
        can = getattr(self.link, "host_dir", None) is not None and info.file_inputs
        if self.inputs_via == "semihosting" and not can:
            raise IlwpError(f"{info.board} cannot read inputs from host files (semihosting: QEMU boards "
                            "only); use the serial link")
        if self.inputs_via == "auto":
            return "semihosting" if can else "serial"
        return self.inputs_via

    def _infer_many_from_file(self, xs, while_running) -> Iterator[Inference]:
        info = self._info()
        path = Path(self.link.host_dir) / "inputs.bin"
        path.write_bytes(b"".join(self._input_bytes(x) for x in xs))  # input k at k * input_bytes
        name = str(path.resolve()).encode()
        for k, x in enumerate(xs):
            work = (lambda k=k: while_running(k)) if while_running is not None else None
            load = (lambda k=k: self.load_from_file(name, k * info.input_bytes))
            result, _ = self._infer_one(x, None, None, work, load=load)
            yield result

    def load_from_file(self, path: bytes, offset: int) -> None:
        """INPUT_FILE: the board reads a whole input at `offset` of the host file `path`."""
        f = self.request(INPUT_FILE, struct.pack("<I", offset) + path, (ACK,))
        (got,) = struct.unpack_from("<I", f.payload) if len(f.payload) >= 4 else (-1,)
        if got != self._info().input_bytes:
            raise DeviceError("INPUT_FILE", ERR_INPUT_INCOMPLETE, got)

    def _infer_one(self, x: np.ndarray, ahead: "Ahead | None", nxt: np.ndarray | None,
                   while_running, load=None) -> tuple[Inference, "Ahead | None"]:
        """One checked inference of x; `ahead`: x's first chunks, already streamed; `nxt`: the
        next input, to stream during this run; `load`: moves x to the board another way (a
        file).  Returns x's Inference and the Ahead of nxt."""
        info = self._info()
        if not info.init_ok:
            raise IlwpError(f"the board refuses to run: {info.init_problem()}")
        data = self._input_bytes(x)
        want_crc = crc32(data)
        for attempt in range(3):
            if load is not None:
                load()
            elif ahead is not None and ahead.data == data:
                self.finish_ahead(ahead)
            else:
                self.send_input(x)
            ahead = None
            sent: list[Ahead] = []

            def overlap() -> None:
                nonlocal while_running
                if nxt is not None:
                    sent.append(self.send_ahead(nxt))
                if while_running is not None:
                    work, while_running = while_running, None
                    work()

            try:
                f = self.run(want_crc, on_sent=overlap)
            except DeviceError as e:
                if e.code in (ERR_INPUT_INCOMPLETE, ERR_INPUT_MISMATCH) and attempt < 2:
                    # (e.g. a damaged RUN, then the next input streamed over this one)
                    self.stats.input_restarts += 1
                    self.stats.note(f"RUN refused ({e}): uploading the input again")
                    self._ahead = {}
                    continue
                raise
            p = f.payload
            if len(p) != OUTPUT_HEAD.size + info.output_bytes:
                raise IlwpError(f"OUTPUT has {len(p)} bytes; expected {OUTPUT_HEAD.size + info.output_bytes}")
            status, elapsed, dticks, in_crc, rx_in_run = OUTPUT_HEAD.unpack_from(p, 0)
            if status != 0:
                raise IlwpError(f"the model failed on the device with status {status}")
            if in_crc != want_crc:
                # the device ran on other bytes than sent: never report that result
                self.stats.input_restarts += 1
                self.stats.note(f"input CRC echo 0x{in_crc:08X} != 0x{want_crc:08X}: re-sending")
                self._ahead = {}
                continue
            self.stats.rx_in_run_bytes += rx_in_run
            out = np.frombuffer(p[OUTPUT_HEAD.size:], dtype=np.int8).copy()
            return (Inference(out, int(elapsed), info.timer_unit, int(dticks), int(rx_in_run)),
                    sent[0] if sent else None)
        raise IlwpError("the device kept running on an input other than the one sent "
                        f"(input CRC mismatch 3 times): {self.link.describe_state()}")


@dataclass(frozen=True)
class Ahead:
    """The first INPUT chunks of an input, streamed while the device ran the previous one: they
    wait in its receive ring and are answered after that run."""
    data: bytes
    chunks: tuple[tuple[int, int, int], ...]  # (seq, offset, end)
