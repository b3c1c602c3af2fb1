#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Rate-accuracy curves of the zoo models, every method measured side by side in one run.

x: bits per weight with everything counted (coded records incl. tables and side info, the
container header and CRC; the model skeleton excluded, as for int8 where it is the same); each
point also carries the total with int32 biases and per-channel requantisation constants;
y: top-1 on all 10,000 images of the lossless CIFAR-10 test set (the fast LiteRT evaluator, see
ilwp_embedded/train/fasteval.py); `--golden N` re-scores the int8 reference and every trained point with
the golden interpreter (TFLite Micro) on the first N test images.
Models: the published CIFAR ResNets imported with `ilwp-embed import-resnet` (models/cifar_resnet*).
Points of models trained for prediction (`scripts/train_prediction.py`) come in with
`--trained MODEL:LABEL:PATH:INTRA_STEP:RESIDUAL_STEP:RULE` (repeatable): coded at the steps they were
trained for, with inter prediction, plus their lossless inter/intra-only sizes in trained.json.
Published anchors are drawn beside the curves (they count differently: see ANCHORS).

Methods: int8; TFLM-style lookup tables (k-means 16 / 32 clusters, 4 / 5-bit indices + table);
k-means + Huffman; ILWP post-training (rate-accuracy allocation at several multipliers);
ILWP with quantization-aware fine-tuning at those steps; ILWP on the model fine-tuned with the
inter-layer loss (intra-only vs with inter prediction and channel alignment). Step allocations
use the validation split only; the test set only scores.

    python bench/rate_accuracy.py [--models resnet20,resnet32] [--limit 10000] [--qat-epochs 1]
                                  [--out build/rate-accuracy]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ilwp_embedded.train import fasteval  # noqa: E402
from ilwp_embedded.compress import baselines  # noqa: E402
from ilwp_embedded.train import ratesearch  # noqa: E402
from ilwp_embedded.compress.encoder import encode_graph  # noqa: E402
from ilwp_embedded.datasets import load_dataset  # noqa: E402
from ilwp_embedded.golden import prepare_inputs  # noqa: E402
from ilwp_embedded.ingest import load_graph  # noqa: E402

MODELS = {
    "resnet20": "models/cifar_resnet20_int8.tflite",
    "resnet32": "models/cifar_resnet32_int8.tflite",
    "resnet56": "models/cifar_resnet56_int8.tflite",
}
# Published anchors: (label, bits/weight, top-1 change in points against the paper's own baseline
# or None where drawn as a rate line only). Choi et al. (2018, universal DNN compression) count all
# parameters; EC2T (Marban et al. 2020) sparse ternary; TTQ (Zhu et al. 2017) ternary, ~2 bits.
ANCHORS = {
    "resnet32": [("Choi et al. universal", 0.68, None), ("Choi et al. uniform + Huffman", 1.44, None)],
    "resnet20": [("EC2T sparse ternary (-0.91 vs own baseline)", 1.31, -0.91), ("TTQ ~2 b/w", 2.0, None)],
}
# A model fine-tuned with the inter-layer loss (`ilwp-embed finetune`), next to its baseline.
ILL_SUFFIX = "_ill_int8.tflite"
LAMBDAS = tuple(10.0 ** e for e in (4.5, 5.0, 5.3, 5.6, 6.0, 6.5, 7.0))
QAT_LAMBDAS = "4.0,4.5"  # log10 lambda of the fine-tuned points


@dataclass
class Point:
    model: str
    method: str
    setting: str
    bits_per_weight: float
    top1: float
    coded_bytes: int
    total_bits_per_weight: float | None = None  # with int32 biases and requantisation constants
    golden_top1: float | None = None
    golden_images: int = 0


def totals(res) -> float | None:
    from ilwp_embedded.compress.blobinfo import total_fields

    return total_fields(res.coded_bytes, res.weights, res.graph)["total_bits_per_weight"] if res.graph else None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def kmeans_points(name, g, score) -> list[Point]:
    ts = [t for _, t in g.coded_weights()]
    n = sum(t.data.size for t in ts)
    out = []
    for k in (16, 32):
        shared, lut, huff = {}, 0, 0
        for t in ts:
            w, idx = baselines.kmeans(t.data, k)
            shared[t.index] = (w, None)
            lut += baselines.lut_bits(t.data.size, k)
            huff += baselines.huffman_coded_bits(idx, k)
        acc = score(g.with_tensor_data(shared))
        out.append(Point(name, f"LUT k-means {k}", f"{int(np.log2(k))}-bit indices", lut / n, acc, lut // 8))
        out.append(Point(name, "k-means + Huffman", f"{k} clusters", huff / n, acc, huff // 8))
    return out


def ilwp_points(name, g, score, xs_val, ys_val, inter: bool, method: str, lambdas=LAMBDAS) -> list[Point]:
    """Post-training ILWP at several Lagrange multipliers (allocation from validation images)."""
    rates, errors, sens = ratesearch.allocation_inputs(g, xs_val)
    out = []
    res = encode_graph(g, 1, inter=inter)
    out.append(Point(name, method, "lossless", 8 * res.coded_bytes / res.weights, score(res.graph), res.coded_bytes,
                     totals(res)))
    for lam in lambdas:
        steps = ratesearch.allocate(rates, errors, sens, lam)
        res = encode_graph(g, steps, inter=inter)
        out.append(Point(name, method, f"lambda 1e{np.log10(lam):.1f}", 8 * res.coded_bytes / res.weights,
                         score(res.graph), res.coded_bytes, totals(res)))
        log(f"  {name} {method} {out[-1].setting}: {out[-1].bits_per_weight:.3f} b/w top-1 {out[-1].top1:.4f}")
    return out, (rates, errors, sens)


def qat_points(name, g, score, alloc, epochs: float, lambdas, distill: float) -> list[Point]:
    from ilwp_embedded.zoo.graph_train import qat_finetune

    rates, errors, sens = alloc
    out = []
    for lam in lambdas:
        steps = ratesearch.allocate(rates, errors, sens, lam)
        tuned, val = qat_finetune(g, {t: ratesearch.step_quantizer(s) for t, s in steps.items()},
                                  epochs=epochs, distill=distill, log=log)
        res = encode_graph(tuned, steps, inter=False)
        out.append(Point(name, f"ILWP + QAT {epochs:g} ep", f"lambda 1e{np.log10(lam):.1f}",
                         8 * res.coded_bytes / res.weights, score(res.graph), res.coded_bytes, totals(res)))
        log(f"  {name} QAT {out[-1].setting}: {out[-1].bits_per_weight:.3f} b/w top-1 {out[-1].top1:.4f} (val {val:.4f})")
    return out


METHOD_SETTINGS = {  # post-training unless epochs is given
    "dqc": [{"bits": 3}, {"bits": 4}, {"bits": 5}, {"bits": 3, "epochs": 1.0}],
    "slq": [{"bits": 3}, {"bits": 4}],
    "mlq": [{}],
    "tq": [{"bits": 1}, {"bits": 2}, {"bits": 3}],
}


def method_points(name, g, score, retrain: bool) -> list[Point]:
    """The seeds' other quantizers (compress --method), coded by the same container."""
    from ilwp_embedded.train.methods import compress
    from ilwp_embedded.train.methods.common import Options

    out = []
    for meth, settings in METHOD_SETTINGS.items():
        for st in settings:
            if st.get("epochs") and not retrain:
                continue
            res = compress(g, meth, Options(**st), log=log)
            label = meth.upper() + (f" retrained {st['epochs']:g} ep" if st.get("epochs") else " post-training")
            setting = ", ".join(f"{k} {v}" for k, v in st.items() if k != "epochs") or "ternary"
            acc = score(res.graph)
            out.append(Point(name, label, setting, res.bits_per_weight, acc, res.encoded.coded_bytes))
            ds = res.quantized.device_stream
            if ds:  # TQ: the same weights as a transform-domain stream decoded on the device
                out.append(Point(name, "TQ, device-decoded stream", setting, ds["bits_per_weight"], acc,
                                 int(ds["bits_per_weight"] * res.encoded.weights / 8)))
            log(f"  {name} {label} {setting}: {res.bits_per_weight:.3f} b/w top-1 {acc:.4f}")
    return out


def plot(points: list[Point], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = sorted({p.model for p in points})
    fig, axes = plt.subplots(1, len(models), figsize=(7 * len(models), 5), squeeze=False)
    methods = list(dict.fromkeys(p.method for p in points))
    colors = plt.get_cmap("tab20")
    for ax, m in zip(axes[0], models):
        pts = [p for p in points if p.model == m]
        base = next(p.top1 for p in pts if p.method == "int8")
        for meth in dict.fromkeys(p.method for p in pts):
            k = methods.index(meth)
            ps = sorted((p for p in pts if p.method == meth), key=lambda p: p.bits_per_weight)
            ax.plot([p.bits_per_weight for p in ps], [100 * p.top1 for p in ps], color=colors(k % 20),
                    marker="osD^v<>p*h"[k % 10], ls="-" if len(ps) > 1 else "", label=meth)
        ax.axhline(100 * base - 1.0, color="grey", ls=":", label="int8 - 1 point")
        for k, (label, bpw, drop) in enumerate(ANCHORS.get(m, [])):
            if drop is None:
                ax.axvline(bpw, color="black", ls="--", lw=0.8, alpha=0.4 + 0.2 * k)
                ax.annotate(f"{label}: {bpw} b/w", (bpw, 100 * base - 12 + 2 * k), fontsize=7, rotation=90)
            else:
                ax.plot([bpw], [100 * base + drop], "k*", ms=12, label=f"{label}: {bpw} b/w")
        ax.set_xscale("log")
        ax.set_xlabel("bits per weight (everything counted)")
        ax.set_ylabel("top-1 on CIFAR-10 test (%)")
        ax.set_ylim(max(0, min(100 * min(p.top1 for p in pts), 100 * base - 15) - 2), 100 * base + 2)
        ax.set_title(m)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


def table(points: list[Point]) -> str:
    lines = ["| model | method | setting | bits/weight | with biases + requant | top-1 (LiteRT, 10k) | golden top-1 (images) | coded bytes |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for p in points:
        tot = f"{p.total_bits_per_weight:.3f}" if p.total_bits_per_weight else "-"
        gold = f"{p.golden_top1:.4f} ({p.golden_images})" if p.golden_top1 is not None else "-"
        lines.append(f"| {p.model} | {p.method} | {p.setting} | {p.bits_per_weight:.3f} | {tot} | {p.top1:.4f} | {gold} | {p.coded_bytes} |")
    for m, anchors in ANCHORS.items():
        for label, bpw, drop in anchors:
            lines.append(f"| {m} | published: {label} | - | {bpw} | - | {'-' if drop is None else f'{drop:+.2f} points'} | - | - |")
    return "\n".join(lines)


def best_within(points: list[Point], model: str, drop_points: float = 1.0) -> list[str]:
    pts = [p for p in points if p.model == model]
    base = next(p.top1 for p in pts if p.method == "int8")
    out = []
    for meth in dict.fromkeys(p.method for p in pts):
        ok = [p for p in pts if p.method == meth and p.top1 >= base - drop_points / 100]
        if ok:
            b = min(ok, key=lambda p: p.bits_per_weight)
            out.append(f"{model}: {meth}: {b.bits_per_weight:.3f} b/w at top-1 {b.top1:.4f} ({b.setting})")
        else:
            out.append(f"{model}: {meth}: no point within {drop_points} point")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet20,resnet32")
    ap.add_argument("--limit", type=int, default=10000, help="test images scored per point")
    ap.add_argument("--qat-epochs", type=float, default=1.5, help="0 skips the fine-tuned curve")
    ap.add_argument("--qat-lambdas", default=QAT_LAMBDAS, help="log10 multipliers of the fine-tuned points")
    ap.add_argument("--distill", type=float, default=0.5, help="distillation weight during fine-tuning")
    ap.add_argument("--parts", default="baselines,ilwp,qat,ill,methods",
                    help="which curves to measure (comma list)")
    ap.add_argument("--retrain-methods", action="store_true", help="also the retrained method points")
    ap.add_argument("--from-json", default=None, metavar="A.json[,B.json]",
                    help="re-render the plot and table of earlier runs (their rate_accuracy.json) together")
    ap.add_argument("--trained", action="append", default=[],
                    metavar="MODEL:LABEL:PATH:INTRA_STEP:RESIDUAL_STEP:RULE",
                    help="a model trained by scripts/train_prediction.py, coded at its training steps")
    ap.add_argument("--golden", type=int, default=0, metavar="N",
                    help="golden interpreter on the first N test images for int8 and trained points")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "rate-accuracy")
    a = ap.parse_args()
    from ilwp_embedded.tfquiet import import_keras
    from ilwp_embedded.zoo.train import train_val_split

    if a.from_json:
        points = [Point(**d) for f in a.from_json.split(",") for d in json.loads(Path(f).read_text())]
        return render(points, a.out, 0.0)
    import_keras()
    test = load_dataset("cifar10").take(a.limit)
    _, (xv, yv) = train_val_split()
    from ilwp_embedded.datasets import Dataset

    points: list[Point] = []
    t0 = time.time()
    for name in a.models.split(","):
        path = REPO / MODELS[name]
        if not path.is_file():
            log(f"skip {name}: {path} not found (train it with scripts/train_zoo.py)")
            continue
        g = load_graph(path)
        xs = prepare_inputs(test, g.tensors[g.inputs[0]])
        xs_val = prepare_inputs(Dataset("val", xv, yv), g.tensors[g.inputs[0]])

        def score(graph):
            return fasteval.top1(graph, xs, test.y)

        log(f"{name}: {len(test)} test images")
        n = sum(t.data.size for _, t in g.coded_weights())
        parts = set(a.parts.split(","))
        def golden(graph):
            if not a.golden:
                return None, 0
            from ilwp_embedded.golden import Golden

            k = min(a.golden, len(xs))
            out = Golden(graph).run_batch(xs[:k], progress=True, desc=f"golden {name}").reshape(k, -1)
            return float((out.argmax(1) == test.y[:k]).mean()), k

        from ilwp_embedded.compress.blobinfo import total_fields

        side = total_fields(n, n, g)
        points.append(Point(name, "int8", "reference", 8.0, score(g), n, side["total_bits_per_weight"], *golden(g)))
        if "baselines" in parts:
            points += kmeans_points(name, g, score)
        if "methods" in parts:
            points += method_points(name, g, score, a.retrain_methods)
        if "ilwp" in parts:
            pts, alloc = ilwp_points(name, g, score, xs_val, yv, inter=True, method="ILWP post-training")
            points += pts
        if "qat" in parts and a.qat_epochs > 0:
            if "ilwp" not in parts:
                alloc = ratesearch.allocation_inputs(g, xs_val)
            lams = [10.0 ** float(e) for e in a.qat_lambdas.split(",")]
            points += qat_points(name, g, score, alloc, a.qat_epochs, lams, a.distill)
        for spec in a.trained:
            points += trained_points(name, spec, score, golden, a.out)
        ill = path.with_name(path.name.replace("_int8.tflite", ILL_SUFFIX))
        if "ill" not in parts:
            pass
        elif ill.is_file():
            gi = load_graph(ill)
            for inter, label in ((False, "ILWP + inter-layer loss, intra only"),
                                 (True, "ILWP + inter-layer loss, inter + alignment")):
                pts, _ = ilwp_points(name, gi, score, xs_val, yv, inter=inter, method=label,
                                     lambdas=LAMBDAS[::2])
                points += pts
        else:
            log(f"{name}: no inter-layer-loss model at {ill} (make it with `ilwp-embed finetune`)")
    return render(points, a.out, time.time() - t0)


def trained_points(name, spec, score, golden, out_dir: Path) -> list[Point]:
    from ilwp_embedded.zoo.predtrain import steps_for

    model, label, path, s_intra, s_res, rule = spec.split(":")
    if model != name:
        return []
    g = load_graph(path)
    steps = steps_for(g, rule, int(s_intra), int(s_res))
    res = encode_graph(g, steps, inter=True)
    intra = encode_graph(g, steps, inter=False)
    pts = [Point(name, label, f"steps {s_intra}/{s_res} ({rule}), inter", 8 * res.coded_bytes / res.weights,
                 score(res.graph), res.coded_bytes, totals(res), *golden(res.graph))]
    same = bool(all(np.array_equal(res.recon[k], intra.recon[k]) for k in res.recon))
    if not same:  # intra-only at the same steps re-quantises the predicted tensors: its own accuracy
        pts.append(Point(name, label + ", intra-only coding", f"steps {s_intra}/{s_res}", 8 * intra.coded_bytes / intra.weights,
                         score(intra.graph), intra.coded_bytes, totals(intra)))
    ll_inter, ll_intra = encode_graph(g, 1, inter=True), encode_graph(g, 1, inter=False)
    rec = {"model": name, "label": label, "path": path, "steps": f"{s_intra}/{s_res}", "rule": rule,
           "coded_bytes_at_steps_inter": res.coded_bytes, "coded_bytes_at_steps_intra_only": intra.coded_bytes,
           "lossless_inter_bytes": ll_inter.coded_bytes, "lossless_intra_only_bytes": ll_intra.coded_bytes,
           "lossless_saving": 1 - ll_inter.coded_bytes / ll_intra.coded_bytes,
           "recon_equals_trained_weights": bool(all(np.array_equal(res.recon[k].reshape(-1), g.tensors[k].data.reshape(-1)) for k in res.recon)),
           "modes": [s.mode for s in res.stats]}
    log(f"  {name} {label}: {json.dumps(rec)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "trained.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    return pts


def render(points: list[Point], out: Path, seconds: float) -> int:
    out.mkdir(parents=True, exist_ok=True)
    plot(points, out / "rate_accuracy.png")
    md = table(points)
    summary = [line for m in dict.fromkeys(p.model for p in points) for line in best_within(points, m)]
    (out / "rate_accuracy.md").write_text(md + "\n\n" + "\n".join(summary) + "\n")
    (out / "rate_accuracy.json").write_text(json.dumps([asdict(p) for p in points], indent=1))
    print(md)
    print()
    print("\n".join(summary))
    print(f"\nplot: {out / 'rate_accuracy.png'} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
