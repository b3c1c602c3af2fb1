# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The cycle profile: the QEMU plugin's counts against SysTick (exactly), the Cortex-M4 timing
table per instruction class on hand-written sequences run in QEMU, and validate --profile."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import needs_qemu, needs_toolchain, run_profiled, symbol

from ilwp_embedded.cycles import timing

pytestmark = [needs_toolchain, needs_qemu]

LOOPS = 40  # passes of the body in the harness; SysTick ticks every 40 instructions on mps2


def test_plugin_count_equals_systick_count_exactly(tmp_path):
    """SysTick ticks every 40 instructions (25 MHz, 1 instruction = 1 ns under -icount shift=0), so
    one reading is off by up to 39. Over 40 passes whose start times cover all 40 phases of the tick
    (a pass length prime to 40), the tick differences sum to exactly the instruction count of one
    pass's region."""
    body = """
    movs r2, #37
2:  ldr r3, [r5, #4]
    ldm r5, {r8, r9, r10, r11}
    smlad r1, r3, r8, r1
    udiv r1, r1, r6
    tst r2, #1
    it ne
    strne r3, [r5, #8]
    subs r2, #1
    bne 2b
    bl leaf
"""
    funcs = """
    .thumb_func
leaf:
    push {r4, lr}
    adds r1, #3
    pop {r4, pc}
"""
    _, prof, _ = run_profiled(tmp_path / "probe", body, 0, funcs)
    n_total = int(prof.totals(prof.segments)["exec"].sum())
    assert prof.regions == LOOPS and n_total % LOOPS == 0
    n = n_total // LOOPS  # the same straight-line program every pass
    # a pass = region (n) + ldr r1, subs, bic, add, subs, bne (6) + pad
    pad = next(p for p in range(8) if math.gcd(n + 6 + p, 40) == 1)
    ticks, prof, _ = run_profiled(tmp_path / "exact", body, pad, funcs)
    assert int(prof.totals(prof.segments)["exec"].sum()) == n_total
    assert ticks == n, (ticks, n)
    # and with a pass length sharing a factor with 40 the sum is not the count: the phases matter
    bad = next(p for p in range(8) if math.gcd(n + 6 + p, 40) == 8)
    ticks_bad, _, _ = run_profiled(tmp_path / "bad", body, bad, funcs)
    assert ticks_bad % 8 == 0 and ticks_bad != n


def _body_cycles(tmp_path, body: str, funcs: str = "") -> dict[str, float]:
    """Cycles per pass of `body` alone (the region minus its first read and the nop), per variant."""
    _, prof, elf = run_profiled(tmp_path, body, 0, funcs)
    insns = timing.disassemble(elf)
    tot = prof.totals(prof.segments)
    first = symbol(elf, "region_start") + 4  # after ldr r0, [r4] and nop
    stop = symbol(elf, "region_stop")
    # the body, and the subroutines (after the loop and its exit code) it calls
    keep = ((prof.pc >= first) & (prof.pc < stop)) | (prof.pc >= symbol(elf, "leaf"))
    keep &= tot["exec"] > 0
    c = timing.cycles_from_counts(timing.CORTEX_M4, insns, prof.pc[keep], tot["exec"][keep], tot["taken"][keep],
                                  tot["jumped_in"][keep], tot["mem"][keep])
    return {k: v / LOOPS for k, v in c.items()}


LEAF = """
    .thumb_func
leaf:
    bx lr
    .thumb_func
leaf2:
    push {lr}
    pop {pc}
"""

# (class, body, (low, nominal, high) cycles per pass) from the Cortex-M4 TRM table
CASES = [
    ("alu, mul, dsp", "    adds r2, r2, #1\n    eor r3, r3, r2\n    mul r3, r3, r2\n    smlad r1, r2, r3, r1\n"
                      "    sxtb16 r8, r3\n    umull r8, r9, r2, r3\n", (6, 6, 6)),
    ("division 2-12", "    udiv r1, r2, r6\n", (2, 7, 12)),
    ("load single", "    ldr r2, [r5]\n", (2, 2, 2)),
    ("loads pipelined", "    ldr r2, [r5]\n    ldrb r3, [r5, #4]\n    ldrsh r8, [r5, #8]\n", (4, 4, 6)),
    ("store immediate offset", "    str r2, [r5, #16]\n", (1, 1, 2)),
    ("store register offset after a load", "    movs r3, #16\n    ldr r2, [r5]\n    str r2, [r5, r3]\n", (4, 4, 5)),
    ("address depends on the previous result", "    mov r1, r5\n    ldr r2, [r1]\n", (3, 4, 4)),
    ("load feeding the next address", "    ldr r1, [r5, #12]\n    ldr r2, [r1]\n", (4, 5, 5)),
    ("ldrd/strd 1+N", "    ldrd r2, r3, [r5]\n    strd r2, r3, [r5, #16]\n", (6, 6, 6)),
    ("ldm/stm 1+N", "    ldm r5, {r1, r2, r3, r8}\n    stmia r5, {r1, r2}\n", (8, 8, 8)),
    ("push/pop 1+N", "    push {r1, r2, r3}\n    pop {r1, r2, r3}\n", (8, 8, 8)),
    ("post-increment loads pipelined", "    ldr r2, [r5], #4\n    ldr r3, [r5], #4\n    subs r5, #8\n", (4, 4, 5)),
    ("loop: branch taken twice, not taken once", "    movs r2, #3\n3:  subs r2, #1\n    bne 3b\n", (9, 11, 13)),
    ("taken branch 1+P", "    b 3f\n    nop\n3:  nop\n", (3, 4, 5)),
    ("branch not taken", "    cmp r6, #100\n    beq 3f\n    nop\n3:\n", (3, 3, 3)),
    ("call and return 1+P each", "    bl leaf\n", (4, 6, 8)),
    ("pop pc 1+N+P", "    bl leaf2\n", (7, 9, 11)),
    ("IT block", "    cmp r6, #0\n    it ne\n    addne r2, r2, #1\n", (2, 3, 3)),
    ("condition-failed load", "    cmp r6, #100\n    it eq\n    ldreq r2, [r5]\n", (2, 3, 3)),
]


@pytest.mark.parametrize("name,body,want", CASES, ids=[c[0] for c in CASES])
def test_cortex_m4_timing_per_class(tmp_path, name, body, want):
    got = _body_cycles(tmp_path, body, LEAF)
    assert (got["low"], got["nominal"], got["high"]) == tuple(float(w) for w in want), (name, got)


def test_cortex_m7_has_no_static_model():
    assert timing.model_for_cpu("cortex-m7") is None
    assert timing.model_for_cpu("cortex-m4") is timing.CORTEX_M4


def _documented_nominal(model: str) -> float:
    """Nominal cycles per inference that docs/kernels.md's cycle table states for the current kernels."""
    from pathlib import Path

    for line in (Path(__file__).resolve().parents[1] / "docs" / "kernels.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0] == model and cells[1] == "now":
            return float(cells[4].strip("*").replace(",", ""))
    raise AssertionError(f"docs/kernels.md has no cycle row for {model} now")


def test_validate_profile_resnet8_cycles_per_inference_and_layer():
    """validate --profile on ResNet-8 (qemu-m4): the plugin's region is the call of ilwp_model_run,
    inside SysTick's t0..t1 (which adds only the two timer reads, give or take one tick of 40
    instructions); the per-layer segments add up to the inference; ms come from cycles."""
    import json

    from helpers import firmware
    from conftest import RESNET8_INT8, run_cli

    fw = firmware("qemu-m4")
    p = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--elf", fw.elf, "--dataset",
                "cifar10-raw200", "--limit", "2", "--json", "--profile")
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    c, lat = r["cycles"], r["latency"]
    assert c["model"] == timing.CORTEX_M4.name and c["inferences"] == 2
    assert lat["unit"] == "instructions" and lat["median_ms"] is None  # never ms from instructions
    assert 0 < c["low"] <= c["nominal"] <= c["high"]
    assert c["nominal"] > c["instructions"]  # loads, multi-cycle LDM, taken branches
    # SysTick reads t0 and t1 to 40 instructions, at a phase the host sets (the core idles while
    # bytes arrive over the link): t1 - t0 is the region plus the timer reads, rounded down or up to a
    # tick. So it lies within one tick below the plugin's count, or up to the reads plus a tick above.
    assert -40 < lat["median"] - c["instructions"] < 200, (lat["median"], c["instructions"])
    assert c["ms"]["nominal"] == pytest.approx(c["nominal"] / 25e6 * 1e3)
    layers = c["layers"]
    kernels = [l for l in layers if l["step"] >= 0]
    assert [l["step"] for l in kernels] == list(range(len(kernels))) and len(kernels) >= 12
    assert sum(l["instructions"] for l in layers) == pytest.approx(c["instructions"], abs=200)
    assert sum(l["nominal"] for l in layers) == pytest.approx(c["nominal"], rel=1e-3)
    convs = [l for l in kernels if "conv2d" in l["label"]]
    assert convs and all(l["nominal"] > l["instructions"] for l in convs)
    # Within 1.2x of the figure docs/kernels.md states (bench/firmware.py measures it)
    assert c["nominal"] <= 1.2 * _documented_nominal("ResNet-8")
