# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""ilwp-embed: compressed int8 CNNs on Cortex-M, checked bit-exact on the device.

Stages, data flowing one way: ingest -> compress -> generate -> build -> run.
"""

__version__ = "0.1.0"
