# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Retraining with a quantizer in the loop, on the lead's graph trainer (zoo/graph_train.py), and
the quantizers the methods hand it. A quantizer maps a weight tensor `w` (tf float, in int8 quanta,
tflite layout) to its forward value; gradients follow whatever path it builds (straight-through)."""

from __future__ import annotations

import numpy as np

from ilwp_embedded.train.methods.common import Log, Options
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph

FULL = 127.0  # int8 full scale in quanta


def require_training_data(method: str, opts: Options) -> None:
    """Retraining reads the CIFAR-10 training split through the graph trainer: fail early, in one
    line, when either is absent."""
    import importlib.util

    from ilwp_embedded.datasets import find_file, resolve_data_dir

    if importlib.util.find_spec("ilwp_embedded.zoo.graph_train") is None:
        raise IlwpError("retraining (--epochs > 0) needs ilwp_embedded.zoo.graph_train, which this "
                        "build lacks; run without --epochs for the post-training method")

    root = resolve_data_dir(opts.data_dir)
    if find_file(root, "cifar10_jpeg/train.npz") is None:
        where = f"{root}/datasets/cifar10_jpeg/train.npz" if root else "$ILWP_DATA_DIR (not set)"
        raise IlwpError(f"--method {method} with --epochs > 0 retrains on the CIFAR-10 training split: "
                        f"not found at {where} (give --data-dir or set ILWP_DATA_DIR)")


def retrain(graph: Graph, quantizers: dict, opts: Options, log: Log) -> tuple[Graph, float]:
    try:
        from ilwp_embedded.zoo.graph_train import qat_finetune
    except ImportError:
        raise IlwpError("retraining (--epochs > 0) needs ilwp_embedded.zoo.graph_train, which this "
                        "build lacks; run without --epochs for the post-training method") from None
    return qat_finetune(graph, quantizers, epochs=opts.epochs, lr=opts.lr, batch=opts.batch,
                        data_dir=opts.data_dir, train_limit=opts.train_limit, seed=opts.seed, log=log)


def _tf():
    from ilwp_embedded.tfquiet import import_keras

    import_keras()  # TensorFlow's start-up noise captured
    import tensorflow as tf

    return tf


def codebook_quantizer(codebook: np.ndarray, zero: bool):
    """DQC: forward = the nearest codebook entry; gradients reach both the entries (through the
    gather) and the weights (straight through). A zero entry, when asked for, stays exactly 0."""
    tf = _tf()

    class CodebookQuantizer(tf.Module):
        def __init__(self):
            super().__init__()
            # held as fractions of the int8 full scale, like the trainer's weights, so that one
            # learning rate moves entries and weights alike
            self.codebook = tf.Variable(np.asarray(codebook, np.float32) / FULL, name="codebook")
            self.pinned = tf.constant(np.asarray(codebook) == 0 if zero else np.zeros(len(codebook), bool))

        def __call__(self, w):
            cb = FULL * tf.where(self.pinned, tf.stop_gradient(self.codebook), self.codebook)
            cb_sorted = tf.sort(tf.stop_gradient(cb))
            order = tf.argsort(tf.stop_gradient(cb))
            mid = (cb_sorted[1:] + cb_sorted[:-1]) / 2
            flat = tf.reshape(tf.stop_gradient(w), [-1])
            idx = tf.gather(order, tf.searchsorted(mid, flat, side="left"))
            q = tf.reshape(tf.gather(cb, idx), tf.shape(w))
            return q + (w - tf.stop_gradient(w))

    return CodebookQuantizer()


def frozen_quantizer(frozen_mask: np.ndarray, frozen_values: np.ndarray):
    """SLQ/MLQ: frozen weights stay at their quantized value (no gradient), the rest train freely."""
    tf = _tf()

    mask = tf.constant(frozen_mask)
    vals = tf.constant(frozen_values.astype(np.float32))

    def quantizer(w):
        return tf.where(mask, vals, w)

    return quantizer


def rounding_quantizer(fn):
    """A numpy projection `fn` (float quanta -> quantized values) used as a straight-through quantizer."""
    tf = _tf()  # imported here, not while the trainer traces the quantizer

    def quantizer(w):
        q = tf.numpy_function(lambda a: fn(a).astype(np.float32), [w], tf.float32)
        return w + tf.stop_gradient(tf.reshape(q, tf.shape(w)) - w)

    return quantizer
