"""Run a Graph op by op on the host through the C kernels (firmware/kernels), via ctypes.

Proves the kernels and quant.py's parameters end to end before any firmware exists:
    lib = build_kernels(tmpdir)            # host gcc -> shared library
    out = HostRunner(graph, lib).run(x)    # list of int8 outputs
"""

from __future__ import annotations

import ctypes as C
import subprocess
from pathlib import Path

import numpy as np

from ilwp_embedded.generate import quant as Q
from ilwp_embedded.ingest.graph import Graph, Operator

KERNEL_DIR = Path(__file__).resolve().parents[2] / "firmware" / "kernels"
HOST_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-fPIC", "-shared"]

_P8 = C.POINTER(C.c_int8)
_P32 = C.POINTER(C.c_int32)


def build_kernels(out_dir: str | Path, kernel_dir: str | Path = KERNEL_DIR, cc: str = "gcc",
                  emulate_dsp: bool = False) -> Path:
    """Compile every kernel into one shared library in out_dir; returns its path.

    emulate_dsp: build the Cortex-M DSP fast path with portable definitions of the SIMD32
    intrinsics (-DILWP_EMULATE_DSP), so the host checks that path's layout and loops too.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / ("libilwp_kernels_dsp.so" if emulate_dsp else "libilwp_kernels.so")
    srcs = sorted(str(p) for p in Path(kernel_dir).glob("*.c"))
    extra = ["-DILWP_EMULATE_DSP"] if emulate_dsp else []
    r = subprocess.run([cc, *HOST_CFLAGS, *extra, f"-I{kernel_dir}", "-o", str(lib), *srcs],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"kernel build failed:\n{r.stderr}")
    return lib


def _struct_for(params) -> C.Structure:
    """A ctypes Structure mirroring the dataclass's C-struct fields, plus the arrays it points to."""
    names = Q.c_struct_fields(params)
    ctypes_fields = []
    values = {}
    keep = []
    for name in names:
        v = getattr(params, name)
        if isinstance(v, np.ndarray):
            arr = np.ascontiguousarray(v, dtype=np.int32)
            keep.append(arr)
            ctypes_fields.append((name, _P32))
            values[name] = arr.ctypes.data_as(_P32)
        elif isinstance(v, tuple):
            ctypes_fields.append((name, C.c_int32 * len(v)))
            values[name] = (C.c_int32 * len(v))(*[int(x) for x in v])
        else:
            ctypes_fields.append((name, C.c_int32))
            values[name] = int(v)
    cls = type(type(params).__name__ + "_C", (C.Structure,), {"_fields_": ctypes_fields})
    s = cls(**values)
    s._keep = keep  # type: ignore[attr-defined]
    return s


def _p8(a: np.ndarray):
    return a.ctypes.data_as(_P8)


def _p32(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(_P32)


class HostRunner:
    """Executes a Graph with the C kernels. Tensors are numpy buffers keyed by tensor index."""

    def __init__(self, graph: Graph, lib_path: str | Path):
        self.graph = graph
        self.lib = C.CDLL(str(lib_path))
        for fn in ("ilwp_conv2d_s8", "ilwp_depthwise_conv2d_s8", "ilwp_fully_connected_s8", "ilwp_add_s8",
                   "ilwp_add_broadcast_s8", "ilwp_avg_pool2d_s8", "ilwp_max_pool2d_s8", "ilwp_softmax_s8",
                   "ilwp_mean_s8", "ilwp_pad_s8", "ilwp_concatenation_s8", "ilwp_reshape_s8",
                   "ilwp_conv2d_s8_scratch_size", "ilwp_add_s8_scratch_size"):
            getattr(self.lib, fn).restype = C.c_int32
        self.params = [Q.op_params(graph, op) for op in graph.operators]

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        g = self.graph
        bufs: dict[int, np.ndarray] = {}
        for i, t in enumerate(g.tensors):
            if t.data is not None:
                bufs[i] = np.ascontiguousarray(t.data)
        for idx, x in zip(g.inputs, inputs):
            t = g.tensor(idx)
            bufs[idx] = np.ascontiguousarray(np.asarray(x, dtype=np.int8).reshape(t.shape))
        for op, p in zip(g.operators, self.params):
            out_t = g.tensor(op.outputs[0])
            out = np.zeros(out_t.shape, dtype=np.int8)
            self._exec(op, p, bufs, out)
            bufs[op.outputs[0]] = out
        return [bufs[i] for i in g.outputs]

    def _exec(self, op: Operator, p, bufs: dict[int, np.ndarray], out: np.ndarray) -> None:
        L = self.lib
        x = bufs[op.inputs[0]]

        def bias():
            return bufs.get(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None

        name = op.op
        if name == "CONV_2D":
            s = _struct_for(p)
            nbytes = L.ilwp_conv2d_s8_scratch_size(C.byref(s))
            assert nbytes == p.scratch_bytes, (nbytes, p.scratch_bytes)
            scratch = np.zeros(max(2, nbytes // 2), np.int16)
            b = bias()
            rc = L.ilwp_conv2d_s8(C.byref(s), _p8(x), _p8(bufs[op.inputs[1]]), _p32(b), _p8(out),
                                  scratch.ctypes.data_as(C.POINTER(C.c_int16)))
        elif name == "DEPTHWISE_CONV_2D":
            s = _struct_for(p)
            rc = L.ilwp_depthwise_conv2d_s8(C.byref(s), _p8(x), _p8(bufs[op.inputs[1]]), _p32(bias()), _p8(out))
        elif name == "FULLY_CONNECTED":
            s = _struct_for(p)
            rc = L.ilwp_fully_connected_s8(C.byref(s), _p8(x), _p8(bufs[op.inputs[1]]), _p32(bias()), _p8(out))
        elif name == "ADD":
            s = _struct_for(p)
            y = bufs[op.inputs[1]]
            if p.broadcast:
                arr = lambda v: (C.c_int32 * 4)(*v)  # noqa: E731
                rc = L.ilwp_add_broadcast_s8(C.byref(s), arr(p.out_shape), _p8(x), arr(p.in1_strides),
                                             _p8(y), arr(p.in2_strides), _p8(out))
            else:
                # Alternate between the table (scratch) and the direct form so both stay tested.
                self._add_calls = getattr(self, "_add_calls", 0) + 1
                scratch = None
                if self._add_calls % 2:
                    scratch = np.zeros(L.ilwp_add_s8_scratch_size() // 4, np.int32)
                rc = L.ilwp_add_s8(C.byref(s), _p8(x), _p8(y), _p8(out), C.c_int32(p.size), _p32(scratch))
        elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            s = _struct_for(p)
            fn = L.ilwp_avg_pool2d_s8 if name == "AVERAGE_POOL_2D" else L.ilwp_max_pool2d_s8
            rc = fn(C.byref(s), _p8(x), _p8(out))
        elif name == "SOFTMAX":
            s = _struct_for(p)
            rc = L.ilwp_softmax_s8(C.byref(s), _p8(x), _p8(out))
        elif name == "MEAN":
            s = _struct_for(p)
            rc = L.ilwp_mean_s8(C.byref(s), _p8(x), _p8(out))
        elif name in ("PAD", "PADV2"):
            s = _struct_for(p)
            rc = L.ilwp_pad_s8(C.byref(s), _p8(x), _p8(out))
        elif name == "CONCATENATION":
            ins = [np.ascontiguousarray(bufs[i]) for i in op.inputs]
            ptrs = (_P8 * len(ins))(*[_p8(a) for a in ins])
            sizes = (C.c_int32 * len(ins))(*p.copy_sizes)
            rc = L.ilwp_concatenation_s8(ptrs, sizes, C.c_int32(len(ins)), C.c_int32(p.outer_size), _p8(out))
        elif name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
            rc = L.ilwp_reshape_s8(_p8(x), _p8(out), C.c_int32(p.size))
        else:  # pragma: no cover - op_params refuses it first
            raise Q.UnsupportedOp(name)
        if rc != 0:
            raise RuntimeError(f"{name} #{op.index}: kernel returned {rc}")


def run_graph(graph: Graph, lib_path: str | Path, *inputs: np.ndarray) -> list[np.ndarray]:
    return HostRunner(graph, lib_path).run(*inputs)


__all__ = ["build_kernels", "HostRunner", "run_graph", "KERNEL_DIR", "HOST_CFLAGS"]
