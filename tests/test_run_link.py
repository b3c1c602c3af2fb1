# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""run/link.py over ports whose timeout is costly to change (pyserial 3.5's rfc2217://, as ser2net
and board farms serve them: each assignment renegotiates, ~150 ms): the timeout is set once,
reads poll to their own deadline; rfc2217:// URLs get the option ser2net needs; bad URLs are one line."""

from __future__ import annotations

import serial
from conftest import REPO, RESNET8_INT8, assert_one_line_error, run_cli
from helpers import SER2NET_YAML

from ilwp_embedded.run import framing as P
from ilwp_embedded.run.link import POLL_S, Link, pyserial_url
from ilwp_embedded.run.session import Device
from ilwp_embedded.target.qemu import free_port


class CountingLoop(serial.serial_for_url("loop://", do_not_open=True).__class__):
    """pyserial's loopback, counting timeout assignments after opening."""

    sets = 0

    @serial.SerialBase.timeout.setter
    def timeout(self, value):
        if self.is_open:
            CountingLoop.sets += 1
        serial.SerialBase.timeout.fset(self, value)


def test_link_sets_the_port_timeout_once_and_polls_to_its_deadlines():
    port = CountingLoop("loop://", timeout=POLL_S)
    link = Link(port)
    dev = Device(link, timeout_s=0.2)
    for k in range(5):  # frames of every size come back whole, reads of every timeout
        link.write(P.encode_frame(P.ECHO, k + 1, bytes(range(k * 50))))
        assert dev.read_frame(1.0) == P.Frame(P.ECHO, k + 1, bytes(range(k * 50)))
    assert link.read(10, 0.05) == b""  # nothing there: empty after the deadline
    link.write(b"abc")
    assert link.read(2, 0.3) == b"ab" and link.read(10, 0.3) == b"c"
    assert CountingLoop.sets == 0 and port.timeout == POLL_S
    # a port opened with another timeout gets POLL_S once, and keeps it
    other = CountingLoop("loop://", timeout=1.0)
    Link(other).read(1, 0.01)
    assert CountingLoop.sets == 1 and other.timeout == POLL_S


def test_rfc2217_urls_get_the_option_ser2net_needs_on_a_pty():
    assert pyserial_url("rfc2217://h:1") == "rfc2217://h:1?ign_set_control"
    assert pyserial_url("RFC2217://h:1?logging=debug") == "RFC2217://h:1?logging=debug&ign_set_control"
    assert pyserial_url("rfc2217://h:1?ign_set_control") == "rfc2217://h:1?ign_set_control"
    assert pyserial_url("socket://h:1") == "socket://h:1" and pyserial_url("/dev/ttyACM0") == "/dev/ttyACM0"


def test_bad_port_urls_are_one_line():
    args = ("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "1")
    assert_one_line_error(run_cli(*args, "--port", "tcpx://127.0.0.1:1"), "cannot open serial port", "tcpx")
    closed = free_port()  # nothing listens there
    r = run_cli(*args, "--port", f"rfc2217://127.0.0.1:{closed}")
    assert_one_line_error(r, "cannot open serial port", "refused")
    assert "ign_set_control" not in r.stderr  # the URL as the user wrote it


def test_the_documented_ser2net_configuration_is_the_tested_one():
    doc = (REPO / "docs" / "serial-protocol.md").read_text()
    assert SER2NET_YAML.format(port=3333, device="/dev/ttyACM0") in doc
