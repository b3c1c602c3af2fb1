# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed build`: a model (int8 .tflite, compressed on the fly, or an .ilwp) -> firmware for a board."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("build", help="generate and compile the firmware for a model and a board")
    p.add_argument("--board", default=None, help="board id or alias (default: qemu-m4); see `ilwp-embed boards`")
    p.add_argument("--model", default=None, help="int8 .tflite or .ilwp (default: the bundled example)")
    p.add_argument("--decode", default="auto", choices=("auto", "once", "layer", "raw"),
                   help="weights: decoded once at boot, per layer, or raw int8 (no compression); "
                        "auto: once when they fit in RAM")
    add_optimize(p)
    p.add_argument("--step", type=int, default=1, help="residual step when compressing a .tflite (1 = lossless)")
    p.add_argument("--kernels", default="portable", choices=("portable", "cmsis-nn"))
    p.add_argument("--cmsis-nn", default=None,
                   help="path of a CMSIS-NN checkout (with --kernels cmsis-nn; default $ILWP_CMSIS_NN)")
    p.add_argument("-o", "--out", default="build/firmware", help="output directory (default build/firmware)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_build)


def add_optimize(p) -> None:
    """--optimize, the decode-mode planner's goal (generate/decode_plan.py), for every command that builds."""
    p.add_argument("--optimize", default="flash", choices=("flash", "ram", "speed"),
                   help="what --decode auto optimises among the weight modes that fit the board: flash (default, "
                        "as before goals existed: the least flash, preferring no decoding per inference when coding "
                        "would save under 256 B), ram (the least RAM: per-layer decoding into idle arena bytes, or "
                        "raw int8 weights when they need less RAM), speed (the fewest instructions per inference: "
                        "decoded at boot if it fits in RAM, else raw; a model coded here may use pair symbols, which decode "
                        "faster at low rates for about 0.8 KB more decoder code)")


def wants_pairs(args) -> bool:
    """Pair symbols (format v5) in a model coded by a building command: only for `--optimize speed`,
    since they decode faster at low rates but never save bytes and cost decoder flash."""
    return args.optimize == "speed"


def cmd_build(args) -> int:
    from ilwp_embedded import pipeline
    from ilwp_embedded.bundled import bundled_model
    from ilwp_embedded.errors import IlwpError
    from ilwp_embedded.generate.backends import find_cmsis_nn
    from ilwp_embedded.target.boards import resolve_board

    cmsis_nn = None
    if args.kernels == "cmsis-nn":
        cmsis_nn = find_cmsis_nn(args.cmsis_nn)  # --cmsis-nn PATH, else $ILWP_CMSIS_NN; one-line error
    elif args.cmsis_nn:
        raise IlwpError("--cmsis-nn is only used with --kernels cmsis-nn")
    board = resolve_board(args.board)
    model = Path(args.model) if args.model else bundled_model(args.data_dir)
    fw = pipeline.build(board, pipeline.load(model, args.step, pairs=wants_pairs(args)), Path(args.out), args.decode,
                        args.kernels, cmsis_nn, args.optimize)
    if args.json:
        print(fw.to_json())
    else:
        print(memory_report(fw, model))
    return 0


def memory_report(fw, model: Path) -> str:
    pct = lambda a, b: f"{100.0 * a / b:.1f}%"  # noqa: E731
    code = fw.flash_bytes - fw.weights_coded_bytes
    return "\n".join([
        f"firmware {fw.elf}",
        f"  board {fw.board}, model {model.name} ({fw.model_hash}), kernels {fw.kernels}, weights {fw.decode_mode}",
        *([f"  weights {fw.decode_mode}: {fw.decode_reason}"] if fw.decode_reason else []),
        *([f"  kernels {fw.kernels}: {fw.kernels_note}"] if fw.kernels_note else []),
        f"  flash {fw.flash_bytes} of {fw.flash_size} ({pct(fw.flash_bytes, fw.flash_size)}): "
        f"weights {fw.weights_coded_bytes} (int8 {fw.weights_int8_bytes}, "
        f"{fw.weights_int8_bytes / max(fw.weights_coded_bytes, 1):.2f}x), code and other constants {code}",
        f"  RAM {fw.ram_bytes} of {fw.ram_size} ({pct(fw.ram_bytes, fw.ram_size)}): arena {fw.arena_bytes}"
        f"{' (with the decoded weights of the running layer)' if fw.decode_mode == 'layer' and not fw.weight_ram_bytes else ''}, "
        f"decoded weights {fw.weight_ram_bytes}, kernel scratch {fw.scratch_bytes}, rest (stack, runtime)",
        f"  weight modes weighed (estimates; goal {fw.optimize}, chosen {fw.decode_mode}):",
        *(f"    {m['mode']:<5} flash ~{m['flash']} B, RAM ~{m['ram']} B, decoding ~{m['decode_instructions_per_inference']} "
          f"instructions/inference, ~{m['decode_instructions_at_boot']} at boot"
          + ("" if m["fits"] else f"; does not fit: {m['misfit']}") for m in fw.modes),
    ])
