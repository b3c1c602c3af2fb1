# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The wheel works outside the repository: built from this checkout, installed into a fresh venv in a
temporary folder, it builds the firmware for qemu-m4 from its own templates, firmware sources, board
manifests and example model, and validates it in QEMU.

The venv's third-party packages (TensorFlow, PlatformIO, ...) come from the running interpreter's
site-packages through a .pth path line (nothing is downloaded); ilwp_embedded itself only from the
installed wheel, which the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA_DIR, REPO


def _run(cmd, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_wheel_builds_and_validates_outside_the_repository(tmp_path):
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not on PATH (scripts/install-toolchain.sh)")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ILWP_REPO_ROOT", "ILWP_BOARDS_DIR",
                                                            "ILWP_PIO_CORE_DIR", "VIRTUAL_ENV")}
    env.update(ILWP_DATA_DIR=str(DATA_DIR), XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path))

    # 1. the wheel, from a copy of this checkout (setuptools' build/ folder can hold stale modules; no
    #    build isolation: the running setuptools, nothing downloaded)
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "build", ".venv", "__pycache__", "*.egg-info",
                                                            ".pio", ".pytest_cache", "out"))
    r = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
              "-w", tmp_path / "dist", src], work, env)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("ilwp_embedded-*.whl"))

    # 2. a fresh venv; the dependencies from this interpreter's site-packages, the package from the wheel
    venv = tmp_path / "venv"
    r = _run([sys.executable, "-m", "venv", "--without-pip", venv], work, env)
    assert r.returncode == 0, r.stderr[-2000:]
    py = venv / "bin" / "python"
    purelib = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work, env)
                   .stdout.strip())
    (purelib / "deps-from-dev-venv.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    r = _run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", "--no-index", wheel],
             work, env)
    assert r.returncode == 0, r.stderr[-2000:]
    where = _run([py, "-c", "import ilwp_embedded.resources as r; print(r.__file__); print(r.installed())"],
                 work, env).stdout.split()
    assert where[0].startswith(str(purelib)) and where[1] == "True", where

    # 3. build for qemu-m4 (the bundled example model) and validate a few images, from the venv
    cli = venv / "bin" / "ilwp-embed"
    r = _run([cli, "build", "--board", "qemu-m4", "-o", work / "fw", "--json"], work, env)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    fw = json.loads(r.stdout)
    assert Path(fw["elf"]).is_file() and Path(fw["elf"]).is_relative_to(work)
    r = _run([cli, "validate", "--board", "qemu-m4", "--dataset", "cifar10-raw200", "--limit", "3",
              "--elf", fw["elf"], "--json"], work, env)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    res = json.loads(r.stdout)
    assert res["bit_exact"] and res["count"] == 3 and res["model_hash"] == fw["model_hash"]

    # 4. export the model as a library from the venv: the export templates, the kernels and the
    #    offline PlatformIO platform (for the example) come from the wheel too
    r = _run([cli, "export", "--board", "qemu-m4", "-o", work / "lib", "--format", "platformio", "--json"], work, env)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    files = json.loads(r.stdout)["files"]
    assert {"library.json", "include/ilwp_model.h", "src/ilwp_model.c", "examples/platformio/src/main.c",
            "examples/platformio/platform/ilwp-cortexm/builder/main.py"} <= set(files)
