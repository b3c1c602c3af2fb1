"""Shared helpers for the codec tests and benches: data paths, a synthetic model with correlated
layers, and the C decoder built with host gcc and driven through ctypes."""

from __future__ import annotations

import ctypes
import functools
import subprocess
from pathlib import Path

import numpy as np
from conftest import DATA_DIR

from ilwp_embedded.ingest.graph import Graph, Operator, Quantization, Tensor

REPO = Path(__file__).resolve().parents[1]
DECODER_DIR = REPO / "firmware" / "decoder"
C_FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror"]


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
