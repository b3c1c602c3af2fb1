"""Where the repository's board data and firmware sources live."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout holding boards/ and firmware/ ($ILWP_REPO_ROOT overrides)."""
    env = os.environ.get("ILWP_REPO_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def boards_dir() -> Path:
    """Board manifests, one JSON file per board ($ILWP_BOARDS_DIR overrides)."""
    env = os.environ.get("ILWP_BOARDS_DIR")
    return Path(env).resolve() if env else repo_root() / "boards"


def firmware_dir() -> Path:
    return repo_root() / "firmware"


def platform_dir() -> Path:
    """The offline PlatformIO development platform shipped in the repository."""
    return firmware_dir() / "platform" / "ilwp-cortexm"


def default_core_dir() -> Path:
    """The project-local PlatformIO core dir ($ILWP_PIO_CORE_DIR overrides)."""
    env = os.environ.get("ILWP_PIO_CORE_DIR")
    return Path(env).resolve() if env else repo_root() / "build" / "pio-core"
