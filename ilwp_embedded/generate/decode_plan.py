# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The decode-mode planner: how the firmware gets its weights, for a board's memories.

Decode every weight once at boot when the decoded weights fit in the RAM left after the arena,
scratch, stack and runtime; otherwise decode each layer just before it runs; where even one layer's
weights do not fit beside the arena, keep them raw in flash. Coded weights must also pay for their
decoder: when a coded mode would not make the firmware smaller than raw int8 weights (by the flash
estimate below), raw int8 is picked (also faster and lighter on RAM).
"""

from __future__ import annotations

from dataclasses import dataclass

from ilwp_embedded.compress.streams import Container
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.codegen import Generated, Weights, generate
from ilwp_embedded.generate.weights import coded_weights
from ilwp_embedded.ingest.graph import Graph

# RAM the runtime needs beside the model's planned buffers: the 8 KB stack, protocol buffers
# (~1.1 KB), board state, with margin. The linker checks the real figure.
RUNTIME_RAM_RESERVE = 12 * 1024
DECODE_MODES = ("auto", "once", "layer", "raw")

# Flash a coded mode costs beyond its blob: the decoder and the decode calls of the generated model,
# (fixed, per weight record) bytes. Measured on qemu-m4 builds (arm-none-eabi-gcc 12.2 -O2, KWS and
# ResNet-8: once 2492/2480 B, layer 2896/3004 B, with format v3's decoder before the unrolled decoder
# loops; the fixed parts re-fitted to the builds of format v4's decoder with its knot tables (once:
# +176 B; ilwp_decode.o at -O2 2572 -> 2760 B)); tests/test_build_plan.py checks it against real builds.
CODED_FLASH_OVERHEAD = {"once": (2786, 8), "layer": (2290, 108)}
# A coded mode must save at least this much flash over raw int8 (the estimate is good to ~50 B, and
# raw weights cost no decoding time and no decoder RAM).
CODED_MIN_SAVING = 256


@dataclass(frozen=True)
class MemoryBudget:
    """What the planner needs of a board (target/firmware.py: budget(board))."""

    name: str
    ram: int  # bytes
    flash: int


def _fits(budget: MemoryBudget, gen: Generated) -> str | None:
    """Why `gen` cannot fit `budget` (None when it fits), from the generator's exact buffer sizes."""
    need_ram = (gen.arena_bytes + gen.scratch_bytes + gen.weight_ram_bytes + gen.decoder_ram_bytes
                + RUNTIME_RAM_RESERVE)
    if need_ram > budget.ram:
        return (f"about {need_ram} bytes of RAM (arena {gen.arena_bytes}, decoded weights "
                f"{gen.weight_ram_bytes}, decoder tables {gen.decoder_ram_bytes}, runtime {RUNTIME_RAM_RESERVE}), "
                f"the board has {budget.ram}")
    need_flash = gen.const_flash_bytes + gen.weights_flash_bytes
    if need_flash > budget.flash:
        return f"{need_flash} bytes of flash for constants and weights, the board has {budget.flash}"
    return None


@dataclass(frozen=True)
class WeightPlan:
    gen: Generated
    reason: str  # why this weight mode, in one sentence (memory report, --json)


def _align16(n: int) -> int:
    return (n + 15) // 16 * 16


def coded_flash_estimate(gen: Generated, n_records: int) -> int:
    """Flash the coded weights of `gen` cost: the blob (16-byte aligned) plus the decoder and the
    decode calls (CODED_FLASH_OVERHEAD)."""
    fixed, per_record = CODED_FLASH_OVERHEAD[gen.decode_mode]
    return _align16(gen.weights_flash_bytes) + fixed + per_record * n_records


def raw_flash(graph: Graph) -> int:
    """Flash the raw int8 weight arrays cost (each 16-byte aligned)."""
    return sum(_align16(t.nbytes) for _, t in graph.weight_tensors())


def plan_weights_explained(budget: MemoryBudget, graph: Graph, coded: Container | None, requested: str,
                           kernels: str = "portable", cmsis_nn=None) -> WeightPlan:
    """The generated model for the first weight mode that fits, and why. "auto" tries decode-once
    (fastest coded mode), then per-layer decoding (least RAM for coded weights), then raw int8 (no
    decoder buffer at all), and takes raw int8 over a coded mode that fits when raw also fits and the
    coded weights would not save at least CODED_MIN_SAVING bytes of flash. Refuses with the figures
    when no mode fits. cmsis_nn: the CMSIS-NN API (generate.cmsis_nn.cmsis_nn_api) for kernels "cmsis-nn"."""
    if requested not in DECODE_MODES:
        raise IlwpError(f"unknown decode mode {requested!r}: choose one of {', '.join(DECODE_MODES)}")
    order = {"auto": ("once", "layer", "raw"), "once": ("once",), "layer": ("layer",), "raw": ("raw",)}[requested]
    misfit: dict[str, str] = {}  # mode -> why it does not fit
    for mode in order:
        if mode != "raw" and coded is None:
            continue
        gen = generate(graph, Weights("raw") if mode == "raw" else coded_weights(coded, mode), kernels, cmsis_nn)
        why = _fits(budget, gen)
        if why is not None:
            misfit[mode] = why
            continue
        if requested != "auto":
            return WeightPlan(gen, "requested")
        if mode == "raw":
            return WeightPlan(gen, "no compressed weights given" if coded is None else
                              "no coded mode fits (" + "; ".join(f"{m}: {w}" for m, w in misfit.items()) + ")")
        raw = generate(graph, Weights("raw"), kernels, cmsis_nn)
        coded_flash, raw_bytes = coded_flash_estimate(gen, len(coded.records)), raw_flash(graph)
        if _fits(budget, raw) is None and raw_bytes - coded_flash < CODED_MIN_SAVING:
            return WeightPlan(raw, f"compressed weights would not make the firmware smaller ({mode}: blob "
                                   f"{gen.weights_flash_bytes} B + decoder and decode calls "
                                   f"~{coded_flash - _align16(gen.weights_flash_bytes)} B = ~{coded_flash} B of flash; "
                                   f"raw int8 weights {raw_bytes} B)")
        where = ("the decoded weights fit in RAM beside the arena" if mode == "once"
                 else f"decoded all at boot they would not fit in RAM (once: {misfit['once']})")
        return WeightPlan(gen, f"{where}; saves ~{raw_bytes - coded_flash} B of flash over raw int8 weights")
    raise IlwpError(f"the model does not fit {budget.name}: " + "; ".join(f"{m}: {w}" for m, w in misfit.items()))


def plan_weights(budget: MemoryBudget, graph: Graph, coded: Container | None, requested: str,
                 kernels: str = "portable", cmsis_nn=None) -> Generated:
    """plan_weights_explained() without the reason."""
    return plan_weights_explained(budget, graph, coded, requested, kernels, cmsis_nn).gen
