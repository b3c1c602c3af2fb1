# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed export`: the library folder per format, its example built as a user would (CMake with
arm-none-eabi-gcc, PlatformIO offline) and run in QEMU bit-exact against the golden interpreter;
the Zephyr module checked for form (no Zephyr SDK here); the API header's constants; one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import KWS_INT8, RESNET8_INT8, assert_one_line_error, run_cli
from helpers import cifar, load_graph, needs_qemu, needs_toolchain

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.backends import find_cmsis_nn
from ilwp_embedded.golden import Golden
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.target.pio import run_pio
from ilwp_embedded.target.pio_core import prepare_core
from ilwp_embedded.target.qemu import run_to_exit

LINE = re.compile(r"ilwp-example model=(\w+) api=(\d+) init=(-?\d+) run=(-?\d+) out=([-\d,]+) expected=(\w+)")


def _export(tmp_path: Path, model: Path, fmt: str, x: np.ndarray, *extra: str) -> tuple[Path, dict]:
    np.save(tmp_path / "x.npy", np.asarray(x, np.int8))
    out = tmp_path / f"lib-{fmt}"
    r = run_cli("export", "--board", "qemu-m4", "--model", model, "-o", out, "--format", fmt,
                "--input", tmp_path / "x.npy", "--json", *extra)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads(r.stdout)
    assert json.loads((out / "ilwp-export.json").read_text()) == info
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(info["files"])
    return out, info


def _run_example(elf: Path, model: Path, x: np.ndarray) -> tuple[list[int], str]:
    """The example's line in QEMU; its output must be the golden interpreter's, bit for bit."""
    r = run_to_exit(resolve_board("qemu-m4"), elf, timeout_s=60)
    m = LINE.search(r.output)
    assert m and r.returncode == 0, (r.returncode, r.output[-500:])
    g = load_graph(str(model))
    assert m[3] == m[4] == "0" and m[6] == "match" and int(m[2]) == 100
    out = [int(v) for v in m[5].split(",")]
    assert out == Golden(g).run(x).reshape(-1).tolist()
    return out, m[1]


def _cmake_build(example: Path, build: Path) -> Path:
    for cmd in (["cmake", "-S", example, "-B", build, "-DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake"],
                ["cmake", "--build", build, "-j", "2"]):
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    return build / "example.elf"


def _header_defines(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^#define (ILWP_\w+) (.+?)(?:\s*/\*.*)?$", path.read_text(), re.M))


needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed "
                                 "(scripts/install-toolchain.sh installs it)")


@needs_toolchain
@needs_qemu
@needs_cmake
def test_cmake_export_of_resnet8_builds_with_arm_gcc_and_runs_bit_exact(tmp_path):
    """ResNet-8 on a real CIFAR-10 image: the planner decodes its weights once at init on qemu-m4, so
    the exported library carries the blob and the decoder; built with CMake as a user would."""
    x = cifar(1)[0][0]
    out, info = _export(tmp_path, RESNET8_INT8, "cmake", x)
    assert info["decode_mode"] == "once" and (out / "src" / "ilwp_decode.c").is_file()
    elf = _cmake_build(out / "examples" / "cmake", tmp_path / "build")
    _, model_hash = _run_example(elf, RESNET8_INT8, x)
    assert model_hash == info["model_hash"]
    # the header's constants are the model's; its RAM figure is what the library's object reserves
    g = load_graph(str(RESNET8_INT8))
    d = _header_defines(out / "include" / "ilwp_model.h")
    t_in, t_out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    assert d["ILWP_MODEL_INPUT_DIMS"] == "{ " + ", ".join(map(str, t_in.shape)) + " }"
    assert np.float32(d["ILWP_MODEL_OUTPUT_SCALE"].rstrip("f")) == np.float32(t_out.quant.scale[0])
    assert int(d["ILWP_MODEL_INPUT_ZERO_POINT"].strip("()")) == int(t_in.quant.zero_point[0])
    assert d["ILWP_MODEL_RAM_BYTES"] == f"{info['ram_bytes']}u"
    obj = next((tmp_path / "build").rglob("ilwp_model.c.obj"))
    size = subprocess.run(["arm-none-eabi-size", "-A", "-d", str(obj)], capture_output=True, text=True, check=True)
    bss = sum(int(n) for name, n in re.findall(r"^(\.bss\S*)\s+(\d+)", size.stdout, re.M))
    assert info["ram_bytes"] <= bss <= info["ram_bytes"] + 64, (bss, info["ram_bytes"])


@needs_toolchain
@needs_qemu
def test_platformio_export_of_kws_builds_offline_and_runs_bit_exact(tmp_path):
    """KWS with per-layer decoding, the example built by PlatformIO offline as target/pio.py builds the
    firmware (a core dir of its own: the example links its own copy of the offline platform)."""
    g = load_graph(str(KWS_INT8))
    x = np.random.default_rng(7).integers(-128, 128, g.tensors[g.inputs[0]].shape).astype(np.int8)
    out, info = _export(tmp_path, KWS_INT8, "platformio", x, "--decode", "layer")
    assert info["decode_mode"] == "layer"
    lib = json.loads((out / "library.json").read_text())
    assert lib["name"] == "ilwp_model" and lib["build"]["includeDir"] == "include"
    example = out / "examples" / "platformio"
    run_pio(example, "qemu-m4", core_dir=prepare_core(tmp_path / "pio-core"), timeout_s=300)
    _run_example(example / ".pio" / "build" / "qemu-m4" / "firmware.elf", KWS_INT8, x)


@needs_toolchain
@needs_qemu
@needs_cmake
def test_cmsis_nn_export_carries_only_the_cmsis_sources_called_and_runs_bit_exact(tmp_path):
    try:
        root = find_cmsis_nn()
    except IlwpError as e:
        pytest.fail(f"no CMSIS-NN to test against ({e}); `make test` runs the set-up that extracts it")
    g = load_graph(str(KWS_INT8))
    x = np.random.default_rng(8).integers(-128, 128, g.tensors[g.inputs[0]].shape).astype(np.int8)
    out, info = _export(tmp_path, KWS_INT8, "cmake", x, "--kernels", "cmsis-nn", "--cmsis-nn", root)
    copied = {p.name for p in (out / "src").glob("arm_*.c")}
    assert "arm_convolve_wrapper_s8.c" in copied and "arm_depthwise_conv_wrapper_s8.c" in copied
    # the int8 layers the glue calls, not CMSIS-NN's int16 and int4 ones
    assert not copied & {"arm_convolve_s16.c", "arm_convolve_s4.c", "arm_fully_connected_s16.c"}
    assert len(copied) < len(list((root / "Source").rglob("*.c"))) / 2
    _run_example(_cmake_build(out / "examples" / "cmake", tmp_path / "build"), KWS_INT8, x)


def test_zephyr_export_is_a_well_formed_module(tmp_path):
    """Without the Zephyr SDK only the form is checked: the manifest parses, the module's CMake names
    every library source and only files that exist, the Kconfig symbol is the one CMake and the
    example's prj.conf use."""
    g = load_graph(str(KWS_INT8))
    out, info = _export(tmp_path, KWS_INT8, "zephyr", np.zeros(g.tensors[g.inputs[0]].shape, np.int8))
    module = yaml.safe_load((out / "zephyr" / "module.yml").read_text())
    assert module["name"] == "ilwp_model" and module["build"]["cmake"] == "zephyr"
    assert (out / module["build"]["kconfig"]).is_file()
    cmake = (out / "zephyr" / "CMakeLists.txt").read_text()
    named = re.findall(r"\$\{CMAKE_CURRENT_LIST_DIR\}/\.\./([^\s)]+)", cmake)
    assert all((out / n).exists() for n in named)
    assert {n for n in named if n.endswith(".c")} == {str(p.relative_to(out)) for p in (out / "src").glob("*.c")}
    assert "include" in named
    symbol = re.search(r"^config (\w+)$", (out / "zephyr" / "Kconfig").read_text(), re.M)[1]
    assert f"if(CONFIG_{symbol})" in cmake
    example = out / "examples" / "zephyr"
    assert f"CONFIG_{symbol}=y" in (example / "prj.conf").read_text().splitlines()
    app = (example / "CMakeLists.txt").read_text()
    assert "ZEPHYR_EXTRA_MODULES ${CMAKE_CURRENT_LIST_DIR}/../.." in app and (example / "src" / "main.c").is_file()
    assert "find_package(Zephyr" in app and "Zephyr SDK" in (out / "README.md").read_text()
    # the example's C against the library's API, with the two Zephyr declarations it uses stubbed
    stub = tmp_path / "zephyr-stub" / "zephyr"
    (stub / "sys").mkdir(parents=True)
    (stub / "kernel.h").write_text("")
    (stub / "sys" / "printk.h").write_text("void printk(const char *fmt, ...);\n")
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", f"-I{stub.parent}",
                    f"-I{out / 'include'}", str(example / "src" / "main.c")], check=True)


def test_export_errors_are_one_line_and_leave_nothing(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    bad_model = tmp_path / "bad.tflite"
    bad_model.write_bytes(b"not a model")
    np.save(tmp_path / "short.npy", np.zeros(7, np.int8))
    cases = [
        (("--model", KWS_INT8, "-o", tmp_path / "a", "--format", "makefile"), "unknown export format"),
        (("--model", KWS_INT8, "-o", busy, "--format", "cmake"), "not empty"),
        (("--model", tmp_path / "missing.tflite", "-o", tmp_path / "b", "--format", "cmake"), "not found"),
        (("--model", bad_model, "-o", tmp_path / "c", "--format", "cmake"), "bad.tflite"),
        (("--model", KWS_INT8, "-o", tmp_path / "d", "--format", "cmake", "--input", tmp_path / "short.npy"),
         "7 int8 values"),
    ]
    for args, needle in cases:
        assert_one_line_error(run_cli("export", *args), needle)
    # nothing written: no output folder, no temporary folder beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tflite", "busy", "short.npy"]
