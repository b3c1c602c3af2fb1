# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The command line's sub-commands, one module each (`register(subparsers)` + `cmd_*`): they parse
arguments, call the stages (ilwp_embedded/pipeline.py for load -> compress -> plan -> generate ->
build -> run) and print. The top of the import graph: nothing imports from here but cli.py."""
