#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Train an int8 CIFAR ResNet so that inter-layer prediction pays (ilwp_embedded/zoo/predtrain.py).

    python scripts/train_prediction.py models/cifar_resnet20_int8.tflite -o build/pred/r20_pred.tflite \\
        --epochs 10 --lam 1.0 --rule chain --step-intra 1 --step-residual 1

Progress on stderr (tqdm); one JSON line per epoch (validation top-1 of the emulated int8 graph on
the held-back split, measured coded sizes with inter prediction and intra-only) on stdout and in
OUT.jsonl; OUT is rewritten after every epoch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ilwp_embedded.errors import IlwpError  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("-o", "--output", required=True, type=Path)
    ap.add_argument("--rule", default="chain", choices=("chain", "role", "star", "none"))
    ap.add_argument("--epochs", type=float, default=10.0)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--prox", type=float, default=0.0, help="proximal L1 shrinkage of residuals, quanta per step")
    ap.add_argument("--lam-ramp", type=float, default=0.3)
    ap.add_argument("--lossy-from", type=float, default=1.0)
    ap.add_argument("--step-intra", type=int, default=1)
    ap.add_argument("--step-residual", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--distill", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--eval-every", type=int, default=0, help="steps between checkpoints (0: every epoch)")
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--only-steps", action="store_true",
                    help="only write OUT.steps.json (the per-tensor steps of these settings) and exit")
    a = ap.parse_args()
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.zoo.predtrain import Schedule, prediction_pairs, train_prediction

    try:
        g = load_graph(a.model)
        pairs = prediction_pairs(g, a.rule)
        print(f"{len(pairs)} predicted tensors ({sum(g.tensors[w].data.size for w in pairs)} weights), rule {a.rule}",
              file=sys.stderr, flush=True)
        a.output.parent.mkdir(parents=True, exist_ok=True)
        import json

        from ilwp_embedded.fileio import atomic_write_bytes
        from ilwp_embedded.zoo.predtrain import steps_for

        steps = steps_for(g, a.rule, a.step_intra, a.step_residual)
        atomic_write_bytes(str(a.output) + ".steps.json", json.dumps({str(k): v for k, v in steps.items()}).encode())
        if a.only_steps:
            return 0
        sched = Schedule(a.epochs, a.lam, a.lam_ramp, a.lossy_from, a.step_intra, a.step_residual, a.lr,
                         a.distill, a.batch, a.eval_every, a.prox)
        train_prediction(g, pairs, sched, a.output, data_dir=a.data_dir, seed=a.seed, train_limit=a.train_limit,
                         log=lambda m: print(m, flush=True))
    except IlwpError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
