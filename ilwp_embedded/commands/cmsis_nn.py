# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed setup-cmsis-nn`: obtain the pinned CMSIS-NN sources for --kernels cmsis-nn
(generate/cmsis_nn.py)."""

from __future__ import annotations

from pathlib import Path

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.generate.cmsis_nn import (ENV_VAR, PINNED_DIST, PINNED_VERSION, PINNED_WHEEL, cmsis_nn_api,
                                             pinned_dir, setup_pinned)


def register(sub) -> None:
    p = sub.add_parser("setup-cmsis-nn", help="obtain the pinned CMSIS-NN sources for --kernels cmsis-nn")
    p.add_argument("--dest", default=None, help="where to extract (default: <repository>/.cmsis-nn)")
    p.add_argument("--wheel", default=None,
                   help=f"an already downloaded {PINNED_WHEEL} (checked against the pinned sha256)")
    p.set_defaults(func=cmd_setup)


def cmd_setup(args) -> int:
    target = Path(args.dest) if args.dest else pinned_dir()
    if target.exists() and not target.is_dir():
        raise IlwpError(f"--dest {target} is a file, not a directory")
    try:
        dest, fresh = setup_pinned(target, Path(args.wheel) if args.wheel else None)
    except OSError as e:
        raise IlwpError(f"cannot write the CMSIS-NN copy to {target}: {e.strerror or e}") from None
    api = cmsis_nn_api(dest)
    print(f"CMSIS-NN {api.version} (ARM-software/CMSIS-NN 3b4e406b, from {PINNED_DIST}=={PINNED_VERSION}) "
          f"{'extracted into' if fresh else 'already in'} {dest}")
    if args.dest:
        print(f"use it with --cmsis-nn {dest} or {ENV_VAR}={dest}")
    return 0
