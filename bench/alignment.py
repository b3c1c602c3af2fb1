#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""What channel alignment buys on models that cannot be retrained, measured side by side.

For each model: lossless coded bytes intra-only vs with inter prediction (collocated, searched and
channel-aligned candidates, each kept only where its measured record is smaller), how many tensors
picked each mode, and for every same-shape pair the correlation of collocated int8 weights before
and after the best channel permutation (the one the encoder's aligned mode would code).

    python bench/alignment.py [--models resnet8,resnet8-large,kws,resnet20,resnet32]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ilwp_embedded.compress.encoder import channel_layout, encode_graph  # noqa: E402
from ilwp_embedded.compress.predict import align_channels, as_matrix  # noqa: E402
from ilwp_embedded.ingest import load_graph  # noqa: E402

DATA = Path(os.environ.get("ILWP_DATA_DIR") or REPO.parent / "shared" / "data")
MLPERF = DATA / "models" / "mlperf_tiny"
MODELS = {
    "resnet8": MLPERF / "image_classification" / "pretrainedResnet_quant.tflite",
    "resnet8-large": MLPERF / "image_classification" / "pretrainedResnet_large_int8.tflite",
    "kws": MLPERF / "streaming_wakeword" / "str_ww_ref_model.tflite",
    "resnet20": REPO / "models" / "cifar_resnet20_int8.tflite",
    "resnet32": REPO / "models" / "cifar_resnet32_int8.tflite",
}


def pair_correlations(g) -> list[tuple[float, float]]:
    """(|r| collocated, |r| after the best permutation) for each tensor and its previous same-shape tensor."""
    last, out = {}, []
    for op, t in g.weight_tensors():
        C, minor = channel_layout(t, op.op)
        W = as_matrix(t.data.reshape(-1).astype(np.float64), C, minor)
        key = W.shape
        if key in last:
            R = last[key]
            r0 = abs(np.corrcoef(W.ravel(), R.ravel())[0, 1])
            # best permutation by residual energy, as the encoder's aligned mode chooses it
            energy = ((W[:, None, :] - R[None, :, :]) ** 2).sum(-1)
            perm = align_channels(energy)
            r1 = abs(np.corrcoef(W.ravel(), R[perm].ravel())[0, 1])
            out.append((r0, r1))
        last[key] = W
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS))
    a = ap.parse_args()
    print("| model | intra-only B | with inter + alignment B | saved | modes chosen | pairs | median |r| collocated | median |r| aligned |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for name in a.models.split(","):
        path = MODELS[name]
        if not path.is_file():
            print(f"| {name} | (missing: {path.name}) | | | | | | |")
            continue
        g = load_graph(path)
        intra = encode_graph(g, 1, inter=False, skeleton=False)
        inter = encode_graph(g, 1, inter=True, skeleton=False)
        modes = collections.Counter(s.mode for s in inter.stats)
        rs = pair_correlations(g)
        r0 = np.median([r[0] for r in rs]) if rs else float("nan")
        r1 = np.median([r[1] for r in rs]) if rs else float("nan")
        saved = 1 - inter.coded_bytes / intra.coded_bytes
        print(f"| {name} | {intra.coded_bytes} | {inter.coded_bytes} | {100 * saved:.2f}% | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(modes.items()))} | {len(rs)} | {r0:.3f} | {r1:.3f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
