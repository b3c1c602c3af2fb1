# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The cmsis-nn kernel backend: generated models on CMSIS-NN, bit-exact with the golden interpreter.

CMSIS-NN comes as for users: $ILWP_CMSIS_NN when set (a checkout), else the pinned copy that the set-up
(`make test` -> `ilwp-embed setup-cmsis-nn`) extracts into .cmsis-nn/ (V.12.5.1). Without either the
tests that compile it fail, saying what to run: nothing here is skipped for want of CMSIS-NN.
"""

from __future__ import annotations

import ctypes as C
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import KWS_INT8, RESNET8_INT8
from helpers import model_inputs, run_host_model

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.backends import (CMSIS_GLUE_DIR, PORTABLE_DIR, STATUS_DIR, check_generated_for,
                                             cmsis_nn_scratch_bytes, find_cmsis_nn, kernel_sources)
from ilwp_embedded.generate.cmsis_nn import OLDEST_API, cmsis_nn_api
from ilwp_embedded.ops import quant as Q
from ilwp_embedded.ops.registry import op_params
from ilwp_embedded.generate.codegen import generate, write_sources
from ilwp_embedded.golden import Golden
from ilwp_embedded.ingest import load_graph


def _cmsis_root() -> Path:
    try:
        return find_cmsis_nn()
    except IlwpError as e:
        pytest.fail(f"no CMSIS-NN to test against ({e}); `make test` runs the set-up that extracts it")


def _api():
    """The API generation of the copy under test: the generated C is made for it, as `build` does."""
    return cmsis_nn_api(_cmsis_root())


M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
DECODER = CMSIS_GLUE_DIR.parent / "decoder"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror"]  # our glue, the portable kernels and the generated model


# ------------------------------------------------------------------------------ selection (runs in CI)

def test_portable_sources_are_the_kernel_directory():
    sources, include = kernel_sources("portable")
    assert sources == sorted(PORTABLE_DIR.glob("*.c")) and include == [PORTABLE_DIR, STATUS_DIR]


@pytest.mark.parametrize("make", ["missing", "empty_dir", "not_a_dir"])
def test_cmsis_backend_rejects_a_bad_checkout(tmp_path, monkeypatch, make):
    monkeypatch.delenv("ILWP_CMSIS_NN", raising=False)
    if make == "missing":  # no path, no variable, no pinned copy (the repository root moved to an empty dir)
        monkeypatch.setenv("ILWP_REPO_ROOT", str(tmp_path))
        with pytest.raises(IlwpError, match="needs CMSIS-NN: run `ilwp-embed setup-cmsis-nn`.*ILWP_CMSIS_NN"):
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
    # Every ResNet-8 layer on CMSIS-NN but RESHAPE (a copy), with no version-dependent feature.
    ops = [op.op for op in g.operators]
    assert [op for op, k in zip(ops, gen.layer_kernels) if k == "portable"] == ["RESHAPE"]
    assert gen.cmsis_features == frozenset() and gen.cmsis_nn_version == "V.12.5.1"  # the oldest supported
    assert "ilwp_cmsis_conv2d_s8(" in c and "ilwp_conv2d_s8(" not in c
    assert "ilwp_cmsis_fully_connected_s8(" in c and "per_channel_s8(" not in c


# ------------------------------------------------------------------------ CMSIS-NN API generations

def _fake_checkout(tmp_path: Path, revision: str, vector_sum_args: int = 7, per_channel: bool = True,
                   groups: bool = True) -> Path:
    """A CMSIS-NN tree whose header and arm_convolve_s8.c say what a version has (for detection only)."""
    root = tmp_path / f"cmsis-{revision}"
    (root / "Include").mkdir(parents=True)
    (root / "Source" / "ConvolutionFunctions").mkdir(parents=True)
    extra = ", const int32_t lhs_offset, const int32_t rhs_offset, const int32_t *bias_data" * (vector_sum_args == 7)
    (root / "Include" / "arm_nnfunctions.h").write_text(
        f" * $Date:        1 January 2025\n * $Revision:    {revision}\n"
        "arm_cmsis_nn_status arm_vector_sum_s8(int32_t *vector_sum_buf,\n    const int32_t vector_cols,\n"
        f"    const int32_t vector_rows,\n    const int8_t *vector_data{extra});\n"
        + ("arm_cmsis_nn_status arm_fully_connected_per_channel_s8(const cmsis_nn_context *ctx,\n"
           "    int8_t *output);\n" if per_channel else ""))
    (root / "Source" / "ConvolutionFunctions" / "arm_convolve_s8.c").write_text(
        "const int32_t groups = input_ch / kernel_ch;\n" if groups else "/* no grouping */\n")
    return root


def test_api_of_the_copy_under_test():
    """The copy CI builds against is the pinned V.12.5.1 (unless $ILWP_CMSIS_NN names another): the old
    generation, without grouped conv or per-channel FC, and the matching glue files."""
    from ilwp_embedded.generate.cmsis_nn import glue_sources

    api = cmsis_nn_api(_cmsis_root())
    if not os.environ.get("ILWP_CMSIS_NN"):
        assert (api.version, api.vector_sum_args, api.fc_per_channel, api.grouped_conv) == ("V.12.5.1", 4, False, False)
    names = [p.name for p in glue_sources(CMSIS_GLUE_DIR, api)]
    assert names[1] == f"ilwp_cmsis_kernel_sums_v{api.vector_sum_args}.c"
    assert ("ilwp_cmsis_fc_per_channel.c" in names) == api.fc_per_channel


def test_api_detection_from_the_header(tmp_path):
    new = cmsis_nn_api(_fake_checkout(tmp_path, "V.19.1.0"))
    assert (new.version, new.vector_sum_args, new.fc_per_channel, new.grouped_conv) == ("V.19.1.0", 7, True, True)
    assert new.features() == {"grouped_conv", "fc_per_channel"}
    old = cmsis_nn_api(_fake_checkout(tmp_path, "V.12.5.1", 4, False, False))
    assert old.features() == frozenset() and old.vector_sum_args == 4
    # groups mentioned in a V.12.5.1 file would not be trusted: the revision must be newer
    assert not cmsis_nn_api(_fake_checkout(tmp_path / "x", "V.12.5.1", 4, False, True)).grouped_conv
    with pytest.raises(IlwpError, match="CMSIS-NN V.11.0.0 .* older than .*V.12.5.1"):
        cmsis_nn_api(_fake_checkout(tmp_path, "V.11.0.0"))
    bare = _fake_checkout(tmp_path, "none")
    (bare / "Include" / "arm_nnfunctions.h").write_text("/* no revision line */\n")
    with pytest.raises(IlwpError, match="cannot tell the CMSIS-NN version"):
        cmsis_nn_api(bare)


def test_too_old_cmsis_nn_is_refused_in_one_line(tmp_path):
    from conftest import assert_one_line_error, run_cli

    old = _fake_checkout(tmp_path, "V.10.2.0")
    proc = run_cli("build", "--kernels", "cmsis-nn", "--cmsis-nn", old, "-o", tmp_path / "o")
    assert_one_line_error(proc, "CMSIS-NN V.10.2.0", "older than")


def _spec_graph(spec):
    from helpers import single_op_model

    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = single_op_model(spec)
    return model, read_tflite(model, spec["kind"])


def _version_dependent_specs():
    from helpers import SPECS, spec_id
    specs = [s for s in SPECS if s.get("groups", 1) > 1 or s["kind"] == "dense"]
    return specs, [spec_id(s) for s in specs]


_VSPECS, _VSPEC_IDS = _version_dependent_specs()


@pytest.mark.parametrize("spec", _VSPECS, ids=_VSPEC_IDS)
def test_layers_the_version_lacks_go_to_the_portable_kernels(tmp_path, spec):
    """Grouped conv and per-channel FC: the portable kernel for V.12.5.1, CMSIS-NN for a version that has
    them; C generated for the newer one is refused when built against the older."""
    _, graph = _spec_graph(spec)
    op = next(o for o in graph.operators if o.op in ("CONV_2D", "FULLY_CONNECTED"))
    p = op_params(graph, op)
    feature = "grouped_conv" if op.op == "CONV_2D" else ("fc_per_channel" if p.per_channel else None)
    old = generate(graph, kernels="cmsis-nn")  # no copy given: the oldest supported API
    new = generate(graph, kernels="cmsis-nn", cmsis_nn=cmsis_nn_api(_fake_checkout(tmp_path, "V.19.1.0")))
    k = graph.operators.index(op)
    if feature is None:  # a per-tensor FC: CMSIS-NN on both
        assert old.layer_kernels[k] == new.layer_kernels[k] == "cmsis-nn" and not new.cmsis_features
        return
    assert old.layer_kernels[k] == "portable" and new.layer_kernels[k] == "cmsis-nn"
    assert old.cmsis_features == frozenset() and new.cmsis_features == {feature}
    assert "ilwp_cmsis_" not in old.files["ilwp_model.c"].split(f"/* {k}: ")[1].split("/* ")[0]
    from ilwp_embedded.target.firmware import _kernels_note  # the build report names the fallback

    v12 = cmsis_nn_api(_fake_checkout(tmp_path / "o", "V.12.5.1", 4, False, False))
    assert f"on the portable kernels: {op.op}" in _kernels_note(old, v12)
    api = cmsis_nn_api(_cmsis_root())
    if feature not in api.features():
        with pytest.raises(IlwpError, match=f"{feature}.*CMSIS-NN {api.version}"):
            check_generated_for(new, api.root)
    check_generated_for(old, api.root)  # the conservative C fits every supported version


def test_build_command_reports_a_bad_checkout_in_one_line(tmp_path):
    from conftest import assert_one_line_error, run_cli

    env = {"ILWP_CMSIS_NN": ""}
    proc = run_cli("build", "--kernels", "cmsis-nn", "--cmsis-nn", tmp_path / "nowhere", "-o", tmp_path / "o", env=env)
    assert_one_line_error(proc, "CMSIS-NN checkout not found")
    proc = run_cli("build", "--kernels", "cmsis-nn", "-o", tmp_path / "o", env={**env, "ILWP_REPO_ROOT": str(tmp_path)})
    assert_one_line_error(proc, "needs CMSIS-NN", "setup-cmsis-nn", "ILWP_CMSIS_NN")
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
    sources, include = kernel_sources("cmsis-nn", _cmsis_root())
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


def test_checkout_is_found_as_users_find_it():
    root = _cmsis_root()
    want = os.environ.get("ILWP_CMSIS_NN") or str(CMSIS_GLUE_DIR.parents[1] / ".cmsis-nn")
    assert root == Path(want).resolve()
    sources, include = kernel_sources("cmsis-nn")
    names = {p.name for p in sources}
    assert {"ilwp_cmsis_nn.c", "mean_s8.c", "add_broadcast_s8.c", "arm_convolve_wrapper_s8.c",
            "arm_depthwise_conv_wrapper_s8.c", "arm_softmax_s8.c"} <= names
    # the portable kernels are there for the fallbacks; the linker keeps only those the model calls
    assert "conv2d_s8.c" in names and not any(n.endswith(("_f32.c", "_f16.c")) for n in names)


@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_cmsis_model_is_bit_exact_with_golden(tmp_path, host_cmsis, path):
    g = load_graph(path)
    gen = generate(g, kernels="cmsis-nn", cmsis_nn=_api())
    lib = _build_model(gen, tmp_path, *host_cmsis)
    assert lib.ilwp_model_init() == 0
    golden = Golden(g)
    xs = model_inputs(g, 20)  # ResNet-8: the first 20 cifar10_raw200 images; KWS: seeded random features
    assert len(xs) == 20
    for x in xs:
        np.testing.assert_array_equal(run_host_model(lib, gen, x), golden.run(x).reshape(-1))


@pytest.mark.parametrize("mode", ["once", "layer"])
def test_cmsis_with_compressed_weights(tmp_path, host_cmsis, mode):
    """Weights decoded at boot or per layer feed the CMSIS-NN kernels the same way."""
    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.generate.weights import coded_weights

    g = load_graph(KWS_INT8)
    gen = generate(g, coded_weights(encode_graph(g, 1).container, mode), kernels="cmsis-nn", cmsis_nn=_api())
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


@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_scratch_covers_cmsis_nn_get_buffer_size(tmp_path, host_cmsis, path):
    """The Python sizing vs CMSIS-NN's own get_buffer_size(), generic and _dsp variants, layer by layer."""
    g = load_graph(path)
    gen = generate(g, kernels="cmsis-nn", cmsis_nn=_api())
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


# Linked and not linked, per model: only the kernels the layers call (the portable twin of a CMSIS-NN layer,
# kernels of ops the model lacks, the per-channel FC for a per-tensor FC, depthwise paths it does not use: absent).
_LINKED = {
    RESNET8_INT8.name: (("arm_convolve_wrapper_s8", "arm_avgpool_s8", "arm_softmax_s8", "arm_fully_connected_s8",
                         "arm_elementwise_add_s8", "ilwp_reshape_s8"),
                        ("ilwp_conv2d_s8", "ilwp_fully_connected_s8", "ilwp_add_s8", "ilwp_softmax_s8",
                         "arm_depthwise_conv_wrapper_s8", "arm_depthwise_conv_s8", "arm_max_pool_s8",
                         "ilwp_cmsis_fully_connected_per_channel_s8", "arm_fully_connected_per_channel_s8")),
    KWS_INT8.name: (("arm_convolve_wrapper_s8", "arm_depthwise_conv_s8_opt", "arm_fully_connected_s8", "arm_softmax_s8"),
                    ("arm_depthwise_conv_wrapper_s8", "arm_depthwise_conv_3x3_s8", "arm_depthwise_conv_s8",
                     "ilwp_depthwise_conv2d_s8", "ilwp_conv2d_s8", "arm_avgpool_s8", "arm_elementwise_add_s8",
                     "arm_fully_connected_per_channel_s8")),
}


@pytest.fixture(scope="module")
def m4_cmsis(tmp_path_factory):
    """The backend's sources compiled once for Cortex-M4 (-Werror on our files), for both models."""
    sources, include = kernel_sources("cmsis-nn", _cmsis_root())
    m4_flags = [*M4, "-Os", "-ffunction-sections", "-fdata-sections"]
    return _compile_all("arm-none-eabi-gcc", m4_flags, sources, include, tmp_path_factory.mktemp("cmsis_m4")), include


@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_cmsis_build_cross_compiles_and_links_only_what_the_model_calls(tmp_path, path, m4_cmsis):
    """arm-none-eabi-gcc for Cortex-M4 (ARM_MATH_DSP on: CMSIS-NN's SIMD paths), linked with --gc-sections
    as the firmware is: every symbol found, and only the kernels the model calls kept."""
    kobjs, include = m4_cmsis
    gen = generate(load_graph(path), kernels="cmsis-nn", cmsis_nn=_api())
    write_sources(gen, tmp_path)
    main = tmp_path / "main.c"
    main.write_text('#include "ilwp_model.h"\nint main(void) { return (int)ilwp_model_init() + '
                    '(int)ilwp_model_run(); }\n')
    objs = kobjs + _compile_all("arm-none-eabi-gcc", [*M4, "-Os", "-ffunction-sections", "-fdata-sections"],
                                [tmp_path / "ilwp_model.c", main], [*include, tmp_path], tmp_path / "obj")
    probe = subprocess.run(["arm-none-eabi-gcc", *M4, *[f"-I{d}" for d in include], "-dM", "-E", "-x", "c", "-"],
                           input='#include "arm_nnsupportfunctions.h"\n', capture_output=True, text=True, check=True)
    assert "#define ARM_MATH_DSP" in probe.stdout
    elf = tmp_path / "model.elf"
    subprocess.run(["arm-none-eabi-gcc", *M4, "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(elf),
                    *map(str, objs)], check=True, capture_output=True, text=True)
    syms = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    linked, absent = _LINKED[path.name]
    assert [s for s in linked if f" {s}\n" not in syms] == []
    assert [s for s in absent if f" {s}\n" in syms] == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm or arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("path", [RESNET8_INT8, KWS_INT8], ids=lambda p: p.name)
def test_cmsis_model_on_qemu_cortex_m4_is_bit_exact(tmp_path, path):
    """CMSIS-NN's DSP (SIMD) paths run only on the target: the model on QEMU mps2-an386 (Cortex-M4),
    PlatformIO build, 5 inputs (ResNet-8: cifar10_raw200 images), equal to the golden model. Prints the
    instruction count (-icount shift=0); the side-by-side figures come from bench/firmware.py."""
    from helpers import core_dir, no_network

    from devtools.model_bench import bench_model

    g = load_graph(path)
    xs = model_inputs(g, 5)
    golden = Golden(g)
    want = np.stack([golden.run(x).reshape(-1) for x in xs])
    with no_network():
        cm = bench_model(g, xs, "cmsis-nn", tmp_path / "cmsis", cmsis_nn_path=_cmsis_root(), core_dir=core_dir())
    np.testing.assert_array_equal(cm.outputs, want)
    assert cm.unit == "instructions" and max(cm.elapsed_all) - min(cm.elapsed_all) <= cm.elapsed // 1000
    print(f"{path.stem} on QEMU Cortex-M4: cmsis-nn (CMSIS-NN {_api().version}) {cm.elapsed} instructions")


def _single_input_specs():
    """The single-op models of test_kernels_ops that the generated (one-input) model can hold."""
    from helpers import SPECS, spec_id
    specs = [s for s in SPECS if s["kind"] not in ("add", "mul", "concat")]  # two inputs: ADD is in ResNet-8
    return specs, [spec_id(s) for s in specs]


_SPECS, _SPEC_IDS = _single_input_specs()


@pytest.mark.parametrize("spec", _SPECS, ids=_SPEC_IDS)
def test_cmsis_single_op_bit_exact(tmp_path, host_cmsis, spec):
    """Every op shape of the portable kernels' tests (strides, padding, dilation, groups, depth multipliers,
    max pool, per-tensor FC with batches, softmax rows...) through the generated model on CMSIS-NN."""
    from helpers import single_op_model, tflm_outputs

    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = single_op_model(spec)
    graph = read_tflite(model, spec["kind"])
    gen = generate(graph, kernels="cmsis-nn", cmsis_nn=_api())
    lib = _build_model(gen, tmp_path, *host_cmsis)
    assert lib.ilwp_model_init() == 0
    rng = np.random.default_rng(spec["seed"])
    for _ in range(4):
        x = rng.integers(-128, 128, size=graph.tensor(graph.inputs[0]).shape, dtype=np.int8)
        np.testing.assert_array_equal(run_host_model(lib, gen, x), tflm_outputs(model, [x])[0].reshape(-1))


_BINARY_SPECS = [s for s in __import__("helpers").SPECS if s["kind"] in ("add", "mul")]


@pytest.mark.parametrize("spec", _BINARY_SPECS, ids=[f"{s['kind']}-{s['seed']}" for s in _BINARY_SPECS])
def test_cmsis_add_mul_bit_exact(tmp_path, host_cmsis, spec):
    """Two-input ADD and MUL (arm_elementwise_add_s8 / _mul_s8; broadcast: the portable kernel) op by op
    through HostRunner, which is safe here: neither takes scratch."""
    from helpers import single_op_model, tflm_outputs

    from devtools.host_runner import HostRunner
    from ilwp_embedded.ingest.tflite_io import read_tflite

    objs, include = host_cmsis
    # HostRunner calls ilwp_add_s8 / ilwp_mul_s8: a shim routes them to the glue (the portable add_s8.o and
    # mul_s8.o left out; the broadcasting kernels are separate files and stay).
    shim = tmp_path / "shim.c"
    shim.write_text('#include "ilwp_kernels_cmsis.h"\n'
                    "int32_t ilwp_add_s8_scratch_size(void) { return ilwp_cmsis_add_s8_scratch_size(); }\n"
                    "int32_t ilwp_add_s8(const ilwp_add_params_t *p, const int8_t *a, const int8_t *b, int8_t *o,"
                    " int32_t n, int32_t *s) { return ilwp_cmsis_add_s8(p, a, b, o, n, s); }\n"
                    "int32_t ilwp_mul_s8(const ilwp_mul_params_t *p, const int8_t *a, const int8_t *b, int8_t *o,"
                    " int32_t n) { return ilwp_cmsis_mul_s8(p, a, b, o, n); }\n")
    so = tmp_path / "libcmsis.so"
    subprocess.run(["gcc", *STRICT, "-O2", "-shared", "-fPIC", *[f"-I{d}" for d in include], "-o", str(so), str(shim),
                    *(str(o) for o in objs if o.name.split("_", 1)[1] not in ("add_s8.o", "mul_s8.o"))], check=True)
    model, _ = single_op_model(spec)
    graph = read_tflite(model, spec["kind"])
    assert spec["kind"].upper() in [op.op for op in graph.operators]
    runner = HostRunner(graph, so)
    rng = np.random.default_rng(spec["seed"])
    for _ in range(4):
        xs = [rng.integers(-128, 128, size=graph.tensor(i).shape, dtype=np.int8) for i in graph.inputs]
        np.testing.assert_array_equal(runner.run(*xs)[0].reshape(-1), tflm_outputs(model, xs)[0].reshape(-1))


def test_grouped_conv_on_cmsis_nn_is_wrong_where_the_version_lacks_it(tmp_path, host_cmsis):
    """Why the fallback exists: forcing the grouped-conv spec onto arm_convolve_s8 of a copy without group
    handling (V.12.5.1) gives output that differs from the golden model, with a success code; on a copy
    that handles groups it is bit-exact."""
    from helpers import tflm_outputs

    spec = next(s for s in _VSPECS if s.get("groups", 1) > 1)
    model, graph = _spec_graph(spec)
    api = _api()
    gen = generate(graph, kernels="cmsis-nn", cmsis_nn=replace(api, grouped_conv=True))
    assert "cmsis-nn" in gen.layer_kernels and gen.cmsis_features == {"grouped_conv"}
    lib = _build_model(gen, tmp_path, *host_cmsis)
    assert lib.ilwp_model_init() == 0
    x = np.random.default_rng(spec["seed"]).integers(-128, 128, size=graph.tensor(graph.inputs[0]).shape, dtype=np.int8)
    got, want = run_host_model(lib, gen, x), tflm_outputs(model, [x])[0].reshape(-1)
    if api.grouped_conv:
        np.testing.assert_array_equal(got, want)
    else:
        assert np.mean(got != want) > 0.2, "V.12.5.1 computed a grouped conv right: the fallback may be lifted"


# ------------------------------------------------------------------------------ the set-up's pinned copy

def test_setup_extracts_only_include_and_source_of_a_checked_wheel(tmp_path, monkeypatch):
    """The extraction step (the download is pip's): sha256 first, then only CMSIS-NN's Include/ and
    Source/ (no Tests/, nothing outside the prefix, no '..'), atomically; a second run does nothing."""
    import hashlib
    import zipfile

    from ilwp_embedded.generate import cmsis_nn as M

    wheel = tmp_path / M.PINNED_WHEEL
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(M.PINNED_PREFIX + "Include/arm_nnfunctions.h",
                   " * $Revision:    V.12.5.1\narm_cmsis_nn_status arm_vector_sum_s8(int32_t *b, const int32_t c,"
                   " const int32_t r, const int8_t *d);\n")
        z.writestr(M.PINNED_PREFIX + "Source/ConvolutionFunctions/arm_convolve_s8.c", "/* conv */\n")
        z.writestr(M.PINNED_PREFIX + "Tests/UnitTest/t.c", "/* test */\n")
        z.writestr(M.PINNED_PREFIX + "Source/../../evil.c", "/* escape */\n")
        z.writestr("aidge_export_arm_cortexm/other.py", "x = 1\n")
    dest = tmp_path / "repo" / ".cmsis-nn"
    with pytest.raises(IlwpError, match="not the pinned"):  # the real pin: this file is not the wheel
        M.setup_pinned(dest, wheel)
    assert not dest.exists()
    monkeypatch.setattr(M, "PINNED_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    assert M.setup_pinned(dest, wheel) == (dest, True)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == [M.STAMP, "Include/arm_nnfunctions.h", "Source/ConvolutionFunctions/arm_convolve_s8.c"]
    assert not (tmp_path / "evil.c").exists() and not (tmp_path / "repo" / "evil.c").exists()
    assert M.setup_pinned(dest, wheel) == (dest, False)
    monkeypatch.delenv("ILWP_CMSIS_NN", raising=False)
    monkeypatch.setenv("ILWP_REPO_ROOT", str(tmp_path / "repo"))  # found as the default copy
    assert find_cmsis_nn() == dest.resolve() and cmsis_nn_api().version == "V.12.5.1"


def test_setup_command_refuses_a_wrong_wheel_in_one_line(tmp_path):
    from conftest import assert_one_line_error, run_cli

    bad = tmp_path / "aidge_export_arm_cortexm-0.2.1-py3-none-any.whl"
    bad.write_bytes(b"PK\x05\x06" + bytes(18))
    assert_one_line_error(run_cli("setup-cmsis-nn", "--wheel", bad, "--dest", tmp_path / "c"), "sha256", "not the pinned")
    assert_one_line_error(run_cli("setup-cmsis-nn", "--wheel", tmp_path / "none.whl", "--dest", tmp_path / "c"),
                          "wheel not found")
    assert not (tmp_path / "c").exists()
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_one_line_error(run_cli("setup-cmsis-nn", "--dest", afile), "is a file")
