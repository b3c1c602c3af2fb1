# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed compress --method {tq,dqc,slq,mlq}`: the method options and the run (the ilwp method
stays in compress/commands.py)."""

from __future__ import annotations

import argparse
import json
import sys

from ilwp_embedded.train.methods import METHODS, Options, check_options, compress
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import atomic_write_bytes, read_input_file
from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The method options of `compress` (it defines --dataset, --data-dir and --lr itself, shared
    with --accuracy-budget)."""
    p.add_argument("--method", default="ilwp", choices=METHODS,
                   help="ilwp: the ILWP codec (default); tq: transform quantization (KLT + reverse "
                        "water-filling); dqc: trained k-means codebook; slq: incremental codebook "
                        "quantization; mlq: incremental ternary quantization")
    p.add_argument("--bits", type=float, default=None,
                   help="dqc/slq: codebook bits per tensor (default 4); tq: average bits per coefficient (default 2)")
    p.add_argument("--no-zero", action="store_true", help="dqc/slq: no exact zero entry in the codebook")
    p.add_argument("--axis", default="auto", help="tq: transform axis: out, in, spatial or auto (default)")
    p.add_argument("--stages", type=int, default=4, help="slq/mlq: incremental rounds (default 4)")
    p.add_argument("--epochs", type=float, default=0.0,
                   help="tq/dqc/slq/mlq: retrain with the quantizer in the loop for this many epochs "
                        "(default 0: post-training; needs --dataset cifar10)")
    p.add_argument("--train-limit", type=int, default=None, help="retrain on the first N training images only")
    p.add_argument("--seed", type=int, default=0)


def method_options(args: argparse.Namespace) -> Options:
    """The method's settings from the command line; settings that do not apply are refused."""
    m = args.method
    if getattr(args, "step", None) is not None:
        raise IlwpError(f"--step is for --method ilwp; {m} takes --bits")
    if args.bits is not None and m == "mlq":
        raise IlwpError("--bits does not apply to --method mlq (ternary)")
    if args.no_zero and m not in ("dqc", "slq"):
        raise IlwpError("--no-zero applies to --method dqc and slq")
    if getattr(args, "intra_only", False):
        raise IlwpError("--intra-only is for --method ilwp")
    if getattr(args, "accuracy_budget", None) is not None or getattr(args, "finetune_epochs", 0):
        raise IlwpError("--accuracy-budget and --finetune-epochs search ILWP steps (--method ilwp); "
                        f"--method {m} takes --bits and --epochs")
    if args.epochs > 0 and args.dataset is None:
        raise IlwpError(f"--method {m} --epochs {args.epochs:g} retrains: give --dataset cifar10 (its training split)")
    if args.dataset is not None and args.dataset != "cifar10":
        raise IlwpError(f"retraining uses --dataset cifar10 (training split, validation held back), not {args.dataset}")
    if args.dataset is not None and args.epochs <= 0:
        raise IlwpError("--dataset is for retraining: give --epochs too")
    bits = args.bits if args.bits is not None else (2.0 if m == "tq" else 4.0)
    if m in ("dqc", "slq") and bits != int(bits):
        raise IlwpError(f"--bits for {m} is a whole number of codebook bits, got {bits:g}")
    return Options(bits=bits, zero=not args.no_zero, axis=args.axis, epochs=args.epochs, stages=args.stages,
                   lr=args.lr, train_limit=args.train_limit, data_dir=args.data_dir, seed=args.seed)


def check_ilwp_args(args: argparse.Namespace) -> None:
    """Method options given to the plain ilwp codec are mistakes, not silently ignored."""
    # --train-limit also bounds the fine-tuning of `--accuracy-budget --finetune-epochs`.
    limit = None if getattr(args, "finetune_epochs", 0) else args.train_limit
    given = [f for f, v in (("--bits", args.bits), ("--no-zero", args.no_zero or None),
                            ("--epochs", args.epochs or None), ("--train-limit", limit))
             if v is not None]
    if args.axis != "auto":
        given.append("--axis")
    if given:
        raise IlwpError(f"{', '.join(given)} need --method tq, dqc, slq or mlq"
                         + (" (or, for --train-limit, --finetune-epochs)" if limit is not None else ""))


def run_method(args: argparse.Namespace, summarize) -> int:
    opts = method_options(args)
    check_options(args.method, opts)
    graph = read_tflite(read_input_file(args.model, "model"), args.model)
    # progress goes to stderr under --json so stdout stays one JSON document
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else (lambda s: print(s, flush=True))
    res = compress(graph, args.method, opts, log)
    atomic_write_bytes(args.output, res.encoded.blob)
    if args.emit_tflite:
        atomic_write_bytes(args.emit_tflite, write_tflite(res.graph))
    summary = {"method": args.method, **summarize(res.encoded), "method_info": res.quantized.info}
    if res.quantized.val_accuracy is not None:
        summary["val_accuracy"] = res.quantized.val_accuracy
    if res.quantized.device_stream is not None:
        summary["device_stream"] = res.quantized.device_stream
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{args.output}: {args.method}, {summary['weights']} weights, {summary['int8_bytes']} B int8 -> "
          f"{summary['coded_bytes']} B coded ({summary['bits_per_weight']:.3f} bits/weight, everything but "
          f"the skeleton), skeleton {summary['skeleton_bytes']} B")
    if res.quantized.val_accuracy is not None:
        print(f"  retrained: validation top-1 {res.quantized.val_accuracy:.4f} (float emulation)")
    if res.quantized.device_stream is not None:
        d = res.quantized.device_stream
        print(f"  transform-domain stream if decoded on the device: {d['bits_per_weight']:.3f} bits/weight, "
              f"{d['macs_per_weight']:.1f} MACs/weight to invert")
    return 0
