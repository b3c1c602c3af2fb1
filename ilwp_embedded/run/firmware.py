"""The inference firmware: generated model + portable kernels + firmware/runtime (protocol, main).

`build_inference_firmware(board, gen, out_dir)` is the one place the harness assembles a
firmware; compression (another Weights mode) only changes the `Generated` passed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ilwp_embedded.build.boards import Board, resolve_board
from ilwp_embedded.build.paths import firmware_dir
from ilwp_embedded.build.pio import BuildResult, build_firmware
from ilwp_embedded.generate.codegen import Generated, write_sources


def runtime_dir() -> Path:
    return firmware_dir() / "runtime"


def kernels_dir() -> Path:
    return firmware_dir() / "kernels"


def build_inference_firmware(board: Board | str, gen: Generated, out_dir: Path,
                             defines: Mapping[str, object | None] | None = None,
                             test_commands: bool = False, extra_sources: tuple[Path, ...] = (),
                             extra_include_dirs: tuple[Path, ...] = (), core_dir: Path | None = None,
                             timeout_s: float = 600.0) -> BuildResult:
    """Build the protocol firmware for `gen` on `board` into out_dir (a PlatformIO project).

    defines: e.g. {"ILWP_FORCE_INIT_STATUS": -3} (pretend the blob is corrupt),
    {"ILWP_PROTO_MAX_PAYLOAD": 2052}.  test_commands adds the TEST message (hang/fault/exit).
    """
    if not isinstance(board, Board):
        board = resolve_board(board)
    out_dir = Path(out_dir).resolve()
    model_dir = out_dir / "model"
    write_sources(gen, model_dir)
    model_c = model_dir / "ilwp_model.c"
    text = model_c.read_text()
    if not text.startswith('#include "ilwp_ticks.h"'):
        # The template times decoding with ILWP_TICKS(); the firmware's timer provides it.
        model_c.write_text('#include "ilwp_ticks.h"\n' + text)
    sources = [runtime_dir() / "main.c", runtime_dir() / "protocol.c", model_c]
    sources += [p for p in sorted(model_dir.glob("*.c")) if p != model_c]
    sources += sorted(kernels_dir().glob("*.c")) + list(extra_sources)
    d = dict(defines or {})
    if test_commands:
        d["ILWP_PROTO_TEST_COMMANDS"] = 1
    return build_firmware(board, sources, include_dirs=[runtime_dir(), kernels_dir(), model_dir,
                                                        *extra_include_dirs],
                          out_dir=out_dir / "pio", defines=d, core_dir=core_dir, timeout_s=timeout_s)
