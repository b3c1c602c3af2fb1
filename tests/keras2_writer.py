# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Writes Keras 2 model files with tf_keras (run in its own process: tf_keras and Keras 3 do not
share one): a small CNN with the layers whose Keras 2 configs Keras 3 refuses (DepthwiseConv2D's
`groups`...) and an open batch dimension before Flatten, as .h5 and as a SavedModel, with its
float outputs on fixed inputs.  Usage: python keras2_writer.py OUT_DIR"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tf_keras as k  # noqa: E402


def main(out: str) -> None:
    k.utils.set_random_seed(4)
    inp = k.Input((10, 10, 3))  # batch dimension open, as Keras writes it by default
    y = k.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    y = k.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(y)
    y = k.layers.BatchNormalization()(y)
    y = k.layers.ReLU(6.0)(y)
    y = k.layers.SeparableConv2D(8, 3, strides=2, padding="same")(y)
    y = k.layers.MaxPooling2D()(y)
    y = k.layers.Flatten()(y)
    y = k.layers.Dense(4)(y)
    y = k.layers.Softmax()(y)
    m = k.Model(inp, y)
    m.compile("adam", "sparse_categorical_crossentropy")  # an optimizer in the files, as users save them
    rng = np.random.default_rng(0)
    x = rng.random((16, 10, 10, 3), dtype=np.float32)
    m.fit(x, rng.integers(0, 4, 16), epochs=1, verbose=0)
    m.save(os.path.join(out, "k2.h5"))
    m.save(os.path.join(out, "k2_savedmodel"), save_format="tf")
    np.savez(os.path.join(out, "k2_data.npz"), x=x, y=np.zeros(16, np.uint8), p=m.predict(x, verbose=0))


if __name__ == "__main__":
    main(sys.argv[1])
