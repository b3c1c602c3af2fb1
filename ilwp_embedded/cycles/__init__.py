# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Cycle estimates for Cortex-M firmware run in QEMU: a TCG plugin counts per-PC executions,
taken branches and memory accesses in a timed region (`plugin`), a per-core timing table turns
them into (low, nominal, high) cycles (`timing`), attributed to layers where asked (`profile`)."""
