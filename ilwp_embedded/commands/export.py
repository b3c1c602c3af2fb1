# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed export`: a model -> a self-contained C library folder (PlatformIO, CMake or Zephyr)."""

from __future__ import annotations

from pathlib import Path

from ilwp_embedded.commands.build import add_optimize, wants_pairs


def register(sub) -> None:
    p = sub.add_parser("export", help="write the model as a C library (API: ilwp_model.h) for your own firmware")
    p.add_argument("--board", default=None,
                   help="board whose RAM the decode plan fits and whose core the example targets "
                        "(default: qemu-m4); the library itself is board-independent C99")
    p.add_argument("--model", default=None, help="int8 .tflite or .ilwp (default: the bundled example)")
    p.add_argument("-o", "--out", required=True, help="output directory (new or empty)")
    p.add_argument("--format", required=True,  # checked by target/export.py: a one-line error
                   help="platformio: library.json; cmake: CMakeLists.txt with a static library target; "
                        "zephyr: a Zephyr module (zephyr/module.yml)")
    p.add_argument("--kernels", default="portable", choices=("portable", "cmsis-nn"))
    p.add_argument("--cmsis-nn", default=None,
                   help="path of a CMSIS-NN checkout (with --kernels cmsis-nn; default $ILWP_CMSIS_NN)")
    p.add_argument("--decode", default="auto", choices=("auto", "once", "layer", "raw"),
                   help="weights: decoded once at init, per layer, or raw int8; auto: as `build` plans for the board")
    add_optimize(p)
    p.add_argument("--step", type=int, default=1, help="residual step when compressing a .tflite (1 = lossless)")
    p.add_argument("--input", default=None,
                   help="the example's test input: .npy of int8 model input (default: seeded random values)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from ilwp_embedded import pipeline
    from ilwp_embedded.bundled import bundled_model
    from ilwp_embedded.errors import IlwpError
    from ilwp_embedded.generate.backends import find_cmsis_nn
    from ilwp_embedded.target.boards import resolve_board
    from ilwp_embedded.target.export import LIBRARY, check_export_dir, check_format

    check_format(args.format)
    check_export_dir(args.out)  # before the model is read and coded
    cmsis_nn = None
    if args.kernels == "cmsis-nn":
        cmsis_nn = find_cmsis_nn(args.cmsis_nn)
    elif args.cmsis_nn:
        raise IlwpError("--cmsis-nn is only used with --kernels cmsis-nn")
    board = resolve_board(args.board)
    model = Path(args.model) if args.model else bundled_model(args.data_dir)
    r = pipeline.export(board, pipeline.load(model, args.step, pairs=wants_pairs(args)), Path(args.out), args.format,
                        args.decode, args.kernels, cmsis_nn, Path(args.input) if args.input else None, args.optimize)
    if args.json:
        print(r.to_json())
        return 0
    print(f"exported {model.name} ({r.model_hash}) to {r.out_dir}: {r.format} library '{LIBRARY}', API {r.api_version}")
    print(f"  kernels {r.kernels}, weights {r.decode_mode}" + (f": {r.decode_reason}" if r.decode_reason else ""))
    print(f"  static RAM {r.ram_bytes} B (arena {r.arena_bytes}, decoded weights {r.weight_ram_bytes}, scratch "
          f"{r.scratch_bytes}, decoder {r.decoder_ram_bytes}); flash: weights {r.weights_flash_bytes} B, "
          f"other constants {r.const_flash_bytes} B, plus code")
    print(f"  example: {Path(r.out_dir) / r.example} (defaults for {r.board})")
    return 0
