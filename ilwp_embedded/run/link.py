# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Links to a board: one interface, opened by URL (like pyserial's serial_for_url).

    open_link("qemu:qemu-m4", elf=path)   QEMU started here (-icount shift=0, TCP serial)
    open_link("/dev/ttyACM0")             a real board on a serial port (115200 8N1 by default)
    open_link("socket://127.0.0.1:4321")  anything pyserial opens (loop://, rfc2217://, ...)
    open_link("rfc2217://host:port")      a port served by ser2net or a board farm (see RFC2217_OPTION)
    open_link("labgrid:PLACE")            the serial console of an acquired labgrid place (run/farm.py)

Every read has a timeout; a QEMU that exited (crash, semihosting exit) is reported at once with its
exit status and the last bytes seen.
"""

from __future__ import annotations

import collections
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import serial

from ilwp_embedded.target.boards import Board, resolve_board
from ilwp_embedded.target.qemu import QEMU, end_process, free_port, qemu_command, tcp_serial_spec
from ilwp_embedded.errors import IlwpError

# Default_Handler in firmware/boards/cortexm/startup.c exits with this status on a fault.
FAULT_EXIT_STATUS = 0xFA
# The port's read timeout, set once: reads poll to their own deadline in steps of this.  pyserial
# 3.5 renegotiates an rfc2217:// port (ser2net, board farms) on every timeout assignment (~150 ms
# each), so changing it per read made HELLO time out.  A read still returns as soon as a byte comes.
POLL_S = 0.02
# Added to every rfc2217:// URL: pyserial then does not wait for the server's answer to SET_CONTROL
# (DTR, RTS, flow control).  ser2net cannot set modem lines on a pseudo-terminal (QEMU -serial pty,
# TIOCMGET fails with ENOTTY) and sends no answer at all, so pyserial 3.5 gave up opening the port
# after 3 s ("timeout while waiting for option 'control'").  Nothing here uses those lines.
RFC2217_OPTION = "ign_set_control"


class Link:
    """Bytes to and from a board.  Subclasses open the transport and may own the board."""

    name = "link"

    def __init__(self, port: serial.SerialBase):
        self.port = port
        if port.timeout != POLL_S:
            port.timeout = POLL_S  # the one assignment (see POLL_S)
        self.last_rx: collections.deque[int] = collections.deque(maxlen=48)

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except (serial.SerialException, OSError) as e:
            self._link_lost()
            raise IlwpError(f"write to {self.name} failed: {e}; {self.describe_state()}") from None

    def read(self, n: int, timeout_s: float) -> bytes:
        """Up to n bytes: returns as soon as some arrived, b'' after timeout_s."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                first = self.port.read(1)
                if first:
                    break
                if time.monotonic() >= deadline:
                    return b""
            more = b""
            waiting = self.port.in_waiting
            if waiting and n > 1:  # bytes already here: read() returns them without waiting
                more = self.port.read(min(n - 1, waiting))
        except (serial.SerialException, OSError) as e:
            self._link_lost()
            raise IlwpError(f"read from {self.name} failed: {e}; {self.describe_state()}") from None
        data = first + more
        self.last_rx.extend(data)
        return data

    def check_alive(self) -> None:
        """IlwpError if the board is known to be gone (QEMU exited)."""

    def _link_lost(self) -> None:
        """The transport failed: raise the board's own story if there is one."""
        self.check_alive()

    def describe_state(self) -> str:
        return f"{self.name}; last bytes seen {bytes(self.last_rx)!r}"

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # noqa: BLE001 - closing a dead port must not hide the real error
            pass

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialLink(Link):
    """A real board on a serial port, or any pyserial URL."""

    def __init__(self, url: str, baud: int = 115200):
        opened = pyserial_url(url)
        if opened != url:
            _quiet_rfc2217_reader_threads()
        try:
            port = serial.serial_for_url(opened, baudrate=baud, timeout=POLL_S)
        except (serial.SerialException, OSError, ValueError) as e:
            why = str(e).replace(opened, url)  # the URL as the user wrote it
            if opened != url and "Could not open port" not in why:  # connected, then refused
                said = _server_says(url)
                if said:
                    why = f"the server closed the connection: {said} ({why})"
            raise IlwpError(f"cannot open serial port {url}: {why}") from None
        super().__init__(port)
        self.name = f"serial port {url}"
        self.banner_timeout_s = 0.5  # a real board booted long ago: ask it


def _server_says(url: str, wait_s: float = 1.0) -> str:
    """What a telnet server sends a new connection within wait_s, telnet commands removed: ser2net
    closes at once, saying why ('Device open failure: ...', 'Port already in use'), when it cannot
    give the client its serial device."""
    where = urllib.parse.urlsplit(url)
    data = b""
    try:
        with socket.create_connection((where.hostname, where.port), timeout=wait_s) as s:
            deadline = time.monotonic() + wait_s
            while len(data) < 400 and time.monotonic() < deadline:
                chunk = s.recv(400)
                if not chunk:
                    break
                data += chunk
    except (OSError, ValueError):
        pass
    text = re.sub(rb"\xff\xfa.*?\xff\xf0|\xff[\xfb-\xfe].|\xff.", b"", data, flags=re.S)
    return " ".join(text.decode("utf-8", "replace").split())[:200]  # one line


_hook_installed = False


def _quiet_rfc2217_reader_threads() -> None:
    """pyserial's rfc2217 reader thread dies with an OSError traceback on stderr when the server
    closes the connection; the port's own error (one line) tells the user, so drop the traceback."""
    global _hook_installed
    if _hook_installed:
        return
    previous = threading.excepthook

    def hook(args) -> None:
        name = args.thread.name if args.thread is not None else ""
        if not (name.startswith("pySerial RFC 2217 reader thread") and issubclass(args.exc_type, OSError)):
            previous(args)

    threading.excepthook = hook
    _hook_installed = True


def pyserial_url(url: str) -> str:
    """The URL pyserial opens for `url`: rfc2217:// with RFC2217_OPTION added, others unchanged."""
    if not url.lower().startswith("rfc2217://") or RFC2217_OPTION in url:
        return url
    return url + ("&" if "?" in url else "?") + RFC2217_OPTION


class QemuLink(Link):
    """A board emulated by qemu-system-arm, its console UART on a local TCP port.

    `proxy` (a fault_proxy.FaultProxy, not yet started) is put between the harness and QEMU."""

    def __init__(self, board: Board, elf: Path, icount: bool = True, start_timeout_s: float = 10.0,
                 proxy=None, extra: tuple[str, ...] | list[str] = ()):
        if shutil.which(QEMU) is None:
            raise IlwpError(f"{QEMU} not found on PATH; run scripts/install-toolchain.sh")
        if not Path(elf).is_file():
            raise IlwpError(f"firmware not found: {elf}")
        self.board = board
        self.banner_timeout_s = 10.0
        self.proxy = proxy
        self._stderr = tempfile.TemporaryFile()
        # files the firmware may read by semihosting (Device inputs_via="semihosting")
        self._host_dir = tempfile.TemporaryDirectory(prefix="ilwp-qemu-")
        self.host_dir = Path(self._host_dir.name)
        last = ""
        for _ in range(3):  # a port taken between free_port() and QEMU's bind: try another
            qport = free_port()
            # nodelay: without it QEMU's many one-byte writes meet Nagle + delayed ACK (~40 ms a frame)
            spec = tcp_serial_spec(qport) + ",nodelay=on"
            self.command = qemu_command(board, Path(elf), spec, icount=icount, extra=extra)
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=self._stderr)
            port = self._connect(qport, time.monotonic() + start_timeout_s)
            if port is not None:
                super().__init__(port)
                self.name = f"QEMU {board.qemu_machine} ({board.id})"
                return
            last = self._stderr_tail()
            self._kill()
        raise IlwpError(f"QEMU for {board.id} did not open its serial port: {last or 'timeout'}")

    def _connect(self, qport: int, deadline: float) -> serial.SerialBase | None:
        target = qport
        if self.proxy is not None:
            target = self.proxy.start(qport)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return None
            try:
                port = serial.serial_for_url(f"socket://127.0.0.1:{target}", timeout=POLL_S)
                sock = getattr(port, "_socket", None)
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return port
            except serial.SerialException:
                time.sleep(0.05)
        return None

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else ""
        except OSError:
            return ""

    def _link_lost(self) -> None:
        try:  # the socket closes a moment before QEMU's exit status is there
            self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pass
        self.check_alive()

    def exit_status(self) -> int | None:
        return self.process.poll()

    def check_alive(self) -> None:
        rc = self.process.poll()
        if rc is None:
            return
        # let the last bytes in flight arrive for the message
        try:
            tail = self.port.read(min(256, self.port.in_waiting or 1))
            self.last_rx.extend(tail)
        except Exception:  # noqa: BLE001
            pass
        raise IlwpError(f"the firmware stopped: {self.describe_state()}")

    def describe_state(self) -> str:
        rc = self.process.poll()
        if rc is None:
            state = "QEMU still running (firmware hung or not answering)"
        elif rc == FAULT_EXIT_STATUS:
            state = f"QEMU exited with status {rc} (the firmware took a fault)"
        else:
            state = f"QEMU exited with status {rc}"
            err = self._stderr_tail()
            if err:
                state += f" ({err})"
        return f"{self.name}: {state}; last bytes seen {bytes(self.last_rx)[-32:]!r}"

    def _kill(self) -> None:
        end_process(self.process, grace_s=3.0)

    def close(self) -> None:
        super().close()
        self._kill()
        if self.proxy is not None:
            self.proxy.stop()
        self._stderr.close()
        self._host_dir.cleanup()


def open_link(url: str, elf: Path | None = None, baud: int = 115200, proxy=None, qemu_extra=()) -> Link:
    """A Link from a URL: 'qemu:<board>' (with elf=), a serial device path, or a pyserial URL.
    qemu_extra: more qemu-system-arm options (e.g. the cycle-profile plugin)."""
    if url.startswith("qemu:"):
        board = resolve_board(url[5:] or None)
        if not board.emulated:
            raise IlwpError(f"board {board.id} is not emulated: give its serial port (--port)")
        if elf is None:
            raise IlwpError("a QEMU link needs the firmware ELF to run")
        return QemuLink(board, Path(elf), proxy=proxy, extra=qemu_extra)
    if url.startswith("labgrid:"):  # a board farm's place: its serial console (run/farm.py)
        from ilwp_embedded.run.farm import port_url

        url = port_url(url)[0]
    return SerialLink(url, baud)
