# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Atomic output: a reader never sees a half-written file, a failed run leaves none."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

from ilwp_embedded.errors import IlwpError


def require_output_dir(path: str | os.PathLike, what: str = "output") -> Path:
    """Check, before any work, that `path` can be written where it is meant to go."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise IlwpError(f"{what} directory does not exist: {parent}")
    if path.is_dir():
        raise IlwpError(f"{what} {path} is a directory; give a file name")
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it into place."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise IlwpError(f"output directory does not exist: {parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the user's usual mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_tree(path: str | os.PathLike, files: Mapping[str, str | bytes | Path]) -> Path:
    """Write a new folder `path` (absent or empty) atomically: `files` (relative path -> text, bytes, or
    a file to copy) go into a temporary folder beside it, renamed into place at the end; a failure
    leaves nothing behind."""
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise IlwpError(f"output directory does not exist: {parent}")
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise IlwpError(f"output {out} exists and is not an empty directory")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as e:
        raise IlwpError(f"cannot write into {parent}: {e.strerror}") from None
    try:
        for rel, what in files.items():
            dst = tmp / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(what, Path):
                shutil.copyfile(what, dst)
            else:
                dst.write_bytes(what.encode("utf-8") if isinstance(what, str) else what)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the user's usual mode
        if out.is_dir():
            out.rmdir()  # empty (checked above): the rename needs the name free
        os.rename(tmp, out)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):  # e.g. another process wrote `path` meanwhile, a full disk
            raise IlwpError(f"cannot write {out}: {e.strerror or e}") from None
        raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def read_input_file(path: str | os.PathLike, what: str = "file") -> bytes:
    """Read a user-given input file, turning OS errors into one-line errors."""
    p = Path(path)
    if not p.exists():
        raise IlwpError(f"{what} not found: {p}")
    if p.is_dir():
        raise IlwpError(f"{what} is a directory, not a file: {p}")
    try:
        return p.read_bytes()
    except OSError as e:
        raise IlwpError(f"cannot read {what} {p}: {e.strerror}") from None
