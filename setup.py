# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The wheel carries the data files the package reads at run time (ilwp_embedded/resources.py):
templates/, firmware/, boards/ and the bundled example model, copied into ilwp_embedded/_data/ when
the wheel is built. Editable installs read them from the checkout instead. Metadata: pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# folder -> the files of it the package needs
DATA = {
    "templates": ("**/*.j2",),
    "firmware": ("**/*.c", "**/*.h", "**/*.j2", "platform/**/*.py", "platform/**/*.json"),
    "boards": ("*.json",),
    "models": ("cifar_resnet20_int8.tflite",),
}


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dst = Path(self.build_lib) / "ilwp_embedded" / "_data"
        if dst.exists():
            shutil.rmtree(dst)
        for folder, patterns in DATA.items():
            for pattern in patterns:
                for src in sorted((ROOT / folder).glob(pattern)):
                    if src.is_file() and "__pycache__" not in src.parts:
                        out = dst / src.relative_to(ROOT)
                        out.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(src, out)


setup(cmdclass={"build_py": BuildPyWithData})
