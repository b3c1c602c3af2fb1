# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""A MobileNet v1 0.25 (96x96, random weights) on a 128 KB board: its per-layer decoded weights and the
decoder's slot table lie in arena bytes idle at their layer, so the coded model fits qemu-stm32f4
where the arena, the largest layer's weights (64 KB) and the slot table side by side would not,
and it runs bit-exact in QEMU."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import convert_keras, core_dir, needs_qemu, needs_toolchain, no_network

from ilwp_embedded.target.boards import resolve_board

pytestmark = [needs_toolchain, needs_qemu, pytest.mark.slow]


def _mobilenet(keras):
    """keras.applications.MobileNet, alpha 0.25, 96x96, 10 classes; He-normal random weights, so that
    activations keep their scale through its 27 layers (Keras' initialisers fade them to ~1e-8,
    which the golden interpreter's SOFTMAX refuses)."""
    m = keras.applications.MobileNet(input_shape=(96, 96, 3), alpha=0.25, weights=None, classes=10)
    rng = np.random.default_rng(0)
    for layer in m.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            w = layer.get_weights()
            fan_in = int(np.prod(w[0].shape[:2])) * (1 if isinstance(layer, keras.layers.DepthwiseConv2D)
                                                    else w[0].shape[2])
            w[0] = rng.normal(0.0, np.sqrt(2.0 / fan_in), w[0].shape).astype(np.float32)
            layer.set_weights(w)
    return m


def test_mobilenet_025_decodes_per_layer_in_128_kb_bit_exact(tmp_path):
    from ilwp_embedded import pipeline
    from ilwp_embedded.datasets import Dataset
    from ilwp_embedded.generate.decode_plan import RUNTIME_RAM_RESERVE
    from ilwp_embedded.generate.codegen import Weights, generate
    from ilwp_embedded.tfquiet import import_keras

    keras = import_keras()
    tfl = convert_keras(_mobilenet(keras), tmp_path / "mobilenet025.tflite", n_cal=4)
    # lossy residual step 4: random weights do not compress losslessly, and `auto` would keep them raw
    model = pipeline.load(tfl, step=4)
    board = resolve_board("qemu-stm32f4")
    g = model.graph
    largest = max(t.nbytes for _, t in g.weight_tensors())
    raw_arena = generate(g, Weights("raw")).arena_bytes
    assert raw_arena + largest + RUNTIME_RAM_RESERVE > board.ram.size  # side by side it would not fit
    core_dir()
    with no_network():
        fw = pipeline.build(board, model, tmp_path / "fw")
    assert fw.decode_mode == "layer" and fw.weight_ram_bytes == 0
    assert fw.weights_coded_bytes < fw.weights_int8_bytes and fw.ram_bytes <= fw.ram_size
    assert {m["mode"]: m["fits"] for m in fw.modes} == {"once": False, "layer": True, "raw": True}
    x = np.random.default_rng(1).integers(-128, 128, (1, 96, 96, 3)).astype(np.int8)
    r = pipeline.validate(board, model, Dataset("noise", x, np.zeros(1, np.int64), pixels=False), elf=fw.elf)
    assert r.bit_exact and r.count == 1 and r.decode_mode == "layer", r.one_line()
