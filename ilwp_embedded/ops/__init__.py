# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The firmware's operators: one registry entry per op (registry.py), the host-side quantization
constants of each kernel (quant.py), their C struct mirror (cstruct.py) and what the firmware can
run (support.py). Sits between ingest (the graph) and generate (the C)."""
