# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Tools over the package for the tests and benches, not shipped in the wheel (pyproject.toml packages
only ilwp_embedded): host_runner.py runs a graph op by op through the C kernels on the host (ctypes,
the op registry's host bindings); model_bench.py counts a generated model's instructions in QEMU."""
