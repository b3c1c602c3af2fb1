# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Single against sharded validation in QEMU (ResNet-8, lossless ILWP, qemu-m4): the per-build
and per-image costs that docs/scale.md's estimate starts from, and the merged result checked equal
to the single run.

    PYTHONPATH=. ILWP_DATA_DIR=../shared/data python bench/sharded.py [--images 200] [--shards 4]
        [--cluster local:2]

Prints one JSON object:
- build_s: load + ILWP coding + plan + generate + offline PlatformIO build, once;
- golden_s: the golden outputs of every image (TFLite Micro), computed once and cached;
- single: one QEMU, every image (the golden outputs given): seconds, seconds per image;
- in_turn: `--shards` QEMUs one after the other (run/shards.py): seconds;
- cluster: the same shards as Ray tasks on `--cluster` (run/cluster.py; needs the extra): seconds,
  Ray's start-up included (`cluster_connect_s` alone);
- equal: the merged records equal the single run's (index, label, classes, bit-exactness, max
  difference, decode ticks), latencies within one SysTick tick (40 instructions), the verdict and
  accuracies equal: true or the first difference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

from ilwp_embedded import pipeline
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.golden import prepare_inputs
from ilwp_embedded.ingest.tflite_io import graph_hash
from ilwp_embedded.run.golden_cache import golden_outputs
from ilwp_embedded.run.shards import run_in_turn
from ilwp_embedded.run.validate import validate_model
from ilwp_embedded.target.boards import resolve_board

DATA = Path(os.environ.get("ILWP_DATA_DIR", "../shared/data"))
RESNET8 = DATA / "models/mlperf_tiny/image_classification/pretrainedResnet_quant.tflite"


def _difference(a, b) -> str | None:
    """None when `b` (merged) equals `a` (single) but for wall time, link counters and latency
    within one tick; else the first difference."""
    if (a.count, a.bit_exact, a.mismatches, a.accuracy_device, a.accuracy_host) != (
            b.count, b.bit_exact, b.mismatches, b.accuracy_device, b.accuracy_host):
        return "verdict or accuracy"
    for x, y in zip(a.records, b.records):
        if dataclasses.replace(x, elapsed=0, rx_in_run=0) != dataclasses.replace(y, elapsed=0, rx_in_run=0):
            return f"record {x.index}"
        if abs(x.elapsed - y.elapsed) > 40:
            return f"record {x.index} latency {x.elapsed} vs {y.elapsed}"
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--cluster", default=None, help="also run the shards on Ray: local[:N], auto, ray://...")
    args = ap.parse_args()
    board = resolve_board("qemu-m4")
    out: dict = {"images": args.images, "shards": args.shards}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.monotonic()
        model = pipeline.load(RESNET8)
        fw = pipeline.build(board, model, Path(tmp) / "fw")
        out["build_s"] = round(time.monotonic() - t, 2)
        ds = load_dataset("cifar10-raw200", DATA).take(args.images)
        xs = prepare_inputs(ds, model.graph.tensors[model.graph.inputs[0]])
        t = time.monotonic()
        want = golden_outputs(model.graph, xs, graph_hash(model.graph), Path(tmp) / "golden")
        out["golden_s"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        single = validate_model(board, model.graph, xs, ds.y, elf=fw.elf, want=want)
        s = time.monotonic() - t
        out["single"] = {"s": round(s, 2), "s_per_image": round(s / args.images, 4), "passed": single.passed,
                         "instructions_median": single.latency.median}
        t = time.monotonic()
        turn = run_in_turn(board, model.graph, xs, ds.y, args.shards, elf=fw.elf, want=want)
        out["in_turn"] = {"s": round(time.monotonic() - t, 2), "passed": turn.passed}
        out["equal"] = {"in_turn": _difference(single, turn) or True}
        if args.cluster:
            from ilwp_embedded.run.cluster import connect, run_on_cluster

            t = time.monotonic()
            connect(args.cluster)  # run_on_cluster finds it initialised, and shuts it down
            out["cluster_connect_s"] = round(time.monotonic() - t, 2)
            t = time.monotonic()
            c = run_on_cluster(args.cluster, board, model.graph, xs, ds.y, args.shards, elf=fw.elf, want=want)
            out["cluster"] = {"spec": args.cluster, "s": round(time.monotonic() - t, 2), "passed": c.passed,
                              "nodes": sorted({r["node"] for r in c.shards})}
            out["equal"]["cluster"] = _difference(single, c) or True
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
