# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed eval`: the golden interpreter's (TFLite Micro reference kernels) outputs scored for the
model's task (top-1, MSE/MAE, reconstruction error and AUC: metrics.py), or with `--fast` LiteRT's
optimised kernels' (about 25x faster; a few outputs round differently, so bit-exactness is only ever
judged by the golden interpreter)."""

from __future__ import annotations

import json
import sys

from ilwp_embedded.commands.run import add_data_args, load_data


def register(sub) -> None:
    p = sub.add_parser("eval", help="score a .tflite in the golden interpreter (TFLite Micro) for its task")
    p.add_argument("model", help=".tflite model")
    add_data_args(p)
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N samples")
    p.add_argument("--input-range", default="0:255", choices=("0:255", "0:1", "-1:1"),
                   help="pixel range of a float model's input (int8 models: read off the model)")
    p.add_argument("--data-dir", default=None, help="datasets directory (default $ILWP_DATA_DIR)")
    p.add_argument("--fast", action="store_true",
                   help="LiteRT's optimised kernels instead of the golden interpreter (quick, not bit-exact)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from ilwp_embedded.golden import evaluate, prepare_inputs
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.metrics import describe, infer_task, task_metrics

    graph = load_graph(args.model)
    ds = load_data(args).take(args.limit)
    t_in, t_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    task = infer_task(t_in, t_out, ds.y, args.task)
    xs = prepare_inputs(ds, t_in, args.input_range)
    if args.fast:
        from ilwp_embedded.train import fasteval

        outs, interpreter, how = fasteval.run_batched(graph, xs), "litert", "LiteRT optimised kernels (--fast)"
    else:
        outs = evaluate(graph, ds, progress=sys.stderr.isatty() and not args.json,
                        float_range=args.input_range).outputs
        interpreter, how = "tflite-micro", "TFLite Micro interpreter"
    m = task_metrics(task, outs, xs, ds.y, t_in, t_out)
    info = {"model": str(args.model), "dataset": ds.name, "count": len(xs), "task": task, "metrics": m,
            "interpreter": interpreter}
    if "top1" in m:  # the keys eval printed before tasks existed
        info.update(correct=m["correct"], accuracy=m["top1"])
    extra = f" ({m['correct']}/{len(xs)})" if "correct" in m else ""
    print(json.dumps(info) if args.json else f"{args.model}: {task}: {describe(task, m)}{extra} on {ds.name}, {how}")
    return 0
