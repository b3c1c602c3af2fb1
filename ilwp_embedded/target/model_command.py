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
    p.add_argument("--step", type=int, default=1, help="residual step when compressing a .tflite (1 = lossless)")
    p.add_argument("--kernels", default="portable", choices=("portable", "cmsis-nn"))
    p.add_argument("--cmsis-nn", default=None,
                   help="path of a CMSIS-NN checkout (with --kernels cmsis-nn; default $ILWP_CMSIS_NN)")
    p.add_argument("-o", "--out", default="build/firmware", help="output directory (default build/firmware)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_build)


def load_for_firmware(model: Path, step: int = 1, compress: bool = True):
    """(graph to run, container or None) from an int8 .tflite (compressed here unless `compress` is
    False) or an .ilwp."""
    from ilwp_embedded.compress.container import unpack
    from ilwp_embedded.compress.decoder import decompress_to_tflite
    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.fileio import read_input_file
    from ilwp_embedded.ingest import load_graph, read_tflite
    from ilwp_embedded.ops.support import require_firmware_ops, require_int8

    if model.suffix == ".ilwp":
        blob = read_input_file(model, "compressed model")
        graph = read_tflite(decompress_to_tflite(blob, str(model)), str(model))
        cont = unpack(blob)
    else:
        graph = load_graph(model)
        cont = None
    require_int8(graph, str(model))
    require_firmware_ops(graph, str(model))
    if cont is None and compress:
        enc = encode_graph(graph, step)
        graph, cont = (enc.graph if step > 1 else graph), enc.container
    return graph, cont


def cmd_build(args) -> int:
    from ilwp_embedded.target.boards import resolve_board
    from ilwp_embedded.target.firmware import build_model_firmware
    from ilwp_embedded.bundled import bundled_model
    from ilwp_embedded.errors import IlwpError
    from ilwp_embedded.generate.backends import find_cmsis_nn

    cmsis_nn = None
    if args.kernels == "cmsis-nn":
        cmsis_nn = find_cmsis_nn(args.cmsis_nn)  # --cmsis-nn PATH, else $ILWP_CMSIS_NN; one-line error
    elif args.cmsis_nn:
        raise IlwpError("--cmsis-nn is only used with --kernels cmsis-nn")
    board = resolve_board(args.board)
    model = Path(args.model) if args.model else bundled_model(args.data_dir)
    graph, cont = load_for_firmware(model, args.step)
    fw = build_model_firmware(board, graph, None if args.decode == "raw" else cont, Path(args.out),
                              decode_mode=args.decode, kernels=args.kernels, cmsis_nn_path=cmsis_nn)
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
        f"  flash {fw.flash_bytes} of {fw.flash_size} ({pct(fw.flash_bytes, fw.flash_size)}): "
        f"weights {fw.weights_coded_bytes} (int8 {fw.weights_int8_bytes}, "
        f"{fw.weights_int8_bytes / max(fw.weights_coded_bytes, 1):.2f}x), code and other constants {code}",
        f"  RAM {fw.ram_bytes} of {fw.ram_size} ({pct(fw.ram_bytes, fw.ram_size)}): arena {fw.arena_bytes}, "
        f"decoded weights {fw.weight_ram_bytes}, kernel scratch {fw.scratch_bytes}, rest (stack, runtime)",
    ])
