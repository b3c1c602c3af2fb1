# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Cycle profile of the generated model's inference in QEMU: where the timed region is in the ELF,
what the plugin counted there, and the cycles per inference and per layer.

The region is the call of `ilwp_model_run` in the runtime (from the `bl` to the instruction after
it: the run and nothing else; the SysTick measurement around it adds only the timer reads). The
segments end at the return addresses of the calls inside `ilwp_model_run`, so each kernel call
(and each weight-decoding call, per-layer mode) is its own segment: that gives cycles per layer.
"""

from __future__ import annotations

import re
import subprocess
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ilwp_embedded.cycles import timing
from ilwp_embedded.cycles.plugin import STOP_MARK, Profile
from ilwp_embedded.errors import IlwpError

RUN_FUNCTION = "ilwp_model_run"
HELPERS = ("ilwp_ticks", "ilwp_next", "ilwp_decode", "ilwp_open", "ilwp_cmsis_nn_set_scratch")
_BL = re.compile(r"^\s*([0-9a-f]+):\s+[0-9a-f]{4} [0-9a-f]{4}\s+\tbl(?:x)?\s+[0-9a-f]+ <([^>+]+)>")


@dataclass
class RegionSetup:
    start: int
    stop: int
    marks: list[int]  # return addresses of the calls inside the run function
    callees: list[str]  # the function each mark returns from


def _functions(elf: Path) -> dict[str, tuple[int, int]]:
    from elftools.elf.elffile import ELFFile

    out = {}
    with open(elf, "rb") as f:
        for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            if s["st_info"]["type"] == "STT_FUNC" and s["st_size"]:
                out[s.name] = (s["st_value"] & ~1, s["st_size"])
    return out


def region_setup(elf: Path, run_function: str = RUN_FUNCTION) -> RegionSetup:
    """The region (the call of `run_function`) and the per-call marks inside it."""
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        raise IlwpError("arm-none-eabi-objdump not found; run scripts/install-toolchain.sh")
    funcs = _functions(elf)
    if run_function not in funcs:
        raise IlwpError(f"{elf}: no function {run_function}: not a model firmware")
    lo, size = funcs[run_function]
    text = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    calls = []  # (pc, callee)
    for line in text.splitlines():
        m = _BL.match(line)
        if m:
            calls.append((int(m.group(1), 16), m.group(2)))
    sites = [pc for pc, callee in calls if callee == run_function and not lo <= pc < lo + size]
    if len(sites) != 1:
        raise IlwpError(f"{elf}: expected one call of {run_function}, found {len(sites)}")
    inner = sorted((pc, callee) for pc, callee in calls if lo <= pc < lo + size)
    return RegionSetup(start=sites[0], stop=sites[0] + 4, marks=[pc + 4 for pc, _ in inner],
                       callees=[c for _, c in inner])


@dataclass
class LayerCycles:
    step: int  # -1: the run function's own code outside any call
    label: str
    instructions: int
    low: float
    nominal: float
    high: float
    decode_instructions: int = 0  # of those, weight decoding (per-layer mode)


@dataclass
class RunCycles:
    """One inference."""

    instructions: int
    low: float | None
    nominal: float | None
    high: float | None
    layers: list[LayerCycles] = field(default_factory=list)


def step_labels(model_c: Path | None) -> list[str]:
    """'N: OP -> shape' per step, from the generated ilwp_model.c's comments (empty if unknown)."""
    if model_c is None or not Path(model_c).is_file():
        return []
    return re.findall(r"/\* (\d+: [A-Z_0-9]+ -> [^*]*?) \*/", Path(model_c).read_text())


def analyze(prof: Profile, setup: RegionSetup, elf: Path, model: timing.TimingModel | None,
            labels: list[str] = ()) -> list[RunCycles]:
    """Cycles of every complete region (inference) in the profile, with per-layer figures."""
    insns = timing.disassemble(elf)
    runs = []
    by_region: dict[int, list] = {}
    for s in prof.segments:
        by_region.setdefault(s.region, []).append(s)
    for region in sorted(by_region):
        segs = by_region[region]
        layers: list[LayerCycles] = []
        step = 0
        pending_decode: list = []
        tot = {"instructions": 0, "low": 0.0, "nominal": 0.0, "high": 0.0}
        for s in segs:
            pcs = prof.pc[s.idx]
            n = int(s.exec.sum())
            if model is not None:
                c = timing.cycles_from_counts(model, insns, pcs, s.exec, s.taken, s.jumped_in, s.mem)
            else:
                c = {"low": float("nan"), "nominal": float("nan"), "high": float("nan")}
            tot["instructions"] += n
            for k in ("low", "nominal", "high"):
                tot[k] += c[k]
            callee = setup.callees[s.mark] if s.mark != STOP_MARK and s.mark < len(setup.callees) else None
            if callee in HELPERS:
                pending_decode.append((n, c))
                continue
            if callee is None:
                label, st = "(return from the run)", -1
            else:
                label = labels[step] if step < len(labels) else f"{step}: {callee}"
                st = step
                step += 1
            dn = sum(p[0] for p in pending_decode)
            layers.append(LayerCycles(step=st, label=label, instructions=n + dn,
                                      low=c["low"] + sum(p[1]["low"] for p in pending_decode),
                                      nominal=c["nominal"] + sum(p[1]["nominal"] for p in pending_decode),
                                      high=c["high"] + sum(p[1]["high"] for p in pending_decode),
                                      decode_instructions=dn))
            pending_decode = []
        none = model is None
        runs.append(RunCycles(instructions=tot["instructions"], low=None if none else tot["low"],
                              nominal=None if none else tot["nominal"], high=None if none else tot["high"],
                              layers=layers))
    return runs


def summarize(runs: list[RunCycles], model: timing.TimingModel | None, cpu: str, clock_hz: int) -> dict:
    """The `cycles` entry of validate's JSON: medians per inference, ms from cycles at the clock."""
    if not runs:
        raise IlwpError("the cycle profile recorded no complete inference")
    instr = float(np.median([r.instructions for r in runs]))
    if model is None:
        return {"model": None, "cpu": cpu, "low": None, "nominal": None, "high": None,
                "instructions": instr, "inferences": len(runs),
                "note": f"{cpu}: no static timing model (dual issue, branch prediction, caches); instructions only"}
    med = {k: float(np.median([getattr(r, k) for r in runs])) for k in ("low", "nominal", "high")}
    mid = int(np.argsort([r.nominal for r in runs])[len(runs) // 2])
    return {"model": model.name, "cpu": cpu, **med, "instructions": instr, "inferences": len(runs),
            "clock_hz": int(clock_hz),
            "ms": {k: med[k] / clock_hz * 1e3 for k in ("low", "nominal", "high")},
            "note": model.note,
            "layers": [asdict(l) for l in runs[mid].layers]}


class ProfiledRun:
    """A QEMU run of a model firmware under the plugin: `extra` goes to qemu-system-arm (e.g.
    open_link(..., qemu_extra=pr.extra)); after QEMU ended, `result()` is the `cycles` summary."""

    def __init__(self, elf: Path, board):
        import tempfile

        from ilwp_embedded.cycles import plugin

        self.elf = Path(elf)
        self.board = board
        self.setup = region_setup(self.elf)
        self._dir = tempfile.TemporaryDirectory(prefix="ilwp-profile-")
        self.out = Path(self._dir.name) / "profile.bin"
        self.extra = plugin.plugin_args(self.out, self.setup.start, self.setup.stop, self.setup.marks)

    def runs(self, model_c=None) -> list[RunCycles]:
        from ilwp_embedded.cycles import plugin

        return analyze(plugin.read_profile(self.out), self.setup, self.elf, timing.model_for_cpu(self.board.cpu),
                       step_labels(model_c))

    def result(self, model_c=None) -> dict:
        try:
            return summarize(self.runs(model_c), timing.model_for_cpu(self.board.cpu), self.board.cpu,
                             self.board.cpu_hz)
        finally:
            self._dir.cleanup()
