"""Shared by the tests/test_boards_*.py files: hello-firmware builds, cached per process.

Builds run with HTTP(S) proxies pointing at a closed port, so any attempt by PlatformIO to
reach its registry fails at once: a passing build proves the offline set-up needs no network.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from ilwp_embedded.target.boards import load_boards
from ilwp_embedded.resources import default_core_dir
from ilwp_embedded.target.pio import BuildResult, build_firmware, hello_sources
from ilwp_embedded.target.pio_core import prepare_core

DEAD_PROXY = "http://127.0.0.1:9"
NO_NETWORK_ENV = {
    "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY,
    "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "all_proxy": DEAD_PROXY,
    "NO_PROXY": "", "no_proxy": "",
}

ALL_BOARDS = sorted(load_boards())
QEMU_BOARDS = sorted(b.id for b in load_boards().values() if b.emulated)

needs_toolchain = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
needs_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")


@contextmanager
def no_network() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in NO_NETWORK_ENV}
    os.environ.update(NO_NETWORK_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@functools.cache
def core_dir() -> Path:
    """The project-local core dir, prepared once (may use PyPI for scons if not installed)."""
    return prepare_core(default_core_dir())


@functools.cache
def _out_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="ilwp-boards-test-"))


@functools.cache
def hello_build(board_id: str) -> BuildResult:
    core = core_dir()
    with no_network():
        return build_firmware(board_id, hello_sources(), out_dir=_out_root() / board_id,
                              core_dir=core, timeout_s=300)
