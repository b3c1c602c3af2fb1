"""The cmsis-nn kernel backend: generated models on CMSIS-NN, bit-exact with the golden interpreter.

CMSIS-NN is not shipped with ilwp-embed and is in no package index here: the tests that compile it run
when ILWP_CMSIS_NN points at a checkout (git clone https://github.com/ARM-software/CMSIS-NN) and are
skipped, with that reason, otherwise. Backend selection and its errors are tested everywhere.
"""

from __future__ import annotations

import ctypes as C
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import KWS_INT8, RESNET8_INT8
from helpers import model_inputs, run_host_model

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ops import quant as Q
from ilwp_embedded.ops.registry import op_params
from ilwp_embedded.generate.backends import (CMSIS_GLUE_DIR, PORTABLE_DIR, cmsis_nn_scratch_bytes, find_cmsis_nn,
                                             kernel_sources)
from ilwp_embedded.generate.codegen import generate, write_sources
from ilwp_embedded.golden import Golden
from ilwp_embedded.ingest import load_graph

CMSIS_NN = os.environ.get("ILWP_CMSIS_NN", "")
needs_cmsis = pytest.mark.skipif(not CMSIS_NN, reason="ILWP_CMSIS_NN is not set: no CMSIS-NN checkout to build "
                                 "against (it is not shipped with ilwp-embed; see docs/kernels.md)")
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
DECODER = CMSIS_GLUE_DIR.parent / "decoder"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror"]  # our glue, the portable kernels and the generated model


# ------------------------------------------------------------------------------ selection (runs in CI)

def test_portable_sources_are_the_kernel_directory():
    sources, include = kernel_sources("portable")
    assert sources == sorted(PORTABLE_DIR.glob("*.c")) and include == [PORTABLE_DIR]


@pytest.mark.parametrize("make", ["missing", "empty_dir", "not_a_dir"])
def test_cmsis_backend_rejects_a_bad_checkout(tmp_path, monkeypatch, make):
    monkeypatch.delenv("ILWP_CMSIS_NN", raising=False)
    if make == "missing":
        with pytest.raises(IlwpError, match="needs a CMSIS-NN checkout.*ILWP_CMSIS_NN"):
            kernel_sources("cmsis-nn")
        return
    bad = tmp_path / "cmsis"
    if make == "empty_dir":
        (bad / "Source").mkdir(parents=True)
        expect = "not a CMSIS-NN checkout: Include/arm_nnfunctions.h"
    else:
        bad.write_text("")
        expect = "not a directory"
    with pytest.raises(IlwpError, match=expect):
        kernel_sources("cmsis-nn", bad)
    monkeypatch.setenv("ILWP_CMSIS_NN", str(bad))  # the environment variable is checked the same way
    with pytest.raises(IlwpError, match=expect):
        kernel_sources("cmsis-nn")


def test_unknown_backend_is_an_ilwp_error():
    with pytest.raises(IlwpError, match="unknown kernel backend 'cmsis'"):
        kernel_sources("cmsis")
    with pytest.raises(IlwpError, match="unknown kernel backend"):
        generate(load_graph(KWS_INT8), kernels="cmsis")


def test_cmsis_generation_needs_no_checkout():
    """Generating C for the backend is pure Python: only compiling it needs CMSIS-NN."""
    g = load_graph(RESNET8_INT8)
    gen, port = generate(g, kernels="cmsis-nn"), generate(g)
    c = gen.files["ilwp_model.c"]
    assert '#include "ilwp_kernels_cmsis.h"' in c and "ilwp_cmsis_nn_set_scratch(ilwp_scratch" in c
    assert "cmsis" not in port.files["ilwp_model.c"] and port.kernels == "portable"
    # Largest im2col on generic/DSP builds: 2 int16 columns of 3*3*64 (the 8x8x64 conv).
    assert gen.scratch_bytes == 2 * 2 * 3 * 3 * 64 and gen.kernels == "cmsis-nn"
    assert gen.arena_bytes == port.arena_bytes


def test_build_command_reports_a_bad_checkout_in_one_line(tmp_path):
    from conftest import assert_one_line_error, run_cli

    env = {"ILWP_CMSIS_NN": ""}
    proc = run_cli("build", "--kernels", "cmsis-nn", "--cmsis-nn", tmp_path / "nowhere", "-o", tmp_path / "o", env=env)
    assert_one_line_error(proc, "CMSIS-NN checkout not found")
    proc = run_cli("build", "--kernels", "cmsis-nn", "-o", tmp_path / "o", env=env)
    assert_one_line_error(proc, "needs a CMSIS-NN checkout", "ILWP_CMSIS_NN")
    proc = run_cli("build", "--cmsis-nn", tmp_path, "-o", tmp_path / "o", env=env)
    assert_one_line_error(proc, "--cmsis-nn is only used with --kernels cmsis-nn")


# -------------------------------------------------------------------- with a CMSIS-NN checkout

def _compile_all(cc: str, flags: list[str], sources: list[Path], include: list[Path], out: Path) -> list[Path]:
    """Compile each source to an object (2 jobs: the machines are small); our own files with -Werror."""
    out.mkdir(parents=True, exist_ok=True)
    ours = (CMSIS_GLUE_DIR, PORTABLE_DIR)

    def one(i_src):
        i, src = i_src
        obj = out / f"{i:03d}_{src.stem}.o"
        strict = STRICT if src.parent in ours else ["-std=c99", "-w"]  # CMSIS-NN's own warnings are not ours
        r = subprocess.run([cc, *flags, *strict, *[f"-I{d}" for d in include], "-c", str(src), "-o", str(obj)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{src}:\n{r.stderr[-3000:]}"
        return obj

    with ThreadPoolExecutor(2) as ex:
        return list(ex.map(one, enumerate(sources)))


@pytest.fixture(scope="module")
def host_cmsis(tmp_path_factory):
    """CMSIS-NN + glue + kept portable kernels, compiled once for the host (generic C paths)."""
    sources, include = kernel_sources("cmsis-nn", CMSIS_NN)
    objs = _compile_all("gcc", ["-O2", "-fPIC"], sources, include, tmp_path_factory.mktemp("cmsis_host"))
    return objs, include


def _build_model(gen, out: Path, objs, include, extra=()) -> C.CDLL:
    write_sources(gen, out)
    so = out / "model.so"
    r = subprocess.run(["gcc", *STRICT, "-O2", "-shared", "-fPIC", *[f"-I{d}" for d in include], f"-I{out}",
                        f"-I{DECODER}", "-o", str(so), str(out / "ilwp_model.c"), *map(str, extra), *map(str, objs)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    lib = C.CDLL(str(so))
    lib.ilwp_model_input.restype = C.POINTER(C.c_int8)
    lib.ilwp_model_output.restype = C.POINTER(C.c_int8)
    return lib


@needs_cmsis
def test_checkout_is_found_from_the_environment():
    assert find_cmsis_nn() == Path(CMSIS_NN).resolve()
    sources, include = kernel_sources("cmsis-nn")
    names = {p.name for p in sources}
    assert {"ilwp_cmsis_nn.c", "mean_s8.c", "add_broadcast_s8.c", "arm_convolve_wrapper_s8.c",
            "arm_depthwise_conv_wrapper_s8.c", "arm_softmax_s8.c"} <= names
    assert "conv2d_s8.c" not in names and not any(n.endswith(("_f32.c", "_f16.c")) for n in names)


@needs_cmsis
@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_cmsis_model_is_bit_exact_with_golden(tmp_path, host_cmsis, path):
    g = load_graph(path)
    gen = generate(g, kernels="cmsis-nn")
    lib = _build_model(gen, tmp_path, *host_cmsis)
    assert lib.ilwp_model_init() == 0
    golden = Golden(g)
    xs = model_inputs(g, 20)  # ResNet-8: the first 20 cifar10_raw200 images; KWS: seeded random features
    assert len(xs) == 20
    for x in xs:
        np.testing.assert_array_equal(run_host_model(lib, gen, x), golden.run(x).reshape(-1))


@needs_cmsis
@pytest.mark.parametrize("mode", ["once", "layer"])
def test_cmsis_with_compressed_weights(tmp_path, host_cmsis, mode):
    """Weights decoded at boot or per layer feed the CMSIS-NN kernels the same way."""
    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.generate.weights import coded_weights

    g = load_graph(KWS_INT8)
    gen = generate(g, coded_weights(encode_graph(g, 1).container, mode), kernels="cmsis-nn")
    lib = _build_model(gen, tmp_path, *host_cmsis, extra=[DECODER / "ilwp_decode.c"])
    assert lib.ilwp_model_init() == 0
    golden = Golden(g)
    for x in model_inputs(g, 8):
        np.testing.assert_array_equal(run_host_model(lib, gen, x), golden.run(x).reshape(-1))


class _Dims(C.Structure):
    _fields_ = [("n", C.c_int32), ("h", C.c_int32), ("w", C.c_int32), ("c", C.c_int32)]


class _Tile(C.Structure):
    _fields_ = [("w", C.c_int32), ("h", C.c_int32)]


class _Conv(C.Structure):  # cmsis_nn_conv_params
    _fields_ = [("input_offset", C.c_int32), ("output_offset", C.c_int32), ("stride", _Tile), ("padding", _Tile),
                ("dilation", _Tile), ("act_min", C.c_int32), ("act_max", C.c_int32)]


class _Dw(C.Structure):  # cmsis_nn_dw_conv_params
    _fields_ = [("input_offset", C.c_int32), ("output_offset", C.c_int32), ("ch_mult", C.c_int32),
                ("stride", _Tile), ("padding", _Tile), ("dilation", _Tile), ("act_min", C.c_int32),
                ("act_max", C.c_int32)]


@needs_cmsis
@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_scratch_covers_cmsis_nn_get_buffer_size(tmp_path, host_cmsis, path):
    """The Python sizing vs CMSIS-NN's own get_buffer_size(), generic and _dsp variants, layer by layer."""
    g = load_graph(path)
    gen = generate(g, kernels="cmsis-nn")
    lib = _build_model(gen, tmp_path, *host_cmsis)
    need = []
    for op in g.operators:
        p = op_params(g, op)
        if isinstance(p, Q.ConvParams):
            cp = _Conv(p.input_offset, p.output_offset, _Tile(p.stride_w, p.stride_h), _Tile(p.pad_w, p.pad_h),
                       _Tile(p.dilation_w, p.dilation_h), p.act_min, p.act_max)
            dims = (_Dims(p.batches, p.input_h, p.input_w, p.input_c),
                    _Dims(p.output_c, p.filter_h, p.filter_w, p.filter_c),
                    _Dims(p.batches, p.output_h, p.output_w, p.output_c))
            c = [getattr(lib, f"arm_convolve_wrapper_s8_get_buffer_size{v}")(C.byref(cp), *map(C.byref, dims))
                 for v in ("", "_dsp")]
        elif isinstance(p, Q.DepthwiseConvParams):
            dp = _Dw(p.input_offset, p.output_offset, p.depth_multiplier, _Tile(p.stride_w, p.stride_h),
                     _Tile(p.pad_w, p.pad_h), _Tile(p.dilation_w, p.dilation_h), p.act_min, p.act_max)
            dims = (_Dims(p.batches, p.input_h, p.input_w, p.input_c), _Dims(1, p.filter_h, p.filter_w, p.output_c),
                    _Dims(p.batches, p.output_h, p.output_w, p.output_c))
            c = [getattr(lib, f"arm_depthwise_conv_wrapper_s8_get_buffer_size{v}")(C.byref(dp), *map(C.byref, dims))
                 for v in ("", "_dsp")]
        elif isinstance(p, Q.PoolParams) and op.op == "AVERAGE_POOL_2D":
            c = [getattr(lib, f"arm_avgpool_s8_get_buffer_size{v}")(p.output_w, p.channels) for v in ("", "_dsp")]
        elif isinstance(p, Q.FullyConnectedParams):
            c = [lib.arm_fully_connected_s8_get_buffer_size(C.byref(_Dims(p.input_depth, 1, 1, p.output_depth)))]
        else:
            continue
        mine = cmsis_nn_scratch_bytes(p)
        assert mine >= max(c), (op.op, op.index, mine, c)
        need.append(max(c))
    assert gen.scratch_bytes == max(need)  # no larger than the largest layer needs


@needs_cmsis
def test_cmsis_build_cross_compiles_and_links_for_cortex_m4(tmp_path):
    """arm-none-eabi-gcc for Cortex-M4 (ARM_MATH_DSP on: CMSIS-NN's SIMD paths), linked to find every symbol."""
    gen = generate(load_graph(RESNET8_INT8), kernels="cmsis-nn")
    write_sources(gen, tmp_path)
    sources, include = kernel_sources("cmsis-nn", CMSIS_NN)
    main = tmp_path / "main.c"
    main.write_text('#include "ilwp_model.h"\nint main(void) { return (int)ilwp_model_init() + '
                    '(int)ilwp_model_run(); }\n')
    objs = _compile_all("arm-none-eabi-gcc", [*M4, "-Os", "-ffunction-sections", "-fdata-sections"],
                        [*sources, tmp_path / "ilwp_model.c", main], [*include, tmp_path], tmp_path / "obj")
    probe = subprocess.run(["arm-none-eabi-gcc", *M4, *[f"-I{d}" for d in include], "-dM", "-E", "-x", "c", "-"],
                           input='#include "arm_nnsupportfunctions.h"\n', capture_output=True, text=True, check=True)
    assert "#define ARM_MATH_DSP" in probe.stdout
    elf = tmp_path / "model.elf"
    subprocess.run(["arm-none-eabi-gcc", *M4, "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(elf),
                    *map(str, objs)], check=True, capture_output=True, text=True)
    syms = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    assert all(f" {s}\n" in syms for s in ("arm_convolve_wrapper_s8", "arm_avgpool_s8", "arm_softmax_s8"))


@needs_cmsis
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm or arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_cmsis_model_on_qemu_cortex_m4_is_bit_exact(tmp_path, path):
    """CMSIS-NN's DSP (SIMD) paths run only on the target: the model on QEMU mps2-an386 (Cortex-M4),
    PlatformIO build, 5 inputs (ResNet-8: cifar10_raw200 images), equal to the golden model. Prints the
    instruction counts (-icount shift=0) of both backends (no ranking asserted: it depends on both)."""
    from helpers import core_dir, no_network

    from ilwp_embedded.target.model_bench import bench_model

    g = load_graph(path)
    xs = model_inputs(g, 5)
    golden = Golden(g)
    want = np.stack([golden.run(x).reshape(-1) for x in xs])
    with no_network():
        cm = bench_model(g, xs, "cmsis-nn", tmp_path / "cmsis", cmsis_nn_path=CMSIS_NN, core_dir=core_dir())
        port = bench_model(g, xs[:1], "portable", tmp_path / "portable", core_dir=core_dir())
    np.testing.assert_array_equal(cm.outputs, want)
    np.testing.assert_array_equal(port.outputs, want[:1])
    assert cm.unit == "instructions" and max(cm.elapsed_all) - min(cm.elapsed_all) <= cm.elapsed // 1000
    print(f"{path.stem} on QEMU Cortex-M4: cmsis-nn {cm.elapsed} instructions, portable {port.elapsed}")


def _single_input_specs():
    """The single-op models of test_kernels_ops that the generated (one-input) model can hold."""
    from helpers import SPECS, spec_id
    specs = [s for s in SPECS if s["kind"] not in ("add", "concat")]  # two inputs: ADD is in ResNet-8
    return specs, [spec_id(s) for s in specs]


_SPECS, _SPEC_IDS = _single_input_specs()


@needs_cmsis
@pytest.mark.parametrize("spec", _SPECS, ids=_SPEC_IDS)
def test_cmsis_single_op_bit_exact(tmp_path, host_cmsis, spec):
    """Every op shape of the portable kernels' tests (strides, padding, dilation, groups, depth multipliers,
    max pool, per-tensor FC with batches, softmax rows...) through the generated model on CMSIS-NN."""
    from helpers import single_op_model, tflm_outputs

    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = single_op_model(spec)
    graph = read_tflite(model, spec["kind"])
    gen = generate(graph, kernels="cmsis-nn")
    lib = _build_model(gen, tmp_path, *host_cmsis)
    assert lib.ilwp_model_init() == 0
    rng = np.random.default_rng(spec["seed"])
    for _ in range(4):
        x = rng.integers(-128, 128, size=graph.tensor(graph.inputs[0]).shape, dtype=np.int8)
        np.testing.assert_array_equal(run_host_model(lib, gen, x), tflm_outputs(model, [x])[0].reshape(-1))


_ADD_SPECS = [s for s in __import__("helpers").SPECS if s["kind"] == "add"]


@needs_cmsis
@pytest.mark.parametrize("spec", _ADD_SPECS, ids=[s["seed"] for s in _ADD_SPECS])
def test_cmsis_add_bit_exact(tmp_path, host_cmsis, spec):
    """Two-input ADD (arm_elementwise_add_s8; broadcast: the portable kernel) op by op through HostRunner,
    which is safe here: ADD takes no scratch."""
    from helpers import single_op_model, tflm_outputs

    from ilwp_embedded.generate.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite

    objs, _ = host_cmsis
    so = tmp_path / "libcmsis.so"
    subprocess.run(["gcc", "-shared", "-o", str(so), *map(str, objs)], check=True)
    model, _ = single_op_model(spec)
    graph = read_tflite(model, "add")
    assert "ADD" in [op.op for op in graph.operators]
    runner = HostRunner(graph, so)
    rng = np.random.default_rng(spec["seed"])
    for _ in range(4):
        xs = [rng.integers(-128, 128, size=graph.tensor(i).shape, dtype=np.int8) for i in graph.inputs]
        np.testing.assert_array_equal(runner.run(*xs)[0].reshape(-1), tflm_outputs(model, xs)[0].reshape(-1))
