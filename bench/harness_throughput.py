"""Harness throughput in QEMU: link bytes/s against the ~45 us/byte limit, and the time to
validate N CIFAR images (default 200) with the generated ResNet-8 (raw weights, portable kernels).

    PYTHONPATH=. ILWP_DATA_DIR=../shared/data python bench/harness_throughput.py [--images 200] [--board qemu-m4]

Prints one JSON object: round-trip time, upload bytes/s and us/byte (payload bytes of INPUT
frames only, ACKs included in the time), and for the validation: total seconds, seconds in
uploads, in RUN (emulated inference), in the rest (golden model overlaps RUN), bit-exactness and
the latency in the board's timer unit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ilwp_embedded.build.boards import resolve_board
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.generate.codegen import generate
from ilwp_embedded.golden import prepare_inputs
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.build.firmware import build_inference_firmware
from ilwp_embedded.run.link import QemuLink
from ilwp_embedded.run.protocol import Device
from ilwp_embedded.run.validate import validate

LINK_LIMIT_US_PER_BYTE = 45.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="qemu-m4")
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--upload-images", type=int, default=30, help="uploads timed without RUN")
    ap.add_argument("--model", default=os.path.join(os.environ.get("ILWP_DATA_DIR", "../shared/data"),
                                                    "models/mlperf_tiny/image_classification/pretrainedResnet_quant.tflite"))
    ap.add_argument("--build-dir", default=None)
    args = ap.parse_args()

    board = resolve_board(args.board)
    graph = load_graph(args.model)
    gen = generate(graph)
    out = Path(args.build_dir or tempfile.mkdtemp(prefix="ilwp-bench-"))
    fw = build_inference_firmware(board, gen, out)
    ds = load_dataset("cifar10-raw200").take(args.images)
    xs = prepare_inputs(ds, graph.tensors[graph.inputs[0]])

    res: dict = {"board": board.id, "model_hash": gen.model_hash, "input_bytes": gen.input_bytes,
                 "link_limit_us_per_byte": LINK_LIMIT_US_PER_BYTE}
    with QemuLink(board, fw.elf) as link:
        dev = Device(link)
        t = time.monotonic()
        dev.connect()
        res["boot_to_hello_s"] = round(time.monotonic() - t, 3)
        rtts = []
        for _ in range(20):
            t = time.perf_counter()
            dev.echo(b"")
            rtts.append(time.perf_counter() - t)
        res["round_trip_ms_median"] = round(statistics.median(rtts) * 1e3, 2)

        n_up = min(args.upload_images, len(xs))
        sent0 = dev.stats.bytes_sent
        t = time.monotonic()
        for x in xs[:n_up]:
            dev.send_input(x)
        up_s = time.monotonic() - t
        payload = n_up * gen.input_bytes
        res["upload"] = {
            "images": n_up, "seconds": round(up_s, 3),
            "payload_bytes_per_s": round(payload / up_s),
            "us_per_payload_byte": round(up_s / payload * 1e6, 1),
            "wire_bytes": dev.stats.bytes_sent - sent0,
            "efficiency_vs_limit": round(LINK_LIMIT_US_PER_BYTE / (up_s / payload * 1e6), 3),
            "projected_200_images_s": round(up_s / n_up * 200, 1),
        }

        phase = {"upload": 0.0, "run": 0.0}
        send_input, run = dev.send_input, dev.run

        def timed_send(x):
            t0 = time.monotonic()
            send_input(x)
            phase["upload"] += time.monotonic() - t0

        def timed_run(on_sent=None):
            t0 = time.monotonic()
            try:
                return run(on_sent=on_sent)
            finally:
                phase["run"] += time.monotonic() - t0

        dev.send_input, dev.run = timed_send, timed_run
        t = time.monotonic()
        r = validate(dev, graph, xs, ds.y, clock_hz=board.cpu_hz, expect_hash=gen.model_hash)
        total = time.monotonic() - t
    res["validate"] = {
        "images": r.count, "seconds": round(total, 2), "upload_s": round(phase["upload"], 2),
        "run_s": round(phase["run"], 2), "other_s": round(total - phase["upload"] - phase["run"], 2),
        "bit_exact": r.bit_exact, "accuracy_device": r.accuracy_device, "accuracy_host": r.accuracy_host,
        "latency": {"unit": r.latency.unit, "median": r.latency.median, "p95": r.latency.p95,
                    "median_ms_at_clock": round(r.latency.median_ms, 1), "clock_hz": r.latency.clock_hz},
        "link": r.link,
    }
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
