# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed boards`: the boards the toolchain knows (the model `build` command is the lead's)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ilwp_embedded.target.board_check import check_board
from ilwp_embedded.target.boards import Board, load_boards, resolve_board
from ilwp_embedded.errors import IlwpError


def _size(n: int) -> str:
    return f"{n // (1 << 20)} MiB" if n % (1 << 20) == 0 else f"{n // 1024} KiB"


def board_row(b: Board) -> dict[str, str]:
    return {
        "board": b.id + (" *" if b.is_default else ""),
        "cpu": b.cpu,
        "fpu": b.fpu or "-",
        "flash": _size(b.flash.size),
        "ram": _size(b.ram.size),
        "clock": f"{b.cpu_hz // 1_000_000} MHz",
        "qemu": b.qemu_machine or "-",
        "timer": b.timer.unit,
        "alias": ", ".join(b.aliases) or "-",
    }


def format_table(rows: list[dict[str, str]]) -> str:
    cols = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    lines = ["  ".join(c.upper().ljust(width[c]) for c in cols).rstrip()]
    lines += ["  ".join(r[c].ljust(width[c]) for c in cols).rstrip() for r in rows]
    return "\n".join(lines)


def board_details(b: Board) -> dict[str, object]:
    u = b.uart
    return {
        "id": b.id, "name": b.name, "family": b.family, "cpu": b.cpu, "fpu": b.fpu,
        "flash": {"origin": f"0x{b.flash.origin:08X}", "size": b.flash.size},
        "ram": {"origin": f"0x{b.ram.origin:08X}", "size": b.ram.size},
        "clock_hz": b.cpu_hz, "clock_source": b.clock_source,
        "uart": {"kind": u.kind, "instance": u.instance, "base": f"0x{u.base:08X}", "baud": u.baud,
                 "tx": u.tx.name if u.tx else None, "rx": u.rx.name if u.rx else None},
        "timer": {"kind": b.timer.kind, "unit": b.timer.unit},
        "qemu_machine": b.qemu_machine, "upload_protocol": b.upload_protocol,
        "aliases": list(b.aliases), "default": b.is_default, "manifest": str(b.manifest),
    }


def cmd_boards(args: argparse.Namespace) -> int:
    if args.check:
        boards = [resolve_board(args.name)] if args.name else list(load_boards().values())
        for b in boards:
            print("\n".join(check_board(b, Path(args.out))), flush=True)
        return 0
    if args.name:
        b = resolve_board(args.name)
        print(json.dumps(board_details(b), indent=2))
        return 0
    boards = list(load_boards().values())
    if args.json:
        print(json.dumps([board_details(b) for b in boards], indent=2))
    else:
        print(format_table([board_row(b) for b in boards]))
        print("* default board; QEMU boards run here, the others are built only (hardware needed).")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("boards", help="list the supported boards, or show one",
                              description=__doc__.splitlines()[0])
    p.add_argument("name", nargs="?", help="a board id or alias: print its manifest data")
    p.add_argument("--json", action="store_true", help="machine-readable list")
    p.add_argument("--check", action="store_true",
                   help="build the hello firmware for the board (all boards without NAME) and run it "
                        "on QEMU boards: checks the toolchain, offline PlatformIO and QEMU")
    p.add_argument("--out", default="build/hello", help="where --check builds (default: build/hello)")
    p.set_defaults(func=cmd_boards)
