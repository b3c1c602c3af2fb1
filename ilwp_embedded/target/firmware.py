"""Build the firmware for one model on one board: compress, generate, plan the decode mode, compile.

The decode-mode planner: decode every weight once at boot when the decoded weights fit in the RAM
left after the arena, scratch, stack and runtime; otherwise decode each layer just before it runs;
where even one layer's weights do not fit beside the arena, keep them raw in flash. Coded weights
must also pay for their decoder: when a coded mode would not make the firmware smaller than raw int8
weights (by the flash estimate below), raw int8 is picked (also faster and lighter on RAM).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from typing import Mapping, Sequence

from ilwp_embedded.target.boards import Board, resolve_board
from ilwp_embedded.target.paths import firmware_dir
from ilwp_embedded.target.pio import BuildResult, build_firmware
from ilwp_embedded.compress.streams import Container
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.backends import kernel_sources
from ilwp_embedded.generate.codegen import Generated, Weights, generate, write_sources
from ilwp_embedded.generate.weights import coded_weights
from ilwp_embedded.ingest.graph import Graph

# RAM the runtime needs beside the model's planned buffers: the 8 KB stack, protocol buffers
# (~1.1 KB), board state, with margin. The linker checks the real figure.
RUNTIME_RAM_RESERVE = 12 * 1024
DECODE_MODES = ("auto", "once", "layer", "raw")

# Flash a coded mode costs beyond its blob: the decoder and the decode calls of the generated model,
# (fixed, per weight record) bytes. Measured on qemu-m4 builds (arm-none-eabi-gcc 12.2 -O2, KWS and
# ResNet-8: once 2492/2480 B, layer 2896/3004 B); tests/test_build_plan.py checks it against real builds.
CODED_FLASH_OVERHEAD = {"once": (2420, 8), "layer": (1924, 108)}
# A coded mode must save at least this much flash over raw int8 (the estimate is good to ~50 B, and
# raw weights cost no decoding time and no decoder RAM).
CODED_MIN_SAVING = 256


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

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _fits(board: Board, gen: Generated) -> str | None:
    """Why `gen` cannot fit `board` (None when it fits), from the generator's exact buffer sizes."""
    need_ram = (gen.arena_bytes + gen.scratch_bytes + gen.weight_ram_bytes + gen.decoder_ram_bytes
                + RUNTIME_RAM_RESERVE)
    if need_ram > board.ram.size:
        return (f"about {need_ram} bytes of RAM (arena {gen.arena_bytes}, decoded weights "
                f"{gen.weight_ram_bytes}, decoder tables {gen.decoder_ram_bytes}, runtime {RUNTIME_RAM_RESERVE}), "
                f"the board has {board.ram.size}")
    need_flash = gen.const_flash_bytes + gen.weights_flash_bytes
    if need_flash > board.flash.size:
        return f"{need_flash} bytes of flash for constants and weights, the board has {board.flash.size}"
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


def plan_weights_explained(board: Board, graph: Graph, coded: Container | None, requested: str,
                           kernels: str = "portable") -> WeightPlan:
    """The generated model for the first weight mode that fits, and why. "auto" tries decode-once
    (fastest coded mode), then per-layer decoding (least RAM for coded weights), then raw int8 (no
    decoder buffer at all), and takes raw int8 over a coded mode that fits when raw also fits and the
    coded weights would not save at least CODED_MIN_SAVING bytes of flash. Refuses with the figures
    when no mode fits."""
    if requested not in DECODE_MODES:
        raise IlwpError(f"unknown decode mode {requested!r}: choose one of {', '.join(DECODE_MODES)}")
    order = {"auto": ("once", "layer", "raw"), "once": ("once",), "layer": ("layer",), "raw": ("raw",)}[requested]
    misfit: dict[str, str] = {}  # mode -> why it does not fit
    for mode in order:
        if mode != "raw" and coded is None:
            continue
        gen = generate(graph, Weights("raw") if mode == "raw" else coded_weights(coded, mode), kernels)
        why = _fits(board, gen)
        if why is not None:
            misfit[mode] = why
            continue
        if requested != "auto":
            return WeightPlan(gen, "requested")
        if mode == "raw":
            return WeightPlan(gen, "no compressed weights given" if coded is None else
                              "no coded mode fits (" + "; ".join(f"{m}: {w}" for m, w in misfit.items()) + ")")
        raw = generate(graph, Weights("raw"), kernels)
        coded_flash, raw_bytes = coded_flash_estimate(gen, len(coded.records)), raw_flash(graph)
        if _fits(board, raw) is None and raw_bytes - coded_flash < CODED_MIN_SAVING:
            return WeightPlan(raw, f"compressed weights would not make the firmware smaller ({mode}: blob "
                                   f"{gen.weights_flash_bytes} B + decoder and decode calls "
                                   f"~{coded_flash - _align16(gen.weights_flash_bytes)} B = ~{coded_flash} B of flash; "
                                   f"raw int8 weights {raw_bytes} B)")
        where = ("the decoded weights fit in RAM beside the arena" if mode == "once"
                 else f"decoded all at boot they would not fit in RAM (once: {misfit['once']})")
        return WeightPlan(gen, f"{where}; saves ~{raw_bytes - coded_flash} B of flash over raw int8 weights")
    raise IlwpError(f"the model does not fit {board.id}: " + "; ".join(f"{m}: {w}" for m, w in misfit.items()))


def plan_weights(board: Board, graph: Graph, coded: Container | None, requested: str,
                 kernels: str = "portable") -> Generated:
    """plan_weights_explained() without the reason."""
    return plan_weights_explained(board, graph, coded, requested, kernels).gen


def runtime_sources(kernels: str = "portable", cmsis_nn_path=None) -> tuple[list[Path], list[Path]]:
    """The firmware's own C: main loop + protocol, the kernels of the chosen backend, weight decoder."""
    fw = firmware_dir()
    ksrcs, kincs = kernel_sources(kernels, cmsis_nn_path)
    srcs = sorted((fw / "runtime").glob("*.c")) + ksrcs
    incs = [fw / "runtime", *kincs, fw / "decoder"]
    return srcs, incs


def build_model_firmware(board: Board, graph: Graph, coded: Container | None, out_dir: Path,
                         decode_mode: str = "auto", defines: dict | None = None, kernels: str = "portable",
                         cmsis_nn_path=None) -> FirmwareBuild:
    """Generate and compile the firmware. `coded` None: raw int8 weights (the uncompressed baseline).
    kernels: "portable" or "cmsis-nn" (CMSIS-NN from `cmsis_nn_path` or $ILWP_CMSIS_NN).

    `graph` must be the model the container decodes to (for lossy coding: the reconstructed one).
    """
    weights_int8 = sum(t.nbytes for _, t in graph.weight_tensors())
    runtime_sources(kernels, cmsis_nn_path)  # first: a bad CMSIS-NN path fails before any work
    plan = plan_weights_explained(board, graph, None if decode_mode == "raw" else coded, decode_mode, kernels)
    gen, mode = plan.gen, plan.gen.decode_mode
    res = build_inference_firmware(board, gen, Path(out_dir), defines, kernels=kernels,
                                   cmsis_nn_path=cmsis_nn_path)
    return FirmwareBuild(
        board=board.id, elf=str(res.elf), project_dir=str(res.project_dir), flash_bytes=res.flash_bytes, ram_bytes=res.ram_bytes,
        flash_size=board.flash.size, ram_size=board.ram.size,
        weights_coded_bytes=gen.weights_flash_bytes, weights_int8_bytes=weights_int8,
        model_const_bytes=gen.const_flash_bytes, decode_mode=mode,
        arena_bytes=gen.arena_bytes, weight_ram_bytes=gen.weight_ram_bytes, scratch_bytes=gen.scratch_bytes,
        model_hash=gen.model_hash, kernels=kernels, decode_reason=plan.reason)


def build_inference_firmware(board: Board | str, gen: Generated, out_dir: Path,
                             defines: Mapping[str, object | None] | None = None, *,
                             test_commands: bool = False, kernels: str = "portable", cmsis_nn_path=None,
                             extra_sources: Sequence[Path] = (), extra_include_dirs: Sequence[Path] = (),
                             core_dir: Path | None = None, timeout_s: float = 600.0) -> BuildResult:
    """The one place a model firmware is assembled: generated model + runtime (protocol, main) +
    kernels (+ the weight decoder when the weights are coded), built with PlatformIO.

    defines: e.g. {"ILWP_FORCE_INIT_STATUS": -3}; test_commands adds the protocol's TEST message.
    """
    if not isinstance(board, Board):
        board = resolve_board(board)
    out_dir = Path(out_dir).resolve()
    gen_dir = out_dir / "generated"
    write_sources(gen, gen_dir)
    srcs, incs = runtime_sources(kernels, cmsis_nn_path)
    if gen.decode_mode != "raw":
        srcs.append(firmware_dir() / "decoder" / "ilwp_decode.c")
    d = {"ILWP_HAVE_TICKS": 1, **dict(defines or {})}
    if test_commands:
        d["ILWP_PROTO_TEST_COMMANDS"] = 1
    return build_firmware(board, [*srcs, gen_dir / "ilwp_model.c", *extra_sources],
                          [*incs, gen_dir, *extra_include_dirs], out_dir / "pio", d,
                          core_dir=core_dir, timeout_s=timeout_s)
