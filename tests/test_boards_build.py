# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Every board builds the hello firmware through PlatformIO with no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for helpers, in any import mode
from helpers import ALL_BOARDS, core_dir, hello_build, needs_qemu, needs_toolchain, no_network
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.pio import build_firmware
from ilwp_embedded.target.pio_core import offline_env
from ilwp_embedded.errors import IlwpError

pytestmark = needs_toolchain


@pytest.mark.parametrize("board_id", ALL_BOARDS)
def test_hello_builds_offline(board_id):
    r = hello_build(board_id)
    board = resolve_board(board_id)
    assert r.elf.is_file() and r.bin.is_file() and r.map.is_file()
    assert 1000 < r.flash_bytes < board.flash.size
    assert r.ram_bytes < board.ram.size
    assert r.size.stack > 0
    print(f"{board_id}: flash {r.flash_bytes} B, RAM {r.ram_bytes} B, {r.seconds:.1f} s")


def test_core_dir_holds_only_local_packages():
    hello_build("qemu-m4")
    core = core_dir()
    assert sorted(p.name for p in (core / "packages").iterdir() if not p.name.startswith(".")) == ["tool-scons"]
    assert [p.name for p in (core / "platforms").iterdir()] == ["ilwp-cortexm.pio-link"]


def test_compile_error_is_one_line_with_log(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text('#include "board.h"\nint main(void) { board_init(); return undefined_thing; }\n')
    with no_network(), pytest.raises(IlwpError) as e:
        build_firmware("qemu-m4", [src], out_dir=tmp_path / "out", core_dir=core_dir())
    msg = str(e.value)
    assert "\n" not in msg and "undefined_thing" in msg and "build.log" in msg


def test_ram_overflow_fails_the_link(tmp_path):
    src = tmp_path / "big.c"
    src.write_text('#include "board.h"\nstatic volatile uint8_t big[200u * 1024u];\n'
                   'int main(void) { board_init(); big[0] = 1; return big[1]; }\n')
    with no_network(), pytest.raises(IlwpError, match="overflow|RAM"):
        build_firmware("qemu-stm32f4", [src], out_dir=tmp_path / "out", core_dir=core_dir())


def test_defines_and_include_dirs(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "answer.h").write_text("#define ANSWER_FROM_HEADER 40\n")
    src = tmp_path / "main.c"
    src.write_text('#include "board.h"\n#include "answer.h"\n'
                   "int main(void) { board_init(); return ANSWER_FROM_HEADER + EXTRA; }\n")
    with no_network():
        r = build_firmware("qemu-m4", [src], include_dirs=[inc], out_dir=tmp_path / "out",
                           defines={"EXTRA": 2}, cflags=["-Wno-unused-parameter"], core_dir=core_dir())
    assert r.elf.is_file()


@needs_qemu
def test_pio_upload_runs_qemu():
    r = hello_build("qemu-m4")
    env = offline_env(core_dir())
    cmd = [sys.executable, "-m", "platformio", "run", "-d", str(r.project_dir), "-t", "upload"]
    with no_network():
        p = subprocess.run(cmd, env={**env, **os.environ, "PLATFORMIO_CORE_DIR": str(core_dir())},
                           input=b"ping\nexit 0\n", capture_output=True, timeout=120)
    out = p.stdout.decode()
    assert p.returncode == 0, out[-2000:]
    assert "ILWP hello board=qemu-m4" in out and "echo:ping" in out and "bye 0" in out


@needs_qemu
def test_cli_boards_check(tmp_path, monkeypatch, capsys):
    from ilwp_embedded import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ("ilwp_embedded.commands.boards",))
    monkeypatch.setenv("ILWP_PIO_CORE_DIR", str(core_dir()))
    with no_network():
        rc = cli.main(["boards", "qemu-m4", "--check", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "ILWP hello board=qemu-m4 unit=instructions" in out and "QEMU exit status 0" in out
