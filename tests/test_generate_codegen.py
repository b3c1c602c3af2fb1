# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Generated C (schedule + memory plan + constants) compiled for the host equals the golden model."""

import ctypes as C
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import KWS_INT8, REPO, RESNET8_INT8
from helpers import build_host_model, model_inputs, run_host_model

from ilwp_embedded.generate.codegen import generate, write_sources
from ilwp_embedded.golden import Golden
from ilwp_embedded.ingest import load_graph

KERNELS = REPO / "firmware" / "kernels"


@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_generated_model_is_bit_exact_with_golden(tmp_path, path):
    g = load_graph(path)
    gen = generate(g)
    lib = build_host_model(gen, tmp_path)
    assert lib.ilwp_model_init() == 0
    golden = Golden(g)
    xs = model_inputs(g, 20)
    for x in xs:
        np.testing.assert_array_equal(run_host_model(lib, gen, x), golden.run(x).reshape(-1))


def test_generated_sources_cross_compile_for_cortex_m4(tmp_path):
    gen = generate(load_graph(RESNET8_INT8))
    write_sources(gen, tmp_path)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
                    "-std=c99", "-Wall", "-Wextra", "-Werror", "-Os", f"-I{KERNELS}", f"-I{REPO / 'firmware' / 'include'}", "-c",
                    str(tmp_path / "ilwp_model.c"), "-o", str(tmp_path / "m.o")], check=True)
    # The arena against independent references: an op's activations (its inputs and output) are
    # live together (a reshape may share one buffer), so the arena holds the largest such set; and
    # it is below TFLite Micro's own minimal arena for the model.
    from ilwp_embedded.golden import tflm_minimal_arena

    g = load_graph(RESNET8_INT8)

    def live(op) -> int:
        acts = {i for i in (*op.inputs, *op.outputs) if i >= 0 and not g.tensors[i].is_constant}
        sizes = [int(np.prod(g.tensors[i].shape)) for i in acts]
        return max(sizes) if op.op in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS") else sum(sizes)

    assert max(live(op) for op in g.operators) <= gen.arena_bytes < tflm_minimal_arena(g) and gen.decode_mode == "raw"
    assert gen.weights_flash_bytes == sum(t.nbytes for _, t in g.weight_tensors())


DECODER = REPO / "firmware" / "decoder"


@pytest.mark.parametrize("mode", ["once", "layer"])
@pytest.mark.parametrize("path,step", [(RESNET8_INT8, 1), (KWS_INT8, 1), (RESNET8_INT8, 3)],
                         ids=["resnet8-lossless", "kws-lossless", "resnet8-step3"])
def test_compressed_weights_decoded_on_the_target_are_bit_exact(tmp_path, path, step, mode):
    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.generate.weights import coded_weights

    g = load_graph(path)
    enc = encode_graph(g, step)
    model = enc.graph if step > 1 else g  # lossy: the model is what the decoder rebuilds
    gen = generate(model, coded_weights(enc.container, mode))
    assert gen.decode_mode == mode and 0 < gen.weights_flash_bytes < sum(t.nbytes for _, t in g.weight_tensors())
    if mode == "layer":  # per-layer decoding needs only the largest live weights, not all of them
        assert gen.weight_ram_bytes < sum(t.nbytes for _, t in g.weight_tensors())
    lib = build_host_model(gen, tmp_path, [DECODER / "ilwp_decode.c"], [DECODER])
    assert lib.ilwp_model_init() == 0
    golden = Golden(model)
    for x in model_inputs(g, 8):
        np.testing.assert_array_equal(run_host_model(lib, gen, x), golden.run(x).reshape(-1))


def test_corrupt_blob_is_refused_at_init(tmp_path):
    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.generate.weights import coded_weights

    g = load_graph(KWS_INT8)
    w = coded_weights(encode_graph(g, 1).container, "once")
    bad = bytearray(w.blob)
    bad[len(bad) // 2] ^= 0x10
    gen = generate(g, type(w)(w.mode, bytes(bad), w.records))
    lib = build_host_model(gen, tmp_path, [DECODER / "ilwp_decode.c"], [DECODER])
    assert lib.ilwp_model_init() < 0


def test_generator_scratch_sizes_match_the_kernels(tmp_path):
    """The registry's scratch facet equals the C kernels' own *_scratch_size()."""
    from devtools.host_runner import build_kernels
    from ilwp_embedded.ops.cstruct import ctypes_struct
    from ilwp_embedded.ops.registry import ADD_TABLE_BYTES, REGISTRY

    lib = C.CDLL(str(build_kernels(tmp_path)))
    assert lib.ilwp_add_s8_scratch_size() == ADD_TABLE_BYTES
    g = load_graph(RESNET8_INT8)
    convs = [o for o in g.operators if o.op == "CONV_2D"]
    assert len({REGISTRY["CONV_2D"].params(g, o).filter_h * REGISTRY["CONV_2D"].params(g, o).input_c
                for o in convs}) > 1  # several shapes
    for conv in convs:
        p = REGISTRY["CONV_2D"].params(g, conv)
        assert lib.ilwp_conv2d_s8_scratch_size(C.byref(ctypes_struct(p))) == REGISTRY["CONV_2D"].scratch_bytes(p)


def _dense_autoencoder(path: Path) -> Path:
    """An anomaly-detection style MLP: 64 -> 16 -> 8 -> 16 -> 64, fully connected layers only."""
    import keras
    from helpers import convert

    keras.utils.set_random_seed(5)
    inp = keras.Input(shape=(64,), batch_size=1)
    y = inp
    for units, act in ((16, "relu"), (8, "relu"), (16, "relu"), (64, None)):
        y = keras.layers.Dense(units, activation=act, bias_initializer="random_normal")(y)
    path.write_bytes(convert(keras.Model(inp, y), [(64,)], seed=5))
    return path


@pytest.mark.parametrize("mode", ["raw", "once", "layer"])
def test_dense_only_model_compiles_with_werror_and_is_bit_exact(tmp_path, mode):
    """No conv: no kernel uses the scratch buffer, so none is declared (an unused static fails
    -Werror=unused-variable), in every decode mode."""
    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.generate.codegen import Weights
    from ilwp_embedded.generate.weights import coded_weights

    g = load_graph(_dense_autoencoder(tmp_path / "ae.tflite"))
    assert {op.op for op in g.operators} == {"FULLY_CONNECTED"}
    gen = generate(g, Weights("raw") if mode == "raw" else coded_weights(encode_graph(g, 1).container, mode))
    assert gen.scratch_bytes == 0 and "ilwp_scratch" not in gen.files["ilwp_model.c"]
    (tmp_path / "build").mkdir()
    lib = build_host_model(gen, tmp_path / "build", [DECODER / "ilwp_decode.c"], [DECODER])
    assert lib.ilwp_model_init() == 0
    golden = Golden(g)
    for x in model_inputs(g, 4):
        np.testing.assert_array_equal(run_host_model(lib, gen, x), golden.run(x).reshape(-1))
