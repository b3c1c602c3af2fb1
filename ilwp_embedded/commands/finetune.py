# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
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
    register_import(sub)


def cmd_finetune(args) -> int:
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.ingest.convert import convert_to_int8, load_keras_or_savedmodel, pixels_to_float
    from ilwp_embedded.ingest.tflite_io import read_tflite
    from ilwp_embedded.fileio import atomic_write_bytes, require_output_dir
    from ilwp_embedded.zoo.finetune import finetune

    if args.dataset != "cifar10":
        raise IlwpError(f"finetune trains on cifar10 only (with its held-back validation split), not {args.dataset}")
    if args.epochs <= 0 or args.inter_layer_loss < 0:
        raise IlwpError("--epochs must be positive and --inter-layer-loss non-negative")
    src = Path(args.model)
    if src.suffix != ".keras" or not src.is_file():
        raise IlwpError(f"{src}: finetune takes a float Keras .keras model (e.g. from scripts/train_zoo.py)")
    out = require_output_dir(args.output)  # before the training, which takes minutes
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


def register_import(sub) -> None:
    p = sub.add_parser("import-resnet", help="import a published CIFAR ResNet (PyTorch state_dict as .npz): "
                                             "float .keras and optionally full-integer int8 .tflite")
    p.add_argument("weights", help="WEIGHTS.npz (arrays named as the state_dict keys; depth 6n+2 read off them)")
    p.add_argument("-o", "--output", required=True, help="output float Keras model (.keras; input pixels/255, output logits)")
    p.add_argument("--int8", default=None, metavar="M_int8.tflite",
                   help="also write the full-integer int8 model (input pixel - 128), calibrated on training images")
    p.add_argument("--samples", type=int, default=500, help="calibration images from the training split (default 500)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_resnet)


def cmd_import_resnet(args) -> int:
    import io
    import os
    import tempfile

    import numpy as np

    from ilwp_embedded.fileio import atomic_write_bytes
    from ilwp_embedded.ops.support import require_int8
    from ilwp_embedded.ingest.tflite_io import read_tflite
    from ilwp_embedded.zoo import published

    out = Path(args.output)
    if out.suffix != ".keras":
        raise IlwpError(f"{out}: the float output must be a .keras file")
    if args.samples <= 0:
        raise IlwpError(f"--samples must be positive, got {args.samples}")
    w = published.load_weights(args.weights)
    model = published.build_keras(w, str(args.weights))
    depth = int(model.name.split("_")[0][6:])
    # Keras writes .keras files itself; write beside and rename for atomicity.
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".keras", dir=str(out.parent))
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    info = {"depth": depth, "keras": str(out), "parameters": int(model.count_params())}
    if args.int8:
        from ilwp_embedded.zoo.train import train_val_split

        (xtr, _), _ = train_val_split(args.data_dir)
        data = published.convert_int8(model, xtr[:args.samples], str(args.weights))
        graph = read_tflite(data, f"converted {args.weights}")
        require_int8(graph, f"converted {args.weights}")
        atomic_write_bytes(args.int8, data)
        info.update(int8=str(args.int8), int8_bytes=len(data), calibration_samples=int(min(args.samples, len(xtr))))
    print(json.dumps(info) if args.json else
          f"wrote {out} (ResNet-{depth}, {info['parameters']} parameters)"
          + (f" and {args.int8} ({info['int8_bytes']} bytes, full-integer int8, calibrated on "
             f"{info['calibration_samples']} training images)" if args.int8 else ""))
    return 0
