"""Small int8 TFLite models, one operator kind each, built with TensorFlow's converter (full int8)."""

from __future__ import annotations

import numpy as np


def convert(model, input_shapes, seed: int, rep_scales=None) -> bytes:
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    scales = list(rep_scales or [1.0] * len(input_shapes))

    def rep():
        for _ in range(32):
            yield [(rng.normal(0.0, 1.0, size=(1, *s)) * g).astype(np.float32) for s, g in zip(input_shapes, scales)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def _act(name):
    import keras
    if name == "relu6":
        return keras.layers.ReLU(max_value=6.0)
    if name == "relu":
        return keras.layers.ReLU()
    return None


def build(spec: dict) -> tuple[bytes, list[tuple[int, ...]]]:
    """spec['kind'] picks the model; returns (tflite bytes, input shapes without batch)."""
    import keras

    keras.utils.set_random_seed(spec.get("seed", 0))
    kind = spec["kind"]
    shapes = [tuple(spec["shape"])]
    inp = keras.Input(shape=shapes[0], batch_size=1)
    inputs = [inp]
    if kind == "conv":
        y = keras.layers.Conv2D(spec["filters"], spec["k"], strides=spec.get("s", 1), padding=spec["pad"],
                                dilation_rate=spec.get("d", 1), groups=spec.get("groups", 1),
                                use_bias=spec.get("bias", True),
                                bias_initializer="random_normal")(inp)
    elif kind == "dwconv":
        y = keras.layers.DepthwiseConv2D(spec["k"], strides=spec.get("s", 1), padding=spec["pad"],
                                         depth_multiplier=spec.get("dm", 1), dilation_rate=spec.get("d", 1),
                                         bias_initializer="random_normal")(inp)
    elif kind == "dense":
        y = keras.layers.Dense(spec["units"], bias_initializer="random_normal")(inp)
    elif kind == "gap":
        y = keras.layers.GlobalAveragePooling2D(keepdims=spec.get("keepdims", False))(inp)
    elif kind == "add":
        other = tuple(spec.get("shape2", spec["shape"]))
        shapes.append(other)
        inp2 = keras.Input(shape=other, batch_size=1)
        inputs.append(inp2)
        y = keras.ops.add(inp, inp2)
    elif kind == "avgpool":
        y = keras.layers.AveragePooling2D(spec["k"], strides=spec.get("s"), padding=spec["pad"])(inp)
    elif kind == "maxpool":
        y = keras.layers.MaxPooling2D(spec["k"], strides=spec.get("s"), padding=spec["pad"])(inp)
    elif kind == "softmax":
        y = keras.layers.Softmax()(inp)
    elif kind == "mean":
        y = keras.ops.mean(inp, axis=tuple(spec["axes"]), keepdims=spec.get("keepdims", False))
    elif kind == "pad":
        y = keras.layers.ZeroPadding2D(spec["pads"])(inp)
        y = keras.layers.Conv2D(4, 1)(y)
    elif kind == "concat":
        other = tuple(spec["shape2"])
        shapes.append(other)
        inp2 = keras.Input(shape=other, batch_size=1)
        inputs.append(inp2)
        y = keras.layers.Concatenate(axis=spec.get("axis", -1))([inp, inp2])
    else:
        raise ValueError(kind)
    act = _act(spec.get("act"))
    if act is not None:
        y = act(y)
    model = keras.Model(inputs, y)
    scales = spec.get("rep_scales")
    try:
        return convert(model, shapes, spec.get("seed", 0), scales), shapes
    except RuntimeError:
        # The calibrator feeds inputs in the converted model's input order, which can differ from
        # the Keras order for multi-input models: retry with the list reversed.
        if len(shapes) != 2:
            raise
        return convert(model, shapes[::-1], spec.get("seed", 0), scales[::-1] if scales else None), shapes
