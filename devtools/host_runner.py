# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Run a Graph op by op on the host through the C kernels (firmware/kernels), via ctypes.

Proves the kernels and ops/quant.py's parameters end to end before any firmware exists:
    lib = build_kernels(tmpdir)            # host gcc -> shared library
    out = HostRunner(graph, lib).run(x)    # list of int8 outputs
"""

from __future__ import annotations

import ctypes as C
import subprocess
from pathlib import Path

import numpy as np

from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.ops.registry import REGISTRY, HostCall, lookup
from ilwp_embedded.resources import firmware_dir

KERNEL_DIR = firmware_dir() / "kernels"
HOST_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-fPIC", "-shared"]


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


class HostRunner:
    """Executes a Graph with the C kernels. Tensors are numpy buffers keyed by tensor index."""

    def __init__(self, graph: Graph, lib_path: str | Path):
        self.graph = graph
        self.lib = C.CDLL(str(lib_path))
        for fn in sorted({fn for k in REGISTRY.values() for fn in k.kernels}):
            getattr(self.lib, fn).restype = C.c_int32
        self.kernels = [lookup(op) for op in graph.operators]
        self.params = [k.params(graph, op) for k, op in zip(self.kernels, graph.operators)]

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        g = self.graph
        bufs: dict[int, np.ndarray] = {}
        for i, t in enumerate(g.tensors):
            if t.data is not None:
                bufs[i] = np.ascontiguousarray(t.data)
        for idx, x in zip(g.inputs, inputs):
            t = g.tensor(idx)
            bufs[idx] = np.ascontiguousarray(np.asarray(x, dtype=np.int8).reshape(t.shape))
        calls: dict[str, int] = {}
        for op, kernel, p in zip(g.operators, self.kernels, self.params):
            out = np.zeros(g.tensor(op.outputs[0]).shape, dtype=np.int8)
            ins = tuple(bufs[i] if i >= 0 else None for i in kernel.call_inputs(op))
            rc = kernel.host(HostCall(self.lib, p, ins, out, calls.get(op.op, 0)))
            calls[op.op] = calls.get(op.op, 0) + 1
            if rc != 0:
                raise RuntimeError(f"{op.op} #{op.index}: kernel returned {rc}")
            bufs[op.outputs[0]] = out
        return [bufs[i] for i in g.outputs]


def run_graph(graph: Graph, lib_path: str | Path, *inputs: np.ndarray) -> list[np.ndarray]:
    return HostRunner(graph, lib_path).run(*inputs)


__all__ = ["build_kernels", "HostRunner", "run_graph", "KERNEL_DIR", "HOST_CFLAGS"]
