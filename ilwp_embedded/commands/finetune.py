"""`ilwp-embed finetune`: fine-tune a zoo model with the inter-layer loss, emit float and int8 models."""

from __future__ import annotations

import json
from pathlib import Path

from ilwp_embedded.errors import IlwpError


def register(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune a Keras model with the inter-layer loss; emits int8 .tflite")
    p.add_argument("model", help="float Keras model (.keras)")
    p.add_argument("--inter-layer-loss", type=float, required=True, metavar="LAMBDA",
                   help="weight of the inter-layer loss (0 = plain fine-tuning)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--dataset", default="cifar10", help="training data (cifar10; a held-back validation split is kept)")
    p.add_argument("--domain", default="raw", choices=("raw", "int8"),
                   help="where residuals are measured: raw kernels (default, stable), or int8 quanta of "
                        "BN-folded kernels (unstable on trained models)")
    p.add_argument("--norm", default="l1", choices=("l1", "l2"))
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="output int8 .tflite (the float model is saved beside as .keras)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_finetune)


def cmd_finetune(args) -> int:
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.ingest.convert import convert_to_int8, load_keras_or_savedmodel, pixels_to_float
    from ilwp_embedded.ingest.tflite_io import read_tflite
    from ilwp_embedded.fileio import atomic_write_bytes
    from ilwp_embedded.zoo.finetune import finetune

    if args.dataset != "cifar10":
        raise IlwpError(f"finetune trains on cifar10 only (with its held-back validation split), not {args.dataset}")
    if args.epochs <= 0 or args.inter_layer_loss < 0:
        raise IlwpError("--epochs must be positive and --inter-layer-loss non-negative")
    src = Path(args.model)
    if src.suffix != ".keras" or not src.is_file():
        raise IlwpError(f"{src}: finetune takes a float Keras .keras model (e.g. from scripts/train_zoo.py)")
    out = Path(args.output)
    keras_out = out.with_suffix(".keras")
    res = finetune(src, keras_out, args.inter_layer_loss, args.epochs, args.domain, args.norm, lr=args.lr,
                   seed=args.seed, data_dir=args.data_dir, log=lambda m: print(m, flush=True))
    converter, _ = load_keras_or_savedmodel(keras_out)
    cal = pixels_to_float(load_dataset("cifar10", args.data_dir, split="train").x[:500], "0:1")

    def representative():
        for i in range(len(cal)):
            yield [cal[i:i + 1]]

    data = convert_to_int8(converter, representative, str(keras_out))
    read_tflite(data, str(out))
    atomic_write_bytes(out, data)
    info = {"output": str(out), "keras": str(keras_out), "val_accuracy": res.val_accuracy,
            "pairs": res.pairs, "lambda": res.lam, "domain": res.domain, "norm": res.norm,
            "epochs": res.epochs, "seconds": round(res.seconds, 1)}
    print(json.dumps(info) if args.json else
          f"wrote {out} and {keras_out}: val top-1 {res.val_accuracy:.4f} after {res.epochs} epochs, "
          f"lambda {res.lam} over {res.pairs} pairs ({res.domain}, {res.norm})")
    return 0
