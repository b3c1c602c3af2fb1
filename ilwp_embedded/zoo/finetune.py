# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Fine-tuning with an inter-layer loss, so that ILWP's inter prediction pays.

L = CE + weight decay + lambda * sum over predicted pairs (l, ref(l)) of mean |D_l|  (or D_l^2),
with the pairs taken as the codec's collocated chains: each convolution predicted from the previous
one of the same kernel shape. Where D is measured matters:
  raw:    D = W_l - W_ref on the float kernels;
  int8:   D = (F_l - F_ref) / s_l, with F = the BN-folded kernel the converter writes and
          s_l = max|F_l| / 127 per output channel: the residual in quanta of layer l's int8 grid,
          which is exactly what the codec's scale-ratio prediction leaves to code.
In principle the int8 domain is what the codec sees (raw-domain similarity is partly undone by BN
folding, each layer's gamma/sqrt(var) rescaling its kernels differently), but on a trained model the
real-valued scales of chained layers differ by large factors, the residual in quanta is huge and its
gradient swamps cross-entropy: ResNet-20 at lambda 5 fell to 0.07 validation top-1 in one epoch. The
raw domain is therefore the default: ResNet-20, lambda 5, one epoch: validation 0.8322 -> 0.8166,
and the codec then picks inter prediction for 2 of 20 tensors (7.386 -> 7.351 bits/weight). Measured on a ResNet-8 from scratch,
one epoch over 2,048 images: lambda 50 at lr 0.01 halves the mean int8 residual (64 -> 32.5 quanta;
plain fine-tuning: 63.3). On the trained ResNet-20, lambda 20 at lr 0.01 diverged before the scale
floor below existed (near-dead channels); a diverging run now fails without writing anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.zoo.train import augment_batches, train_val_split


@dataclass(frozen=True)
class Pair:
    layer: str  # the predicted convolution
    ref: str  # its reference: the previous convolution with the same kernel shape
    layer_bn: str | None
    ref_bn: str | None


def conv_chains(model) -> list[Pair]:
    """Collocated prediction pairs: each Conv2D after the first of its kernel shape, with its BN."""
    import keras

    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    bn_after = _bn_after(model)
    last_of_shape: dict[tuple, str] = {}
    pairs = []
    for c in convs:
        shape = tuple(c.kernel.shape)
        if shape in last_of_shape:
            ref = last_of_shape[shape]
            pairs.append(Pair(c.name, ref, bn_after.get(c.name), bn_after.get(ref)))
        last_of_shape[shape] = c.name
    return pairs


def _bn_after(model) -> dict[str, str]:
    """Conv name -> the BatchNormalization that consumes its output directly."""
    import keras

    out = {}
    for l in model.layers:
        if isinstance(l, keras.layers.BatchNormalization):
            src = l._inbound_nodes[0].parent_nodes[0].operation if l._inbound_nodes else None
            if src is not None and isinstance(src, keras.layers.Conv2D):
                out[src.name] = l.name
    return out


def folded_kernel(model, conv: str, bn: str | None):
    """The kernel as the converter folds it: W * gamma / sqrt(moving_var + eps) per output channel."""
    import keras.ops as K

    w = model.get_layer(conv).kernel
    if bn is None:
        return w
    b = model.get_layer(bn)
    gamma = b.gamma if b.scale else 1.0
    return w * (gamma / K.sqrt(b.moving_variance + b.epsilon))


def pair_residual(model, p: Pair, domain: str):
    """The (differentiable) residual tensor of one pair in the chosen domain."""
    import keras.ops as K

    if domain == "raw":
        return model.get_layer(p.layer).kernel - model.get_layer(p.ref).kernel
    fl = folded_kernel(model, p.layer, p.layer_bn)
    fr = folded_kernel(model, p.ref, p.ref_bn)
    # Keras kernels are HWIO: the output channel is the last axis, as the per-channel scale is.
    s = K.max(K.abs(fl), axis=(0, 1, 2), keepdims=True) / 127.0
    # Trained BN layers have near-dead channels (gamma ~ 0, scale ~ 0): unfloored, their quanta
    # explode and the loss diverges. Floor each channel's scale at a tenth of the layer's median.
    s = K.maximum(s, 0.1 * _median(s))
    return (fl - fr) / K.stop_gradient(s)


def _median(x):
    import keras.ops as K

    v = K.sort(K.reshape(x, (-1,)))
    return v[K.shape(v)[0] // 2]


def inter_layer_loss(model, pairs: list[Pair], domain: str = "raw", norm: str = "l1"):
    import keras.ops as K

    total = 0.0
    for p in pairs:
        d = pair_residual(model, p, domain)
        total = total + (K.mean(K.abs(d)) if norm == "l1" else K.mean(K.square(d)))
    # int8 residuals are in quanta (0..254); scale to ~the raw-domain magnitude so lambdas compare.
    return total / 127.0 if domain == "int8" else total


@dataclass
class FinetuneResult:
    epochs: int
    lam: float
    domain: str
    norm: str
    val_accuracy: float
    pairs: int
    seconds: float


def finetune(src: Path, out: Path, lam: float, epochs: int, domain: str = "raw", norm: str = "l1",
             lr: float = 0.01, batch: int = 128, seed: int = 0, data_dir=None, log=print,
             train_limit: int | None = None) -> FinetuneResult:
    from ilwp_embedded.tfquiet import import_keras

    keras = import_keras()
    import tensorflow as tf

    import ilwp_embedded.zoo.resnet_cifar  # noqa: F401  (custom layers)

    keras.utils.set_random_seed(seed)
    model = keras.models.load_model(str(src), compile=False)
    pairs = conv_chains(model)
    (xtr, ytr), (xva, yva) = train_val_split(data_dir)
    if train_limit is not None:  # a quick run (tests): a prefix of the training and validation splits
        xtr, ytr, xva, yva = xtr[:train_limit], ytr[:train_limit], xva[:train_limit], yva[:train_limit]
    steps = max(1, epochs * (len(ytr) // batch))
    opt = keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(lr, steps), momentum=0.9, nesterov=True)
    ce = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            il = inter_layer_loss(model, pairs, domain, norm)
            loss = ce(y, pred) + tf.add_n(model.losses) + lam * il
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss, il

    rng = np.random.default_rng(seed)
    t0 = time.time()
    val = 0.0
    for ep in range(epochs):
        ls, ils = [], []
        for xb, yb in augment_batches(xtr, ytr, batch, rng):
            l, i = step(tf.constant(xb), tf.constant(yb))
            ls.append(float(l))
            ils.append(float(i))
        if not np.isfinite(np.mean(ls)):
            raise IlwpError(f"fine-tuning diverged in epoch {ep + 1} (loss {np.mean(ls)}): lower "
                            f"--inter-layer-loss (now {lam}) or --lr (now {lr}); nothing was written")
        val = float(np.mean(np.argmax(model.predict(xva.astype(np.float32) / 255.0, batch_size=500, verbose=0), 1) == yva))
        log(f"finetune epoch {ep + 1}/{epochs}: loss {np.mean(ls):.4f} inter-layer {np.mean(ils):.4f} val {val:.4f} "
            f"({time.time() - t0:.0f} s)")
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    return FinetuneResult(epochs, lam, domain, norm, val, len(pairs), time.time() - t0)
