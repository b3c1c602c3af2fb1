# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`boards --check`: a board's hello firmware built offline and, on a QEMU board, booted, timed and
exited (firmware/examples/hello)."""

from __future__ import annotations

from pathlib import Path

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.target.boards import Board
from ilwp_embedded.target.pio import build_firmware, hello_sources
from ilwp_embedded.target.qemu import start_qemu


def check_board(board: Board, out_root: Path) -> list[str]:
    """Build the hello firmware for `board`; on a QEMU board also boot it, time it, exit it."""
    r = build_firmware(board, hello_sources(), out_dir=out_root / board.id)
    lines = [f"{board.id}: hello built, flash {r.flash_bytes} B, RAM {r.ram_bytes} B "
             f"({r.seconds:.1f} s): {r.elf}"]
    if not board.emulated:
        return lines + ["  hardware board: built only"]
    with start_qemu(board, r.elf) as s:
        banner = s.read_line(10)
        s.write(b"time\n")
        timing = s.read_line(30)
        s.write(b"exit 0\n")
        s.read_line(10)
        rc = s.wait(10)
    if rc != 0:
        raise IlwpError(f"{board.id}: hello firmware exited with status {rc}")
    return lines + [f"  {banner}", f"  {timing}", f"  QEMU exit status {rc}"]
