# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Seeded CPU training of the zoo on the JPEG CIFAR-10: standard augmentation (4-px pad + random
crop, horizontal flip), SGD with momentum and a cosine schedule. The last 5,000 training images
(after a fixed shuffle) are held back as the validation split that compression searches use; the
test set is only ever used for reporting.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ilwp_embedded.datasets import load_dataset

VALIDATION_SIZE = 5000


def train_val_split(data_dir=None):
    """(x_train, y_train), (x_val, y_val): the training set minus a fixed held-back validation split."""
    ds = load_dataset("cifar10", data_dir, split="train")
    order = np.random.default_rng(1234).permutation(len(ds))
    tr, va = order[:-VALIDATION_SIZE], order[-VALIDATION_SIZE:]
    return (ds.x[tr], ds.y[tr]), (ds.x[va], ds.y[va])


@dataclass
class TrainResult:
    depth: int
    epochs: int
    seed: int
    val_accuracy: float
    test_accuracy: float
    seconds: float


def augment_batches(x: np.ndarray, y: np.ndarray, batch: int, rng: np.random.Generator):
    """One epoch of shuffled, augmented float batches (pixels / 255)."""
    order = rng.permutation(len(y))
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)), mode="constant")
    for s in range(0, len(order) - batch + 1, batch):
        idx = order[s:s + batch]
        dy, dx = rng.integers(0, 9, size=2)
        xb = padded[idx, dy:dy + 32, dx:dx + 32, :]
        flip = rng.random(len(idx)) < 0.5
        xb = np.where(flip[:, None, None, None], xb[:, :, ::-1, :], xb)
        yield xb.astype(np.float32) / 255.0, y[idx]


def train(depth: int, epochs: int, out: Path, seed: int = 0, data_dir=None, batch: int = 128,
          lr: float = 0.1, log=print) -> TrainResult:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from ilwp_embedded.zoo.resnet_cifar import resnet_cifar

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    (xtr, ytr), (xva, yva) = train_val_split(data_dir)
    test = load_dataset("cifar10", data_dir, split="test")
    model = resnet_cifar(depth)
    steps = epochs * (len(ytr) // batch)
    sched = keras.optimizers.schedules.CosineDecay(lr, steps)
    model.compile(optimizer=keras.optimizers.SGD(sched, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t0 = time.time()
    for ep in range(epochs):
        losses = []
        for xb, yb in augment_batches(xtr, ytr, batch, rng):
            losses.append(float(model.train_on_batch(xb, yb, return_dict=True)["loss"]))
        val = model.evaluate(xva.astype(np.float32) / 255.0, yva, verbose=0, batch_size=500)[1]
        log(f"resnet{depth} epoch {ep + 1}/{epochs} loss {np.mean(losses):.4f} val {val:.4f} "
            f"({time.time() - t0:.0f} s)")
    test_acc = model.evaluate(test.x.astype(np.float32) / 255.0, test.y, verbose=0, batch_size=500)[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    res = TrainResult(depth, epochs, seed, float(val), float(test_acc), time.time() - t0)
    out.with_suffix(".json").write_text(json.dumps(asdict(res), indent=1) + "\n")
    return res
