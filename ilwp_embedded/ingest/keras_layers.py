# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Custom Keras layers a model file may name: registered on import, so that `convert` loads the zoo's
models (ilwp_embedded/zoo builds them) without importing the training code."""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="ilwp")
class ChannelPad(layers.Layer):
    """Zero-pads the channel axis on the high side (shortcut A)."""

    def __init__(self, extra: int, **kw):
        super().__init__(**kw)
        self.extra = extra

    def call(self, x):
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, self.extra]])

    def get_config(self):
        return {**super().get_config(), "extra": self.extra}


@keras.saving.register_keras_serializable(package="ilwp")
class ChannelPadBoth(layers.Layer):
    """Zero-pads the channel axis by `before` and `after` (shortcut A of the published ResNets)."""

    def __init__(self, before: int, after: int, **kw):
        super().__init__(**kw)
        self.before, self.after = before, after

    def call(self, x):
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [self.before, self.after]])

    def get_config(self):
        return {**super().get_config(), "before": self.before, "after": self.after}
