# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""CIFAR ResNet-20/32/44/56 (He et al. 2016, section 4.2): 3 stages of n basic blocks, 16/32/64 filters.

Shortcut type A (the paper's CIFAR choice): identity, and where a stage halves the resolution and
doubles the channels, a stride-2 subsample (a 1x1 max pool) with the new channels zero-padded. It adds
no parameters, so weight counts match the literature (ResNet-20: 0.27 M, ResNet-32: 0.46 M), and it
lowers to MAX_POOL_2D + PAD in TFLite, both in the firmware's kernel set.
Input: float pixels / 255 in [0, 1] (convert with --input-range 0:1; int8 input = pixel - 128).
"""

from __future__ import annotations

import keras
from keras import layers

from ilwp_embedded.ingest.keras_layers import ChannelPad, ChannelPadBoth  # noqa: F401  (CUSTOM_OBJECTS)


def resnet_cifar(depth: int, num_classes: int = 10, weight_decay: float = 1e-4) -> keras.Model:
    if (depth - 2) % 6:
        raise ValueError("depth must be 6n+2 (20, 32, 44, 56, ...)")
    n = (depth - 2) // 6
    reg = keras.regularizers.L2(weight_decay)

    def conv(x, filters, stride, name):
        return layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                             kernel_initializer="he_normal", kernel_regularizer=reg, name=name)(x)

    inp = keras.Input((32, 32, 3), name="image")
    x = conv(inp, 16, 1, "conv0")
    x = layers.ReLU()(layers.BatchNormalization(name="bn0")(x))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(n):
            stride = 2 if stage > 0 and block == 0 else 1
            tag = f"s{stage}b{block}"
            y = conv(x, filters, stride, f"{tag}_conv1")
            y = layers.ReLU()(layers.BatchNormalization(name=f"{tag}_bn1")(y))
            y = conv(y, filters, 1, f"{tag}_conv2")
            y = layers.BatchNormalization(name=f"{tag}_bn2")(y)
            shortcut = x
            if stride != 1:
                shortcut = layers.MaxPooling2D(1, strides=2, name=f"{tag}_sub")(x)
                shortcut = ChannelPad(filters - x.shape[-1], name=f"{tag}_pad")(shortcut)
            x = layers.ReLU()(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(num_classes, activation="softmax", kernel_regularizer=reg, name="fc")(x)
    return keras.Model(inp, out, name=f"resnet{depth}")


CUSTOM_OBJECTS = {"ChannelPad": ChannelPad, "ChannelPadBoth": ChannelPadBoth}
