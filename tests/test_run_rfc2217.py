# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The firmware behind a real ser2net (Debian's, as board farms run it): QEMU's UART on a
pseudo-terminal, ser2net serving it as telnet(rfc2217) on loopback, and `validate --port
rfc2217://...` bit-exact with a URL as the user writes it; damaged frames and a board that goes
away are reported, never taken for results."""

from __future__ import annotations

import json
import struct

import pytest
from conftest import RESNET8_INT8, assert_one_line_error, run_cli
from helpers import cifar, firmware, needs_qemu, needs_ser2net, needs_toolchain, ser2net_rfc2217

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.run import framing as P
from ilwp_embedded.run.link import open_link
from ilwp_embedded.run.session import Device
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.qemu import start_qemu_pty

pytestmark = [needs_ser2net]


@pytest.fixture
def served(tmp_path):
    """(QEMU running the test firmware on a pty, the rfc2217:// URL ser2net serves it at)."""
    with start_qemu_pty(resolve_board("qemu-m4"), firmware("qemu-m4").elf) as qemu:
        with ser2net_rfc2217(qemu.path, tmp_path) as url:
            yield qemu, url


@needs_toolchain
@needs_qemu
def test_validate_through_ser2net_bit_exact(served):
    _, url = served
    r = run_cli("validate", "--board", "qemu-m4", "--port", url, "--model", RESNET8_INT8,
                "--dataset", "cifar10-raw200", "--limit", "3", "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["count"] == 3 and d["bit_exact"] is True and d["mismatches"] == 0
    assert d["link"]["inputs_via"] == "serial" and d["link"]["bytes_sent"] > 3 * 3072


@needs_toolchain
@needs_qemu
def test_damaged_frames_through_ser2net_are_refused_and_a_lost_board_is_one_line(served, capsys):
    qemu, url = served
    with open_link(url) as link:
        dev = Device(link, timeout_s=2.0)
        assert dev.connect(banner_timeout_s=0.5).board == "qemu-m4"  # the boot HELLO was dropped: asked
        every_byte = bytes(range(256)) * 4  # telnet's IAC (0xFF), CR, NUL: all pass as data
        assert dev.echo(every_byte) == every_byte
        frame = P.encode_frame(P.ECHO, 41, every_byte[:64])
        bad = bytearray(frame)
        bad[20] ^= 0x04
        link.write(bytes(bad))  # a corrupt byte: refused by CRC, never echoed
        assert dev.read_frame(5.0) == P.Frame(P.ERROR, 41, bytes([P.ERR_BAD_CRC]) + struct.pack("<i", 0))
        link.write(frame[:20] + frame[21:])  # a lost byte: the frame ends short at the byte timeout
        assert dev.read_frame(10.0) == P.Frame(P.ERROR, 41, bytes([P.ERR_BAD_CRC]) + struct.pack("<i", 1))
        xs, _ = cifar(1)
        dev.infer(xs[0])  # and the link goes on
        with pytest.raises(IlwpError) as e:  # the firmware exits: QEMU closes the pty, ser2net the link
            dev.test(P.TEST_EXIT, 7)
            dev.echo(b"gone?")
        assert qemu.process.wait(timeout=10) == 7
    msg = str(e.value)
    assert "\n" not in msg and url in msg and "failed" in msg, msg
    assert "Traceback" not in capsys.readouterr().err  # pyserial's reader thread died quietly


def test_a_server_without_its_device_is_one_line(tmp_path):
    """ser2net closes the connection when it cannot open its device (a board unplugged, a QEMU
    gone), saying why: validate quotes it, in one line."""
    with ser2net_rfc2217(str(tmp_path / "no-such-tty"), tmp_path) as url:
        r = run_cli("validate", "--board", "qemu-m4", "--port", url, "--model", RESNET8_INT8,
                    "--dataset", "cifar10-raw200", "--limit", "1", timeout=60)
    assert_one_line_error(r, f"cannot open serial port {url}", "device open failure")
