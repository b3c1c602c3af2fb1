#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Runtime flash of MobileNet v1 0.25 96x96 (random weights, int8; devtools/mobilenet.py) per board:
flash - weights - model constants, as bench/firmware.py counts it for the MLPerf Tiny models (target
14 KB = 14,336 B, issue #16). Build only: the golden interpreter aborts on this model, so
bench/firmware.py (which runs TFLite Micro beside QEMU) cannot take it.

    python bench/mobilenet_flash.py [--boards qemu-m4,nucleo-f401re,nucleo-f746zg] [--out build/bench-mobilenet]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # devtools/ sits beside the package

from devtools.mobilenet import mobilenet_v1_025  # noqa: E402
from ilwp_embedded import pipeline  # noqa: E402
from ilwp_embedded.target.boards import resolve_board  # noqa: E402

LIMIT = 14 * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="qemu-m4,nucleo-f401re,nucleo-f746zg")
    ap.add_argument("--out", default="build/bench-mobilenet")
    args = ap.parse_args()
    out = Path(args.out)
    model = pipeline.load(mobilenet_v1_025(out / "mnv1_025_96.tflite"))
    print(f"{'board':16} {'mode':6} {'flash':>8} {'weights':>8} {'consts':>7} {'runtime':>8}  (limit {LIMIT})")
    worst = 0
    for b in args.boards.split(","):
        fw = pipeline.build(resolve_board(b), model, out / b, "auto")
        runtime = fw.flash_bytes - fw.weights_coded_bytes - fw.model_const_bytes
        worst = max(worst, runtime)
        print(f"{b:16} {fw.decode_mode:6} {fw.flash_bytes:8d} {fw.weights_coded_bytes:8d} {fw.model_const_bytes:7d} {runtime:8d}")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
