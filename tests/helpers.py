# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The one helpers module of the tests (fixtures live in conftest.py only where every test needs them):

  data and models     data_dir, int8_models, load_graph (cached), synthetic_graph
  codec               the C decoder built with host gcc and driven through ctypes
  kernels             the kernel_lib fixture (host-built kernels), tflm_outputs (the golden interpreter)
  single-op models    SPECS (one TFLite op each, built with TensorFlow), build_single_op
  Keras models        convert_keras (the product's converter, calibrated on noise)
  host models         build_host_model / run_host_model: generated C on the host, through ctypes
  boards              no_network, core_dir, hello_build, needs_toolchain, needs_qemu
  inference firmware  resnet8, cifar, firmware (cached per process)
  serial servers      needs_ser2net, ser2net_rfc2217: a tty or pty served as rfc2217:// by ser2net
  cycle profiling     run_profiled, symbol: hand-written assembly under the cycle-profile plugin
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from conftest import DATA_DIR, RESNET8_INT8
from elftools.elf.elffile import ELFFile

from ilwp_embedded.cycles.plugin import plugin_args, read_profile
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.generate.codegen import Generated, generate, write_sources
from ilwp_embedded.golden import prepare_inputs
from ilwp_embedded.ingest.graph import Graph, Operator, Quantization, Tensor
from ilwp_embedded.resources import default_core_dir
from ilwp_embedded.target.boards import load_boards, resolve_board
from ilwp_embedded.target.firmware import build_inference_firmware
from ilwp_embedded.target.pio import BuildResult, build_firmware, hello_sources
from ilwp_embedded.target.pio_core import prepare_core
from ilwp_embedded.target.qemu import end_process, free_port, run_to_exit

REPO = Path(__file__).resolve().parents[1]
# The project's own copyright line (SPDX); any other line with "Copyright" is a third-party notice.
OWN_COPYRIGHT = "SPDX-FileCopyrightText: 2026 The ilwp-embed authors"
DECODER_DIR = REPO / "firmware" / "decoder"
C_FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror"]


def third_party_notices(text: str) -> list[str]:
    """Lines that claim a copyright other than the project's own SPDX line."""
    return [line for line in text.splitlines() if "Copyright" in line and OWN_COPYRIGHT not in line]


def data_dir() -> Path:
    return DATA_DIR  # resolved once, in conftest.py


def int8_models() -> list[Path]:
    """Every int8 .tflite under the data dir (float models are not the codec's input)."""
    from ilwp_embedded.ingest.tflite_io import read_tflite

    out = []
    if not (data_dir() / "models").is_dir():
        return out  # test_models_found reports it
    for p in sorted((data_dir() / "models").rglob("*.tflite")):
        g = read_tflite(p.read_bytes(), str(p))
        if any(t.dtype == "int8" for _, t in g.weight_tensors()):
            out.append(p)
    return out


@functools.lru_cache(maxsize=None)
def load_graph(path: str) -> Graph:
    from ilwp_embedded.ingest.tflite_io import read_tflite

    return read_tflite(Path(path).read_bytes(), path)


def _conv_graph(weights: list[tuple[str, np.ndarray, np.ndarray, int]]) -> Graph:
    """A chain of weighted ops (enough for the codec; not meant to run). (op, int8 data, scales, axis)."""
    tensors, ops = [Tensor(0, "input", (1, 8, 8, 8), "int8")], []
    for op_name, w, scales, axis in weights:
        ti = len(tensors)
        tensors.append(Tensor(ti, f"w{ti}", tuple(w.shape), "int8",
                              Quantization(scales.astype(np.float32), np.zeros(scales.size, np.int64), axis), w))
        tensors.append(Tensor(ti + 1, f"a{ti}", (1, 8, 8, 8), "int8"))
        ops.append(Operator(len(ops), op_name, 1, (ti - 1 if ti > 1 else 0, ti, -1), (ti + 1,)))
    return Graph(tensors, ops, (0,), (len(tensors) - 1,))


def _to_int8(real: np.ndarray, scales: np.ndarray, axis: int) -> np.ndarray:
    shape = [1] * real.ndim
    shape[axis] = -1
    return np.clip(np.rint(real / scales.reshape(shape)), -127, 127).astype(np.int8)


def synthetic_graph(seed: int = 0, noise: float = 0.02) -> Graph:
    """Correlated layers, as inter-layer fine-tuning produces: W2 ~ W1 (other scales), W3 ~
    W2 with shuffled output channels, a depthwise pair, and an unrelated FC layer."""
    rng = np.random.default_rng(seed)
    c, kh, kw, ci = 16, 3, 3, 8
    r1 = rng.laplace(0, 0.1, (c, kh, kw, ci))
    s1 = np.abs(r1).reshape(c, -1).max(1) / 127
    r2 = r1 + rng.normal(0, noise, r1.shape)
    s2 = np.abs(r2).reshape(c, -1).max(1) / 127 * 1.1
    perm = rng.permutation(c)
    r3 = r2[perm] + rng.normal(0, noise, r1.shape)
    s3 = np.abs(r3).reshape(c, -1).max(1) / 127
    d1 = rng.laplace(0, 0.1, (1, kh, kw, c))
    sd1 = np.abs(d1).reshape(-1, c).max(0) / 127
    d2 = d1 + rng.normal(0, noise, d1.shape)
    sd2 = np.abs(d2).reshape(-1, c).max(0) / 127
    fc = rng.laplace(0, 0.1, (10, 72))
    sfc = np.array([np.abs(fc).max() / 127])
    return _conv_graph([
        ("CONV_2D", _to_int8(r1, s1, 0), s1, 0),
        ("CONV_2D", _to_int8(r2, s2, 0), s2, 0),
        ("CONV_2D", _to_int8(r3, s3, 0), s3, 0),
        ("DEPTHWISE_CONV_2D", _to_int8(d1, sd1, 3), sd1, 3),
        ("DEPTHWISE_CONV_2D", _to_int8(d2, sd2, 3), sd2, 3),
        ("FULLY_CONNECTED", _to_int8(fc, sfc, 0), sfc, 0),
    ])


# ---- C decoder through ctypes -------------------------------------------------------------

MAX_PRECISION = 11  # format v2


class Work(ctypes.Structure):
    """ilwp_work: the caller's slot table (2^slot_log2 uint32_t) and the frequency scratch."""
    _fields_ = [("slot", ctypes.c_void_p), ("slot_log2", ctypes.c_uint32), ("freq", ctypes.c_uint16 * 256)]


def make_work(slot_log2: int = MAX_PRECISION):
    """(ilwp_work, its slot array): keep both alive while the decoder runs."""
    slots = (ctypes.c_uint32 * (1 << slot_log2))()
    return Work(ctypes.cast(slots, ctypes.c_void_p), slot_log2), slots


class CDecoder:
    def __init__(self, lib_path: Path) -> None:
        self.lib = ctypes.CDLL(str(lib_path))
        f = self.lib.ilwp_decode_all
        f.restype = ctypes.c_int32
        f.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32,
                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]

    def decode_all(self, blob: bytes, flags: int = 0, out_cap: int = 1 << 22, max_records: int = 4096,
                   slot_log2: int = MAX_PRECISION):
        """(rc, [(tensor_id, flat int8 array)]): rc = record count, or < 0 (an error code)."""
        out = np.zeros(out_cap, np.int8)
        offsets = np.zeros(max_records + 1, np.uint32)
        ids = np.zeros(max_records, np.uint32)
        work, _slots = make_work(slot_log2)
        rc = self.lib.ilwp_decode_all(blob, len(blob), flags, out.ctypes.data, out_cap, offsets.ctypes.data,
                                      ids.ctypes.data, max_records, ctypes.byref(work))
        if rc < 0:
            return rc, []
        return rc, [(int(ids[i]), out[offsets[i]:offsets[i + 1]].copy()) for i in range(rc)]


def build_c_decoder(out_dir: Path, extra_flags: list[str] | None = None) -> CDecoder:
    lib = Path(out_dir) / "libilwp_decode.so"
    subprocess.run(["gcc", *C_FLAGS, "-O2", "-fPIC", "-shared", *(extra_flags or []),
                    str(DECODER_DIR / "ilwp_decode.c"), "-o", str(lib)], check=True)
    return CDecoder(lib)


# -------------------------------------------------------------------------------------- kernels

@pytest.fixture(scope="session", params=["portable", "dsp-emulated"])
def kernel_lib(request, tmp_path_factory) -> Path:
    """The kernels built with host gcc: the portable C path, and the Cortex-M DSP fast path with
    emulated SIMD32 intrinsics (same loops and data layout as on the device)."""
    from devtools.host_runner import build_kernels
    return build_kernels(tmp_path_factory.mktemp("kernels"), emulate_dsp=request.param == "dsp-emulated")


def tflm_outputs(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Golden outputs: the TFLite Micro reference kernels through the tflite-micro Python interpreter."""
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(model)
    for k, x in enumerate(inputs):
        it.set_input(x, k)
    it.invoke()
    outs = []
    k = 0
    while True:
        try:
            outs.append(np.array(it.get_output(k)))
        except Exception:
            break
        k += 1
    return outs


# ----------------------------------------------------------------------------- single-op models

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


def convert_keras(keras_model, path: Path, seed: int = 0, n_cal: int = 16) -> Path:
    """What `ilwp-embed convert` does, in this process (one TensorFlow import per test module): the
    model saved as .keras beside `path`, converted to a full-int8 .tflite calibrated on normal noise."""
    from ilwp_embedded.ingest.convert import convert_to_int8, load_keras_or_savedmodel

    src = path.with_suffix(".keras")
    keras_model.save(src)
    converter, dims = load_keras_or_savedmodel(src)
    cal = np.random.default_rng(seed).normal(0.0, 1.0, (n_cal, 1) + dims).astype(np.float32)
    path.write_bytes(convert_to_int8(converter, lambda: ([c] for c in cal), str(src)))
    return path


def _act(name):
    import keras
    if name == "relu6":
        return keras.layers.ReLU(max_value=6.0)
    if name == "relu":
        return keras.layers.ReLU()
    return None


def build_single_op(spec: dict) -> tuple[bytes, list[tuple[int, ...]]]:
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
    elif kind in ("add", "mul"):
        other = tuple(spec.get("shape2", spec["shape"]))
        shapes.append(other)
        inp2 = keras.Input(shape=other, batch_size=1)
        inputs.append(inp2)
        y = (keras.ops.add if kind == "add" else keras.ops.multiply)(inp, inp2)
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
    elif kind in ("sigmoid", "tanh", "hard_swish", "relu", "relu6"):
        y = keras.layers.Activation(kind)(inp)
    elif kind == "tconv":
        y = keras.layers.Conv2DTranspose(spec["filters"], spec["k"], strides=spec.get("s", 1), padding=spec["pad"],
                                         use_bias=spec.get("bias", True), bias_initializer="random_normal")(inp)
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


_RNG = np.random.default_rng(20261123)


def _random_conv_specs(n):
    out = []
    for i in range(n):
        k = int(_RNG.choice([1, 2, 3, 5]))
        s = int(_RNG.choice([1, 2, 3]))
        d = 1 if s > 1 or k == 1 else int(_RNG.choice([1, 2]))
        h, w = int(_RNG.integers(k * d, 14)), int(_RNG.integers(k * d, 14))
        out.append(dict(kind="conv", shape=(h, w, int(_RNG.integers(1, 9))), filters=int(_RNG.integers(1, 12)),
                        k=k, s=s, d=d, pad=str(_RNG.choice(["same", "valid"])),
                        act=str(_RNG.choice(["none", "relu", "relu6"])), seed=100 + i,
                        rep_scales=[float(_RNG.choice([0.5, 1.0, 4.0]))]))
    return out


def _random_dw_specs(n):
    out = []
    for i in range(n):
        k = int(_RNG.choice([1, 3, 5]))
        s = int(_RNG.choice([1, 2]))
        d = 1 if s > 1 or k == 1 else int(_RNG.choice([1, 2]))
        h, w = int(_RNG.integers(k * d, 13)), int(_RNG.integers(k * d, 13))
        out.append(dict(kind="dwconv", shape=(h, w, int(_RNG.integers(1, 9))), k=k, s=s, d=d,
                        dm=int(_RNG.choice([1, 2, 3])), pad=str(_RNG.choice(["same", "valid"])),
                        act=str(_RNG.choice(["none", "relu", "relu6"])), seed=200 + i))
    return out


SPECS = (
    _random_conv_specs(8)
    + [
        dict(kind="conv", shape=(32, 32, 3), filters=16, k=3, pad="same", act="relu", seed=1),
        dict(kind="conv", shape=(9, 7, 4), filters=6, k=(3, 2), s=(2, 1), pad="same", act="none", seed=2),
        dict(kind="conv", shape=(8, 8, 6), filters=9, k=3, pad="valid", groups=3, act="relu6", seed=3),
        dict(kind="conv", shape=(30, 1, 40), filters=16, k=1, pad="valid", act="relu", seed=4, bias=False),
        dict(kind="conv", shape=(9, 9, 16), filters=6, k=3, pad="same", groups=2, act="relu", seed=28),
        dict(kind="conv", shape=(12, 11, 8), filters=7, k=3, d=2, pad="same", act="none", seed=29),
        dict(kind="conv", shape=(7, 7, 12), filters=5, k=(1, 3), s=(1, 2), pad="valid", act="relu6", seed=30),
        # 2 channels, 2 taps wide: a window row is one whole block although the channels are not
        dict(kind="conv", shape=(6, 7, 2), filters=5, k=(3, 2), pad="same", act="none", seed=43),
    ]
    + _random_dw_specs(6)
    + [
        dict(kind="dwconv", shape=(30, 1, 40), k=(3, 1), pad="valid", act="none", seed=5),
        dict(kind="dense", shape=(64,), units=10, seed=6),
        dict(kind="dense", shape=(37,), units=5, act="relu", seed=7, rep_scales=[3.0]),
        dict(kind="dense", shape=(3, 12), units=7, act="relu6", seed=8),
        dict(kind="add", shape=(8, 8, 16), act="relu", seed=9, rep_scales=[1.0, 3.0]),
        dict(kind="add", shape=(5, 3, 4), seed=10, rep_scales=[0.2, 2.0]),
        dict(kind="add", shape=(4, 4, 3), shape2=(1, 1, 3), seed=11),
        dict(kind="add", shape=(4, 5, 3), shape2=(4, 1, 3), seed=12, rep_scales=[1.0, 5.0]),
        dict(kind="avgpool", shape=(8, 8, 5), k=8, s=8, pad="valid", seed=13),
        dict(kind="avgpool", shape=(9, 7, 3), k=3, s=2, pad="same", seed=14),
        dict(kind="avgpool", shape=(10, 10, 4), k=(2, 3), s=(2, 1), pad="valid", act="relu", seed=15),
        dict(kind="maxpool", shape=(9, 7, 3), k=3, s=2, pad="same", seed=16),
        dict(kind="maxpool", shape=(8, 8, 4), k=2, s=2, pad="valid", act="relu6", seed=17),
        dict(kind="softmax", shape=(10,), seed=18, rep_scales=[3.0]),
        dict(kind="softmax", shape=(3,), seed=19, rep_scales=[0.3]),
        dict(kind="softmax", shape=(4, 33), seed=20, rep_scales=[8.0]),
        dict(kind="mean", shape=(6, 5, 7), axes=(1, 2), keepdims=True, seed=21),
        dict(kind="mean", shape=(6, 5, 7), axes=(1, 2), keepdims=False, seed=22),
        dict(kind="mean", shape=(4, 6, 3), axes=(3,), keepdims=False, seed=23),
        dict(kind="gap", shape=(8, 8, 12), seed=24),
        dict(kind="pad", shape=(5, 4, 3), pads=((1, 2), (0, 1)), seed=25),
        dict(kind="concat", shape=(4, 4, 3), shape2=(4, 4, 2), axis=-1, seed=26),
        dict(kind="concat", shape=(4, 4, 3), shape2=(2, 4, 3), axis=1, seed=27),
        dict(kind="sigmoid", shape=(6, 7), seed=31, rep_scales=[3.0]),
        dict(kind="tanh", shape=(5, 5, 3), seed=32, rep_scales=[0.5]),
        dict(kind="hard_swish", shape=(6, 6, 4), seed=33, rep_scales=[4.0]),
        dict(kind="relu", shape=(4, 6, 5), seed=41, rep_scales=[2.0]),
        dict(kind="relu6", shape=(3, 7, 4), seed=42, rep_scales=[6.0]),
        dict(kind="mul", shape=(5, 4, 3), seed=34, rep_scales=[1.0, 3.0]),
        dict(kind="mul", shape=(4, 4, 6), shape2=(1, 1, 6), act="relu", seed=35),
        dict(kind="mul", shape=(3, 5, 2), shape2=(3, 1, 2), seed=36, rep_scales=[0.2, 6.0]),
        dict(kind="tconv", shape=(4, 5, 3), filters=4, k=3, s=2, pad="same", seed=37),
        dict(kind="tconv", shape=(3, 3, 2), filters=3, k=(2, 3), s=(2, 1), pad="valid", act="relu", seed=38),
        dict(kind="tconv", shape=(5, 4, 4), filters=2, k=3, s=1, pad="same", bias=False, seed=39),
    ]
)

EXPECTED_OP = {"conv": "CONV_2D", "dwconv": "DEPTHWISE_CONV_2D", "dense": "FULLY_CONNECTED", "add": "ADD",
               "avgpool": "AVERAGE_POOL_2D", "maxpool": "MAX_POOL_2D", "softmax": "SOFTMAX", "mean": "MEAN",
               "gap": "MEAN", "pad": "PAD", "concat": "CONCATENATION", "sigmoid": "LOGISTIC", "tanh": "TANH",
               "hard_swish": "HARD_SWISH", "relu": "RELU", "relu6": "RELU6", "mul": "MUL", "tconv": "TRANSPOSE_CONV"}


def spec_id(spec: dict) -> str:
    keys = [k for k in spec if k not in ("kind", "seed")]
    return f"{spec['kind']}-{spec['seed']}-" + "-".join(f"{k}{spec[k]}" for k in keys).replace(" ", "")


_SINGLE_OP_MODELS: dict[str, tuple[bytes, list[tuple[int, ...]]]] = {}


def single_op_model(spec: dict) -> tuple[bytes, list[tuple[int, ...]]]:
    """build_single_op(spec), built once per test session."""
    key = repr(sorted(spec.items()))
    if key not in _SINGLE_OP_MODELS:
        _SINGLE_OP_MODELS[key] = build_single_op(spec)
    return _SINGLE_OP_MODELS[key]


# ---------------------------------------------------------------------------------- host models

def build_host_model(gen, out: Path, extra_sources=(), include=()) -> ctypes.CDLL:
    write_sources(gen, out)
    so = out / "model.so"
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC", f"-I{REPO / 'firmware' / 'kernels'}",
           f"-I{REPO / 'firmware' / 'include'}", f"-I{out}",
           *[f"-I{i}" for i in include], "-o", str(so), str(out / "ilwp_model.c"),
           *map(str, sorted((REPO / 'firmware' / 'kernels').glob("*.c"))), *map(str, extra_sources)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    lib = ctypes.CDLL(str(so))
    lib.ilwp_model_input.restype = ctypes.POINTER(ctypes.c_int8)
    lib.ilwp_model_output.restype = ctypes.POINTER(ctypes.c_int8)
    return lib


def run_host_model(lib, gen, x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.int8)
    ctypes.memmove(lib.ilwp_model_input(), x.ctypes.data, x.size)
    rc = lib.ilwp_model_run()
    assert rc == 0, rc
    return np.ctypeslib.as_array(lib.ilwp_model_output(), shape=(gen.output_bytes,)).copy()


def model_inputs(graph, n):
    t = graph.tensors[graph.inputs[0]]
    if t.shape == (1, 32, 32, 3):
        return prepare_inputs(load_dataset("cifar10-raw200").take(n), t)
    return np.random.default_rng(3).integers(-128, 128, (n,) + t.shape[1:]).astype(np.int8)


# --------------------------------------------------------------------------------------- boards

DEAD_PROXY = "http://127.0.0.1:9"
NO_NETWORK_ENV = {
    "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY,
    "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "all_proxy": DEAD_PROXY,
    "NO_PROXY": "", "no_proxy": "",
}

ALL_BOARDS = sorted(load_boards())
QEMU_BOARDS = sorted(b.id for b in load_boards().values() if b.emulated)

needs_toolchain = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
needs_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")


# The environment is the process's: threads that each entered no_network (parallel builds) used to
# save and restore it over one another, and the last to leave could leave the dead proxy set for the
# rest of the worker (labgrid's and Ray's gRPC then dialled 127.0.0.1:9). One depth count under a lock:
# the first to enter saves, the last to leave restores.
_NO_NETWORK_LOCK = threading.Lock()
_NO_NETWORK_STATE: dict = {"depth": 0, "saved": {}}


@contextmanager
def no_network() -> Iterator[None]:
    with _NO_NETWORK_LOCK:
        if _NO_NETWORK_STATE["depth"] == 0:
            _NO_NETWORK_STATE["saved"] = {k: os.environ.get(k) for k in NO_NETWORK_ENV}
            os.environ.update(NO_NETWORK_ENV)
        _NO_NETWORK_STATE["depth"] += 1
    try:
        yield
    finally:
        with _NO_NETWORK_LOCK:
            _NO_NETWORK_STATE["depth"] -= 1
            if _NO_NETWORK_STATE["depth"] == 0:
                for k, v in _NO_NETWORK_STATE["saved"].items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v


@functools.cache
def core_dir() -> Path:
    """The project-local core dir, prepared once (may use PyPI for scons if not installed)."""
    return prepare_core(default_core_dir())


@functools.cache
def _out_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="ilwp-boards-test-"))


@functools.cache
def hello_build(board_id: str) -> BuildResult:
    core = core_dir()
    with no_network():
        return build_firmware(board_id, hello_sources(), out_dir=_out_root() / board_id,
                              core_dir=core, timeout_s=300)


# --------------------------------------------------------------------------- inference firmware

@functools.cache
def resnet8() -> tuple[Graph, Generated]:
    g = load_graph(str(RESNET8_INT8))
    return g, generate(g)


@functools.cache
def cifar(n: int):
    g, _ = resnet8()
    ds = load_dataset("cifar10-raw200").take(n)
    return prepare_inputs(ds, g.tensors[g.inputs[0]]), ds.y


@functools.cache
def _run_out_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="ilwp-run-test-"))


@functools.cache
def firmware(board_id: str, variant: str = "test") -> BuildResult:
    """variant: 'test' (TEST commands built in), 'badblob' (init reports a corrupt blob),
    'smallring' (a 256-byte receive ring, which a run fills)."""
    defines = {"badblob": {"ILWP_FORCE_INIT_STATUS": -50},
               "smallring": {"ILWP_PROTO_RX_RING_BYTES": 256}}.get(variant, {})
    with no_network():
        return build_inference_firmware(board_id, resnet8()[1], _run_out_root() / f"{board_id}-{variant}",
                                        defines=defines, test_commands=True, core_dir=core_dir(),
                                        timeout_s=300)


@functools.cache
def resnet8_single_run(n: int = 12):
    """ResNet-8 on the first `n` CIFAR images in one QEMU (qemu-m4, the test firmware): the run that
    sharded runs are compared with."""
    from ilwp_embedded.run.validate import validate_model

    g, _ = resnet8()
    xs, ys = cifar(n)
    return validate_model(resolve_board("qemu-m4"), g, xs, ys, elf=firmware("qemu-m4").elf)


def assert_same_run(single, merged, tick: int | None = 40) -> None:
    """`merged` (shards) equals `single` in everything but wall time and link counters; latencies
    within `tick` (one SysTick tick on mps2: each shard's QEMU boots afresh), or not compared (None:
    over serial, the receive interrupt's work for the next input lands in the timed runs as the
    host's timing has it)."""
    import dataclasses

    a, b = single, merged
    assert (a.count, a.bit_exact, a.mismatches, a.board, a.model_hash, a.decode_mode) == (
        b.count, b.bit_exact, b.mismatches, b.board, b.model_hash, b.decode_mode)
    assert (a.accuracy_device, a.accuracy_host) == (b.accuracy_device, b.accuracy_host)
    strip = lambda r: dataclasses.replace(r, elapsed=0, rx_in_run=0)  # noqa: E731
    assert [strip(r) for r in a.records] == [strip(r) for r in b.records]
    if tick is not None:
        assert max(abs(x.elapsed - y.elapsed) for x, y in zip(a.records, b.records)) <= tick
        assert abs(a.latency.median - b.latency.median) <= tick and abs(a.latency.p95 - b.latency.p95) <= tick


# ------------------------------------------------------------------------------- serial servers

# Debian installs ser2net in /usr/sbin, which a non-root PATH may lack
SER2NET = shutil.which("ser2net", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
needs_ser2net = pytest.mark.skipif(SER2NET is None, reason="ser2net not installed (scripts/install-toolchain.sh installs it)")
# The configuration docs/serial-protocol.md gives users ("ser2net and RFC 2217")
SER2NET_YAML = """connection: &ilwp
  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}
  connector: serialdev,{device},115200n81,local
  options:
    kickolduser: true
"""


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@contextmanager
def ser2net_rfc2217(device: str, workdir: Path, timeout_s: float = 10.0) -> Iterator[str]:
    """ser2net serving `device` as telnet(rfc2217) on a free loopback port, configured by a YAML
    file in `workdir`: yields the rfc2217:// URL; ser2net is stopped by its PID on exit."""
    assert SER2NET is not None
    port = free_port()
    conf = workdir / "ser2net.yaml"
    conf.write_text(SER2NET_YAML.format(port=port, device=device))
    log = (workdir / "ser2net.log").open("wb")
    # -n: stay in the foreground; -u: no UUCP lock files (/var/lock may not be writable)
    proc = subprocess.Popen([SER2NET, "-n", "-u", "-c", str(conf), "-P", str(workdir / "ser2net.pid")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while not _listening(port):  # probing by bind: a connection would open the device
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ser2net did not listen on {port}: "
                                   f"{(workdir / 'ser2net.log').read_text(errors='replace')[-500:]}")
            time.sleep(0.02)
        yield f"rfc2217://127.0.0.1:{port}"
    finally:
        end_process(proc, grace_s=3.0)
        log.close()


# ------------------------------------------------------------------------- cycle-profile probes

# hand-written Cortex-M4 assembly run on QEMU mps2-an386 under the
# cycle-profile plugin.
#
# The program runs `body` 40 times in a loop. Each pass reads SysTick's current value just before
# (`region_start`) and just after (`region_stop`) the body and adds up the differences; the sum is
# printed by semihosting. The plugin's region is [region_start, region_stop): the first read, a nop,
# the body.

PROBE_TEMPLATE = r"""
    .syntax unified
    .cpu cortex-m4
    .thumb
    .text
    .word 0x20010000
    .word reset
    .thumb_func
    .global reset
reset:
    ldr r4, =0xE000E010
    ldr r0, =0xFFFFFF
    str r0, [r4, #4]     @ SYST_RVR
    movs r0, #0
    str r0, [r4, #8]     @ SYST_CVR
    movs r0, #5
    str r0, [r4]         @ core clock, enabled, no interrupt
    adds r4, #8          @ r4 = &SYST_CVR
    ldr r5, =buf
    str r5, [r5, #12]    @ buf[3] = &buf (a pointer to chase)
    movs r6, #40
    movs r7, #0
    b loop
    .balign 4
loop:
    .global region_start
region_start:
    ldr r0, [r4]
    nop
{body}
    .global region_stop
region_stop:
    ldr r1, [r4]
    subs r0, r0, r1
    bic r0, r0, #0xFF000000   @ the 24-bit counter counts down
    add r7, r7, r0
{pad}
    subs r6, #1
    bne loop
    ldr r1, =text        @ r7 in hex, by SYS_WRITE0
    movs r2, #28
1:  lsr r3, r7, r2
    and r3, r3, #15
    cmp r3, #10
    ite lo
    addlo r3, r3, #48
    addhs r3, r3, #87
    strb r3, [r1], #1
    subs r2, #4
    bpl 1b
    movs r3, #10
    strb r3, [r1], #1
    movs r3, #0
    strb r3, [r1]
    ldr r1, =text
    movs r0, #4
    bkpt 0xab
    ldr r1, =exitblk     @ SYS_EXIT_EXTENDED, ADP_Stopped_ApplicationExit, 0
    movs r0, #0x20
    bkpt 0xab
    b .
{funcs}
    .ltorg
    .balign 4
exitblk: .word 0x20026, 0
    .data
    .balign 8
buf: .space 256
text: .space 16
"""


def build_asm_probe(tmp: Path, body: str, pad: int = 0, funcs: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "t.s"
    src.write_text(PROBE_TEMPLATE.format(body=body, pad="\n".join(["    nop"] * pad), funcs=funcs))
    elf = tmp / "t.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-Wl,-Ttext=0x0", "-Wl,-Tdata=0x20000000", "-Wl,-e,reset", "-o", str(elf), str(src)],
                   check=True, capture_output=True)
    return elf


def symbol(elf: Path, name: str) -> int:
    with open(elf, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"] & ~1


def run_profiled(tmp: Path, body: str, pad: int = 0, funcs: str = ""):
    """(SysTick sum over the 40 passes, Profile, elf) of `body` on qemu-m4 under the cycle-profile plugin."""
    elf = build_asm_probe(tmp, body, pad, funcs)
    out = tmp / "profile.bin"
    args = plugin_args(out, symbol(elf, "region_start"), symbol(elf, "region_stop"))
    r = run_to_exit(resolve_board("qemu-m4"), elf, 60, serial_spec="null", extra=args)
    assert r.returncode == 0, r.output
    text = r.output.split()  # QEMU writes semihosting console output to stderr
    return int(text[-1], 16), read_profile(out), elf
