# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Board manifests (boards/*.json): load, validate, resolve names and aliases.

A manifest is pure data: cpu, fpu, memories, clock, console UART, timer, QEMU machine,
upload protocol and the family whose board support code it uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ilwp_embedded.resources import boards_dir
from ilwp_embedded.errors import IlwpError

DEFAULT_BOARD = "qemu-m4"
FAMILIES = ("mps2", "stm32f4", "stm32f7", "stm32l4")
UART_KINDS = ("cmsdk", "stm32-usart-v1", "stm32-usart-v2", "stm32-lpuart")
TIMER_KINDS = ("systick", "dwt")
CLOCK_SOURCES = ("emulated", "reset", "pll-hsi")


@dataclass(frozen=True)
class Memory:
    origin: int
    size: int


@dataclass(frozen=True)
class Pin:
    port: int  # 0 = A, 1 = B, ...
    pin: int

    @property
    def name(self) -> str:
        return f"P{chr(ord('A') + self.port)}{self.pin}"


@dataclass(frozen=True)
class Uart:
    kind: str
    instance: str
    base: int
    irq: int  # NVIC interrupt number of the UART (receive interrupt)
    baud: int
    clock_hz: int
    tx: Pin | None = None
    rx: Pin | None = None
    af: int | None = None


@dataclass(frozen=True)
class Timer:
    kind: str  # "systick" (QEMU, counts instructions under -icount) or "dwt" (cycles)
    clock_hz: int
    unit: str
    unit_hz: int


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    family: str
    cpu: str
    fpu: str | None
    flash: Memory
    ram: Memory
    clock_source: str
    cpu_hz: int
    uart: Uart
    timer: Timer
    qemu_machine: str | None
    upload_protocol: str
    aliases: tuple[str, ...]
    is_default: bool
    manifest: Path
    pio_platform: str | None = None  # registry platform on connected machines (ststm32)
    pio_board: str | None = None
    openocd_config: str | None = None  # OpenOCD's config for the board (labgrid's OpenOCD driver flashes with it)

    @property
    def emulated(self) -> bool:
        return self.qemu_machine is not None


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 0)
    raise ValueError(f"{where}: expected an integer or a hex string")


def _positive(value: Any, where: str) -> int:
    n = _int(value, where)
    if n <= 0:
        raise ValueError(f"{where}: expected a positive integer")
    return n


def _irq(value: Any) -> int:
    irq = _int(value, "uart.irq")
    if not 0 <= irq < 240:  # ARMv7-M: at most 240 external interrupts
        raise ValueError("uart.irq: expected an NVIC interrupt number 0..239")
    return irq


def _pin(value: Any, where: str) -> Pin | None:
    if value is None:
        return None
    if not (isinstance(value, str) and len(value) >= 3 and value[0] == "P" and value[1].isalpha()
            and value[2:].isdigit()):
        raise ValueError(f"{where}: expected a pin like 'PA2'")
    pin = Pin(port=ord(value[1].upper()) - ord("A"), pin=int(value[2:]))
    if pin.pin > 15:
        raise ValueError(f"{where}: pin number above 15")
    return pin


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise ValueError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def parse_board(data: dict[str, Any], manifest: Path) -> Board:
    """Validate one manifest's data; raises ValueError naming the bad field."""
    uart = data["uart"]
    timer = data["timer"]
    qemu = data.get("qemu") or None
    upload = data.get("upload") or {}
    fpu = data.get("fpu") or None
    return Board(
        id=str(data["id"]),
        name=str(data["name"]),
        family=_choice(data["family"], FAMILIES, "family"),
        cpu=str(data["cpu"]),
        fpu=str(fpu) if fpu else None,
        flash=Memory(_int(data["flash"]["origin"], "flash.origin"), _int(data["flash"]["size"], "flash.size")),
        ram=Memory(_int(data["ram"]["origin"], "ram.origin"), _int(data["ram"]["size"], "ram.size")),
        clock_source=_choice(data["clock"]["source"], CLOCK_SOURCES, "clock.source"),
        cpu_hz=_int(data["clock"]["hz"], "clock.hz"),
        uart=Uart(
            kind=_choice(uart["kind"], UART_KINDS, "uart.kind"),
            instance=str(uart["instance"]),
            base=_int(uart["base"], "uart.base"),
            irq=_irq(uart["irq"]),
            baud=_int(uart["baud"], "uart.baud"),
            clock_hz=_int(uart["clock_hz"], "uart.clock_hz"),
            tx=_pin(uart.get("tx"), "uart.tx"),
            rx=_pin(uart.get("rx"), "uart.rx"),
            af=_int(uart["af"], "uart.af") if "af" in uart else None,
        ),
        timer=Timer(
            kind=_choice(timer["kind"], TIMER_KINDS, "timer.kind"),
            clock_hz=_positive(timer["clock_hz"], "timer.clock_hz"),
            unit=str(timer["unit"]),
            unit_hz=_positive(timer["unit_hz"], "timer.unit_hz"),
        ),
        qemu_machine=str(qemu["machine"]) if qemu else None,
        upload_protocol=str(upload.get("protocol", "qemu" if qemu else "mbed")),
        aliases=tuple(str(a) for a in data.get("aliases", ())),
        is_default=bool(data.get("default", False)),
        manifest=manifest,
        pio_platform=upload.get("pio_platform"),
        pio_board=upload.get("pio_board"),
        openocd_config=upload.get("openocd"),
    )


def load_board(path: Path) -> Board:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        board = parse_board(data, path)
    except OSError as e:
        raise IlwpError(f"cannot read board manifest {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise IlwpError(f"board manifest {path} is not valid JSON: {e.msg} (line {e.lineno})") from None
    except KeyError as e:
        raise IlwpError(f"board manifest {path} lacks the field {e.args[0]!r}") from None
    except (TypeError, ValueError) as e:
        raise IlwpError(f"board manifest {path}: {e}") from None
    if board.id != path.stem:
        raise IlwpError(f"board manifest {path}: id {board.id!r} differs from the file name")
    return board


def load_boards(directory: Path | None = None) -> dict[str, Board]:
    """All boards by id, sorted by id."""
    directory = directory or boards_dir()
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise IlwpError(f"no board manifests in {directory}")
    boards = {b.id: b for b in (load_board(p) for p in paths)}
    seen: dict[str, str] = {}
    for b in boards.values():
        for alias in b.aliases:
            if alias in boards or alias in seen:
                raise IlwpError(f"board alias {alias!r} of {b.id} is already taken")
            seen[alias] = b.id
    return boards


def resolve_board(name: str | None = None, boards: dict[str, Board] | None = None) -> Board:
    """The board called `name` (an id or an alias, case-insensitive); None gives the default."""
    boards = boards if boards is not None else load_boards()
    if name is None:
        defaults = [b for b in boards.values() if b.is_default]
        return defaults[0] if defaults else boards[DEFAULT_BOARD]
    key = name.strip().lower()
    for b in boards.values():
        if key == b.id or key in (a.lower() for a in b.aliases):
            return b
    valid = ", ".join(
        b.id + (f" (alias {', '.join(b.aliases)})" if b.aliases else "") for b in boards.values()
    )
    raise IlwpError(f"unknown board {name!r}; valid boards: {valid}")
