#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Firmware cost per model and board, measured side by side in one run.

For each model and board: the uncompressed int8 build (raw) and the compressed builds (weights
decoded once at boot, and per layer), run in QEMU with -icount shift=0 through the real serial
protocol. Prints instructions per inference, decode instructions, flash and RAM against the raw
build, and activation RAM against TFLite Micro's minimal arena (bisected with the tflite-micro
interpreter). Targets (issue #5): runtime <= 14 KB flash beyond the weights; arena <= TFLM's;
ResNet-8 <= 20 M instructions on qemu-m4; per-layer decoding <= 10% of inference.

    python bench/firmware.py [--boards qemu-m4,qemu-stm32f4] [--models resnet8,kws[,resnet20]] [--inputs 3]
                             [--modes raw,once,layer] [--kernels portable[,cmsis-nn]] [--baseline GITREF]
                             [--no-cycles] [--out build/bench-firmware]

--kernels portable,cmsis-nn builds every model, board and mode with both kernel backends (CMSIS-NN:
$ILWP_CMSIS_NN, else the pinned copy of `ilwp-embed setup-cmsis-nn`) and ends with a side-by-side table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from ilwp_embedded import pipeline
from ilwp_embedded.cycles.profile import ProfiledRun
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate import backends
from ilwp_embedded.generate.backends import cmsis_nn_api
from ilwp_embedded.generate.decode_plan import plan_weights_explained
from ilwp_embedded.golden import Golden, prepare_inputs, tflm_minimal_arena
from ilwp_embedded.run.link import open_link
from ilwp_embedded.run.session import Device
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.firmware import budget

REPO = Path(__file__).resolve().parents[1]
MODELS = {  # relative to $ILWP_DATA_DIR, or to the repository for the zoo's own models
    "resnet8": "models/mlperf_tiny/image_classification/pretrainedResnet_quant.tflite",
    "kws": "models/mlperf_tiny/streaming_wakeword/str_ww_ref_model.tflite",
    "resnet20": "repo:models/cifar_resnet20_int8.tflite",
}


def inputs_for(graph, n: int) -> np.ndarray:
    t = graph.tensors[graph.inputs[0]]
    if t.shape == (1, 32, 32, 3):
        return prepare_inputs(load_dataset("cifar10-raw200").take(n), t)
    return np.random.default_rng(0).integers(-128, 128, (n,) + t.shape[1:]).astype(np.int8)


CURRENT_KERNELS = backends.PORTABLE_DIR


def kernels_at(ref: str, dest: Path) -> Path:
    """firmware/kernels/ as of git `ref`, extracted under `dest` (git archive; the checkout is untouched)."""
    import subprocess
    import tarfile

    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / "kernels.tar"
    with open(tar, "wb") as f:
        subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "firmware/kernels"], stdout=f,
                       check=True)
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")
    return dest / "firmware" / "kernels"


def run_in_qemu(board, elf: str, xs: np.ndarray, golden: Golden, profile: bool = False):
    """(HELLO info, median instructions (SysTick), median decode ticks, unit, cycles summary or None)."""
    prof = ProfiledRun(Path(elf), board) if profile else None
    link = open_link(f"qemu:{board.id}", elf=elf, qemu_extra=prof.extra if prof else ())
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
    finally:
        link.close()
    return info, float(np.median(el)), float(np.median(dec)), unit, prof.result() if prof else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="qemu-m4,qemu-stm32f4")
    ap.add_argument("--models", default="resnet8,kws")
    ap.add_argument("--inputs", type=int, default=3)
    ap.add_argument("--out", default="build/bench-firmware")
    ap.add_argument("--modes", default="raw,once,layer", help="weight modes to build (raw, once, layer)")
    ap.add_argument("--kernels", default="portable", help="kernel backends, comma-separated: portable,cmsis-nn")
    ap.add_argument("--baseline", default=None, metavar="REF",
                    help="also build every configuration with firmware/kernels/ as of git REF (before/after "
                         "side by side; the generated code and the rest of the firmware are this checkout's)")
    ap.add_argument("--no-cycles", action="store_true", help="skip the QEMU cycle profile (instructions only)")
    a = ap.parse_args()
    kernel_sets = a.kernels.split(",")
    api = cmsis_nn_api() if "cmsis-nn" in kernel_sets else None
    data = Path(os.environ.get("ILWP_DATA_DIR", "../shared/data"))
    baseline = kernels_at(a.baseline, Path(a.out) / "baseline-kernels") if a.baseline else None
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
            for mode in a.modes.split(","):
                for kern in kernel_sets:
                    for kdir in ([None, baseline] if baseline else [None]):
                        label = mode if kdir is None else f"{mode}@{a.baseline}"[:20]
                        try:
                            backends.PORTABLE_DIR = kdir or CURRENT_KERNELS
                            fw = pipeline.build(board, model, Path(a.out) / mname / bname / label.replace("@", "-") / kern,
                                                mode, kern)
                            _, instr, dec, unit, cyc = run_in_qemu(board, fw.elf, xs, golden, profile=not a.no_cycles)
                        except IlwpError as e:
                            rows.append((mname, bname, label, kern, f"does not fit or failed: {e}"))
                            continue
                        finally:
                            backends.PORTABLE_DIR = CURRENT_KERNELS
                        base = base or fw
                        runtime = fw.flash_bytes - fw.weights_coded_bytes - fw.model_const_bytes
                        rows.append((mname, bname, label, kern, fw, instr, dec, unit, runtime, tflm, base, cyc))
    print(f"{'model':8} {'board':13} {'weights':20} {'kernels':8} {'instr/inf':>11} {'cyc low':>11} {'cyc nominal':>11} "
          f"{'cyc high':>11} {'decode':>10} {'dec%':>6} "
          f"{'flash':>8} {'vs raw':>7} {'runtime':>8} {'RAM':>8} {'vs raw':>7} {'arena':>7} {'TFLM':>7} {'arena/TFLM':>10}")
    for r in rows:
        if len(r) == 5:
            print(f"{r[0]:8} {r[1]:13} {r[2]:20} {r[3]:8} {r[4]}")
            continue
        m, b, mode, kern, fw, instr, dec, unit, runtime, tflm, base, cyc = r
        dec_pct = 100.0 * dec / instr if mode == "layer" else float("nan")
        cy = [f"{cyc[k]:11.0f}" if cyc and cyc.get(k) is not None else f"{'-':>11}" for k in ("low", "nominal", "high")]
        print(f"{m:8} {b:13} {mode:20} {kern:8} {instr:11.0f} {' '.join(cy)} {dec:10.0f} {dec_pct:6.1f} {fw.flash_bytes:8d} "
              f"{fw.flash_bytes / base.flash_bytes:7.3f} {runtime:8d} {fw.ram_bytes:8d} {fw.ram_bytes / base.ram_bytes:7.3f} "
              f"{fw.arena_bytes:7d} {tflm:7d} {fw.arena_bytes / tflm:10.3f}")
    print("instr/inf: instructions (QEMU -icount shift=0, SysTick); cycles: Cortex-M4 TRM timing table over the"
          " QEMU plugin's per-PC counts of the inference (ilwp_embedded/cycles; zero-wait memory), median per"
          " inference, '-' where the core has no model (Cortex-M7); decode: per inference for 'layer', at boot for 'once' (CRC"
          " check included); dec%: per-layer decode / inference; runtime = flash beyond the weights and the model's"
          " constants (kernels, decoder, protocol, main, board)")
    print("\n".join(planned))
    if len(kernel_sets) > 1:
        side_by_side(rows, kernel_sets, api)
    return 0


def side_by_side(rows, kernel_sets, api) -> None:
    """One line per model, board and mode: instructions and flash of each backend (markdown)."""
    got = {(r[0], r[1], r[2], r[3]): r for r in rows if len(r) > 5}
    keys = list(dict.fromkeys((r[0], r[1], r[2]) for r in rows))
    print(f"\nside by side ({', '.join(kernel_sets)}; cmsis-nn = CMSIS-NN {api.version} at {api.root}):")
    print("| model | board | weights | " + " | ".join(f"instructions {k}" for k in kernel_sets)
          + " | " + " | ".join(f"flash {k}" for k in kernel_sets)
          + " | " + " | ".join(f"runtime flash {k}" for k in kernel_sets) + " | " + " | ".join(f"RAM {k}" for k in kernel_sets) + " |")
    print("|---|---|---|" + "---:|" * (4 * len(kernel_sets)))
    for m, b, mode in keys:
        rs = [got.get((m, b, mode, k)) for k in kernel_sets]
        cell = lambda f: " | ".join("failed" if r is None else f(r) for r in rs)  # noqa: E731
        print(f"| {m} | {b} | {mode} | {cell(lambda r: f'{r[5]:,.0f}')} | {cell(lambda r: f'{r[4].flash_bytes:,} B')} | "
              f"{cell(lambda r: f'{r[8]:,} B')} | {cell(lambda r: f'{r[4].ram_bytes:,} B')} |")


if __name__ == "__main__":
    sys.exit(main())
