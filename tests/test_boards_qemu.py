"""The QEMU boards boot the hello firmware, talk over the TCP serial link and exit cleanly."""

from __future__ import annotations

import re

import pytest

from _boards_helpers import QEMU_BOARDS, hello_build, needs_qemu, needs_toolchain
from ilwp_embedded.build.boards import resolve_board
from ilwp_embedded.build.qemu import start_qemu

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
