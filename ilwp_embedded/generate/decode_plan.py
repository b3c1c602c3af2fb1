# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The decode-mode planner: how the firmware gets its weights, for a board's memories and a goal.

Three weight modes: decoded once at boot into RAM, decoded per layer just before it runs (into arena
bytes idle at that step), or raw int8 in flash. Each is costed (flash of its weights and decoder, the
RAM it needs, the decoding instructions it adds per inference and at boot) and the goal picks among
those that fit the board:
  flash (default, the planner's behaviour before goals existed): the least flash; among modes within
        CODED_MIN_SAVING bytes of it, the one that decodes least per inference, then the least RAM
        (so raw int8 weights when coding would not pay for its decoder);
  ram:   the least RAM (raw int8 weights when they cost less RAM than decoding), then the least flash;
  speed: the fewest instructions per inference (decoded at boot if it fits, else raw), then the least flash.
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
GOALS = ("flash", "ram", "speed")
DEFAULT_GOAL = "flash"
# Instructions the M4 decoder spends per weight (bench/codec.py, format v2 lossless: ResNet-8 14.8,
# KWS 15.9): an estimate of what decoding adds; the kernels cost the same in every mode.
DECODE_INSTRUCTIONS_PER_WEIGHT = 16

# Flash a coded mode costs beyond its blob: the decoder and the decode calls of the generated model,
# (fixed, per weight record) bytes. Measured on qemu-m4 builds (arm-none-eabi-gcc 12.2 -O2, KWS and
# ResNet-8; re-measured after the v4 tables, weights in the arena and the C API merged: coded - raw
# flash once 756/-3160 B, layer 1280/-2520 B for 9/10 records); tests/test_build_plan.py checks it
# against real builds.
CODED_FLASH_OVERHEAD = {"once": (2786, 8), "layer": (2418, 108)}
# A coded mode must save at least this much flash over raw int8 (the estimate is good to ~50 B, and
# raw weights cost no decoding time and no decoder RAM).
CODED_MIN_SAVING = 256


@dataclass(frozen=True)
class MemoryBudget:
    """What the planner needs of a board (target/firmware.py: budget(board))."""

    name: str
    ram: int  # bytes
    flash: int


def ram_need(gen: Generated) -> int:
    """RAM the firmware of `gen` needs, from the generator's exact buffer sizes and the runtime reserve."""
    return (gen.arena_bytes + gen.scratch_bytes + gen.weight_ram_bytes + gen.decoder_ram_bytes
            + RUNTIME_RAM_RESERVE)


def _fits(budget: MemoryBudget, gen: Generated) -> str | None:
    """Why `gen` cannot fit `budget` (None when it fits)."""
    need_ram = ram_need(gen)
    if need_ram > budget.ram:
        return (f"about {need_ram} bytes of RAM (arena {gen.arena_bytes}, decoded weights "
                f"{gen.weight_ram_bytes}, decoder tables {gen.decoder_ram_bytes}, runtime {RUNTIME_RAM_RESERVE}), "
                f"the board has {budget.ram}")
    need_flash = gen.const_flash_bytes + gen.weights_flash_bytes
    if need_flash > budget.flash:
        return f"{need_flash} bytes of flash for constants and weights, the board has {budget.flash}"
    return None


@dataclass(frozen=True)
class ModeCost:
    """What one weight mode costs on a board (estimates; the build measures the chosen one)."""

    mode: str
    flash: int  # bytes of weights in flash, with the decoder and decode calls for coded modes
    ram: int  # bytes of RAM the firmware needs (ram_need)
    decode_per_inference: int  # instructions decoding adds to each inference (estimate)
    decode_at_boot: int  # instructions decoding adds at boot (estimate)
    misfit: str | None  # why it does not fit the board; None when it fits

    def to_dict(self) -> dict:
        return {"mode": self.mode, "flash": self.flash, "ram": self.ram,
                "decode_instructions_per_inference": self.decode_per_inference,
                "decode_instructions_at_boot": self.decode_at_boot, "fits": self.misfit is None,
                **({"misfit": self.misfit} if self.misfit else {})}


@dataclass(frozen=True)
class WeightPlan:
    gen: Generated
    reason: str  # why this weight mode, in one sentence (memory report, --json)
    goal: str = DEFAULT_GOAL
    costs: tuple[ModeCost, ...] = ()  # every mode the planner weighed


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


def _cost(budget: MemoryBudget, graph: Graph, gen: Generated, n_records: int) -> ModeCost:
    decoded = DECODE_INSTRUCTIONS_PER_WEIGHT * sum(t.nbytes for _, t in graph.weight_tensors())
    flash = raw_flash(graph) if gen.decode_mode == "raw" else coded_flash_estimate(gen, n_records)
    return ModeCost(gen.decode_mode, flash, ram_need(gen), decoded if gen.decode_mode == "layer" else 0,
                    decoded if gen.decode_mode == "once" else 0, _fits(budget, gen))


def _choose(goal: str, fit: list[ModeCost]) -> ModeCost:
    if goal == "flash":
        least = min(c.flash for c in fit)
        return min((c for c in fit if c.flash < least + CODED_MIN_SAVING),
                   key=lambda c: (c.decode_per_inference, c.ram, c.flash))
    if goal == "ram":
        return min(fit, key=lambda c: (c.ram, c.flash, c.decode_per_inference))
    return min(fit, key=lambda c: (c.decode_per_inference, c.flash, c.ram))


def _why(goal: str, pick: ModeCost, costs: dict[str, ModeCost], coded: bool) -> str:
    """The memory report's sentence on the choice."""
    raw, once = costs.get("raw"), costs.get("once")
    misfit = "; ".join(f"{c.mode}: {c.misfit}" for c in costs.values() if c.misfit)
    if not coded:
        return "no compressed weights given"
    if pick.mode == "raw" and all(c.misfit for m, c in costs.items() if m != "raw"):
        return f"no coded mode fits ({misfit})"
    if goal == "ram":
        return f"goal ram: the least RAM, ~{pick.ram} B (" + ", ".join(
            f"{c.mode} {c.ram} B" for c in costs.values() if c is not pick and not c.misfit) + ")"
    if goal == "speed":
        return (f"goal speed: no decoding per inference ({'decoded at boot, ~' + str(pick.decode_at_boot) + ' instructions' if pick.mode == 'once' else 'raw int8 weights'})"
                if pick.decode_per_inference == 0 else
                f"goal speed: every mode without decoding per inference misfits ({misfit})")
    if pick.mode == "raw":
        c = min((c for c in costs.values() if c.mode != "raw" and not c.misfit), key=lambda c: c.flash)
        return (f"compressed weights would not make the firmware smaller ({c.mode}: ~{c.flash} B of flash with the "
                f"decoder and decode calls; raw int8 weights {raw.flash} B)")
    where = ("the decoded weights fit in RAM beside the arena" if pick.mode == "once"
             else f"decoded all at boot they would not fit in RAM (once: {once.misfit})" if once and once.misfit
             else "decoding per layer costs the least flash")
    return f"{where}; saves ~{raw.flash - pick.flash} B of flash over raw int8 weights"


def plan_weights_explained(budget: MemoryBudget, graph: Graph, coded: Container | None, requested: str,
                           kernels: str = "portable", cmsis_nn=None, goal: str = DEFAULT_GOAL) -> WeightPlan:
    """The generated model for the weight mode `requested` ("auto": the one `goal` prefers among those
    that fit; see the module's doc), why, and what every mode costs. Refuses with the figures when the
    requested mode, or under "auto" every mode, does not fit. cmsis_nn: the CMSIS-NN API
    (generate.cmsis_nn.cmsis_nn_api) for kernels "cmsis-nn"."""
    if requested not in DECODE_MODES:
        raise IlwpError(f"unknown decode mode {requested!r}: choose one of {', '.join(DECODE_MODES)}")
    if goal not in GOALS:
        raise IlwpError(f"unknown goal {goal!r}: choose one of {', '.join(GOALS)}")
    modes = [m for m in ("once", "layer", "raw") if m == "raw" or coded is not None]
    gens = {m: generate(graph, Weights("raw") if m == "raw" else coded_weights(coded, m), kernels, cmsis_nn)
            for m in modes}
    costs = {m: _cost(budget, graph, g, len(coded.records) if coded else 0) for m, g in gens.items()}
    if requested != "auto":
        if requested not in costs:
            raise IlwpError(f"weights decoded {requested!r} need compressed weights, and the model has none to "
                            "code: use decode raw or auto")
        c = costs[requested]
        if c.misfit:
            raise IlwpError(f"the model does not fit {budget.name}: {requested}: {c.misfit}")
        return WeightPlan(gens[requested], "requested", goal, tuple(costs.values()))
    fit = [c for c in costs.values() if not c.misfit]
    if not fit:
        raise IlwpError(f"the model does not fit {budget.name}: " +
                        "; ".join(f"{c.mode}: {c.misfit}" for c in costs.values()))
    pick = _choose(goal, fit)
    return WeightPlan(gens[pick.mode], _why(goal, pick, costs, coded is not None), goal, tuple(costs.values()))


def plan_weights(budget: MemoryBudget, graph: Graph, coded: Container | None, requested: str,
                 kernels: str = "portable", cmsis_nn=None, goal: str = DEFAULT_GOAL) -> Generated:
    """plan_weights_explained() without the reason."""
    return plan_weights_explained(budget, graph, coded, requested, kernels, cmsis_nn, goal).gen
