# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Where the project's data files live: templates/, firmware/, boards/ and the bundled models/.

The one path resolver. In a checkout (and an editable install) they sit at the repository root; a
wheel carries them inside the package, in ilwp_embedded/_data/ (setup.py copies them there when it
builds). $ILWP_REPO_ROOT overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "_data"


def repo_root() -> Path:
    """The folder holding templates/, firmware/, boards/ and models/ ($ILWP_REPO_ROOT overrides)."""
    env = os.environ.get("ILWP_REPO_ROOT")
    if env:
        return Path(env).resolve()
    if PACKAGED.is_dir():
        return PACKAGED
    return Path(__file__).resolve().parents[1]


def installed() -> bool:
    """True when running from a wheel (the data files inside the package), not from a checkout."""
    return repo_root() == PACKAGED


def templates_dir() -> Path:
    """The Jinja2 templates of the generated C."""
    return repo_root() / "templates"


def boards_dir() -> Path:
    """Board manifests, one JSON file per board ($ILWP_BOARDS_DIR overrides)."""
    env = os.environ.get("ILWP_BOARDS_DIR")
    return Path(env).resolve() if env else repo_root() / "boards"


def firmware_dir() -> Path:
    return repo_root() / "firmware"


def models_dir() -> Path:
    """The zoo's bundled models (the example model of `build` and `demo`)."""
    return repo_root() / "models"


def platform_dir() -> Path:
    """The offline PlatformIO development platform shipped in the repository."""
    return firmware_dir() / "platform" / "ilwp-cortexm"


def work_dir() -> Path:
    """Where the tools keep what they fetch or prepare: the checkout; for an installed package,
    which may not write beside itself, $XDG_CACHE_HOME/ilwp-embed."""
    if installed() and not os.environ.get("ILWP_REPO_ROOT"):
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache) / "ilwp-embed"
    return repo_root()


def default_core_dir() -> Path:
    """The PlatformIO core dir ($ILWP_PIO_CORE_DIR overrides): build/pio-core in a checkout,
    work_dir()/pio-core for an installed package."""
    env = os.environ.get("ILWP_PIO_CORE_DIR")
    if env:
        return Path(env).resolve()
    return work_dir() / "pio-core" if installed() else repo_root() / "build" / "pio-core"
