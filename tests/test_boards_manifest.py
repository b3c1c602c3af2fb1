# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Board manifests, name resolution, the `boards` command and the generated board files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ilwp_embedded import cli
from ilwp_embedded.target import board_support
from ilwp_embedded.target.boards import load_boards, parse_board, resolve_board
from ilwp_embedded.target.pio import pio_board_json
from ilwp_embedded.target.qemu import qemu_command, tcp_serial_spec
from ilwp_embedded.errors import IlwpError

REQUIRED = {"qemu-m4", "qemu-m7", "qemu-stm32f4", "nucleo-f746zg", "nucleo-l4r5zi", "nucleo-f401re"}


def test_required_boards_present():
    assert REQUIRED <= set(load_boards())


def test_default_board_is_qemu_m4():
    assert resolve_board(None).id == "qemu-m4"


def test_aliases_and_case():
    assert resolve_board("nucleo").id == "nucleo-f746zg"
    assert resolve_board("NUCLEO-L4R5ZI").id == "nucleo-l4r5zi"
    assert resolve_board("qemu").id == "qemu-m4"


def test_wrong_name_lists_valid_boards():
    with pytest.raises(IlwpError) as e:
        resolve_board("nucleo-h743")
    msg = str(e.value)
    assert "\n" not in msg
    assert "unknown board 'nucleo-h743'" in msg
    for b in REQUIRED:
        assert b in msg


def run_cli(argv, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("ilwp_embedded.commands.boards",))
    rc = cli.main(argv)
    return rc, capsys.readouterr()


def test_cli_wrong_board_exit_2_one_line(monkeypatch, capsys):
    rc, out = run_cli(["boards", "no-such-board"], monkeypatch, capsys)
    assert rc == 2
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown board 'no-such-board'")
    assert "Traceback" not in out.err


def test_cli_lists_boards(monkeypatch, capsys):
    rc, out = run_cli(["boards"], monkeypatch, capsys)
    assert rc == 0
    for b in REQUIRED:
        assert b in out.out
    assert "mps2-an386" in out.out and "netduinoplus2" in out.out


def test_cli_board_json(monkeypatch, capsys):
    rc, out = run_cli(["boards", "nucleo"], monkeypatch, capsys)
    assert rc == 0
    data = json.loads(out.out)
    assert data["id"] == "nucleo-f746zg" and data["uart"]["tx"] == "PD8" and data["uart"]["rx"] == "PD9"


def test_manifest_facts():
    b = load_boards()
    assert b["qemu-stm32f4"].flash.origin == 0x08000000 and b["qemu-stm32f4"].flash.size == 1 << 20
    assert b["qemu-stm32f4"].ram.size == 128 * 1024 and b["qemu-stm32f4"].uart.base == 0x40011000
    assert b["nucleo-l4r5zi"].uart.tx.name == "PG7" and b["nucleo-l4r5zi"].uart.instance == "LPUART1"
    assert b["nucleo-f401re"].ram.size == 96 * 1024 and b["nucleo-f401re"].uart.tx.name == "PA2"
    assert b["nucleo-f746zg"].ram.size == 320 * 1024
    assert b["nucleo-l4r5zi"].flash.size == 2 << 20 and b["nucleo-l4r5zi"].ram.size == 640 * 1024
    for board in b.values():
        assert (board.qemu_machine is not None) == (board.timer.unit == "instructions")


def test_bad_manifest_field_is_one_line(tmp_path: Path):
    data = json.loads(Path(resolve_board("qemu-m4").manifest).read_text())
    data["uart"]["kind"] = "spi"
    with pytest.raises(ValueError, match="uart.kind"):
        parse_board(data, tmp_path / "x.json")


def test_linker_script_and_config_come_from_manifest():
    b = resolve_board("nucleo-f401re")
    ld = board_support.render_linker_script(b, stack_size=4096)
    assert "ORIGIN = 0x08000000, LENGTH = 524288" in ld
    assert "ORIGIN = 0x20000000, LENGTH = 98304" in ld
    cfg = board_support.render_board_config(b)
    assert '#define BOARD_NAME "nucleo-f401re"' in cfg
    assert "#define BOARD_UART_INSTANCE_USART2 1" in cfg and "#define BOARD_UART_TX_PIN 2u" in cfg


def test_pio_board_json_derived():
    b = resolve_board("qemu-m7")
    j = pio_board_json(b)
    assert j["build"]["cpu"] == "cortex-m7" and j["build"]["fpu"] == "fpv5-d16"
    assert j["upload"]["maximum_size"] == b.flash.size and j["upload"]["qemu_machine"] == "mps2-an500"


def test_qemu_command():
    b = resolve_board("qemu-stm32f4")
    cmd = qemu_command(b, Path("fw.elf"), tcp_serial_spec(4321))
    assert cmd[:3] == ["qemu-system-arm", "-M", "netduinoplus2"]
    assert ["-icount", "shift=0"] == cmd[3:5]
    assert "enable=on,target=native" in cmd and "tcp:127.0.0.1:4321,server=on,wait=on" in cmd
    assert cmd[-2:] == ["-kernel", "fw.elf"]
    with pytest.raises(IlwpError, match="hardware only"):
        qemu_command(resolve_board("nucleo"), Path("fw.elf"), "pty")


def test_timer_scale_in_lowest_terms():
    # timer.c converts SysTick ticks with unit_hz / clock_hz reduced on the host (no 64-bit division)
    assert "#define BOARD_TIMER_SCALE_NUM 40u" in board_support.render_board_config(resolve_board("qemu-m4"))
    cfg = board_support.render_board_config(resolve_board("qemu-stm32f4"))  # 1e9 / 168e6
    assert "#define BOARD_TIMER_SCALE_NUM 125u" in cfg and "#define BOARD_TIMER_SCALE_DEN 21u" in cfg


def test_timer_clock_must_be_positive(tmp_path: Path):
    data = json.loads(Path(resolve_board("qemu-m4").manifest).read_text())
    data["timer"]["clock_hz"] = 0
    with pytest.raises(ValueError, match="timer.clock_hz"):
        parse_board(data, tmp_path / "x.json")
