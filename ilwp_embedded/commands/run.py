# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed validate` (the model on a board, bit-exact against the golden interpreter) and
`ilwp-embed flash` (upload the firmware to a real board)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ilwp_embedded.commands.build import add_optimize, wants_pairs
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import require_output_dir


def _firmware(args, board):
    """(model, FirmwareBuild or None) for `args`, compressed as `build` would; no build when the
    firmware exists (--elf, or a flashed board on --port)."""
    from ilwp_embedded import pipeline
    from ilwp_embedded.bundled import bundled_model

    path = Path(args.model) if args.model else bundled_model(args.data_dir)
    farm_flashed = getattr(args, "reserve", None) and not args.flash  # the places run the model already
    if args.elf or getattr(args, "port", None) or farm_flashed:  # the firmware exists: only its model is needed
        return pipeline.load(path, args.step, compress=False), None
    model = pipeline.load(path, args.step, pairs=wants_pairs(args))
    out = Path(args.build_dir or Path("build") / args.command / board.id)
    return model, pipeline.build(board, model, out, args.decode, optimize=args.optimize)


def cmd_validate(args: argparse.Namespace) -> int:
    from ilwp_embedded import pipeline

    tags = None
    if args.reserve is not None:
        from ilwp_embedded.run.farm import parse_tags

        tags = parse_tags(args.reserve)
        if args.units is not None and args.units <= 0:
            raise IlwpError(f"--units must be positive, got {args.units}")
        if args.port or args.elf or args.cluster or args.shards is not None:
            raise IlwpError("--reserve shards over the reserved places (--units N): not with --port, --elf, "
                            "--cluster or --shards")
    elif args.units is not None or args.prio is not None or args.flash:
        raise IlwpError("--units, --prio and --flash go with --reserve TAGS (a labgrid farm)")
    board = resolve_board(args.board or (tags or {}).get("board"))
    if args.elf and args.port:
        raise IlwpError("give --elf (QEMU) or --port (a real board), not both")
    if args.elf and not Path(args.elf).is_file():
        raise IlwpError(f"firmware not found: {args.elf}")
    if not board.emulated and not args.port and tags is None:
        raise IlwpError(f"board {board.id} runs on hardware: flash it (ilwp-embed flash --board "
                        f"{board.id}) and give its serial port with --port")
    if args.shards is not None and args.shards <= 0:
        raise IlwpError(f"--shards must be positive, got {args.shards}")
    if args.profile and (args.shards is not None or args.cluster is not None or args.reserve is not None):
        raise IlwpError("--profile runs one QEMU under a plugin: not with --shards, --cluster or --reserve")
    if args.cluster is not None and args.port:
        raise IlwpError("--cluster runs the shards in QEMU on the cluster's nodes: not with --port")
    if args.html:
        require_output_dir(args.html, "--html")  # not after the run: the results would be lost
    ds = load_data(args).take(args.limit)
    # the model's checks, the dataset's shape and the task against it, before the firmware is built
    from ilwp_embedded.bundled import bundled_model
    from ilwp_embedded.golden import prepare_inputs
    from ilwp_embedded.metrics import infer_task

    g0 = pipeline.load(Path(args.model) if args.model else bundled_model(args.data_dir), args.step,
                       compress=False).graph
    prepare_inputs(ds, g0.tensors[g0.inputs[0]])
    infer_task(g0.tensors[g0.inputs[0]], g0.tensors[g0.outputs[0]], ds.y, args.task)
    model, fw = _firmware(args, board)
    on_sample = None
    if not args.json and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(ds), desc=f"validate {board.id}", unit="img", leave=False)
        on_sample = lambda rec: bar.update(1)  # noqa: E731
    elf = args.elf or (fw.elf if fw else None)
    if tags is not None:
        units = args.units if args.units is not None else 1
        result = pipeline.validate_on_farm(board, model, ds, tags, units, prio=args.prio or 0.0,
                                           fw=fw if args.flash else None, baud=args.baud,
                                           run_timeout_s=args.run_timeout, inputs_via=args.inputs_via,
                                           task=args.task)
    elif args.shards is not None or args.cluster is not None:
        result = pipeline.validate_sharded(board, model, ds, args.shards, elf=elf, port=args.port,
                                           cluster=args.cluster, baud=args.baud, run_timeout_s=args.run_timeout,
                                           inputs_via=args.inputs_via, task=args.task)
    else:
        result = pipeline.validate(board, model, ds, elf=elf, port=args.port, baud=args.baud,
                                   run_timeout_s=args.run_timeout, on_sample=on_sample,
                                   inputs_via=args.inputs_via, profile=args.profile, task=args.task,
                                   model_c=Path(fw.project_dir).parent / "generated" / "ilwp_model.c" if fw else None)
    if args.html:
        pipeline.write_report(result, model, fw, f"{model.path.name} on {board.id}", args.html)
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    else:
        print(result.one_line())
    return 0 if result.passed else 1  # a failed shard makes the run incomplete: not a pass


def cmd_flash(args: argparse.Namespace) -> int:
    board = resolve_board(args.board)
    if board.emulated:
        print(f"{board.id} is emulated by QEMU: nothing to flash (validate starts QEMU with the firmware)")
        return 0
    from ilwp_embedded import pipeline

    args.elf = None
    _, fw = _firmware(args, board)
    pipeline.flash(board, fw, args.upload_port)
    print(f"flashed {board.id} with model {fw.model_hash} ({fw.flash_bytes} bytes of flash, weights {fw.decode_mode})")
    return 0


def _build_args(p) -> None:
    p.add_argument("--decode", default="auto", choices=("auto", "once", "layer", "raw"),
                   help="weights decoded once at boot, per layer, or raw int8 (default auto)")
    add_optimize(p)
    p.add_argument("--step", type=int, default=1, help="residual step when compressing a .tflite (1 = lossless)")


def add_data_args(p) -> None:
    """--dataset | --inputs and --task, for `validate` and `eval`."""
    from ilwp_embedded.metrics import TASK_RULE, TASKS

    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="cifar10 (lossless test set), cifar10-jpeg, cifar10-raw200, mnist-test, or "
                                       "npz:PATH (arrays x, optional y: integer labels or float targets, optional "
                                       "classes: class names)")
    src.add_argument("--inputs", metavar="FILE.npy",
                     help="inputs without labels (uint8 images, or arrays in the model's input form): "
                          "bit-exactness only (and a reconstruction's error)")
    p.add_argument("--task", default="auto", choices=("auto", *TASKS),
                   help=f"what the outputs are scored as: classify (top-1), regress (MSE, MAE against float "
                        f"targets y), reconstruct (per-sample reconstruction error, and ROC AUC where labels say "
                        f"normal 0 / anomalous); {TASK_RULE}")


def load_data(args):
    """The Dataset of --dataset or --inputs."""
    from ilwp_embedded.datasets import load_dataset, load_inputs

    return load_inputs(args.inputs) if args.inputs else load_dataset(args.dataset, args.data_dir)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("validate", help="run a dataset on a board, bit-exact against the golden model",
                              description=__doc__.splitlines()[0])
    p.add_argument("--board", default=None, help="board id or alias (default: the default board)")
    p.add_argument("--model", default=None, help="int8 .tflite or .ilwp (default: the bundled example)")
    add_data_args(p)
    p.add_argument("--limit", type=int, default=None, help="validate the first N samples only")
    p.add_argument("--port", default=None, help="serial port of a flashed real board (e.g. /dev/ttyACM0, "
                   "rfc2217://HOST:PORT, or labgrid:PLACE: an acquired place of a labgrid farm, $LG_COORDINATOR)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--elf", default=None, help="run this firmware in QEMU instead of building one")
    p.add_argument("--build-dir", default=None, help="where the firmware is built (default build/validate/BOARD)")
    p.add_argument("--run-timeout", type=float, default=60.0, help="seconds one inference may take")
    p.add_argument("--inputs-via", default="auto", choices=("auto", "serial", "semihosting"),  # INPUTS_VIA
                   help="serial (as on a real board; the next input uploads while one runs), semihosting "
                        "(QEMU only: the board reads them from a host file), auto (default: semihosting in "
                        "QEMU, serial on a real board)")
    p.add_argument("--data-dir", default=None, help="where datasets live (default: $ILWP_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--profile", action="store_true",
                   help="QEMU: count per-PC executions with a TCG plugin and estimate cycles (low/nominal/high) "
                        "per inference and per layer from the core's timing table (slower)")
    p.add_argument("--html", default=None, help="also write an HTML report with plots to this path")
    p.add_argument("--shards", type=int, default=None,
                   help="split the dataset into N contiguous shards, each its own run, merged into one result "
                        "(one after the other here; in parallel with --cluster)")
    p.add_argument("--cluster", default=None, metavar="local[:N]|auto|ray://HOST:10001",
                   help="run the shards as Ray tasks (extra 'cluster'): a local Ray with N CPUs, the running "
                        "cluster (auto), a Ray client address, or a head node's HOST:PORT")
    p.add_argument("--reserve", default=None, metavar="TAGS",
                   help="a labgrid farm (extra 'farm', $LG_COORDINATOR): reserve places with these tags "
                        "(e.g. board=nucleo-f746zg), one shard each; always cancelled, then released")
    p.add_argument("--units", type=int, default=None, help="with --reserve: how many places (default 1)")
    p.add_argument("--prio", type=float, default=None, help="with --reserve: the reservations' priority")
    p.add_argument("--flash", action="store_true",
                   help="with --reserve: build the firmware and flash every place (labgrid's OpenOCD driver)")
    _build_args(p)
    p.set_defaults(func=cmd_validate)

    f = subparsers.add_parser("flash", help="build the firmware and upload it to a real board",
                              description="Build the inference firmware for a model and upload it with PlatformIO.")
    f.add_argument("--board", default=None)
    f.add_argument("--model", default=None)
    f.add_argument("--upload-port", "--port", dest="upload_port", default=None,
                   help="upload port: the ST-LINK drive (mbed protocol) or a serial port, as PlatformIO takes it; "
                        "labgrid:PLACE: an acquired labgrid place, flashed with OpenOCD")
    f.add_argument("--build-dir", default=None)
    f.add_argument("--data-dir", default=None)
    _build_args(f)
    f.set_defaults(func=cmd_flash)
