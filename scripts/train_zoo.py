#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Reproduce the zoo baselines: float .keras and int8 .tflite of the CIFAR ResNets.

    python scripts/train_zoo.py --depth 20 --epochs 30 --out models/
"""

import argparse
import subprocess
import sys
from pathlib import Path

from ilwp_embedded.zoo.train import train


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args()
    keras_path = a.out / f"resnet{a.depth}_cifar10.keras"
    res = train(a.depth, a.epochs, keras_path, seed=a.seed, data_dir=a.data_dir,
                log=lambda m: print(m, flush=True))
    print(res, flush=True)
    # int8 conversion, calibrated on training images, through the product's own command.
    cmd = [sys.executable, "-m", "ilwp_embedded", "convert", str(keras_path), "-o",
           str(keras_path.with_name(f"resnet{a.depth}_cifar10_int8.tflite")),
           "--dataset", "cifar10", "--split", "train", "--input-range", "0:1", "--samples", "500"]
    if a.data_dir:
        cmd += ["--data-dir", a.data_dir]
    return subprocess.call(cmd)


if __name__ == "__main__":
    raise SystemExit(main())
