# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed eval`: top-1 of the golden interpreter (TFLite Micro reference kernels), or with
`--fast` of LiteRT's optimised kernels (about 25x faster; a few outputs round differently, so
bit-exactness is only ever judged by the golden interpreter)."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("eval", help="top-1 accuracy of a .tflite in the golden interpreter (TFLite Micro)")
    p.add_argument("model", help=".tflite model")
    p.add_argument("--dataset", required=True,
                   help="cifar10 (lossless test set), cifar10-jpeg (the lossy copy), cifar10-raw200, mnist-test, or npz:PATH")
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N samples")
    p.add_argument("--input-range", default="0:255", choices=("0:255", "0:1", "-1:1"),
                   help="pixel range of a float model's input (int8 models: read off the model)")
    p.add_argument("--data-dir", default=None, help="datasets directory (default $ILWP_DATA_DIR)")
    p.add_argument("--fast", action="store_true",
                   help="LiteRT's optimised kernels instead of the golden interpreter (quick accuracy, not bit-exact)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.golden import evaluate
    from ilwp_embedded.ingest import load_graph

    graph = load_graph(args.model)
    ds = load_dataset(args.dataset, args.data_dir).take(args.limit)
    if args.fast:
        import numpy as np

        from ilwp_embedded.train import fasteval
        from ilwp_embedded.golden import prepare_inputs

        xs = prepare_inputs(ds, graph.tensors[graph.inputs[0]], args.input_range)
        pred = fasteval.run_batched(graph, xs).argmax(axis=1)
        correct, count = int((pred == ds.y[:len(xs)]).sum()), len(xs)
        acc = correct / count if count else 0.0
        info = {"model": str(args.model), "dataset": ds.name, "count": count, "correct": correct,
                "accuracy": acc, "interpreter": "litert"}
        print(json.dumps(info) if args.json else
              f"{args.model}: top-1 {acc:.4f} ({correct}/{count}) on {ds.name}, LiteRT optimised kernels (--fast)")
        return 0
    res = evaluate(graph, ds, progress=sys.stderr.isatty() and not args.json, float_range=args.input_range)
    info = {"model": str(args.model), "dataset": ds.name, "count": res.count, "correct": res.correct,
            "accuracy": res.accuracy, "interpreter": "tflite-micro"}
    print(json.dumps(info) if args.json else
          f"{args.model}: top-1 {res.accuracy:.4f} ({res.correct}/{res.count}) on {ds.name}, TFLite Micro interpreter")
    return 0
