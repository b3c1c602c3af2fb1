# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Timing tables: per-PC counts from the QEMU plugin -> (low, nominal, high) cycles.

Cortex-M4 (`CORTEX_M4`), from the Cortex-M4 Technical Reference Manual (r0p1, section 3.3,
"Instruction set summary" and "Load/store timings"), for zero-wait-state memory:

* ALU, moves, shifts, bit fields, saturation, SXTB16/SXTAB16, MUL/MLA/MLS, SMULL/UMULL/SMLAL/
  UMLAL, SMLAD and the other DSP multiplies: 1 cycle.
* SDIV/UDIV: 2-12 cycles, by the operands (low 2, nominal 7, high 12).
* Single loads (LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX): 2 cycles; 1 when the previous instruction was a
  single load whose destination is not used by this address ("LDR [any] are pipelined when
  possible"); a store after a load likewise. STR with an immediate offset (or none): 1 cycle; with
  a register offset: 2 (1 after a load). LDR from the literal pool may contend with fetch (+1 high).
* LDRD/STRD, LDM/STM/PUSH/POP: 1+N (N registers; LDRD/STRD N=2); never pipelined.
* Taken branch (B, BL, BX, BLX, CBZ/CBNZ, POP/LDM with PC, LDR PC, MOV/ADD PC): 1+P, P the
  pipeline refill, 1-3 cycles (low 1, nominal 2, high 3); a branch not taken: 1. TBB/TBH: 2+1+P.
* +1 when a load/store address depends on the previous instruction's result (address generation
  interlock; nominal and high, 0 in low).
* IT: 1 cycle (0 in low: it can fold onto a preceding 16-bit instruction). A condition-failed
  instruction costs 1 cycle.
* A jump out of an instruction that is not a branch is an exception entry: 12 cycles.
* VFP: VLDR/VSTR 2, VLDM/VSTM/VPUSH/VPOP 1+N, VDIV/VSQRT 14, the rest 1.
* high also drops the load/store pipelining credit.

Not modelled: flash wait states and prefetch/ART caches (QEMU's MPS2 has zero-wait memory; on an
STM32 add the flash latency), unaligned accesses (+1/+2), bus contention, exception return.

Cortex-M7 (dual issue, branch prediction, caches, TCM): there is no honest static model here;
`model_for_cpu("cortex-m7")` returns None and reports give instructions only.

"Previous instruction" is the static predecessor; the adjustments that depend on it apply only to
the executions that arrived by falling through (the plugin counts the arrivals by a jump).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError

CONDS = ("eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")
REGNAMES = {"sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14, "pc": 15}

LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt", "ldrbt", "ldrht",
         "ldrsbt", "ldrsht"}
STORES = {"str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht"}
LDM = {"ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "pop"}
STM = {"stm", "stmia", "stmea", "stmdb", "stmfd", "push"}
BRANCHES = {"b", "bl", "blx", "bx", "cbz", "cbnz"}
NO_DEST = {"cmp", "cmn", "tst", "teq", "it", "nop", "bkpt", "svc", "wfi", "wfe", "sev", "dmb", "dsb", "isb",
           "cpsid", "cpsie", "msr", "pld", "pli", "vcmp", "vcmpe", "vmsr", "yield"}
VFP_MEM1 = {"vldr", "vstr"}
VFP_MULTI = {"vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop"}
VFP_SLOW = {"vdiv", "vsqrt"}
_ALU = set("""adc add addw adr and asr bfc bfi bic clz cmn cmp eor lsl lsr mla mls mov movt movw mul mvn neg
orn orr pkhbt pkhtb qadd qadd16 qadd8 qasx qdadd qdsub qsax qsub qsub16 qsub8 rbit rev rev16 revsh ror rrx rsb
sadd16 sadd8 sasx sbc sbfx sel shadd16 shadd8 shasx shsax shsub16 shsub8 smlabb smlabt smlatb smlatt smlad
smladx smlal smlalbb smlalbt smlaltb smlaltt smlald smlaldx smlawb smlawt smlsd smlsdx smlsld smlsldx smmla
smmlar smmls smmlsr smmul smmulr smuad smuadx smulbb smulbt smultb smultt smull smulwb smulwt smusd smusdx ssat
ssat16 ssax ssub16 ssub8 sub subw sxtab sxtab16 sxtah sxtb sxtb16 sxth uadd16 uadd8 uasx ubfx uhadd16 uhadd8
uhasx uhsax uhsub16 uhsub8 umaal umlal umull uqadd16 uqadd8 uqasx uqsax uqsub16 uqsub8 usad8 usada8 usat usat16
usax usub16 usub8 uxtab uxtab16 uxtah uxtb uxtb16 uxth mrs udf""".split())
_FLAGGED = {m + "s" for m in "adc add and asr bic eor lsl lsr mla mov mul mvn neg orn orr ror rrx rsb sbc sub "
            "smull umull smlal umlal".split()}
_KNOWN = (LOADS | STORES | LDM | STM | BRANCHES | NO_DEST | VFP_MEM1 | VFP_MULTI | VFP_SLOW | _ALU | _FLAGGED
          | {"ldrd", "strd", "tbb", "tbh", "sdiv", "udiv"})


@dataclass(frozen=True)
class Insn:
    pc: int
    size: int
    mnemonic: str  # base mnemonic: no condition, no .w/.n
    cond: bool  # carries a condition (IT block or conditional branch)
    operands: str
    kind: str  # alu, div, load, load_lit, store_imm, store_reg, ldrd, strd, ldm, stm, branch, tb, it, vmem, vmulti, vslow
    writes: frozenset = frozenset()
    addr_regs: frozenset = frozenset()
    regs_n: int = 0  # registers moved by LDM/STM/PUSH/POP/VLDM...
    writes_pc: bool = False
    data_writes: frozenset = frozenset()  # writes minus a load/store's own base writeback (SP of PUSH/POP)


def _reg(tok: str) -> int | None:
    tok = tok.strip().rstrip("!").strip("{}[] ")
    if re.fullmatch(r"r\d+", tok):
        return int(tok[1:])
    return REGNAMES.get(tok)


def _reglist(ops: str) -> list[int]:
    m = re.search(r"\{([^}]*)\}", ops)
    if not m:
        return []
    out: list[int] = []
    for part in m.group(1).split(","):
        part = part.strip()
        if "-" in part:
            a, b = (_reg(x) for x in part.split("-"))
            if a is not None and b is not None:
                out += list(range(a, b + 1))
            else:  # VFP ranges (s0-s3, d8-d15)
                lo, hi = (int(re.sub(r"\D", "", x) or 0) for x in part.split("-"))
                out += list(range(lo, hi + 1))
        elif part:
            r = _reg(part)
            out.append(r if r is not None else -1)
    return out


def _multiple_base(ops: str, stack: bool, addr: set[int], writes: set[int]) -> None:
    """The address register of LDM/STM (into addr; into writes too with `!`); PUSH/POP (stack) use SP."""
    if stack:
        addr.add(13)
        writes.add(13)
        return
    first = ops.split(",")[0]
    b = _reg(first.rstrip("!"))
    if b is not None:
        addr.add(b)
        if "!" in first:
            writes.add(b)


def _base(mn: str) -> tuple[str, bool]:
    mn = mn.lower()
    for suf in (".w", ".n"):
        if mn.endswith(suf):
            mn = mn[: -len(suf)]
    if mn in _KNOWN or mn.startswith("it") or mn.startswith("v"):
        return mn, False
    if len(mn) > 2 and mn[-2:] in CONDS and mn[:-2] in _KNOWN:
        return mn[:-2], True  # in an IT block, or a conditional branch
    return mn, False


def classify(pc: int, size: int, mnemonic: str, operands: str) -> Insn:
    base, cond = _base(mnemonic)
    if base.endswith("s") and base[:-1] in ("mov", "add", "sub", "mul", "lsl", "lsr", "asr", "and", "orr",
                                            "eor", "bic", "rsb", "adc", "sbc", "mvn", "ror", "neg", "orn"):
        base_noflags = base[:-1]
    else:
        base_noflags = base
    ops = operands.split(";")[0].split("@")[0].strip()
    first = _reg(ops.split(",")[0]) if ops else None
    mem = re.search(r"\[([^\]]*)\]", ops)
    addr: set[int] = set()
    if mem:
        for t in mem.group(1).split(","):
            r = _reg(t.split()[0]) if t.strip() else None
            if r is not None:
                addr.add(r)
    writeback = "!" in ops or bool(re.search(r"\],\s*#?-?\w", ops))
    writes: set[int] = set()
    regs_n = 0
    writes_pc = False
    if base.startswith("it") and base != "it" and set(base[2:]) <= {"t", "e"} or base == "it":
        kind = "it"
    elif base in BRANCHES:
        kind = "branch"
        if base in ("bl", "blx"):
            writes.add(14)
    elif base in ("tbb", "tbh"):
        kind = "tb"
    elif base in LOADS:
        kind = "load_lit" if 15 in addr else "load"
        if first is not None:
            writes.add(first)
            writes_pc = first == 15
    elif base in STORES:
        # STR Rt,[Rn,#imm] and STR Rt,[Rn]: 1 cycle; STR with a register offset: 2
        reg_off = bool(mem and len([t for t in mem.group(1).split(",") if _reg(t.split()[0] if t.strip() else "") is not None]) > 1)
        kind = "store_reg" if reg_off else "store_imm"
        if base.startswith("strex") and first is not None:
            writes.add(first)
    elif base == "ldrd":
        kind = "ldrd"
        regs = [_reg(t) for t in ops.split(",")[:2]]
        writes |= {r for r in regs if r is not None}
    elif base == "strd":
        kind = "strd"
    elif base in LDM:
        kind = "ldm"
        lst = _reglist(ops)
        regs_n = len(lst)
        writes |= set(lst)
        writes_pc = 15 in lst
        _multiple_base(ops, base == "pop", addr, writes)
    elif base in STM:
        kind = "stm"
        regs_n = len(_reglist(ops))
        _multiple_base(ops, base == "push", addr, writes)
    elif base in ("sdiv", "udiv"):
        kind = "div"
        if first is not None:
            writes.add(first)
    elif base in VFP_MEM1:
        kind = "vmem"
    elif base in VFP_MULTI:
        kind = "vmulti"
        regs_n = len(_reglist(ops))
        b = _reg(ops.split(",")[0].rstrip("!")) if not base.startswith("vp") else 13
        if b is not None:
            addr.add(b)
    elif base in VFP_SLOW:
        kind = "vslow"
    else:
        kind = "alu"
        if base_noflags not in NO_DEST and not base.startswith("v") and first is not None:
            writes.add(first)
            if base_noflags in ("umull", "smull", "umlal", "smlal", "smlald", "smlaldx", "smlsld", "smlsldx",
                                "umaal", "smlalbb", "smlalbt", "smlaltb", "smlaltt"):
                second = _reg(ops.split(",")[1]) if "," in ops else None
                if second is not None:
                    writes.add(second)
            writes_pc = first == 15
        if base.startswith("vmov") and "," in ops:  # vmov r0, s0 / vmov r0, r1, d0: core registers written
            for t in ops.split(",")[:2]:
                r = _reg(t)
                if r is not None:
                    writes.add(r)
    if writeback and mem:
        b = _reg(mem.group(1).split(",")[0])
        if b is not None:
            writes.add(b)
    data_writes = set(writes)
    if kind in ("load", "load_lit", "store_imm", "store_reg", "ldrd", "strd", "ldm", "stm", "vmem", "vmulti"):
        if mem and (writeback or base.startswith("strex")):
            b = _reg(mem.group(1).split(",")[0])
            if b is not None and b not in _loaded(kind, ops, base):
                data_writes.discard(b)
        if kind in ("ldm", "stm", "vmulti") and (base in ("push", "pop", "vpush", "vpop") or "!" in ops.split(",")[0]):
            b = 13 if base in ("push", "pop", "vpush", "vpop") else _reg(ops.split(",")[0].rstrip("!"))
            if b is not None and b not in _reglist(ops):
                data_writes.discard(b)
    return Insn(pc=pc, size=size, mnemonic=base, cond=cond, operands=ops, kind=kind, writes=frozenset(writes),
                addr_regs=frozenset(addr), regs_n=regs_n, writes_pc=writes_pc, data_writes=frozenset(data_writes))


def _loaded(kind: str, ops: str, base: str) -> set[int]:
    """Registers a load writes with data (not its base writeback)."""
    if kind in ("load", "load_lit"):
        r = _reg(ops.split(",")[0])
        return {r} if r is not None else set()
    if kind == "ldrd":
        return {r for r in (_reg(t) for t in ops.split(",")[:2]) if r is not None}
    return set()


_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{4}(?: [0-9a-f]{4})?)\s+\t(\S+)\s*(.*)$")


def disassemble(elf: Path) -> dict[int, Insn]:
    """Every instruction of the ELF's code, by address (arm-none-eabi-objdump -d)."""
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        raise IlwpError("arm-none-eabi-objdump not found; run scripts/install-toolchain.sh")
    r = subprocess.run([objdump, "-d", "--no-addresses" if False else "-d", str(elf)], capture_output=True,
                       text=True, check=True)
    out: dict[int, Insn] = {}
    for line in r.stdout.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        mn = m.group(3)
        if mn.startswith("."):  # .word / .short data
            continue
        pc = int(m.group(1), 16)
        size = 4 if " " in m.group(2) else 2
        out[pc] = classify(pc, size, mn, m.group(4))
    return out


@dataclass(frozen=True)
class Variant:
    p: int  # branch refill
    div: int
    agu: int  # address-dependency penalty
    pipeline: bool  # load/store pipelining credit
    it: int
    lit: int  # literal-pool load extra


@dataclass(frozen=True)
class TimingModel:
    name: str
    cpu: str
    variants: dict = field(default_factory=dict)  # "low"/"nominal"/"high" -> Variant
    note: str = ""


CORTEX_M4 = TimingModel(
    name="cortex-m4-trm-v1", cpu="cortex-m4",
    variants={"low": Variant(p=1, div=2, agu=0, pipeline=True, it=0, lit=0),
              "nominal": Variant(p=2, div=7, agu=1, pipeline=True, it=1, lit=0),
              "high": Variant(p=3, div=12, agu=1, pipeline=False, it=1, lit=1)},
    note="Cortex-M4 TRM timings, zero-wait-state memory; flash wait states and caches not modelled")

EXCEPTION_ENTRY = 12


def model_for_cpu(cpu: str) -> TimingModel | None:
    """The timing table for a core, or None where no honest static model exists (Cortex-M7)."""
    cpu = cpu.lower()
    if cpu in ("cortex-m4", "cortex-m4f"):
        return CORTEX_M4
    return None


@dataclass
class Costs:
    """Per-instruction-index cost terms, so that cycles = exec*base + taken*P + ... per variant."""

    model: TimingModel
    insns: list  # Insn or None per index


def _static_terms(ins: Insn | None, prev: Insn | None, v: Variant) -> tuple[float, float, float, float]:
    """(cycles per execution, per taken jump, per fall-through arrival, per skipped execution delta)."""
    if ins is None:
        return 1.0, v.p, 0.0, 0.0
    k = ins.kind
    per_exec = 1.0
    per_taken = 0.0
    per_fall = 0.0
    if k == "it":
        per_exec = v.it
    elif k == "div":
        per_exec = v.div
    elif k in ("load", "load_lit", "store_reg", "store_imm"):
        per_exec = 1.0 if k == "store_imm" else 2.0
        if k == "load_lit":
            per_exec += v.lit
        if k == "store_imm" and not v.pipeline:
            per_exec = 2.0
        if ins.writes_pc:
            per_exec += v.p
    elif k in ("ldrd", "strd"):
        per_exec = 3.0
    elif k in ("ldm", "stm", "vmulti"):
        per_exec = 1.0 + max(ins.regs_n, 1)
        if ins.writes_pc:
            per_exec += v.p
    elif k == "vmem":
        per_exec = 2.0
    elif k == "vslow":
        per_exec = 14.0
    elif k == "tb":
        per_exec = 3.0 + v.p
    elif k == "branch":
        per_taken = float(v.p)
    elif k == "alu" and ins.writes_pc:
        per_exec += v.p
    if k in ("load", "load_lit", "store_reg", "store_imm", "ldrd", "strd", "ldm", "stm", "vmem", "vmulti"):
        if prev is not None:
            # the address generation interlock: a register the previous instruction computed (a load/store's
            # own base writeback is forwarded: post-increment loops and PUSH/POP do not stall)
            dep = bool(prev.data_writes & ins.addr_regs)
            if dep:
                per_fall += v.agu
            elif (v.pipeline and prev.kind in ("load", "load_lit") and not prev.writes_pc
                  and k in ("load", "load_lit", "store_reg")):
                per_fall -= 1.0
    if k != "branch" and not (k in ("tb",) or ins.writes_pc):
        per_taken = float(EXCEPTION_ENTRY)  # a jump out of a non-branch: an exception entry
    return per_exec, per_taken, per_fall, 0.0


def cycles_from_counts(model: TimingModel, insns: dict[int, Insn], pcs: np.ndarray, exec_n: np.ndarray,
                       taken: np.ndarray, jumped_in: np.ndarray, mem: np.ndarray) -> dict[str, float]:
    """(low, nominal, high) cycles for per-index counts (arrays aligned with `pcs`)."""
    out = {}
    for name, v in model.variants.items():
        w_exec, w_taken, w_fall = _weights(model, name, insns, pcs)
        fall = np.maximum(exec_n - jumped_in, 0)
        performed = _performed(insns, pcs, exec_n, mem)
        skipped = exec_n - performed
        total = (performed * w_exec).sum() + skipped.sum() + (taken * w_taken).sum() + (np.minimum(fall, performed) * w_fall).sum()
        out[name] = float(total)
    return out


_WCACHE: dict = {}


def _weights(model: TimingModel, variant: str, insns: dict[int, Insn], pcs: np.ndarray):
    key = (model.name, variant, id(insns), pcs.tobytes())
    hit = _WCACHE.get(key)
    if hit is not None:
        return hit
    v = model.variants[variant]
    we = np.ones(len(pcs))
    wt = np.zeros(len(pcs))
    wf = np.zeros(len(pcs))
    for i, pc in enumerate(pcs):
        ins = insns.get(int(pc))
        prev = _prev(insns, int(pc))
        we[i], wt[i], wf[i], _ = _static_terms(ins, prev, v)
    _WCACHE[key] = (we, wt, wf)
    return we, wt, wf


def _prev(insns: dict[int, Insn], pc: int) -> Insn | None:
    for d in (2, 4):
        p = insns.get(pc - d)
        if p is not None and p.pc + p.size == pc:
            if p.kind == "branch" and not p.cond and p.mnemonic not in ("cbz", "cbnz"):
                return None  # an unconditional branch never falls through
            return p
    return None


def _performed(insns: dict[int, Insn], pcs: np.ndarray, exec_n: np.ndarray, mem: np.ndarray) -> np.ndarray:
    """Executions that did their work: a condition-failed (IT block) load/store makes no access."""
    perf = exec_n.astype(np.float64).copy()
    for i, pc in enumerate(pcs):
        ins = insns.get(int(pc))
        if ins is not None and ins.cond and ins.kind in ("load", "load_lit", "store_reg", "store_imm"):
            perf[i] = min(float(exec_n[i]), float(mem[i]))
    return perf
