# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Build the QEMU TCG plugin (ilwp_prof.c) at use time and read its result file.

The plugin is compiled with the host gcc into build/qemu-plugin/ (ignored), keyed by the source's
hash, once per checkout. `plugin_args(...)` gives the `-plugin` option for qemu-system-arm;
`read_profile(path)` parses what the plugin wrote: per region (one per timed run) its segments,
each a table of per-PC counts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ilwp_embedded.errors import IlwpError

SOURCE = Path(__file__).with_name("ilwp_prof.c")
STOP_MARK = 0xFFFFFFFF


def _build_dir() -> Path:
    from ilwp_embedded.resources import work_dir

    env = os.environ.get("ILWP_PLUGIN_DIR")
    return Path(env) if env else work_dir() / "build" / "qemu-plugin"


def build_plugin() -> Path:
    """The plugin's shared library, compiled if this source has not been yet."""
    src = SOURCE.read_bytes()
    tag = hashlib.sha256(src).hexdigest()[:12]
    out_dir = _build_dir()
    lib = out_dir / f"ilwp_prof-{tag}.so"
    if lib.is_file():
        return lib
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise IlwpError("the cycle profile needs a host C compiler (gcc) to build the QEMU plugin")
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".so.tmp")
    os.close(fd)
    r = subprocess.run([cc, "-O2", "-fPIC", "-shared", "-std=c99", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra",
                        "-o", tmp, str(SOURCE)], capture_output=True, text=True)
    if r.returncode != 0:
        os.unlink(tmp)
        raise IlwpError(f"building the QEMU plugin failed: {r.stderr.strip().splitlines()[-1:]}")
    os.replace(tmp, lib)  # atomic: parallel builders agree
    return lib


def plugin_args(out: Path, start: int, stop: int, marks: Sequence[int] = (), marks_file: Path | None = None
                ) -> list[str]:
    """qemu-system-arm options that load the plugin for the region [start, stop)."""
    lib = build_plugin()
    opt = f"{lib},out={out},start={start & ~1:#x},stop={stop & ~1:#x}"
    if marks:
        mf = marks_file or Path(str(out) + ".marks")
        mf.write_text("".join(f"{m & ~1:#x}\n" for m in marks))
        opt += f",marks={mf}"
    return ["-plugin", opt]


@dataclass
class Segment:
    region: int
    mark: int  # index into the marks given, or STOP_MARK for the segment closed by the stop PC
    idx: np.ndarray  # instruction indices (into Profile.pc)
    exec: np.ndarray
    taken: np.ndarray  # times the instruction was followed by a jump (taken branch; also exception entry)
    jumped_in: np.ndarray  # times it was reached by a jump rather than by falling through
    mem: np.ndarray  # memory accesses it made


@dataclass
class Profile:
    pc: np.ndarray  # by instruction index
    size: np.ndarray
    data: np.ndarray  # first halfword (and the second for 32-bit instructions, in the high half)
    segments: list[Segment] = field(default_factory=list)
    complete: bool = True

    @property
    def regions(self) -> int:
        return len({s.region for s in self.segments if s.mark == STOP_MARK})

    def region_segments(self, region: int) -> list[Segment]:
        return [s for s in self.segments if s.region == region]

    def totals(self, segments: Sequence[Segment]) -> dict[str, np.ndarray]:
        """Per-instruction-index sums over `segments` (exec, taken, jumped_in, mem)."""
        n = len(self.pc)
        out = {k: np.zeros(n, dtype=np.int64) for k in ("exec", "taken", "jumped_in", "mem")}
        for s in segments:
            for k in out:
                np.add.at(out[k], s.idx, getattr(s, k))
        return out


def read_profile(path: Path) -> Profile:
    raw = np.fromfile(path, dtype="<u4")
    if raw.size % 6:
        raw = raw[: raw.size - raw.size % 6]  # a run cut short mid-record
    rec = raw.reshape(-1, 6)
    kinds = rec[:, 0]
    ins = rec[kinds == 1]
    n = int(ins[:, 1].max()) + 1 if len(ins) else 0
    pc = np.zeros(n, dtype=np.int64)
    size = np.zeros(n, dtype=np.int64)
    data = np.zeros(n, dtype=np.int64)
    pc[ins[:, 1]] = ins[:, 2]
    size[ins[:, 1]] = ins[:, 3]
    data[ins[:, 1]] = ins[:, 4]
    prof = Profile(pc=pc, size=size, data=data, complete=not np.any(kinds == 5))
    seg_rows = np.nonzero(kinds == 3)[0]
    for r in seg_rows:
        cnt = int(rec[r, 3])
        body = rec[r + 1 : r + 1 + cnt]
        if len(body) < cnt or np.any(body[:, 0] != 4):
            break  # truncated at the end of the file
        prof.segments.append(Segment(region=int(rec[r, 1]), mark=int(rec[r, 2]), idx=body[:, 1].astype(np.int64),
                                     exec=body[:, 2].astype(np.int64), taken=body[:, 3].astype(np.int64),
                                     jumped_in=body[:, 4].astype(np.int64), mem=body[:, 5].astype(np.int64)))
    # a region is complete only when its stop segment was written
    done = {s.region for s in prof.segments if s.mark == STOP_MARK}
    prof.segments = [s for s in prof.segments if s.region in done]
    return prof
