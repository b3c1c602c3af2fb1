"""Shared by tests/test_cycles.py: hand-written Cortex-M4 assembly run on QEMU mps2-an386 under the
cycle-profile plugin.

The program runs `body` 40 times in a loop. Each pass reads SysTick's current value just before
(`region_start`) and just after (`region_stop`) the body and adds up the differences; the sum is
printed by semihosting. The plugin's region is [region_start, region_stop): the first read, a nop,
the body.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ilwp_embedded.cycles.plugin import plugin_args, read_profile

TEMPLATE = r"""
    .syntax unified
    .cpu cortex-m4
    .thumb
    .text
    .word 0x20010000
    .word reset
    .thumb_func
    .global reset
reset:
    ldr r4, =0xE000E010
    ldr r0, =0xFFFFFF
    str r0, [r4, #4]     @ SYST_RVR
    movs r0, #0
    str r0, [r4, #8]     @ SYST_CVR
    movs r0, #5
    str r0, [r4]         @ core clock, enabled, no interrupt
    adds r4, #8          @ r4 = &SYST_CVR
    ldr r5, =buf
    str r5, [r5, #12]    @ buf[3] = &buf (a pointer to chase)
    movs r6, #40
    movs r7, #0
    b loop
    .balign 4
loop:
    .global region_start
region_start:
    ldr r0, [r4]
    nop
{body}
    .global region_stop
region_stop:
    ldr r1, [r4]
    subs r0, r0, r1
    bic r0, r0, #0xFF000000   @ the 24-bit counter counts down
    add r7, r7, r0
{pad}
    subs r6, #1
    bne loop
    ldr r1, =text        @ r7 in hex, by SYS_WRITE0
    movs r2, #28
1:  lsr r3, r7, r2
    and r3, r3, #15
    cmp r3, #10
    ite lo
    addlo r3, r3, #48
    addhs r3, r3, #87
    strb r3, [r1], #1
    subs r2, #4
    bpl 1b
    movs r3, #10
    strb r3, [r1], #1
    movs r3, #0
    strb r3, [r1]
    ldr r1, =text
    movs r0, #4
    bkpt 0xab
    ldr r1, =exitblk     @ SYS_EXIT_EXTENDED, ADP_Stopped_ApplicationExit, 0
    movs r0, #0x20
    bkpt 0xab
    b .
{funcs}
    .ltorg
    .balign 4
exitblk: .word 0x20026, 0
    .data
    .balign 8
buf: .space 256
text: .space 16
"""


def build(tmp: Path, body: str, pad: int = 0, funcs: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "t.s"
    src.write_text(TEMPLATE.format(body=body, pad="\n".join(["    nop"] * pad), funcs=funcs))
    elf = tmp / "t.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-Wl,-Ttext=0x0", "-Wl,-Tdata=0x20000000", "-Wl,-e,reset", "-o", str(elf), str(src)],
                   check=True, capture_output=True)
    return elf


def symbol(elf: Path, name: str) -> int:
    with open(elf, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"] & ~1


def run(tmp: Path, body: str, pad: int = 0, funcs: str = ""):
    """(SysTick sum over the 40 passes, Profile, elf)."""
    elf = build(tmp, body, pad, funcs)
    out = tmp / "profile.bin"
    args = plugin_args(out, symbol(elf, "region_start"), symbol(elf, "region_stop"))
    r = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-icount", "shift=0", "-semihosting-config",
                        "enable=on,target=native", "-display", "none", "-monitor", "none", "-serial", "null",
                        *args, "-kernel", str(elf)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = (r.stdout + r.stderr).split()  # QEMU writes semihosting console output to stderr
    return int(text[-1], 16), read_profile(out), elf
