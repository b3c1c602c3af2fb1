#!/usr/bin/env python3
"""Firmware cost per model and board, measured side by side in one run.

For each model and board: the uncompressed int8 build (raw) and the compressed builds (weights
decoded once at boot, and per layer), run in QEMU with -icount shift=0 through the real serial
protocol. Prints instructions per inference, decode instructions, flash and RAM against the raw
build, and activation RAM against TFLite Micro's minimal arena (bisected with the tflite-micro
interpreter). Targets (issue #5): runtime <= 14 KB flash beyond the weights; arena <= TFLM's;
ResNet-8 <= 20 M instructions on qemu-m4; per-layer decoding <= 10% of inference.

    python bench/firmware.py [--boards qemu-m4,qemu-stm32f4] [--models resnet8,kws[,resnet20]] [--inputs 3]
                             [--out build/bench-firmware]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from ilwp_embedded import pipeline
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.golden import Golden, prepare_inputs, tflm_minimal_arena
from ilwp_embedded.run.link import open_link
from ilwp_embedded.run.session import Device
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.generate.decode_plan import plan_weights_explained
from ilwp_embedded.target.firmware import budget

REPO = Path(__file__).resolve().parents[1]
MODELS = {  # relative to $ILWP_DATA_DIR, or to the repository for the zoo's own models
    "resnet8": "models/mlperf_tiny/image_classification/pretrainedResnet_quant.tflite",
    "kws": "models/mlperf_tiny/streaming_wakeword/str_ww_ref_model.tflite",
    "resnet20": "repo:models/resnet20_cifar10_int8.tflite",
}


def inputs_for(graph, n: int) -> np.ndarray:
    t = graph.tensors[graph.inputs[0]]
    if t.shape == (1, 32, 32, 3):
        return prepare_inputs(load_dataset("cifar10-raw200").take(n), t)
    return np.random.default_rng(0).integers(-128, 128, (n,) + t.shape[1:]).astype(np.int8)


def run_in_qemu(board, elf: str, xs: np.ndarray, golden: Golden):
    link = open_link(f"qemu:{board.id}", elf=elf)
    try:
        dev = Device(link, run_timeout_s=120.0)
        info = dev.connect(banner_timeout_s=getattr(link, "banner_timeout_s", 5.0))
        el, dec = [], []
        for x in xs:
            out, elapsed, unit, dticks = dev.infer(x)
            if not np.array_equal(out, golden.run(x).reshape(-1)):
                raise IlwpError(f"{board.id}: output differs from the golden model")
            el.append(elapsed)
            dec.append(dticks)
        return info, float(np.median(el)), float(np.median(dec)), unit
    finally:
        link.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="qemu-m4,qemu-stm32f4")
    ap.add_argument("--models", default="resnet8,kws")
    ap.add_argument("--inputs", type=int, default=3)
    ap.add_argument("--out", default="build/bench-firmware")
    a = ap.parse_args()
    data = Path(os.environ.get("ILWP_DATA_DIR", "../shared/data"))
    rows, planned = [], []
    for mname in a.models.split(","):
        rel = MODELS[mname]
        model = pipeline.load(REPO / rel[5:] if rel.startswith("repo:") else data / rel)
        graph, cont = model.graph, model.coded
        golden = Golden(graph)
        xs = inputs_for(graph, a.inputs)
        tflm = tflm_minimal_arena(graph)
        for bname in a.boards.split(","):
            board = resolve_board(bname)
            plan = plan_weights_explained(budget(board), graph, cont, "auto")
            planned.append(f"{mname} on {bname}: the planner picks {plan.gen.decode_mode} ({plan.reason})")
            base = None
            for mode in ("raw", "once", "layer"):
                try:
                    fw = pipeline.build(board, model, Path(a.out) / mname / bname / mode, mode)
                    _, instr, dec, unit = run_in_qemu(board, fw.elf, xs, golden)
                except IlwpError as e:
                    rows.append((mname, bname, mode, f"does not fit or failed: {e}"))
                    continue
                base = base or fw
                runtime = fw.flash_bytes - fw.weights_coded_bytes - fw.model_const_bytes
                rows.append((mname, bname, mode, fw, instr, dec, unit, runtime, tflm, base))
    print(f"{'model':8} {'board':13} {'weights':7} {'instr/inf':>11} {'decode':>10} {'dec%':>6} "
          f"{'flash':>8} {'vs raw':>7} {'runtime':>8} {'RAM':>8} {'vs raw':>7} {'arena':>7} {'TFLM':>7} {'arena/TFLM':>10}")
    for r in rows:
        if len(r) == 4:
            print(f"{r[0]:8} {r[1]:13} {r[2]:7} {r[3]}")
            continue
        m, b, mode, fw, instr, dec, unit, runtime, tflm, base = r
        dec_pct = 100.0 * dec / instr if mode == "layer" else float("nan")
        print(f"{m:8} {b:13} {mode:7} {instr:11.0f} {dec:10.0f} {dec_pct:6.1f} {fw.flash_bytes:8d} "
              f"{fw.flash_bytes / base.flash_bytes:7.3f} {runtime:8d} {fw.ram_bytes:8d} {fw.ram_bytes / base.ram_bytes:7.3f} "
              f"{fw.arena_bytes:7d} {tflm:7d} {fw.arena_bytes / tflm:10.3f}")
    print("unit: instructions (QEMU -icount shift=0); decode: per inference for 'layer', at boot for 'once' (CRC"
          " check included); dec%: per-layer decode / inference; runtime = flash beyond the weights and the model's"
          " constants (kernels, decoder, protocol, main, board)")
    print("\n".join(planned))
    return 0


if __name__ == "__main__":
    sys.exit(main())
