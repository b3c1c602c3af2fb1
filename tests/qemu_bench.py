"""Run a Graph on an emulated Cortex-M4 (QEMU mps2-an386) with the C kernels and count instructions.

A throw-away firmware (tests only): the graph's constants and quant.py parameters are printed as C,
built with arm-none-eabi-gcc (DSP path on), run under `qemu-system-arm -icount shift=0` (1 ns of
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

from ilwp_embedded.generate import quant as Q
from ilwp_embedded.generate.host_runner import KERNEL_DIR

INSTR_PER_TICK = 40  # 1e9 instructions/s (icount shift=0) / 25e6 SysTick Hz

ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
             "-ffunction-sections", "-fdata-sections"]

_STARTUP = r"""
#include <stdint.h>
#include <string.h>
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
static long semihost(long op, const void *arg)
{
    register long r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
void sh_puts(const char *s) { semihost(0x04, s); }
void sh_exit(int code) { (void)code; semihost(0x18, (const void *)0x20026); for (;;) { } }
void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) { *dst++ = *src++; }
    for (dst = &_sbss; dst < &_ebss; ) { *dst++ = 0; }
    sh_exit(main());
}
static void Default_Handler(void) { sh_puts("fault\n"); sh_exit(1); }
__attribute__((section(".isr_vector"), used)) const void *const vectors[16] = {
    &_estack, (const void *)Reset_Handler, (const void *)Default_Handler, (const void *)Default_Handler,
    (const void *)Default_Handler, (const void *)Default_Handler, (const void *)Default_Handler, 0, 0, 0, 0,
    (const void *)Default_Handler, (const void *)Default_Handler, 0, (const void *)Default_Handler,
    (const void *)Default_Handler};
"""

_LD = """
MEMORY { FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 4M
         RAM (rwx)  : ORIGIN = 0x20000000, LENGTH = 4M }
_estack = ORIGIN(RAM) + LENGTH(RAM);
SECTIONS {
  .text : { KEEP(*(.isr_vector)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
}
"""


def _arr(ctype: str, name: str, values, const=True) -> str:
    vals = ",".join(str(int(v)) for v in np.asarray(values).reshape(-1))
    return f"static {'const ' if const else ''}{ctype} {name}[] __attribute__((aligned(4))) = {{{vals}}};\n"


def _struct(ctype: str, name: str, p, ptrs: dict[str, str]) -> str:
    assert Q.c_struct_name(p) == ctype
    return f"static const {ctype} {name} = {Q.c_initializer(p, ptrs)};\n"


def generate_c(graph, x: np.ndarray) -> str:
    out = ['#include <stdint.h>\n#include <string.h>\n#include "ilwp_kernels.h"\n',
           "void sh_puts(const char *s);\n",
           "#define SYST_CSR (*(volatile uint32_t *)0xE000E010)\n#define SYST_RVR (*(volatile uint32_t *)0xE000E014)\n"
           "#define SYST_CVR (*(volatile uint32_t *)0xE000E018)\n"]
    used_const = set()
    for op in graph.operators:
        for i in op.inputs[1:]:
            if i >= 0 and graph.tensor(i).data is not None and op.op in ("CONV_2D", "DEPTHWISE_CONV_2D",
                                                                        "FULLY_CONNECTED", "ADD"):
                used_const.add(i)
    for i in sorted(used_const):
        t = graph.tensor(i)
        ctype = {"int8": "int8_t", "int32": "int32_t"}[t.dtype]
        out.append(_arr(ctype, f"c{i}", t.data))
    consts = {i for i, t in enumerate(graph.tensors) if t.data is not None}
    for i, t in enumerate(graph.tensors):
        if i not in consts:
            out.append(f"static int8_t a{i}[{math.prod(t.shape)}] __attribute__((aligned(4)));\n")
    out.append(_arr("int8_t", "input0", x))
    scratch = 4
    calls = []
    for k, op in enumerate(graph.operators):
        p = Q.op_params(graph, op)
        src = f"a{op.inputs[0]}" if op.inputs[0] not in consts else f"c{op.inputs[0]}"
        dst = f"a{op.outputs[0]}"
        bias = f"c{op.inputs[2]}" if len(op.inputs) > 2 and op.inputs[2] >= 0 else "0"
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            out.append(_arr("int32_t", f"m{k}", p.multiplier) + _arr("int32_t", f"s{k}", p.shift))
            ptrs = {"multiplier": f"m{k}", "shift": f"s{k}"}
            if op.op == "CONV_2D":
                out.append(_struct("ilwp_conv_params_t", f"p{k}", p, ptrs))
                scratch = max(scratch, p.scratch_bytes)
                calls.append(f"ilwp_conv2d_s8(&p{k}, {src}, c{op.inputs[1]}, {bias}, {dst}, scratch)")
            elif op.op == "DEPTHWISE_CONV_2D":
                out.append(_struct("ilwp_dw_conv_params_t", f"p{k}", p, ptrs))
                calls.append(f"ilwp_depthwise_conv2d_s8(&p{k}, {src}, c{op.inputs[1]}, {bias}, {dst})")
            else:
                out.append(_struct("ilwp_fc_params_t", f"p{k}", p, ptrs))
                calls.append(f"ilwp_fully_connected_s8(&p{k}, {src}, c{op.inputs[1]}, {bias}, {dst})")
        elif op.op == "ADD":
            if p.broadcast:
                raise Q.UnsupportedOp("broadcast ADD not in this bench")
            out.append(_struct("ilwp_add_params_t", f"p{k}", p, {}))
            calls.append(f"ilwp_add_s8(&p{k}, {src}, a{op.inputs[1]}, {dst}, {p.size}, add_scratch)")
        elif op.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            out.append(_struct("ilwp_pool_params_t", f"p{k}", p, {}))
            fn = "ilwp_avg_pool2d_s8" if op.op == "AVERAGE_POOL_2D" else "ilwp_max_pool2d_s8"
            calls.append(f"{fn}(&p{k}, {src}, {dst})")
        elif op.op == "SOFTMAX":
            out.append(_struct("ilwp_softmax_params_t", f"p{k}", p, {}))
            calls.append(f"ilwp_softmax_s8(&p{k}, {src}, {dst})")
        elif op.op in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
            calls.append(f"ilwp_reshape_s8({src}, {dst}, {p.size})")
        else:
            raise Q.UnsupportedOp(op.op)
    out.append(f"static int16_t scratch[{(scratch + 1) // 2}] __attribute__((aligned(4), unused));\n")
    out.append("static int32_t add_scratch[512] __attribute__((unused));\n")
    out.append(r"""
static void put_int(long v) {
    char buf[16]; int n = 15; int neg = v < 0; unsigned long u = neg ? (unsigned long)(-v) : (unsigned long)v;
    buf[n] = 0;
    do { buf[--n] = (char)('0' + u % 10u); u /= 10u; } while (u);
    if (neg) buf[--n] = '-';
    sh_puts(buf + n);
}
static uint32_t ticks[@NCALLS@];
int main(void) {
    uint32_t t0, t1; int i; int32_t rc = 0;
    SYST_RVR = 0xFFFFFFu; SYST_CVR = 0; SYST_CSR = 5u;
    t0 = SYST_CVR;
    { volatile uint32_t n = 100000u; while (n) { n--; } }
    t1 = SYST_CVR;
    sh_puts("calib "); put_int((long)((t0 - t1) & 0xFFFFFFu)); sh_puts("\n");
    memcpy(a@INPUT@, input0, sizeof(input0));
""".replace("@NCALLS@", str(len(calls))).replace("@INPUT@", str(graph.inputs[0])))
    for k, c in enumerate(calls):
        out.append(f"    t0 = SYST_CVR; rc |= {c}; t1 = SYST_CVR; ticks[{k}] = (t0 - t1) & 0xFFFFFFu;\n")
    out.append(f"""    sh_puts("rc "); put_int(rc); sh_puts("\\n");
    for (i = 0; i < {len(calls)}; ++i) {{ sh_puts("op "); put_int(i); sh_puts(" "); put_int((long)ticks[i]); sh_puts("\\n"); }}
    sh_puts("out");
    for (i = 0; i < (int)sizeof(a{graph.outputs[0]}); ++i) {{ sh_puts(" "); put_int(a{graph.outputs[0]}[i]); }}
    sh_puts("\\n");
    return 0;
}}
""")
    return "".join(out)


def available() -> bool:
    return shutil.which("arm-none-eabi-gcc") is not None and shutil.which("qemu-system-arm") is not None


def build_and_run(graph, x: np.ndarray, workdir: Path, timeout: float = 120) -> dict:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "startup.c").write_text(_STARTUP)
    (workdir / "model.c").write_text(generate_c(graph, x))
    (workdir / "link.ld").write_text(_LD)
    elf = workdir / "bench.elf"
    srcs = [str(workdir / "startup.c"), str(workdir / "model.c"), *sorted(str(p) for p in KERNEL_DIR.glob("*.c"))]
    cmd = ["arm-none-eabi-gcc", *ARM_FLAGS, f"-I{KERNEL_DIR}", "-nostartfiles", "--specs=nano.specs",
           "-Wl,--gc-sections", f"-T{workdir / 'link.ld'}", "-o", str(elf), *srcs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    q = subprocess.run(["qemu-system-arm", "-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic",
                        "-monitor", "none", "-serial", "none", "-icount", "shift=0",
                        "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=timeout)
    text = q.stdout + q.stderr
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
