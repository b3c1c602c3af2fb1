# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The bare-metal support files a board's firmware is built with.

Common Cortex-M code (startup, timer, exit) sits in firmware/boards/cortexm/, the family's
clock/GPIO/UART code in firmware/boards/<family>/.  The linker script and board_config.h
are rendered from the manifest: the manifest is the only place a number is written.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import jinja2

from ilwp_embedded.target.boards import Board
from ilwp_embedded.resources import firmware_dir

DEFAULT_STACK_SIZE = 8192
# Console UART drivers shared by several families (firmware/boards/uart/), by manifest uart.kind;
# the other kinds are driven by the family's own code.
UART_DRIVERS = {"stm32-usart-v2": "stm32_usart_v2.c", "stm32-lpuart": "stm32_usart_v2.c"}


def common_dir() -> Path:
    return firmware_dir() / "boards" / "cortexm"


def family_dir(board: Board) -> Path:
    return firmware_dir() / "boards" / board.family


def uart_dir() -> Path:
    return firmware_dir() / "boards" / "uart"


def api_include_dir() -> Path:
    """Holds board.h, the C board API."""
    return firmware_dir() / "include"


def support_sources(board: Board) -> list[Path]:
    """C sources compiled into every firmware for this board."""
    uart = [uart_dir() / UART_DRIVERS[board.uart.kind]] if board.uart.kind in UART_DRIVERS else []
    return sorted(common_dir().glob("*.c")) + sorted(family_dir(board).glob("*.c")) + uart


def support_include_dirs(board: Board) -> list[Path]:
    return [api_include_dir(), common_dir(), family_dir(board), uart_dir()]


def config_defines(board: Board) -> list[tuple[str, str]]:
    """(name, C value) pairs for board_config.h."""
    u, t = board.uart, board.timer
    g = gcd(t.unit_hz, t.clock_hz)
    d: list[tuple[str, str]] = [
        ("BOARD_NAME", f'"{board.id}"'),
        (f"BOARD_FAMILY_{board.family.upper()}", "1"),
        ("BOARD_CPU_HZ", f"{board.cpu_hz}u"),
        ("BOARD_HAS_FPU", "1" if board.fpu else "0"),
        ("BOARD_CLOCK_EMULATED", "1" if board.clock_source == "emulated" else "0"),
        ("BOARD_CLOCK_PLL_HSI", "1" if board.clock_source == "pll-hsi" else "0"),
        ("BOARD_SEMIHOSTING", "1" if board.emulated else "0"),
        ("BOARD_FLASH_ORIGIN", f"0x{board.flash.origin:08X}u"),
        ("BOARD_FLASH_SIZE", f"{board.flash.size}u"),
        ("BOARD_RAM_ORIGIN", f"0x{board.ram.origin:08X}u"),
        ("BOARD_RAM_SIZE", f"{board.ram.size}u"),
        ("BOARD_UART_BASE", f"0x{u.base:08X}u"),
        ("BOARD_UART_IRQ", f"{u.irq}u"),
        ("BOARD_UART_BAUD", f"{u.baud}u"),
        ("BOARD_UART_CLOCK_HZ", f"{u.clock_hz}u"),
        (f"BOARD_UART_INSTANCE_{u.instance.upper()}", "1"),
        ("BOARD_TIMER_DWT", "1" if t.kind == "dwt" else "0"),
        ("BOARD_TIMER_CLOCK_HZ", f"{t.clock_hz}u"),
        ("BOARD_TIMER_UNIT", f'"{t.unit}"'),
        ("BOARD_TIMER_UNIT_HZ", f"{t.unit_hz}u"),
        # unit_hz / clock_hz in lowest terms: timer.c converts ticks with these, without 64-bit division
        ("BOARD_TIMER_SCALE_NUM", f"{t.unit_hz // g}u"),
        ("BOARD_TIMER_SCALE_DEN", f"{t.clock_hz // g}u"),
    ]
    if u.tx is not None and u.rx is not None:
        d += [
            ("BOARD_UART_TX_PORT", f"{u.tx.port}u"),
            ("BOARD_UART_TX_PIN", f"{u.tx.pin}u"),
            ("BOARD_UART_RX_PORT", f"{u.rx.port}u"),
            ("BOARD_UART_RX_PIN", f"{u.rx.pin}u"),
            ("BOARD_UART_AF", f"{u.af if u.af is not None else 0}u"),
        ]
    return d


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(common_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_linker_script(board: Board, stack_size: int = DEFAULT_STACK_SIZE) -> str:
    return _env().get_template("linker.ld.j2").render(board=board, stack_size=stack_size)


def render_board_config(board: Board) -> str:
    return _env().get_template("board_config.h.j2").render(board=board, defines=config_defines(board))


def compiler_flags(board: Board) -> list[str]:
    """Machine flags: the PlatformIO builder derives the same from the board JSON."""
    flags = [f"-mcpu={board.cpu}", "-mthumb"]
    if board.fpu:
        flags += ["-mfloat-abi=hard", f"-mfpu={board.fpu}"]
    else:
        flags += ["-mfloat-abi=soft"]
    return flags
