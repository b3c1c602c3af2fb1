# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Export: a generated model as a self-contained C library folder for the user's own firmware.

    DIR/include/      ilwp_model.h (the API, templates/ilwp_model.h.j2), ilwp_status.h, ilwp_compiler.h
    DIR/src/          ilwp_model.c, the kernels (portable, or the glue and the CMSIS-NN sources it
                      calls), the weight decoder when the weights are coded; one flat folder that
                      compiles with no include path of its own
    DIR/library.json | CMakeLists.txt | zephyr/{module.yml,CMakeLists.txt,Kconfig}   per format
    DIR/examples/<format>/   an application that runs the model on a test input and checks the output
    DIR/README.md, DIR/ilwp-export.json

The library is board-independent C99; the board only chose the decode plan (its RAM) and the
example's core flags and support code. Written into a temporary folder beside DIR, renamed at the end.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2
import numpy as np

from ilwp_embedded import __version__
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import atomic_write_tree
from ilwp_embedded.generate.backends import check_generated_for, cmsis_nn_api, kernel_files
from ilwp_embedded.generate.codegen import C_API_VERSION, Generated
from ilwp_embedded.resources import firmware_dir, platform_dir, templates_dir
from ilwp_embedded.target import board_support
from ilwp_embedded.target.boards import Board
from ilwp_embedded.target.pio import board_project_files

FORMATS = ("platformio", "cmake", "zephyr")
LIBRARY = "ilwp_model"  # the CMake target, PlatformIO library and Zephyr module name
KCONFIG = "ILWP_MODEL"
MANIFEST = "ilwp-export.json"


@dataclass(frozen=True)
class ExportResult:
    out_dir: str
    format: str
    board: str  # the board the defaults were chosen for
    kernels: str
    decode_mode: str
    decode_reason: str
    model_hash: str
    api_version: str
    example: str  # the example application's folder, relative to out_dir
    ram_bytes: int
    arena_bytes: int
    weight_ram_bytes: int
    scratch_bytes: int
    decoder_ram_bytes: int
    weights_flash_bytes: int
    const_flash_bytes: int
    files: tuple[str, ...]  # every file written, relative to out_dir

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise IlwpError(f"unknown export format '{fmt}': choose one of {', '.join(FORMATS)}")
    return fmt


def check_export_dir(out_dir: str | os.PathLike) -> Path:
    """Before any work: `out_dir` must be new or an empty folder, in a folder that exists."""
    out = Path(out_dir)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise IlwpError(f"output directory does not exist: {parent}")
    if out.exists() and not out.is_dir():
        raise IlwpError(f"export output {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise IlwpError(f"export output {out} is not empty: give a new or empty directory")
    return out


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir() / "export")),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def _c_values(a: np.ndarray) -> list[str]:
    return [str(int(v)) for v in np.asarray(a).reshape(-1)]


def library_files(gen: Generated, cmsis_nn_path=None) -> dict[str, Path | str]:
    """The library's C: path in the folder -> the file to copy or the text to write."""
    files: dict[str, Path | str] = {"include/ilwp_model.h": gen.files["ilwp_model.h"],
                                    "include/ilwp_status.h": firmware_dir() / "include" / "ilwp_status.h",
                                    # the kernels and the decoder include it as ../include/ (ILWP_SMALL)
                                    "include/ilwp_compiler.h": firmware_dir() / "include" / "ilwp_compiler.h",
                                    "src/ilwp_model.c": gen.files["ilwp_model.c"]}
    files.update({f"src/{name}": p for p, name in kernel_files(gen.kernels, cmsis_nn_path)})
    if gen.decode_mode != "raw":
        files.update({f"src/{p.name}": p for p in sorted((firmware_dir() / "decoder").glob("ilwp_decode.*"))})
    return files


def _example_files(env: jinja2.Environment, fmt: str, board: Board, ctx: dict) -> dict[str, Path | str]:
    """examples/<fmt>/: main.c and the test vectors; bare-metal formats add the board's support code
    (as a PlatformIO project lays it out) and their build files."""
    zephyr = fmt == "zephyr"
    files: dict[str, Path | str] = {"src/main.c": env.get_template("example_main.c.j2").render(ctx, zephyr=zephyr),
                                    "src/test_vectors.h": env.get_template("test_vectors.h.j2").render(ctx)}
    if zephyr:
        files["CMakeLists.txt"] = env.get_template("example_zephyr_CMakeLists.txt.j2").render(ctx)
        files["prj.conf"] = env.get_template("example_prj.conf.j2").render(ctx)
        return files
    board_files = {k: v for k, v in board_project_files(board).items()
                   if k != "include/ilwp_status.h"}  # the library's own copy is the one on the path
    if fmt == "cmake":
        board_files = {k: v for k, v in board_files.items() if not k.startswith("boards/")}
        sources = sorted(k for k in board_files if k.endswith(".c"))
        files["CMakeLists.txt"] = env.get_template("example_cmake.txt.j2").render(ctx, board_sources=sources)
        files["arm-none-eabi.cmake"] = env.get_template("arm-none-eabi.cmake.j2").render(ctx)
    else:
        files["platformio.ini"] = env.get_template("example_platformio.ini.j2").render(
            ctx, upload_protocol=board.upload_protocol)
        plat = platform_dir()
        files.update({f"platform/{plat.name}/{p.relative_to(plat).as_posix()}": p for p in sorted(plat.rglob("*"))
                      if p.is_file() and "__pycache__" not in p.parts})
    files.update(board_files)
    return files


def export_files(board: Board, gen: Generated, fmt: str, test_input: np.ndarray, expected: np.ndarray, *,
                 input_origin: str, model_name: str, reason: str = "", cmsis_nn_path=None) -> dict[str, Path | str]:
    """Every file of the export folder: relative path -> the file to copy or the text to write."""
    check_format(fmt)
    check_generated_for(gen, cmsis_nn_path)
    test_input, expected = np.asarray(test_input).reshape(-1), np.asarray(expected).reshape(-1)
    if test_input.size != gen.input_bytes or expected.size != gen.output_bytes:
        raise IlwpError(f"test vectors of {test_input.size} and {expected.size} values: the model takes "
                        f"{gen.input_bytes} and gives {gen.output_bytes}")
    files = library_files(gen, cmsis_nn_path)
    sources = sorted(k for k in files if k.endswith(".c"))
    env = _env()
    ctx = {
        "lib": LIBRARY, "kconfig": KCONFIG, "format": fmt, "model_hash": gen.model_hash, "model_name": model_name,
        "version": __version__, "api_version": C_API_VERSION, "kernels": gen.kernels, "mode": gen.decode_mode,
        "reason": reason or "requested", "board": board.id, "board_ram": board.ram.size,
        "core_flags": board_support.compiler_flags(board), "qemu_machine": board.qemu_machine or "",
        "sources": sources, "ram": gen.ram_bytes, "arena": gen.arena_bytes, "weight_ram": gen.weight_ram_bytes,
        "scratch": gen.scratch_bytes, "decoder_ram": gen.decoder_ram_bytes, "weights_flash": gen.weights_flash_bytes,
        "const_flash": gen.const_flash_bytes, "input_origin": input_origin,
        "test_input": _c_values(test_input), "expected": _c_values(expected),
        "cmsis_nn_root": str(cmsis_nn_api(cmsis_nn_path).root) if gen.kernels == "cmsis-nn" else "",
    }
    if fmt == "platformio":
        files["library.json"] = env.get_template("library.json.j2").render(ctx)
        build_files = "`library.json` (a PlatformIO library)"
    elif fmt == "cmake":
        files["CMakeLists.txt"] = env.get_template("CMakeLists.txt.j2").render(ctx)
        build_files = f"`CMakeLists.txt` (the static library target `{LIBRARY}`)"
    else:
        files["zephyr/module.yml"] = env.get_template("zephyr_module.yml.j2").render(ctx)
        files["zephyr/CMakeLists.txt"] = env.get_template("zephyr_CMakeLists.txt.j2").render(ctx)
        files["zephyr/Kconfig"] = env.get_template("zephyr_Kconfig.j2").render(ctx)
        build_files = f"`zephyr/` (a Zephyr module: CONFIG_{KCONFIG}=y)"
    files.update({f"examples/{fmt}/{k}": v for k, v in _example_files(env, fmt, board, ctx).items()})
    files["README.md"] = env.get_template("README.md.j2").render(ctx, build_files=build_files)
    return files


def export_library(board: Board, gen: Generated, out_dir: str | os.PathLike, fmt: str, test_input: np.ndarray,
                   expected: np.ndarray, *, input_origin: str, model_name: str, reason: str = "",
                   cmsis_nn_path=None) -> ExportResult:
    """Write the export folder for the generated model `gen` (export_files, atomically) and say
    what it holds. test_input/expected: the example's input and the reference output for it."""
    check_export_dir(out_dir)
    files = export_files(board, gen, fmt, test_input, expected, input_origin=input_origin,
                         model_name=model_name, reason=reason, cmsis_nn_path=cmsis_nn_path)
    result = ExportResult(
        out_dir=str(out_dir), format=fmt, board=board.id, kernels=gen.kernels, decode_mode=gen.decode_mode,
        decode_reason=reason, model_hash=gen.model_hash, api_version=f"{C_API_VERSION[0]}.{C_API_VERSION[1]}",
        example=f"examples/{fmt}", ram_bytes=gen.ram_bytes, arena_bytes=gen.arena_bytes,
        weight_ram_bytes=gen.weight_ram_bytes, scratch_bytes=gen.scratch_bytes,
        decoder_ram_bytes=gen.decoder_ram_bytes, weights_flash_bytes=gen.weights_flash_bytes,
        const_flash_bytes=gen.const_flash_bytes, files=tuple(sorted([*files, MANIFEST])))
    files[MANIFEST] = json.dumps(asdict(result), indent=2) + "\n"
    atomic_write_tree(out_dir, files)
    return result
