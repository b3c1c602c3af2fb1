# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Harness throughput in QEMU: the serial link's rate, and the time to validate N CIFAR images
(default 200) with the generated ResNet-8 (raw weights, portable kernels): inputs over serial with
uploads overlapping runs (protocol v2: two inputs in flight), inputs by semihosting (what
`ilwp-embed validate` does in QEMU by default), and, side by side in blocks on the same firmware,
serial uploads in turn against overlapped.

    PYTHONPATH=. ILWP_DATA_DIR=../shared/data python bench/harness_throughput.py [--images 200] [--board qemu-m4]

Prints one JSON object:
- upload: stop-and-wait uploads alone (each INPUT chunk ACKed before the next), us per payload byte;
- link_stream: INPUT frames of `--upload-images` images written at once, the device idle: the
  link's own rate now (us per wire byte), the limit any upload scheme meets on this machine today;
- validate: `validate()` of all images with inputs over serial (`--inputs-via serial`): seconds,
  input payload us per byte over the whole run, efficiency against the 45 us/byte QEMU figure and
  against link_stream, bytes the device received while it computed, bit-exactness, latency;
- validate_semihosting: the same images, inputs read by the board from a host file (the default
  in QEMU): seconds, bit-exactness, latency;
- side_by_side: the first `--compare-images` images in blocks of `--block`, rotating between
  serial uploads in turn with the runs (Device.infer, one input in flight), serial overlapped
  (Device.infer_many) and semihosting: ms per image of each and the speed-ups, measured in the same
  minutes (the machine's load drifts too much for runs minutes apart to be compared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import tempfile
import time
from pathlib import Path

from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.firmware import build_inference_firmware
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.generate.codegen import generate
from ilwp_embedded.golden import prepare_inputs
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.run import framing as P
from ilwp_embedded.run.link import QemuLink
from ilwp_embedded.run.session import Device
from ilwp_embedded.run.validate import validate

LINK_LIMIT_US_PER_BYTE = 45.0  # QEMU's UART on a quiet machine (shared/notes/toolchain.md)


def stream_rate(dev: Device, link, x, images: int) -> dict:
    """Write the INPUT frames of `images` uploads of x at once, then wait for every ACK."""
    data = x.tobytes()
    chunk = dev.hello_info.max_payload - 4
    frames = [P.encode_frame(P.INPUT, dev._next_seq(), struct.pack("<I", off) + data[off:off + chunk])
              for _ in range(images) for off in range(0, len(data), chunk)]
    blob = b"".join(frames)
    t = time.monotonic()
    link.write(blob)
    for _ in frames:
        f = dev.read_frame(30.0)
        if f is None or f.type != P.ACK:
            raise RuntimeError(f"link stream: no ACK ({f})")
    s = time.monotonic() - t
    return {"images": images, "seconds": round(s, 3), "wire_bytes": len(blob),
            "us_per_wire_byte": round(s / len(blob) * 1e6, 1),
            "us_per_payload_byte": round(s / (images * len(data)) * 1e6, 1)}


def side_by_side(dev: Device, xs, block: int) -> dict:
    """Blocks of `block` images in rotation (the machine's load drifts; rotating blocks measures
    the three in the same minutes): serial uploads in turn with runs (Device.infer, one input in
    flight), serial overlapped (infer_many), and semihosting (infer_many, inputs from a file)."""
    modes = ("serial_in_turn", "serial_overlapped", "semihosting")
    secs = dict.fromkeys(modes, 0.0)
    count = dict.fromkeys(modes, 0)
    for b, start in enumerate(range(0, len(xs), block)):
        mode, part = modes[b % len(modes)], xs[start:start + block]
        t = time.monotonic()
        if mode == "serial_in_turn":
            for x in part:
                dev.infer(x)
        else:
            dev.inputs_via = "semihosting" if mode == "semihosting" else "serial"
            for _ in dev.infer_many(part):
                pass
            dev.inputs_via = "serial"
        secs[mode] += time.monotonic() - t
        count[mode] += len(part)
    res: dict = {"block": block}
    for m in modes:
        if count[m]:
            res[m] = {"images": count[m], "ms_per_image": round(secs[m] / count[m] * 1e3)}
    if count["serial_in_turn"] and count["serial_overlapped"]:
        ms = {m: secs[m] / count[m] for m in modes if count[m]}
        res["speedup_overlapped_vs_in_turn"] = round(ms["serial_in_turn"] / ms["serial_overlapped"], 2)
        if "semihosting" in ms:
            res["speedup_semihosting_vs_in_turn"] = round(ms["serial_in_turn"] / ms["semihosting"], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="qemu-m4")
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--upload-images", type=int, default=10, help="uploads timed without RUN")
    ap.add_argument("--compare-images", type=int, default=90, help="images in the side-by-side blocks")
    ap.add_argument("--block", type=int, default=10)
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
    nbytes = gen.input_bytes

    res: dict = {"board": board.id, "model_hash": gen.model_hash, "input_bytes": nbytes,
                 "link_limit_us_per_byte": LINK_LIMIT_US_PER_BYTE, "load_average_start": os.getloadavg()[0]}
    with QemuLink(board, fw.elf) as link:
        dev = Device(link)
        t = time.monotonic()
        dev.connect()
        res["boot_to_hello_s"] = round(time.monotonic() - t, 3)
        res["rx_buffer"] = dev.hello_info.rx_buffer
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
        res["upload"] = {
            "images": n_up, "seconds": round(up_s, 3),
            "us_per_payload_byte": round(up_s / (n_up * nbytes) * 1e6, 1),
            "wire_bytes": dev.stats.bytes_sent - sent0,
            "efficiency_vs_limit": round(LINK_LIMIT_US_PER_BYTE / (up_s / (n_up * nbytes) * 1e6), 3),
        }
        res["link_stream"] = stream_rate(dev, link, xs[0], n_up)

        phase = {"upload": 0.0, "run": 0.0}
        send_input, finish_ahead, run = dev.send_input, dev.finish_ahead, dev.run

        def timed(fn, key):
            def wrapper(*a, **kw):
                t0 = time.monotonic()
                try:
                    return fn(*a, **kw)
                finally:
                    phase[key] += time.monotonic() - t0
            return wrapper

        dev.send_input, dev.finish_ahead, dev.run = (timed(send_input, "upload"), timed(finish_ahead, "upload"),
                                                     timed(run, "run"))
        st0 = (dev.stats.ahead_bytes, dev.stats.rx_in_run_bytes)
        t = time.monotonic()
        r = validate(dev, graph, xs, ds.y, clock_hz=board.cpu_hz, expect_hash=gen.model_hash)
        total = time.monotonic() - t
        dev.send_input, dev.finish_ahead, dev.run = send_input, finish_ahead, run
        us_per_byte = total / (r.count * nbytes) * 1e6
        res["validate"] = {
            "images": r.count, "seconds": round(total, 2),
            "upload_wait_s": round(phase["upload"], 2),
            "run_s": round(phase["run"], 2), "other_s": round(total - phase["upload"] - phase["run"], 2),
            "us_per_input_byte": round(us_per_byte, 1),
            "efficiency_vs_limit": round(LINK_LIMIT_US_PER_BYTE / us_per_byte, 3),
            "efficiency_vs_link_stream": round(res["link_stream"]["us_per_payload_byte"] / us_per_byte, 3),
            "input_bytes_streamed_ahead": dev.stats.ahead_bytes - st0[0],
            "input_bytes_received_during_runs": dev.stats.rx_in_run_bytes - st0[1],
            "bit_exact": r.bit_exact, "accuracy_device": r.accuracy_device, "accuracy_host": r.accuracy_host,
            "latency": {"unit": r.latency.unit, "median": r.latency.median, "p95": r.latency.p95,
                        "min": r.latency.min, "max": r.latency.max,
                        # ms only from cycles (a real board's counter); QEMU counts instructions: None
                        "median_ms_at_clock": None if r.latency.median_ms is None else round(r.latency.median_ms, 1),
                        "clock_hz": r.latency.clock_hz},
            "link": r.link,
        }
        dev.inputs_via = "semihosting"
        t = time.monotonic()
        r = validate(dev, graph, xs, ds.y, clock_hz=board.cpu_hz, expect_hash=gen.model_hash)
        total = time.monotonic() - t
        dev.inputs_via = "serial"
        res["validate_semihosting"] = {
            "images": r.count, "seconds": round(total, 2), "ms_per_image": round(total / r.count * 1e3),
            "bit_exact": r.bit_exact, "accuracy_device": r.accuracy_device,
            "latency": {"median": r.latency.median, "min": r.latency.min, "max": r.latency.max},
        }
        res["side_by_side"] = side_by_side(dev, xs[:args.compare_images], args.block)
    res["load_average_end"] = os.getloadavg()[0]
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
