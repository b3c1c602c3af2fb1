"""`ilwp-embed demo`: the main job on the default target, as far as the pipeline goes today."""

from __future__ import annotations

from pathlib import Path

DEFAULT_BOARD = "qemu-m4"


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the default target (qemu-m4)")
    p.add_argument("--model", default=None, help="int8 .tflite (default: the bundled example)")
    p.add_argument("--dataset", default="cifar10-raw200")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from ilwp_embedded.bundled import bundled_model
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.golden import evaluate
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.ingest.inspect import format_summary, summarize
    from ilwp_embedded.ingest.support import require_firmware_ops, require_int8

    model = Path(args.model) if args.model else bundled_model(args.data_dir)
    print(f"[1/5] ingest  {model}")
    graph = load_graph(model)
    require_int8(graph, str(model))
    require_firmware_ops(graph, str(model))
    print(format_summary(summarize(graph), model.name))
    ds = load_dataset(args.dataset, args.data_dir).take(args.limit)
    res = evaluate(graph, ds, progress=True)
    print(f"        golden (TFLite Micro) top-1 {res.accuracy:.4f} ({res.correct}/{res.count}) on {ds.name}")
    for n, stage in ((2, "compress"), (3, "generate"), (4, "build"), (5, "validate")):
        print(f"[{n}/5] {stage:9} not built yet: the pipeline stops here")
    return 0
