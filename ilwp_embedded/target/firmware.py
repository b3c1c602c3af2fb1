# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Build the firmware for one model on one board: the decode-mode plan (generate/decode_plan.py)
for the board's memories, the generated C, and the runtime, kernels and decoder, compiled."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from typing import Mapping, Sequence

from ilwp_embedded.target.boards import Board, resolve_board
from ilwp_embedded.resources import firmware_dir
from ilwp_embedded.target.pio import BuildResult, build_firmware
from ilwp_embedded.compress.streams import Container
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.backends import check_generated_for, cmsis_nn_api, kernel_sources
from ilwp_embedded.generate.codegen import Generated, write_sources
from ilwp_embedded.generate.decode_plan import DEFAULT_GOAL, MemoryBudget, WeightPlan, plan_weights_explained
from ilwp_embedded.ingest.graph import Graph

@dataclass(frozen=True)
class FirmwareBuild:
    board: str
    elf: str
    project_dir: str  # the PlatformIO project (upload runs there)
    flash_bytes: int
    ram_bytes: int
    flash_size: int
    ram_size: int
    weights_coded_bytes: int  # bytes of weights in flash: the blob, or the raw int8 arrays
    weights_int8_bytes: int
    model_const_bytes: int  # biases, multipliers, shifts and other per-model constants in flash
    decode_mode: str
    arena_bytes: int
    weight_ram_bytes: int
    scratch_bytes: int
    model_hash: str
    kernels: str
    decode_reason: str = ""  # why the planner chose decode_mode
    kernels_note: str = ""  # cmsis-nn: the CMSIS-NN version and the steps left on the portable kernels
    optimize: str = DEFAULT_GOAL  # the planner's goal: flash, ram or speed
    modes: tuple[dict, ...] = ()  # what each weight mode costs (decode_plan.ModeCost.to_dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def budget(board: Board) -> MemoryBudget:
    """The board's memories, as the decode-mode planner sees them."""
    return MemoryBudget(board.id, ram=board.ram.size, flash=board.flash.size)


def runtime_sources(kernels: str = "portable", cmsis_nn_path=None) -> tuple[list[Path], list[Path]]:
    """The firmware's own C: main loop + protocol, the kernels of the chosen backend, weight decoder."""
    fw = firmware_dir()
    ksrcs, kincs = kernel_sources(kernels, cmsis_nn_path)
    # the decoder always: the protocol's CRC-32 is its ilwp_crc32_update (a raw-weights firmware keeps
    # only that function of it: --gc-sections)
    srcs = sorted((fw / "runtime").glob("*.c")) + ksrcs + [fw / "decoder" / "ilwp_decode.c"]
    incs = [fw / "runtime", *kincs, fw / "decoder"]
    return srcs, incs


def plan_model(board: Board, graph: Graph, coded: Container | None, decode_mode: str = "auto",
               kernels: str = "portable", cmsis_nn_path=None, optimize: str = DEFAULT_GOAL) -> WeightPlan:
    """The generated model for `board`'s memories: the decode-mode plan (generate/decode_plan.py; for
    "auto", the goal `optimize`: flash, ram or speed) and its C. `coded` None or decode_mode "raw": raw
    int8 weights."""
    runtime_sources(kernels, cmsis_nn_path)  # first: a bad CMSIS-NN path fails before any work
    api = cmsis_nn_api(cmsis_nn_path) if kernels == "cmsis-nn" else None
    return plan_weights_explained(budget(board), graph, None if decode_mode == "raw" else coded, decode_mode,
                                  kernels, api, optimize)


def build_model_firmware(board: Board, graph: Graph, coded: Container | None, out_dir: Path,
                         decode_mode: str = "auto", defines: dict | None = None, kernels: str = "portable",
                         cmsis_nn_path=None, optimize: str = DEFAULT_GOAL) -> FirmwareBuild:
    """Generate and compile the firmware. `coded` None: raw int8 weights (the uncompressed baseline).
    kernels: "portable" or "cmsis-nn" (CMSIS-NN from `cmsis_nn_path` or $ILWP_CMSIS_NN). optimize: the
    planner's goal for decode_mode "auto" (flash, ram or speed: generate/decode_plan.py).

    `graph` must be the model the container decodes to (for lossy coding: the reconstructed one).
    """
    weights_int8 = sum(t.nbytes for _, t in graph.weight_tensors())
    plan = plan_model(board, graph, coded, decode_mode, kernels, cmsis_nn_path, optimize)
    api = cmsis_nn_api(cmsis_nn_path) if kernels == "cmsis-nn" else None
    gen, mode = plan.gen, plan.gen.decode_mode
    res = build_inference_firmware(board, gen, Path(out_dir), defines, kernels=kernels,
                                   cmsis_nn_path=cmsis_nn_path)
    return FirmwareBuild(
        board=board.id, elf=str(res.elf), project_dir=str(res.project_dir), flash_bytes=res.flash_bytes, ram_bytes=res.ram_bytes,
        flash_size=board.flash.size, ram_size=board.ram.size,
        weights_coded_bytes=gen.weights_flash_bytes, weights_int8_bytes=weights_int8,
        model_const_bytes=gen.const_flash_bytes, decode_mode=mode,
        arena_bytes=gen.arena_bytes, weight_ram_bytes=gen.weight_ram_bytes, scratch_bytes=gen.scratch_bytes,
        model_hash=gen.model_hash, kernels=kernels, decode_reason=plan.reason,
        kernels_note=_kernels_note(gen, api), optimize=optimize, modes=tuple(c.to_dict() for c in plan.costs))


def _kernels_note(gen: Generated, api) -> str:
    if api is None:
        return ""
    ops = [s for s, k in zip(gen.step_ops, gen.layer_kernels) if k == "portable"]
    return (f"CMSIS-NN {api.version} ({api.root}); {len(ops)} of {len(gen.layer_kernels)} steps on the portable kernels"
            + (f": {', '.join(sorted(set(ops)))} (no CMSIS-NN kernel, or none right in {api.version}; "
               "docs/kernels.md)" if ops else ""))


def build_inference_firmware(board: Board | str, gen: Generated, out_dir: Path,
                             defines: Mapping[str, object | None] | None = None, *,
                             test_commands: bool = False, kernels: str = "portable", cmsis_nn_path=None,
                             extra_sources: Sequence[Path] = (), extra_include_dirs: Sequence[Path] = (),
                             core_dir: Path | None = None, timeout_s: float = 600.0) -> BuildResult:
    """The one place a model firmware is assembled: generated model + runtime (protocol, main) +
    kernels and the weight decoder (its CRC-32 always; its decoding when the weights are coded), built
    with PlatformIO.

    defines: e.g. {"ILWP_FORCE_INIT_STATUS": -3}; test_commands adds the protocol's TEST message.
    """
    if not isinstance(board, Board):
        board = resolve_board(board)
    out_dir = Path(out_dir).resolve()
    gen_dir = out_dir / "generated"
    check_generated_for(gen, cmsis_nn_path)  # C generated for the CMSIS-NN version it is built with
    write_sources(gen, gen_dir)
    srcs, incs = runtime_sources(kernels, cmsis_nn_path)
    d = {"ILWP_HAVE_TICKS": 1, **dict(defines or {})}
    if not gen.decoder_pairs:
        d.setdefault("ILWP_PAIRS", 0)  # no pair-symbol records: leave their set-up and loop out of flash
    if test_commands:
        d["ILWP_PROTO_TEST_COMMANDS"] = 1
    return build_firmware(board, [*srcs, gen_dir / "ilwp_model.c", *extra_sources],
                          [*incs, gen_dir, *extra_include_dirs], out_dir / "pio", d,
                          core_dir=core_dir, timeout_s=timeout_s)
