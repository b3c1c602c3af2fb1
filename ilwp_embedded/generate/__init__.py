# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Generate: C sources for a graph (schedule, memory plan, constants, blob) from Jinja2 templates."""
