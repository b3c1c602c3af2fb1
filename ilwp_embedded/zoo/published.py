# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Import of the published CIFAR ResNets (He et al. 2016, akamaster/pytorch_resnet_cifar10 weights).

The arrays are the PyTorch state_dict (`conv1.weight`, `bn1.*`, `layer{1,2,3}.{i}.conv{1,2}.weight`,
`layer{1,2,3}.{i}.bn{1,2}.*`, `linear.{weight,bias}`); the depth 6n+2 is read off the blocks present.
The Keras graph reproduces the reference exactly (each point below changes the logits if missed):
- input RGB in [0, 1], normalised with ImageNet's mean/std *inside* the graph, before any padding
  (a 1x1 depthwise convolution with bias: exact at the borders, and an op the firmware has);
- every 3x3 convolution, the stride-2 ones included, as an explicit symmetric 1-pixel zero pad
  followed by a VALID convolution (TF "SAME" pads a stride-2 conv only bottom/right);
- shortcut option A: x[::2, ::2] (a 1x1 max pool, stride 2) and the channels zero-padded by
  planes/4 on both sides;
- BatchNorm eps 1e-5; conv weights OIHW -> HWIO; the head outputs logits (no softmax).
The int8 model takes `pixel - 128` (input scale 1/255, zero point -128) like every image model here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
BN_EPS = 1e-5


def _keras():
    from ilwp_embedded.tfquiet import import_keras

    return import_keras()


def channel_pad_cls():
    """The ChannelPadBoth layer class (registered for .keras loading by importing ingest.keras_layers)."""
    from ilwp_embedded.ingest.keras_layers import ChannelPadBoth

    return ChannelPadBoth


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    p = Path(path)
    if not p.is_file():
        raise IlwpError(f"weights file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k[7:] if k.startswith("module.") else k: z[k] for k in z.files}
    except Exception as e:
        raise IlwpError(f"{p}: not a readable npz file ({type(e).__name__})") from None
    return arrays


def infer_depth(w: dict[str, np.ndarray], source: str = "weights") -> int:
    """6n + 2 from the blocks present; every array the architecture needs is checked."""
    blocks = {}
    for k in w:
        m = re.match(r"layer([123])\.(\d+)\.conv1\.weight$", k)
        if m:
            blocks.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    if sorted(blocks) != [1, 2, 3]:
        raise IlwpError(f"{source}: not a CIFAR ResNet state_dict (need layer1..3.*.conv1.weight; "
                        f"found {len(w)} arrays)")
    ns = {s: len(v) for s, v in blocks.items()}
    if len(set(ns.values())) != 1 or any(sorted(v) != list(range(len(v))) for v in blocks.values()):
        raise IlwpError(f"{source}: stages have different block counts {ns}; expected 3 stages of n blocks")
    n = ns[1]
    need = ["conv1.weight", "linear.weight", "linear.bias"] + [f"bn1.{x}" for x in ("weight", "bias", "running_mean", "running_var")]
    for s in (1, 2, 3):
        for i in range(n):
            for c in (1, 2):
                need.append(f"layer{s}.{i}.conv{c}.weight")
                need += [f"layer{s}.{i}.bn{c}.{x}" for x in ("weight", "bias", "running_mean", "running_var")]
    missing = [k for k in need if k not in w]
    if missing:
        raise IlwpError(f"{source}: missing arrays {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}")
    if w["conv1.weight"].shape != (16, 3, 3, 3):
        raise IlwpError(f"{source}: conv1.weight has shape {w['conv1.weight'].shape}, expected (16, 3, 3, 3)")
    return 6 * n + 2


def build_keras(w: dict[str, np.ndarray], source: str = "weights"):
    """The float Keras model (input [0, 1] RGB NHWC, output logits) with the published weights."""
    keras = _keras()
    L = keras.layers
    depth = infer_depth(w, source)
    n = (depth - 2) // 6
    Pad = channel_pad_cls()
    sets = []  # (layer, weights) assigned after the model is built

    def conv(x, key, stride, name):
        k = w[key].astype(np.float32)
        x = L.ZeroPadding2D(1, name=f"{name}_pad")(x)
        layer = L.Conv2D(k.shape[0], 3, strides=stride, padding="valid", use_bias=False, name=name)
        sets.append((layer, [k.transpose(2, 3, 1, 0)]))
        return layer(x)

    def bn(x, key, name):
        layer = L.BatchNormalization(epsilon=BN_EPS, name=name)
        sets.append((layer, [w[f"{key}.{s}"].astype(np.float32) for s in ("weight", "bias", "running_mean", "running_var")]))
        return layer(x)

    inp = keras.Input((32, 32, 3), name="image")
    norm = L.DepthwiseConv2D(1, use_bias=True, name="normalize")
    std, mean = np.asarray(STD, np.float32), np.asarray(MEAN, np.float32)
    sets.append((norm, [(1.0 / std).reshape(1, 1, 3, 1), -mean / std]))
    x = norm(inp)
    x = L.ReLU()(bn(conv(x, "conv1.weight", 1, "conv1"), "bn1", "bn1"))
    for s, planes in ((1, 16), (2, 32), (3, 64)):
        for i in range(n):
            stride = 2 if s > 1 and i == 0 else 1
            tag = f"layer{s}.{i}"
            y = L.ReLU()(bn(conv(x, f"{tag}.conv1.weight", stride, f"l{s}_{i}_conv1"), f"{tag}.bn1", f"l{s}_{i}_bn1"))
            y = bn(conv(y, f"{tag}.conv2.weight", 1, f"l{s}_{i}_conv2"), f"{tag}.bn2", f"l{s}_{i}_bn2")
            sc = x
            if stride != 1 or x.shape[-1] != planes:
                sc = L.MaxPooling2D(1, strides=2, name=f"l{s}_{i}_sub")(x)
                sc = Pad(planes // 4, planes // 4, name=f"l{s}_{i}_chpad")(sc)
            x = L.ReLU()(L.Add()([y, sc]))
    x = L.GlobalAveragePooling2D()(x)
    fc = L.Dense(10, name="linear")
    sets.append((fc, [w["linear.weight"].astype(np.float32).T, w["linear.bias"].astype(np.float32)]))
    out = fc(x)
    model = keras.Model(inp, out, name=f"resnet{depth}_published")
    for layer, ws in sets:
        layer.set_weights(ws)
    return model


def float_logits(model, x_uint8: np.ndarray, batch: int = 500) -> np.ndarray:
    x = x_uint8.astype(np.float32) / 255.0
    return np.concatenate([model(x[s:s + batch], training=False).numpy() for s in range(0, len(x), batch)])


def convert_int8(model, calib_uint8: np.ndarray, source: str) -> bytes:
    """Full-integer int8 .tflite, input `pixel - 128` (the float model takes pixels / 255)."""
    import tensorflow as tf

    from ilwp_embedded.ingest.convert import convert_to_int8

    x = calib_uint8.astype(np.float32) / 255.0
    converter = tf.lite.TFLiteConverter.from_keras_model(model)

    def representative():
        for i in range(len(x)):
            yield [x[i:i + 1]]

    return convert_to_int8(converter, representative, source)
