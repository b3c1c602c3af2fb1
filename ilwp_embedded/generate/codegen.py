# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Render a graph into C: straight-line schedule, static memory plan, constants, weights.

The generator computes everything (pointers, offsets, parameter structs, array contents); the
Jinja2 templates in templates/ only lay it out. Weights come one of three ways:
  raw:   int8 arrays in flash (the uncompressed baseline);
  once:  the compressed blob in flash, decoded into RAM at boot;
  layer: the blob in flash, each tensor decoded into a planned weight buffer just before its layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import jinja2
import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.backends import check_backend, cmsis_nn_scratch_bytes
from ilwp_embedded.generate.cmsis_nn import OLDEST_API, CmsisNNApi
from ilwp_embedded.generate.plan import MemoryPlan, place, plan_memory
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.ingest.tflite_io import graph_hash
from ilwp_embedded.ops.cstruct import c_struct, c_struct_name
from ilwp_embedded.ops.registry import CallSite, lookup
from ilwp_embedded.resources import templates_dir


# The version of the API in ilwp_model.h (major, minor): major when a declaration changes
# incompatibly, minor when one is added. docs/integration.md documents this version.
C_API_VERSION = (1, 0)
MAX_RANK = 6  # ilwp_model_tensor_info.dims: TFLite's largest tensor rank

CTYPES = {"int8": "int8_t", "int32": "int32_t", "int16": "int16_t", "uint8": "uint8_t", "int64": "int64_t"}


@dataclass(frozen=True)
class WeightRecord:
    """One coded weight tensor of the blob, in decode order."""

    record: int
    tensor: int  # tensor index in the graph
    n_elems: int
    ref_record: int | None  # inter modes: the record whose decoded weights it needs


@dataclass(frozen=True)
class Weights:
    mode: str  # "raw" | "once" | "layer"
    blob: bytes = b""
    records: tuple[WeightRecord, ...] = ()
    table_log2: int = 0  # the blob's largest table precision P: the decoder's slot table has 2^P entries
    pairs: bool = False  # some record codes pair symbols (format v5)

    @property
    def slot_bytes(self) -> int:
        """The decoder's slot table: 2^P uint32_t."""
        return 0 if self.mode == "raw" else 4 << self.table_log2


# sizeof(ilwp_work) beside its slot table: pointer, slot_log2, uint16_t freq[256]
WORK_STRUCT_BYTES = 8 + 2 * 256


@dataclass
class CArray:
    name: str
    ctype: str
    values: list[str]
    const: bool = True
    section: str = ""

    @property
    def count(self) -> int:
        return len(self.values)


@dataclass
class Step:
    index: int
    op: str
    comment: str
    decode: list[dict] = field(default_factory=list)  # per-layer decode calls before the kernel
    call: str = ""


@dataclass
class Generated:
    files: dict[str, str]  # file name -> C text
    arena_bytes: int
    weight_ram_bytes: int
    scratch_bytes: int
    weights_flash_bytes: int
    const_flash_bytes: int  # model constants other than the weights
    model_hash: str
    decode_mode: str
    input_bytes: int
    output_bytes: int
    kernels: str = "portable"  # the kernel backend the C was generated for
    decoder_ram_bytes: int = 0  # the decoder's tables beyond the arena (once: they borrow the arena at boot)
    table_log2: int = 0  # the decoder's slot table has 2^table_log2 entries (0: no decoder)
    # cmsis-nn: the CMSIS-NN version generated against, the kernel set of each step ("cmsis-nn" or
    # "portable": what that version lacks or computes wrongly), and the version-dependent CMSIS-NN
    # features the C relies on (backends.check_generated_for compares them with the copy built against).
    cmsis_nn_version: str = ""
    layer_kernels: tuple[str, ...] = ()
    cmsis_features: frozenset[str] = frozenset()
    step_ops: tuple[str, ...] = ()  # the operator of each step
    ram_bytes: int = 0  # every static buffer of the model (ILWP_MODEL_RAM_BYTES)
    weights_in_arena: bool = False  # layer mode: decoded weights (and decoder tables) in idle arena bytes
    decoder_pairs: bool = False  # the blob has pair-symbol records: the decoder is built with their code


def _c_float(v: float) -> str:
    """A C float literal (without its `f`) that reads back as the same float32."""
    text = str(np.float32(v))  # the shortest text that reads back as this float32
    return text if any(c in text for c in ".e") else text + ".0"


def _io_info(t) -> dict:
    """The model input's or output's ilwp_model_tensor_info: shape, scale and zero point."""
    if len(t.shape) > MAX_RANK:
        raise IlwpError(f"tensor {t.name!r} has rank {len(t.shape)}; the C API takes at most {MAX_RANK}")
    q = t.quant
    scale = float(q.scale[0]) if q is not None and len(q.scale) else 0.0
    zp = int(q.zero_point[0]) if q is not None and len(q.zero_point) else 0
    dims = [int(d) for d in t.shape]
    return {"bytes": int(np.prod(t.shape)), "rank": len(dims), "dims": dims,
            "dims_padded": dims + [0] * (MAX_RANK - len(dims)), "scale": _c_float(scale), "zero_point": zp}


def _fmt_values(a: np.ndarray) -> list[str]:
    return [str(int(v)) for v in np.asarray(a).reshape(-1)]


def _cmsis_can(p, op: str, api: CmsisNNApi) -> tuple[bool, str | None]:
    """(whether CMSIS-NN `api` computes this layer right, the version-dependent feature it then needs)."""
    if op == "CONV_2D":
        if p.filter_c != p.input_c:  # grouped: arm_convolve_s8 of V.12.5.1 ignores groups (wrong output)
            return api.grouped_conv, "grouped_conv"
        return True, None
    if op == "FULLY_CONNECTED":
        if p.filter_offset != 0:  # V.12.5.1's arm_fully_connected_s8 ignores the filter offset; TFLM has none
            return False, None
        if p.per_channel:  # arm_fully_connected_per_channel_s8: v7.0.0 on
            return api.fc_per_channel, "fc_per_channel"
        return True, None
    if op in ("ADD", "MUL"):
        return not p.broadcast, None  # arm_elementwise_add_s8 / _mul_s8 do not broadcast
    if op == "SOFTMAX":
        return p.depth <= 256, None  # as TFLM's CMSIS-NN softmax (arm_softmax_s8's table range)
    return op in ("DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"), None


def generate(graph: Graph, weights: Weights | None = None, kernels: str = "portable",
             cmsis_nn: CmsisNNApi | None = None) -> Generated:
    """kernels: "portable" (firmware/kernels) or "cmsis-nn" (firmware/kernels_cmsis on CMSIS-NN; see
    generate/backends.py). cmsis-nn: each layer calls ilwp_cmsis_* where the CMSIS-NN API `cmsis_nn`
    (cmsis_nn.cmsis_nn_api(path)) computes it right, the portable kernel otherwise; without `cmsis_nn`
    the oldest supported API is assumed (right on every supported version). The scratch buffer is sized
    for the kernels called."""
    weights = weights or Weights("raw")
    cmsis = check_backend(kernels) == "cmsis-nn"
    api = (cmsis_nn or OLDEST_API) if cmsis else None
    layer_kernels: list[str] = []
    features: set[str] = set()
    plan = plan_memory(graph)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    arrays: list[CArray] = []
    structs: list[dict] = []
    coded = {r.tensor: r for r in weights.records} if weights.mode != "raw" else {}
    weight_ptr: dict[int, str] = {}
    weight_ram = 0
    rec_offsets: dict[int, int] = {}
    if weights.mode == "once":
        off = 0
        for r in weights.records:
            rec_offsets[r.record] = off
            off += r.n_elems
        weight_ram = off
        for r in weights.records:
            weight_ptr[r.tensor] = f"(ilwp_weights + {rec_offsets[r.record]})"
    slot_at: dict[int, str] = {}  # layer mode: step -> where the decoder's slot table lies while it decodes
    weights_in_arena = False
    if weights.mode == "layer":
        plan, rec_offsets, slot_at, weight_ram = _plan_layer_weights(graph, weights, plan)
        weights_in_arena = weight_ram == 0
        base = "ilwp_arena" if weights_in_arena else "ilwp_weights"
        for r in weights.records:
            weight_ptr[r.tensor] = f"({base} + {rec_offsets[r.record]})"

    const_names: dict[int, str] = {}

    def const(i: int) -> str:
        if i in weight_ptr:
            return weight_ptr[i]
        if i not in const_names:
            t = graph.tensors[i]
            name = f"c{i}"
            arrays.append(CArray(name, CTYPES[t.dtype], _fmt_values(t.data)))
            const_names[i] = name
        return const_names[i]

    def act(i: int) -> str:
        return f"(ilwp_arena + {plan.offset(i)})"

    def ptr(i: int) -> str:
        if i < 0:
            return "NULL"
        return const(i) if graph.tensors[i].is_constant else act(i)

    steps: list[Step] = []
    scratch = 0
    decoded_by_step: dict[int, list[WeightRecord]] = {}
    if weights.mode == "layer":
        first_use = _first_use(graph, weights.records)
        for r in weights.records:
            # A tensor is decoded right before the first layer that needs it, as a weight or as a reference.
            decoded_by_step.setdefault(first_use[r.record], []).append(r)

    for k, op in enumerate(graph.operators):
        kernel = lookup(op)
        p = kernel.params(graph, op)
        sname = f"p{k}"
        out = ptr(op.outputs[0])
        st = Step(k, op.op, f"{op.op} -> {'x'.join(map(str, graph.tensors[op.outputs[0]].shape))}")
        for r in decoded_by_step.get(k, []):
            st.decode.append({"record": r.record, "tensor": r.tensor, "n": r.n_elems,
                              "dst": weight_ptr[r.tensor], "slot": slot_at.get(k, ""),
                              "ref": weight_ptr[_tensor_of(weights.records, r.ref_record)]
                              if r.ref_record is not None else "NULL",
                              "ref_n": _n_of(weights.records, r.ref_record)})
        on_cmsis = False
        if cmsis:
            on_cmsis, feature = _cmsis_can(p, op.op, api)
            if on_cmsis:
                features.update([feature] if feature else [])
            layer_kernels.append("cmsis-nn" if on_cmsis else "portable")
        scratch = max(scratch, cmsis_nn_scratch_bytes(p) if on_cmsis else kernel.scratch_bytes(p))
        if c_struct_name(p) is not None:
            cs = c_struct(p, sname)
            arrays.extend(CArray(name, "int32_t", [str(v) for v in vals]) for name, vals in cs.arrays)
            structs.append({"ctype": cs.ctype, "name": sname, "init": list(cs.init)})
        # Constants are printed in the order first named: the bias before the other operands.
        operands = kernel.call_inputs(op)
        names = {i: ptr(i) for i in operands[2:3]}
        names.update({i: ptr(i) for i in operands if i not in names})
        call = kernel.emit(p, CallSite(sname, tuple(names[i] for i in operands), out, cmsis=on_cmsis))
        arrays.extend(CArray(name, "int32_t", [str(v) for v in vals]) for name, vals in call.arrays)
        st.call = call.text
        steps.append(st)

    # Only conv and the larger ADDs (and every CMSIS-NN layer) use the scratch buffer; a model
    # without them (e.g. dense only) gets none: an unused static would fail -Werror.
    if not cmsis and not any("ilwp_scratch" in st.call for st in steps):
        scratch = 0
    elif scratch < 4:
        scratch = 4
    inp = graph.tensors[graph.inputs[0]]
    outp = graph.tensors[graph.outputs[0]]
    model_hash = graph_hash(graph)
    # The decoder's slot table: decode-once runs before any layer, so it overlays the arena; per-layer
    # decoding borrows the arena bytes idle at each decoding step when the weights share the arena,
    # else it gets its own RAM.
    slots = weights.slot_bytes
    decoder_ram = 0 if weights.mode == "raw" else WORK_STRUCT_BYTES + (
        max(0, slots - plan.arena_bytes) if weights.mode == "once" else 0 if weights_in_arena else slots)
    elem = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8}
    raw_weights = {f"c{t.index}" for _, t in graph.weight_tensors()} if weights.mode == "raw" else set()
    # Model constants beside the weights (biases, multipliers, shifts...); weights are counted apart.
    const_flash = sum(a.count * elem[a.ctype] for a in arrays if a.name not in raw_weights)
    wflash = len(weights.blob) if weights.mode != "raw" else sum(
        a.count * elem[a.ctype] for a in arrays if a.name in raw_weights)
    scratch_alloc = (scratch + 1) // 2 * 2  # int16_t ilwp_scratch[]
    # every static buffer of ilwp_model.c (the template): arena, scratch, decoded weights, decoder
    # tables and the 4-byte decode-tick counter
    ram_total = plan.arena_bytes + scratch_alloc + weight_ram + decoder_ram + 4
    ctx = {
        "api_version": C_API_VERSION, "max_rank": MAX_RANK,
        "io_in": _io_info(inp), "io_out": _io_info(outp),
        "scratch_alloc": scratch_alloc, "decoder_ram": decoder_ram, "ram_total": ram_total,
        "weights_flash": wflash, "const_flash": const_flash,
        "arrays": arrays, "structs": structs, "steps": steps, "plan": plan,
        "arena_bytes": plan.arena_bytes, "scratch_bytes": scratch,
        "input_offset": plan.offset(graph.inputs[0]), "output_offset": plan.offset(graph.outputs[0]),
        "input_bytes": int(np.prod(inp.shape)), "output_bytes": int(np.prod(outp.shape)),
        "mode": weights.mode, "blob": list(weights.blob), "weight_ram": weight_ram,
        "records": weights.records, "rec_offsets": rec_offsets, "model_hash": model_hash,
        "n_ops": len(graph.operators), "kernels": kernels, "cmsis_nn_version": api.version if cmsis else "",
        "n_portable": layer_kernels.count("portable"),
        "arena_alloc": max(plan.arena_bytes, slots),
        "table_log2": weights.table_log2, "weights_in_arena": weights_in_arena,
    }
    files = {"ilwp_model.h": env.get_template("ilwp_model.h.j2").render(ctx),
             "ilwp_model.c": env.get_template("ilwp_model.c.j2").render(ctx)}
    return Generated(files, plan.arena_bytes, weight_ram, scratch, wflash, const_flash, model_hash,
                     weights.mode, ctx["input_bytes"], ctx["output_bytes"], kernels, decoder_ram,
                     weights.table_log2 if weights.mode != "raw" else 0,
                     api.version if cmsis else "", tuple(layer_kernels), frozenset(features),
                     tuple(op.op for op in graph.operators), ram_total, weights_in_arena,
                     weights.pairs and weights.mode != "raw")


def _tensor_of(records, rec) -> int:
    return next(r.tensor for r in records if r.record == rec)


def _n_of(records, rec) -> int:
    if rec is None:
        return 0
    return next(r.n_elems for r in records if r.record == rec)


def _weight_steps(graph: Graph) -> dict[int, int]:
    """Weight tensor index -> the step (operator) that reads it."""
    return {t.index: op.index for op, t in graph.weight_tensors()}


def _first_use(graph: Graph, records) -> dict[int, int]:
    """Record -> the step before which it is decoded: the step of its own layer."""
    steps = _weight_steps(graph)
    return {r.record: steps[r.tensor] for r in records}


def _plan_layer_weights(graph: Graph, weights: Weights, plan: MemoryPlan
                        ) -> tuple[MemoryPlan, dict[int, int], dict[int, str], int]:
    """Weight buffers for per-layer decoding: each lives from its layer's step to the last step that
    reads it, as weights or as another record's prediction reference. They go where the arena is idle
    at those steps (the large late layers of a CNN meet small activations), with the decoder's slot
    table beside them at each decoding step, unless a buffer of their own costs less RAM.
    Returns (memory plan, record -> offset, step -> slot table expression, separate weight RAM)."""
    records = weights.records
    first = _first_use(graph, records)
    last = dict(first)
    for r in records:
        if r.ref_record is not None:
            last[r.ref_record] = max(last[r.ref_record], first[r.record])
    lives = {r.record: (r.n_elems, first[r.record], last[r.record]) for r in records}
    buffers, total = place(lives)
    steps = sorted(set(first.values()))
    slot_key = {k: len(records) + n for n, k in enumerate(steps)}  # after the record keys
    shared = plan_memory(graph, {**lives, **{slot_key[k]: (weights.slot_bytes, k, k) for k in steps}})
    if shared.arena_bytes > plan.arena_bytes + total + weights.slot_bytes:
        return plan, {k: b.offset for k, b in buffers.items()}, {}, total
    off = {r.record: shared.buffers[-1 - r.record].offset for r in records}
    slot = {k: f"(uint32_t *)(void *)(ilwp_arena + {shared.buffers[-1 - slot_key[k]].offset})" for k in steps}
    return shared, off, slot, 0


def write_sources(gen: Generated, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in gen.files.items():
        p = out_dir / name
        p.write_text(text)
        paths.append(p)
    return paths
