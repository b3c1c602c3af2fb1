# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The QEMU boards boot the hello firmware, talk over the TCP serial link and exit cleanly."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for helpers, in any import mode
from helpers import QEMU_BOARDS, hello_build, needs_qemu, needs_toolchain
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.qemu import start_qemu

pytestmark = [needs_toolchain, needs_qemu]

TIME_RE = re.compile(r"elapsed=(\d+) unit=(\w+) result=(\d+)")


def run_session(board_id: str, exit_code: int) -> tuple[list[str], int]:
    """Boot, echo, time twice, exit; returns the lines read and QEMU's exit status."""
    board = resolve_board(board_id)
    session = start_qemu(board, hello_build(board_id).elf)
    try:
        lines = [session.read_line(10)]
        session.write(b"echo \x01 test 123\n")
        lines.append(session.read_line(10))
        for _ in range(2):
            session.write(b"time\n")
            lines.append(session.read_line(20))
        session.write(f"exit {exit_code}\n".encode())
        lines.append(session.read_line(10))
        return lines, session.wait(10)
    finally:
        session.stop()


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_qemu_boot_echo_time_exit(board_id):
    board = resolve_board(board_id)
    first, rc1 = run_session(board_id, 5)
    second, rc2 = run_session(board_id, 0)
    assert first[0] == f"ILWP hello board={board_id} unit=instructions"
    assert first[1] == "echo:echo \x01 test 123"
    assert first[-1] == "bye 5" and rc1 == 5
    assert second[-1] == "bye 0" and rc2 == 0
    counts = []
    for line in first[2:4] + second[2:4]:
        m = TIME_RE.fullmatch(line)
        assert m, line
        assert m.group(2) == "instructions"
        counts.append(int(m.group(1)))
    # -icount shift=0: the same work counts the same, run after run.  Measured: exact on mps2
    # (SysTick period 40 ns); within 2 ticks on netduinoplus2, whose 168 MHz SysTick period
    # (5.95 ns) is not a whole number of ns.  Allow 2 ticks + 2 for rounding to instructions.
    tick = -(-board.timer.unit_hz // board.timer.clock_hz)
    assert max(counts) - min(counts) <= 2 * tick + 2, counts
    assert counts[0] > 100_000  # 20,000 loop iterations of several instructions each
    print(f"{board_id}: workload {counts[0]} instructions")


def test_qemu_timeout_when_no_answer():
    from ilwp_embedded.errors import IlwpError

    board = resolve_board("qemu-m4")
    session = start_qemu(board, hello_build("qemu-m4").elf)
    try:
        session.read_line(10)
        with pytest.raises(IlwpError, match="no b'\\\\n'"):
            session.read_until(b"\n", 0.5)  # no command sent: nothing comes
    finally:
        session.stop()
    assert session.process.poll() is not None


SPIN_RE = re.compile(r"elapsed=(\d+) unit=instructions")


@pytest.mark.parametrize("board_id", ["qemu-m4", "qemu-stm32f4"])
def test_timer_counts_across_systick_wraps(board_id):
    """A spin long enough to wrap the 24-bit SysTick (2^24 ticks: 671M instructions on mps2,
    100M on netduinoplus2) still counts linearly: the wraps are counted."""
    board = resolve_board(board_id)
    wrap = (1 << 24) * board.timer.unit_hz // board.timer.clock_hz
    session = start_qemu(board, hello_build(board_id).elf)
    try:
        session.read_line(10)
        counts = {}
        for n in (1_000_000, 2_000_000, 0):
            session.write(f"spin {n}\n".encode())
            counts[n] = int(SPIN_RE.fullmatch(session.read_line(30)).group(1))
        per_iteration = (counts[2_000_000] - counts[1_000_000]) / 1_000_000
        n_long = int(1.2 * wrap / per_iteration) + 1
        session.write(f"spin {n_long}\n".encode())
        long = int(SPIN_RE.fullmatch(session.read_line(60)).group(1))
        session.write(b"exit 0\n")
        session.read_line(10)
        assert session.wait(10) == 0
    finally:
        session.stop()
    assert long > wrap
    predicted = counts[1_000_000] + per_iteration * (n_long - 1_000_000)
    # A lost wrap would be off by `wrap`.  Measured: exact on mps2; on netduinoplus2 (5.95 ns
    # SysTick period) up to 137 instructions off over 120M, hence 1e-5 of a wrap.
    assert abs(long - predicted) <= 1e-5 * wrap + 10, (long, predicted)
