# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed compress` and `ilwp-embed decompress`."""

from __future__ import annotations

import argparse
import json
import sys

from ilwp_embedded.compress.blobinfo import size_line
from ilwp_embedded.compress.decoder import decompress_to_tflite
from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.commands.compress_method import add_arguments as add_method_arguments
from ilwp_embedded.commands.compress_method import check_ilwp_args, run_method
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import atomic_write_bytes, read_input_file, require_output_dir
from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite
from ilwp_embedded.train.stepcheck import SAMPLE, WARN_POINTS


def register(subparsers) -> None:
    p = subparsers.add_parser("compress", help="code a .tflite's int8 weights into an .ilwp blob")
    p.add_argument("model", help="int8 .tflite model")
    p.add_argument("-o", "--output", required=True, help="output .ilwp")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lossless", action="store_true", help="exact weights (the default)")
    g.add_argument("--step", type=int, default=None, help="lossy: residual quantisation step (>= 2)")
    g.add_argument("--steps-json", default=None, metavar="FILE",
                   help='lossy: per-tensor residual steps, a JSON object {"tensor index": step} (missing: 1), '
                        "e.g. the steps a model was trained for (scripts/train_prediction.py writes OUT.steps.json)")
    p.add_argument("--emit-tflite", default=None, metavar="PATH",
                   help="also write the .tflite whose weights the decoder reconstructs (lossy)")
    g.add_argument("--accuracy-budget", type=float, default=None, metavar="POINTS",
                   help="lossy: search per-tensor steps for the fewest bits whose top-1 drop on a "
                        "validation split stays within POINTS (needs --dataset)")
    p.add_argument("--dataset", default=None,
                   help="validation data for --accuracy-budget: cifar10 (its held-back training "
                        "split, never the test set) or npz:PATH; with --step/--steps-json, the data "
                        "the accuracy check measures on (any dataset name, see --warn-drop); "
                        "training data (cifar10) when a --method retrains (--epochs)")
    p.add_argument("--warn-drop", type=float, default=WARN_POINTS, metavar="POINTS",
                   help=f"lossy --step/--steps-json: measure top-1 of the coded model against the original "
                        f"on at most {SAMPLE} images of --dataset (default for 32x32x3 models: cifar10-raw200 "
                        f"when it is in the data directory) and print a warning when it drops by more than "
                        f"POINTS (default {WARN_POINTS:g})")
    p.add_argument("--no-accuracy-check", action="store_true", help="skip that check")
    p.add_argument("--golden-check", type=int, default=500, metavar="N",
                   help="confirm the chosen model with the golden interpreter on N validation images")
    p.add_argument("--finetune-epochs", type=float, default=0.0, metavar="E",
                   help="with --accuracy-budget: quantization-aware fine-tuning (E epochs of the "
                        "training split) of every candidate at its steps before it is measured")
    p.add_argument("--lr", type=float, default=1e-3,
                   help="fine-tuning learning rate (Adam, fraction of the int8 full scale); also --method retraining")
    p.add_argument("--distill", type=float, default=0.5, metavar="W",
                   help="with --finetune-epochs: weight of distillation from the uncompressed model (0..1)")
    p.add_argument("--search-iterations", type=int, default=None, metavar="N",
                   help="bisection steps (default 12; 6 with --finetune-epochs)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--intra-only", action="store_true", help="disable inter-layer prediction")
    p.add_argument("--pairs", action="store_true",
                   help="allow pair symbols (format v5: one rANS step per two weights) where they decode faster "
                        "at no more bytes: low rates decode up to ~1.5x faster, for about 0.8 KB more decoder code "
                        "in the firmware (off by default: they never make the blob smaller)")
    p.add_argument("--json", action="store_true", help="print sizes and per-tensor modes as JSON")
    add_method_arguments(p)
    p.set_defaults(func=run_compress)

    d = subparsers.add_parser("decompress", help="rebuild the .tflite from an .ilwp blob")
    d.add_argument("blob", help="input .ilwp")
    d.add_argument("-o", "--output", required=True, help="output .tflite")
    d.set_defaults(func=run_decompress)


def run_compress(args: argparse.Namespace) -> int:
    require_output_dir(args.output)  # before any work: compressing can take minutes
    if args.emit_tflite:
        require_output_dir(args.emit_tflite, "--emit-tflite")
    if args.method != "ilwp":
        return run_method(args, summarize)
    check_ilwp_args(args)
    step = 1 if args.step is None else args.step
    if args.step is not None and not 2 <= step <= 127:
        raise IlwpError(f"--step must be between 2 and 127 (got {step}); use --lossless for exact weights")
    graph = read_tflite(read_input_file(args.model, "model"), args.model)
    from ilwp_embedded.ops.support import require_int8

    require_int8(graph, args.model)  # a hybrid (dynamic-range) model: `build` would refuse its blob
    search = None
    if args.accuracy_budget is not None:
        from ilwp_embedded.train.budget import BudgetOptions, budget_search

        search = budget_search(graph, BudgetOptions(
            args.accuracy_budget, args.dataset, args.data_dir, args.finetune_epochs, args.lr, args.distill,
            args.search_iterations, args.intra_only, args.golden_check, getattr(args, "train_limit", None)))
        res = search.result
    else:
        lossy = args.step is not None or args.steps_json is not None
        if args.dataset is not None and not lossy:
            raise IlwpError("--dataset is used with --accuracy-budget, --step or --steps-json (lossless "
                            "weights are exact: there is no accuracy to check)")
        if args.steps_json is not None:
            step = _read_steps(args.steps_json, graph)
        sample = None
        if lossy and not args.no_accuracy_check:
            from ilwp_embedded.train.stepcheck import check_sample

            sample = check_sample(graph, args.dataset, args.data_dir)  # its shape, before the coding
        res = encode_graph(graph, step, inter=not args.intra_only, pairs=args.pairs)
        if sample is not None:
            _warn_on_drop(graph, res.graph, sample, args.warn_drop)
    atomic_write_bytes(args.output, res.blob)
    if args.emit_tflite:
        atomic_write_bytes(args.emit_tflite, write_tflite(res.graph))
    summary = {"method": "ilwp", **summarize(res)}
    if search is not None:
        from ilwp_embedded.train.budget import search_summary

        summary["search"] = search_summary(search)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{args.output}: {size_line(summary)}")
        if search is not None:
            s = summary["search"]
            print(f"  accuracy budget {s['budget_points']} points on {s['validation']}: top-1 "
                  f"{s['baseline_accuracy']:.4f} -> {s['accuracy']:.4f} (fast evaluator); golden "
                  f"interpreter on {s['golden_count']} images: {s['golden_baseline']:.4f} -> {s['golden_accuracy']:.4f}")
    return 0


def _warn_on_drop(graph, coded, sample, points: float) -> None:
    from ilwp_embedded.train.stepcheck import accuracy_drop

    d = accuracy_drop(graph, coded, sample)
    if d.points > points:
        print(f"warning: the lossy weights cost {d.points:.1f} top-1 points on {d.count} images of {d.name} "
              f"({100 * d.original:.1f}% -> {100 * d.coded:.1f}%, more than --warn-drop {points:g}); "
              f"a smaller --step or --accuracy-budget keeps it", file=sys.stderr)


def _read_steps(path: str, graph) -> dict[int, int]:
    try:
        raw = json.loads(read_input_file(path, "steps file"))
        steps = {int(k): int(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError):
        raise IlwpError(f"{path}: not a JSON object of tensor index -> step") from None
    coded = {t.index for _, t in graph.coded_weights()}
    for k, v in steps.items():
        if k not in coded:
            raise IlwpError(f"{path}: tensor {k} is not a coded weight tensor of the model")
        if not 1 <= v <= 127:
            raise IlwpError(f"{path}: step {v} for tensor {k} is outside 1..127")
    return steps


def summarize(res) -> dict:
    w = res.weights
    return {
        "weights": w,
        "int8_bytes": w,
        "coded_bytes": res.coded_bytes,
        "skeleton_bytes": res.skeleton_bytes,
        "file_bytes": len(res.blob),
        "bits_per_weight": 8 * res.coded_bytes / w,
        "entropy_bound_bits": round(res.entropy_bound_bits, 1),
        # relative overhead; undefined when every tensor is constant (a zero bound)
        "overhead_vs_bound": (8 * res.coded_bytes / res.entropy_bound_bits - 1) if res.entropy_bound_bits else None,
        "lossy": res.container.lossy,
        **({} if res.graph is None else _totals(res)),
        "tensors": [{"tensor": s.tensor_id, "name": s.name, "shape": list(s.shape), "mode": s.mode,
                     "ref_tensor": s.ref_tensor_id, "inter_channels": s.inter_channels, "step": s.step,
                     "bits": s.bits, "entropy_bits": round(s.entropy_bits, 1)} for s in res.stats],
    }


def _totals(res) -> dict:
    from ilwp_embedded.compress.blobinfo import total_fields

    return total_fields(res.coded_bytes, res.weights, res.graph)


def run_decompress(args: argparse.Namespace) -> int:
    blob = read_input_file(args.blob, ".ilwp file")
    atomic_write_bytes(args.output, decompress_to_tflite(blob, args.blob))
    return 0
