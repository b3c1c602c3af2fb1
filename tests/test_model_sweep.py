# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The model-class sweep: small Keras models covering every op the firmware supports, alone and in
combination (dense only, conv free, 1 channel, odd sizes, large kernels, strides and paddings,
depthwise multiplier > 1, broadcast ADD, a dense autoencoder, a MobileNet-style block, a MobileNetV3-small
block with squeeze-excitation, Conv1D audio models, a convolutional autoencoder), each converted with the
product's convert, compressed and built for qemu-m4 as `build` does, and run bit-exact against the
golden interpreter on random inputs, one QEMU boot per model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from helpers import convert_keras, core_dir, needs_qemu, needs_toolchain, no_network

from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.ops.registry import REGISTRY

pytestmark = [needs_toolchain, needs_qemu]


def _models(keras):
    """name -> Keras model; tiny, so that the sweep stays fast."""
    L = keras.layers

    def model(shape, body):
        inp = keras.Input(shape=shape)  # batch open, as users write them: convert fixes it to 1
        return keras.Model(inp, body(inp))

    def mobilenet_block(x):  # MobileNet v1's stem and two depthwise-separable blocks, then its head
        x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu6")(x)
        for stride in (1, 2):
            x = L.ReLU(6.0)(L.DepthwiseConv2D(3, strides=stride, padding="same")(x))
            x = L.ReLU(6.0)(L.Conv2D(16, 1)(x))
        return L.Softmax()(L.Dense(4)(L.GlobalAveragePooling2D()(x)))

    def mobilenet_v3_block(x):  # MobileNetV3-small: hard-swish, depthwise, squeeze-excitation, residual
        x = L.Activation("hard_swish")(L.Conv2D(8, 3, strides=2, padding="same")(x))
        y = L.Activation("hard_swish")(L.DepthwiseConv2D(3, padding="same")(x))
        s = L.Conv2D(4, 1, activation="relu")(L.GlobalAveragePooling2D(keepdims=True)(y))
        s = L.Conv2D(8, 1, activation="hard_sigmoid")(s)  # relu6(x + 3) / 6: CONV_2D, then MUL by 1/6
        x = L.Add()([x, L.Conv2D(8, 1)(L.Multiply()([y, s]))])  # MUL broadcasts the 1x1x8 gate
        return L.Softmax()(L.Dense(4)(L.GlobalAveragePooling2D()(x)))

    def conv1d_audio(x):  # keyword-spotting style: Conv1D over time, tanh, a sigmoid (multi-label) head
        x = L.Conv1D(8, 5, strides=2, padding="same", activation="relu")(x)
        x = L.Conv1D(8, 3, padding="same", activation="tanh")(x)
        return L.Dense(3, activation="sigmoid")(L.GlobalAveragePooling1D()(x))

    def conv_autoencoder(x):  # Conv2DTranspose decoder (RELU, RELU6 after it: the converter does not fuse them)
        x = L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
        x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
        x = L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")(x)
        return L.Conv2DTranspose(1, 3, strides=2, padding="same", activation="relu6")(x)

    return {
        # one op each (ADD and CONCATENATION of a tensor with itself: the firmware takes one input)
        "conv": model((6, 6, 2), lambda x: L.Conv2D(3, 3)(x)),
        "depthwise": model((6, 6, 3), lambda x: L.DepthwiseConv2D(3, padding="same")(x)),
        "dense": model((10,), lambda x: L.Dense(6)(x)),
        "add": model((5, 5, 2), lambda x: L.Add()([x, x])),
        "avgpool": model((6, 6, 2), lambda x: L.AveragePooling2D(2)(x)),
        "maxpool": model((7, 7, 2), lambda x: L.MaxPooling2D(3, strides=2, padding="same")(x)),
        "reshape": model((4, 4, 2), lambda x: L.Reshape((8, 4))(x)),
        "softmax": model((12,), lambda x: L.Softmax()(x)),
        "mean": model((5, 7, 3), lambda x: L.GlobalAveragePooling2D()(x)),
        "pad": model((5, 5, 2), lambda x: L.ZeroPadding2D(((1, 2), (0, 1)))(x)),
        "concat": model((4, 4, 2), lambda x: L.Concatenate()([x, x])),
        # combinations
        "dense_mlp": model((20,), lambda x: L.Softmax()(L.Dense(5)(L.Dense(12, activation="relu")(x)))),
        "dense_autoencoder": model((32,), lambda x: L.Dense(32)(L.Dense(16, activation="relu")(
            L.Dense(8, activation="relu")(L.Dense(16, activation="relu")(x))))),
        "conv_free": model((7, 9, 3), lambda x: L.Dense(4)(L.Flatten()(
            L.AveragePooling2D(3, strides=1)(L.MaxPooling2D(2, padding="same")(x))))),
        "one_channel": model((11, 13, 1), lambda x: L.GlobalAveragePooling2D()(
            L.Conv2D(1, 5, strides=2)(L.Conv2D(3, 3, padding="same", activation="relu")(x)))),
        "large_kernels_odd": model((15, 15, 2), lambda x: L.Conv2D(3, 3)(L.ZeroPadding2D((1, 2))(
            L.Conv2D(4, (1, 5), strides=(2, 1))(L.Conv2D(4, 7, padding="same")(x))))),
        "strides_paddings": model((9, 9, 3), lambda x: L.Conv2D(5, 2, padding="same", dilation_rate=2)(
            L.DepthwiseConv2D(3, strides=2)(L.Conv2D(4, 3, strides=2, padding="same")(x)))),
        "depth_multiplier": model((8, 8, 3), lambda x: L.DepthwiseConv2D(5, strides=2, depth_multiplier=2)(
            L.DepthwiseConv2D(3, padding="same", depth_multiplier=3, activation="relu6")(x))),
        "broadcast_add": model((6, 6, 3), lambda x: (lambda a: L.Add()([a, L.GlobalAveragePooling2D(
            keepdims=True)(a)]))(L.Conv2D(4, 1)(x))),
        "branches": model((8, 8, 2), lambda x: L.Dense(3)(L.Flatten()(L.MaxPooling2D()(L.Concatenate()([
            L.Add()([L.Conv2D(3, 3, padding="same")(x), L.Conv2D(3, 1)(x)]), L.Conv2D(2, 1)(x)]))))),
        "mobilenet_block": model((24, 24, 3), mobilenet_block),
        "mobilenet_v3_block": model((16, 16, 3), mobilenet_v3_block),
        "conv1d_audio": model((40, 4), conv1d_audio),
        "conv1d_open_batch": model((40, 4), conv1d_audio),  # converted by TFLite itself: EXPAND_DIMS
        "conv_autoencoder": model((16, 16, 1), conv_autoencoder),
    }


SWEEP = ["conv", "depthwise", "dense", "add", "avgpool", "maxpool", "reshape", "softmax", "mean", "pad", "concat",
         "dense_mlp", "dense_autoencoder", "conv_free", "one_channel", "large_kernels_odd", "strides_paddings",
         "depth_multiplier", "broadcast_add", "branches", "mobilenet_block", "mobilenet_v3_block", "conv1d_audio",
         "conv1d_open_batch", "conv_autoencoder"]
# Converted as a user who calls the TFLite converter on the Keras model (batch left open) gets it: Keras
# 3's Conv1D then becomes EXPAND_DIMS / CONV_2D / RESHAPE (`convert` fixes the batch: RESHAPE only).
TFLITE_CONVERTED = {"conv1d_open_batch"}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """name -> (graph, FirmwareBuild): converted, refused-or-accepted as `build` does, then built
    two at a time."""
    import keras

    from ilwp_embedded import pipeline

    from ilwp_embedded.tfquiet import import_keras

    import_keras()
    root = tmp_path_factory.mktemp("sweep")
    keras.utils.set_random_seed(7)
    models = _models(keras)
    loaded = {}
    for name in SWEEP:
        if name in TFLITE_CONVERTED:
            from helpers import convert
            tfl = root / f"{name}.tflite"
            tfl.write_bytes(convert(models[name], [models[name].input_shape[1:]], 0))
        else:
            tfl = convert_keras(models[name], root / f"{name}.tflite")
        loaded[name] = pipeline.load(tfl)  # the checks and compression of `build`
    board = resolve_board("qemu-m4")
    core_dir()

    def build(name):
        with no_network():
            return name, pipeline.build(board, loaded[name], root / f"fw-{name}")

    with ThreadPoolExecutor(2) as ex:
        built = dict(ex.map(build, SWEEP))
    return {name: (loaded[name].graph, built[name]) for name in SWEEP}


def test_sweep_covers_every_firmware_op(sweep):
    ops = {name: {op.op for op in g.operators} for name, (g, _) in sweep.items()}
    # PADV2 and SQUEEZE are not what Keras writes for these layers: tests/test_ops_registry.py runs them
    assert set(REGISTRY) - set().union(*ops.values()) == {"PADV2", "SQUEEZE"}
    for name in SWEEP[:11]:  # the single-op models hold that op alone
        assert len(ops[name]) == 1, (name, ops[name])
    assert ops["dense_autoencoder"] == ops["dense"] == {"FULLY_CONNECTED"}
    assert {"DEPTHWISE_CONV_2D", "CONV_2D", "MEAN", "SOFTMAX"} <= ops["mobilenet_block"]
    g = sweep["broadcast_add"][0]
    add = next(op for op in g.operators if op.op == "ADD")
    assert g.tensors[add.inputs[0]].shape != g.tensors[add.inputs[1]].shape  # really broadcast
    assert {"HARD_SWISH", "MUL", "MEAN", "DEPTHWISE_CONV_2D", "ADD"} <= ops["mobilenet_v3_block"]
    g = sweep["mobilenet_v3_block"][0]
    assert any(g.tensors[op.inputs[0]].shape != g.tensors[op.inputs[1]].shape  # the gate broadcasts
               for op in g.operators if op.op == "MUL")
    assert {"CONV_2D", "RESHAPE", "TANH", "LOGISTIC"} <= ops["conv1d_audio"]
    assert {"EXPAND_DIMS", "CONV_2D"} <= ops["conv1d_open_batch"]
    assert {"TRANSPOSE_CONV", "RELU", "RELU6"} <= ops["conv_autoencoder"]
    g = sweep["depth_multiplier"][0]
    dw = [op for op in g.operators if op.op == "DEPTHWISE_CONV_2D"]
    assert [g.tensors[op.outputs[0]].shape[-1] // g.tensors[op.inputs[0]].shape[-1] for op in dw] == [3, 2]
    print({name: sorted(o) for name, o in ops.items()})


@pytest.mark.parametrize("name", SWEEP)
def test_model_bit_exact_on_qemu_m4(sweep, name):
    from ilwp_embedded.run.link import QemuLink
    from ilwp_embedded.run.session import Device
    from ilwp_embedded.run.validate import validate

    graph, fw = sweep[name]
    shape = graph.tensors[graph.inputs[0]].shape[1:]
    xs = np.random.default_rng(len(name)).integers(-128, 128, (3,) + shape).astype(np.int8)
    board = resolve_board("qemu-m4")
    with QemuLink(board, fw.elf) as link:
        dev = Device(link, inputs_via="auto")
        assert dev.connect().init_ok
        r = validate(dev, graph, xs, np.zeros(3, int), clock_hz=board.cpu_hz, expect_hash=fw.model_hash)
    assert r.bit_exact and r.count == 3 and r.mismatches == 0, r.one_line()
