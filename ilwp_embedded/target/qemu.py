# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Emulated boards: the qemu-system-arm command line, and start/stop with timeouts.

The guest's console UART is a TCP server socket (`wait=on`: the guest starts only when the
host connects, so no byte of the boot banner is lost).  Under `-icount shift=0` each guest
instruction is 1 ns of virtual time, which makes SysTick counts repeatable instruction counts.
The firmware ends with semihosting SYS_EXIT_EXTENDED; its code is QEMU's exit status.
`start_qemu_pty` puts the UART on a host pseudo-terminal instead, for serial servers (ser2net).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Sequence

import serial

from ilwp_embedded.target.boards import Board
from ilwp_embedded.errors import IlwpError

QEMU = "qemu-system-arm"
START_TIMEOUT_S = 10.0


def qemu_command(board: Board, elf: Path, serial_spec: str, icount: bool = True,
                 extra: Sequence[str] = ()) -> list[str]:
    """The qemu-system-arm argv that runs `elf` on an emulated board.

    serial_spec: e.g. "tcp:127.0.0.1:4321,server=on,wait=on", "pty" or "stdio".
    """
    if board.qemu_machine is None:
        raise IlwpError(f"board {board.id} is not emulated: it runs on hardware only")
    cmd = [QEMU, "-M", board.qemu_machine]
    if icount:
        cmd += ["-icount", "shift=0"]
    cmd += [
        "-semihosting-config", "enable=on,target=native",
        "-display", "none",
        "-monitor", "none",
        "-serial", serial_spec,
        *extra,
        "-kernel", str(elf),
    ]
    return cmd


@dataclass(frozen=True)
class QemuRun:
    """A firmware run to its end: QEMU's exit status (the firmware's semihosting exit code) and what
    it printed (console UART on stdout, semihosting output)."""

    returncode: int
    output: str
    command: list[str]


def run_to_exit(board: Board, elf: Path, timeout_s: float, serial_spec: str = "stdio",
                icount: bool = True, extra: Sequence[str] = ()) -> QemuRun:
    """Run `elf` on an emulated board until the firmware exits (benchmarks, kernel tests); IlwpError
    when it runs past `timeout_s`. extra: more QEMU arguments (e.g. the cycle-profile plugin's)."""
    if shutil.which(QEMU) is None:
        raise IlwpError(f"{QEMU} not found on PATH; run scripts/install-toolchain.sh")
    cmd = qemu_command(board, Path(elf), serial_spec, icount=icount, extra=extra)
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise IlwpError(f"{Path(elf).name} still running on {board.id} after {timeout_s:.0f} s") from None
    out = r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")
    return QemuRun(r.returncode, out, cmd)


def end_process(process: subprocess.Popen, grace_s: float = 5.0) -> None:
    """Terminate, then kill after `grace_s`: QEMU never outlives the harness."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def tcp_serial_spec(port: int) -> str:
    return f"tcp:127.0.0.1:{port},server=on,wait=on"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class QemuSession:
    """A running emulated board and its serial link (pyserial, socket:// URL)."""

    board: Board
    process: subprocess.Popen
    port: int
    link: serial.SerialBase
    command: list[str] = field(default_factory=list)

    def read_until(self, marker: bytes, timeout_s: float) -> bytes:
        """Bytes up to and including `marker`; IlwpError on timeout or QEMU exit."""
        deadline = time.monotonic() + timeout_s
        buf = bytearray()
        while not buf.endswith(marker):
            if time.monotonic() > deadline:
                raise IlwpError(f"no {marker!r} from {self.board.id} within {timeout_s:.0f} s "
                                f"(got {bytes(buf[-80:])!r})")
            self.link.timeout = max(0.01, min(0.2, deadline - time.monotonic()))
            chunk = self.link.read(1)
            if chunk:
                buf += chunk
            elif self.process.poll() is not None:
                raise IlwpError(f"QEMU exited with status {self.process.returncode} before "
                                f"{marker!r} (got {bytes(buf[-80:])!r})")
        return bytes(buf)

    def read_line(self, timeout_s: float = 10.0) -> str:
        return self.read_until(b"\n", timeout_s).decode("utf-8", "replace").rstrip("\r\n")

    def write(self, data: bytes) -> None:
        self.link.write(data)
        self.link.flush()

    def wait(self, timeout_s: float) -> int:
        """QEMU's exit status (the firmware's exit code); IlwpError if it runs on."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise IlwpError(f"QEMU ({self.board.id}) still running after {timeout_s:.0f} s") from None

    def stop(self) -> None:
        """Close the link and end QEMU (terminate, then kill); safe to call twice."""
        try:
            self.link.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not mask the real error
            pass
        end_process(self.process)

    def __enter__(self) -> "QemuSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _connect(process: subprocess.Popen, port: int, deadline: float) -> serial.SerialBase | None:
    """Connect to QEMU's serial server; None when QEMU exited first."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        try:
            return serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.2)
        except serial.SerialException:
            time.sleep(0.05)
    return None


def start_qemu(board: Board, elf: Path, icount: bool = True, extra: Sequence[str] = (),
               start_timeout_s: float = START_TIMEOUT_S, attempts: int = 3) -> QemuSession:
    """Start `elf` on an emulated board and connect its serial port; the caller stops it
    (use `with start_qemu(...) as s:`)."""
    if shutil.which(QEMU) is None:
        raise IlwpError(f"{QEMU} not found on PATH; run scripts/install-toolchain.sh")
    if not Path(elf).is_file():
        raise IlwpError(f"firmware not found: {elf}")
    last_err = ""
    for _ in range(attempts):  # a port taken between free_port() and QEMU's bind: retry
        port = free_port()
        cmd = qemu_command(board, Path(elf), tcp_serial_spec(port), icount=icount, extra=extra)
        # stderr to a file, never a pipe nobody reads (a full pipe would stall QEMU)
        with tempfile.TemporaryFile() as err:
            process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=err)
            try:
                link = _connect(process, port, time.monotonic() + start_timeout_s)
            except BaseException:
                process.kill()
                process.wait(timeout=5)
                raise
            if link is not None:
                return QemuSession(board=board, process=process, port=port, link=link, command=cmd)
            if process.poll() is None:
                process.kill()
            process.wait(timeout=5)
            err.seek(0)
            lines = err.read().decode("utf-8", "replace").strip().splitlines()
            last_err = lines[-1] if lines else ""
    raise IlwpError(f"QEMU for {board.id} did not open its serial port: {last_err or 'timeout'}")


# QEMU prints this on stdout for `-serial pty`
_PTY_LINE = re.compile(rb"char device redirected to (/dev/\S+) \(label serial0\)")


@dataclass
class QemuPty:
    """A running emulated board whose console UART is the host pseudo-terminal `path`.  What the
    firmware writes while no one has the terminal open is dropped (its boot HELLO, usually): the
    host asks for HELLO instead, as it does of a board that booted long ago."""

    board: Board
    process: subprocess.Popen
    path: str
    command: list[str]
    log: IO[bytes]  # QEMU's output (a named temporary file, removed on close)

    def stop(self) -> None:
        """End QEMU (terminate, then kill); safe to call twice."""
        end_process(self.process)
        self.log.close()

    def __enter__(self) -> "QemuPty":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_qemu_pty(board: Board, elf: Path, icount: bool = True, extra: Sequence[str] = (),
                   start_timeout_s: float = START_TIMEOUT_S) -> QemuPty:
    """Start `elf` on an emulated board, its UART on a new pseudo-terminal; the caller stops it."""
    if shutil.which(QEMU) is None:
        raise IlwpError(f"{QEMU} not found on PATH; run scripts/install-toolchain.sh")
    if not Path(elf).is_file():
        raise IlwpError(f"firmware not found: {elf}")
    cmd = qemu_command(board, Path(elf), "pty", icount=icount, extra=extra)
    # a file, never a pipe nobody reads; read through its name (a separate file offset)
    log = tempfile.NamedTemporaryFile(prefix="ilwp-qemu-", suffix=".log")
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + start_timeout_s
    text = b""
    while time.monotonic() < deadline:
        text = Path(log.name).read_bytes()
        m = _PTY_LINE.search(text)
        if m:
            return QemuPty(board, process, m.group(1).decode(), cmd, log)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    end_process(process)
    log.close()
    tail = text.decode("utf-8", "replace").strip().splitlines()
    raise IlwpError(f"QEMU for {board.id} did not open a pseudo-terminal: {tail[-1] if tail else 'timeout'}")
