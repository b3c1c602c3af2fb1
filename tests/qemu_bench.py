# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Run a Graph on an emulated Cortex-M4 (QEMU mps2-an386) with the C kernels and count instructions.

A throw-away firmware (tests only, on bench/m4's start-up and memory map): the graph's constants,
and the kernel calls and parameters of the op registry (ilwp_embedded/ops/registry.py), are printed
as C, built with arm-none-eabi-gcc (DSP path on), run under `qemu-system-arm -icount shift=0` (1 ns of
virtual time per instruction) and timed with SysTick (25 MHz in QEMU's MPS2: 1 tick = 40 instructions).
Output goes through Arm semihosting.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from devtools.host_runner import KERNEL_DIR
from ilwp_embedded.ops.cstruct import c_struct, c_struct_name
from ilwp_embedded.ops.registry import CallSite, lookup
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.qemu import run_to_exit

INSTR_PER_TICK = 40  # 1e9 instructions/s (icount shift=0) / 25e6 SysTick Hz

ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
             "-ffunction-sections", "-fdata-sections"]

# The bench start-up and memory map shared with bench/codec.py: vector table, .data/.bss, semihosting
# output (bench_puts) and exit with main()'s status.
BENCH_M4 = Path(__file__).resolve().parents[1] / "bench" / "m4"


def _arr(ctype: str, name: str, values, const=True) -> str:
    vals = ",".join(str(int(v)) for v in np.asarray(values).reshape(-1))
    return f"static {'const ' if const else ''}{ctype} {name}[] __attribute__((aligned(4))) = {{{vals}}};\n"


def _struct(p, name: str) -> str:
    cs = c_struct(p, name)
    init = ", ".join(f".{f} = {v}" for f, v in cs.init)
    return "".join(_arr("int32_t", a, v) for a, v in cs.arrays) + f"static const {cs.ctype} {name} = {{{init}}};\n"


def generate_c(graph, x: np.ndarray) -> str:
    out = ['#include <stdint.h>\n#include <string.h>\n#include "ilwp_kernels.h"\n',
           "void bench_puts(const char *s);\n",
           "#define SYST_CSR (*(volatile uint32_t *)0xE000E010)\n#define SYST_RVR (*(volatile uint32_t *)0xE000E014)\n"
           "#define SYST_CVR (*(volatile uint32_t *)0xE000E018)\n"]
    consts = {i for i, t in enumerate(graph.tensors) if t.data is not None}
    for i, t in enumerate(graph.tensors):
        if i not in consts:
            out.append(f"static int8_t a{i}[{math.prod(t.shape)}] __attribute__((aligned(4)));\n")
    out.append(_arr("int8_t", "input0", x))
    scratch = 4
    calls = []
    for k, op in enumerate(graph.operators):
        kernel = lookup(op)
        p = kernel.params(graph, op)
        scratch = max(scratch, kernel.scratch_bytes(p))
        if c_struct_name(p) is not None:
            out.append(_struct(p, f"p{k}"))
        names = tuple("NULL" if i < 0 else f"c{i}" if i in consts else f"a{i}" for i in kernel.call_inputs(op))
        call = kernel.emit(p, CallSite(f"p{k}", names, f"a{op.outputs[0]}", scratch="scratch"))
        out.extend(_arr("int32_t", a, v) for a, v in call.arrays)
        calls.append(call.text)
    named = set(re.findall(r"\bc(\d+)\b", " ".join(calls)))
    for i in sorted(consts):
        if str(i) in named:
            t = graph.tensor(i)
            out.append(_arr({"int8": "int8_t", "int32": "int32_t"}[t.dtype], f"c{i}", t.data))
    out.append(f"static int16_t scratch[{(scratch + 1) // 2}] __attribute__((aligned(4), unused));\n")
    out.append(r"""
static void put_int(long v) {
    char buf[16]; int n = 15; int neg = v < 0; unsigned long u = neg ? (unsigned long)(-v) : (unsigned long)v;
    buf[n] = 0;
    do { buf[--n] = (char)('0' + u % 10u); u /= 10u; } while (u);
    if (neg) buf[--n] = '-';
    bench_puts(buf + n);
}
static uint32_t ticks[@NCALLS@];
int main(void) {
    uint32_t t0, t1; int i; int32_t rc = 0;
    SYST_RVR = 0xFFFFFFu; SYST_CVR = 0; SYST_CSR = 5u;
    t0 = SYST_CVR;
    { volatile uint32_t n = 100000u; while (n) { n--; } }
    t1 = SYST_CVR;
    bench_puts("calib "); put_int((long)((t0 - t1) & 0xFFFFFFu)); bench_puts("\n");
    memcpy(a@INPUT@, input0, sizeof(input0));
""".replace("@NCALLS@", str(len(calls))).replace("@INPUT@", str(graph.inputs[0])))
    for k, c in enumerate(calls):
        out.append(f"    t0 = SYST_CVR; rc |= {c}; t1 = SYST_CVR; ticks[{k}] = (t0 - t1) & 0xFFFFFFu;\n")
    out.append(f"""    bench_puts("rc "); put_int(rc); bench_puts("\\n");
    for (i = 0; i < {len(calls)}; ++i) {{ bench_puts("op "); put_int(i); bench_puts(" "); put_int((long)ticks[i]); bench_puts("\\n"); }}
    bench_puts("out");
    for (i = 0; i < (int)sizeof(a{graph.outputs[0]}); ++i) {{ bench_puts(" "); put_int(a{graph.outputs[0]}[i]); }}
    bench_puts("\\n");
    return 0;
}}
""")
    return "".join(out)


def available() -> bool:
    return shutil.which("arm-none-eabi-gcc") is not None and shutil.which("qemu-system-arm") is not None


def build_and_run(graph, x: np.ndarray, workdir: Path, timeout: float = 120) -> dict:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.c").write_text(generate_c(graph, x))
    elf = workdir / "bench.elf"
    srcs = [str(BENCH_M4 / "startup.c"), str(workdir / "model.c"), *sorted(str(p) for p in KERNEL_DIR.glob("*.c"))]
    cmd = ["arm-none-eabi-gcc", *ARM_FLAGS, f"-I{KERNEL_DIR}", "-nostartfiles", "--specs=nano.specs",
           "-Wl,--gc-sections", f"-T{BENCH_M4 / 'link.ld'}", "-o", str(elf), *srcs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    text = run_to_exit(resolve_board("qemu-m4"), elf, timeout, serial_spec="none").output  # mps2-an386
    res = {"log": text, "rc": None, "ticks": [], "out": None, "calib": None}
    for line in text.splitlines():
        if line.startswith("calib "):
            res["calib"] = int(line.split()[1])
        elif line.startswith("rc "):
            res["rc"] = int(line.split()[1])
        elif line.startswith("op "):
            res["ticks"].append(int(line.split()[2]))
        elif line.startswith("out"):
            res["out"] = np.array([int(v) for v in re.findall(r"-?\d+", line)], dtype=np.int8)
    return res
