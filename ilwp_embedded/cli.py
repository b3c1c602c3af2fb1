# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed`: one console entry point; each stage package registers its own sub-commands.

Every user-facing failure is an IlwpError printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ilwp_embedded import __version__
from ilwp_embedded.errors import IlwpError

# Modules that define `register(subparsers)`; each sub-command sets `func(args) -> int`.
COMMAND_MODULES = (
    "ilwp_embedded.commands.ingest",
    "ilwp_embedded.commands.eval",
    "ilwp_embedded.commands.compress",
    "ilwp_embedded.commands.finetune",
    "ilwp_embedded.commands.boards",
    "ilwp_embedded.commands.build",
    "ilwp_embedded.commands.export",
    "ilwp_embedded.commands.cmsis_nn",
    "ilwp_embedded.commands.demo",
    "ilwp_embedded.commands.run",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ilwp-embed", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"ilwp-embed {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p



def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except IlwpError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except MemoryError:
        print("error: out of memory", file=sys.stderr)
        return 2


def add_data_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=None,
                   help="where datasets live (default: $ILWP_DATA_DIR, else the Keras download cache)")
