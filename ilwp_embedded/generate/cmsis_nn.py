# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""CMSIS-NN for the cmsis-nn backend: where the sources are, which API generation they have, and the
pinned copy that the set-up obtains.

Where (find_cmsis_nn): the path the user gives (--cmsis-nn PATH), else $ILWP_CMSIS_NN, else the pinned
copy that `ilwp-embed setup-cmsis-nn` (run by `make setup`/`make test`/`make demo`) extracts into
`<repository>/.cmsis-nn/` (git-ignored). The user's own checkout always wins.

The pinned copy: CMSIS-NN is in no Debian, npm or PyPI package of its own; the one registry copy is
inside the PyPI wheel aidge-export-arm-cortexm==0.2.1 (checked against PINNED_SHA256), folder
aidge_export_arm_cortexm/_CMSIS-NN/CMSIS-NN/{Include,Source}: ARM-software/CMSIS-NN commit 3b4e406b
(2024-01-19), arm_nnfunctions.h V.12.5.1, Apache-2.0 (SPDX header in every file). Only those two
folders are extracted; nothing of it enters the repository.

Which API (cmsis_nn_api): read off Include/arm_nnfunctions.h, its `$Revision: V.x.y.z` line and the
prototypes it declares, and off the grouped-convolution handling of arm_convolve_s8.c. Generations
seen:
  * V.12.5.1 (the pinned copy): arm_vector_sum_s8 takes 4 arguments (before CMSIS-NN 24.02), there is
    no arm_fully_connected_per_channel_s8 (it came with v7.0.0), and arm_convolve_s8 ignores groups
    (a grouped conv computes wrong output with a success code).
  * newer (e.g. 99f736a6, V.19.1.0): arm_vector_sum_s8 takes 7 arguments (offsets and bias folded),
    per-channel FC exists, arm_convolve_s8 handles groups.
The generator routes each layer to CMSIS-NN only when the detected API has a kernel that computes it
right; otherwise to the portable kernel (codegen.generate). Versions older than MIN_REVISION are refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.resources import work_dir

ENV_VAR = "ILWP_CMSIS_NN"
PINNED_DIST = "aidge-export-arm-cortexm"
PINNED_VERSION = "0.2.1"
PINNED_SHA256 = "0ea6a694b8c1397bf52158c27854bbd4ddfca433ed4cf06a4c92843b480acbf0"
PINNED_WHEEL = "aidge_export_arm_cortexm-0.2.1-py3-none-any.whl"
PINNED_PREFIX = "aidge_export_arm_cortexm/_CMSIS-NN/CMSIS-NN/"
PINNED_REVISION = (12, 5, 1)
MIN_REVISION = (12, 5, 1)  # the oldest API generation the glue is written and tested for
STAMP = ".ilwp-pinned"  # written last into the extracted copy: the wheel's sha256 (a complete copy)

_REVISION_RE = re.compile(r"\$Revision:\s*V\.?(\d+)\.(\d+)\.(\d+)")


def pinned_dir() -> Path:
    """Where the set-up extracts the pinned copy: <repository>/.cmsis-nn (git-ignored; the repository is
    $ILWP_REPO_ROOT when set, as for boards/ and firmware/; resources.py)."""
    return work_dir() / ".cmsis-nn"


def _is_checkout(root: Path) -> bool:
    return (root / "Include" / "arm_nnfunctions.h").is_file() and (root / "Source").is_dir()


def find_cmsis_nn(path: str | os.PathLike | None = None) -> Path:
    """The CMSIS-NN sources: `path`, else $ILWP_CMSIS_NN, else the pinned copy; IlwpError when none."""
    given = path if path not in (None, "") else os.environ.get(ENV_VAR)
    if not given:
        pin = pinned_dir()
        if _is_checkout(pin) and (pin / STAMP).is_file():
            return pin.resolve()
        raise IlwpError(f"the cmsis-nn backend needs CMSIS-NN: run `ilwp-embed setup-cmsis-nn` (the pinned copy, "
                        f"into {pin}), or pass --cmsis-nn PATH or set {ENV_VAR} to a checkout "
                        "(git clone https://github.com/ARM-software/CMSIS-NN)")
    root = Path(given).expanduser()
    if not root.is_dir():
        raise IlwpError(f"CMSIS-NN checkout not found: {root} is not a directory")
    if not _is_checkout(root):
        raise IlwpError(f"{root} is not a CMSIS-NN checkout: Include/arm_nnfunctions.h or Source/ is missing")
    return root.resolve()


# ------------------------------------------------------------------------------------- API generation

@dataclass(frozen=True)
class CmsisNNApi:
    """What one CMSIS-NN copy offers, as far as the glue and the generator care."""
    root: Path
    revision: tuple[int, int, int]  # arm_nnfunctions.h $Revision
    vector_sum_args: int             # arm_vector_sum_s8: 4 (before 24.02) or 7
    fc_per_channel: bool             # arm_fully_connected_per_channel_s8 (v7.0.0 on)
    grouped_conv: bool               # arm_convolve_s8 computes grouped convolutions

    @property
    def version(self) -> str:
        return "V." + ".".join(map(str, self.revision))

    def features(self) -> frozenset[str]:
        return frozenset(f for f, on in (("fc_per_channel", self.fc_per_channel),
                                         ("grouped_conv", self.grouped_conv)) if on)


# The generation assumed when C is generated without a copy at hand: the oldest one supported, so the
# C is right on every supported copy (grouped conv and per-channel FC on the portable kernels).
OLDEST_API = CmsisNNApi(Path("."), MIN_REVISION, 4, False, False)


def _prototype_args(header: str, name: str) -> int | None:
    m = re.search(r"\b" + re.escape(name) + r"\s*\(([^;{)]*)\)\s*;", header)
    if m is None:
        return None
    args = m.group(1).strip()
    return 0 if args in ("", "void") else args.count(",") + 1


def cmsis_nn_api(root: str | os.PathLike | None = None) -> CmsisNNApi:
    """The API generation of a CMSIS-NN copy (find_cmsis_nn(root) first); IlwpError when it cannot be
    told or is older than MIN_REVISION."""
    root = find_cmsis_nn(root)
    header = (root / "Include" / "arm_nnfunctions.h").read_text(errors="replace")
    m = _REVISION_RE.search(header)
    if m is None:
        raise IlwpError(f"cannot tell the CMSIS-NN version of {root}: Include/arm_nnfunctions.h has no "
                        "'$Revision: V.x.y.z' line")
    rev = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    version = "V." + ".".join(map(str, rev))
    if rev < MIN_REVISION:
        raise IlwpError(f"CMSIS-NN {version} at {root} is older than the oldest the cmsis-nn backend supports "
                        f"(V.{'.'.join(map(str, MIN_REVISION))}): use a newer checkout or `ilwp-embed setup-cmsis-nn`")
    nsum = _prototype_args(header, "arm_vector_sum_s8")
    if nsum not in (4, 7):
        raise IlwpError(f"CMSIS-NN {version} at {root}: arm_vector_sum_s8 takes {nsum} arguments; the glue knows "
                        "the 4-argument (before 24.02) and the 7-argument forms")
    per_channel = _prototype_args(header, "arm_fully_connected_per_channel_s8") is not None
    conv = root / "Source" / "ConvolutionFunctions" / "arm_convolve_s8.c"
    # Grouped convolution: arm_convolve_s8 of V.12.5.1 never reads the group count (input channels /
    # filter channels) and computes wrong output for a grouped conv; later versions derive `groups`.
    grouped = rev > PINNED_REVISION and conv.is_file() and re.search(r"\bgroups\b", conv.read_text(errors="replace")) is not None
    return CmsisNNApi(root, rev, nsum, per_channel, grouped)


def glue_sources(glue_dir: Path, api: CmsisNNApi) -> list[Path]:
    """The glue files for this API generation (one per variant: no version macros in the C)."""
    files = [glue_dir / "ilwp_cmsis_nn.c",
             glue_dir / ("ilwp_cmsis_kernel_sums_v7.c" if api.vector_sum_args == 7 else "ilwp_cmsis_kernel_sums_v4.c")]
    if api.fc_per_channel:
        files.append(glue_dir / "ilwp_cmsis_fc_per_channel.c")
    return files


# ------------------------------------------------------------------------------ the pinned copy (set-up)

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_pinned_wheel(dest: Path) -> Path:
    """pip download --no-deps --require-hashes of the pinned wheel into `dest`."""
    req = dest / "requirements-cmsis-nn.txt"
    req.write_text(f"{PINNED_DIST}=={PINNED_VERSION} --hash=sha256:{PINNED_SHA256}\n")
    r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary",
                        ":all:", "-q", "-r", str(req), "-d", str(dest)], capture_output=True, text=True)
    wheel = dest / PINNED_WHEEL
    if r.returncode != 0 or not wheel.is_file():
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise IlwpError(f"could not download {PINNED_DIST}=={PINNED_VERSION} (pip: {last}); on a machine without "
                        f"network pass --wheel FILE")
    return wheel


def extract_pinned(wheel: Path, dest: Path) -> Path:
    """Check the wheel's sha256 and extract only CMSIS-NN's Include/ and Source/ into `dest`."""
    if not wheel.is_file():
        raise IlwpError(f"wheel not found: {wheel}")
    digest = _sha256(wheel)
    if digest != PINNED_SHA256:
        raise IlwpError(f"{wheel} has sha256 {digest}, not the pinned {PINNED_SHA256}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".cmsis-nn-", dir=dest.parent))  # same file system: atomic rename
    try:
        with zipfile.ZipFile(wheel) as z:
            n = 0
            for info in z.infolist():
                if not info.filename.startswith(PINNED_PREFIX) or info.is_dir():
                    continue
                rel = info.filename[len(PINNED_PREFIX):]
                parts = rel.split("/")
                if parts[0] not in ("Include", "Source") or any(p in ("", ".", "..") for p in parts):
                    continue
                out = tmp.joinpath(*parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(z.read(info))
                n += 1
        if not _is_checkout(tmp):
            raise IlwpError(f"{wheel} holds no {PINNED_PREFIX}Include/arm_nnfunctions.h")
        (tmp / STAMP).write_text(f"{PINNED_DIST}=={PINNED_VERSION} sha256:{PINNED_SHA256} files:{n}\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)  # a copy is complete (stamp written last) or absent
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def setup_pinned(dest: Path | None = None, wheel: Path | None = None) -> tuple[Path, bool]:
    """(the pinned copy, whether it was extracted now): nothing to do when `dest` already holds it."""
    dest = Path(dest) if dest is not None else pinned_dir()
    stamp = dest / STAMP
    if _is_checkout(dest) and stamp.is_file() and PINNED_SHA256 in stamp.read_text():
        return dest, False
    if wheel is not None:
        return extract_pinned(Path(wheel), dest), True
    with tempfile.TemporaryDirectory(prefix="ilwp-cmsis-wheel-") as d:
        return extract_pinned(download_pinned_wheel(Path(d)), dest), True


__all__ = ["CmsisNNApi", "ENV_VAR", "OLDEST_API", "PINNED_SHA256", "cmsis_nn_api", "find_cmsis_nn",
           "glue_sources", "pinned_dir", "setup_pinned"]
