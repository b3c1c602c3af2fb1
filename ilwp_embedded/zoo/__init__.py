# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Models trained here: the CIFAR ResNets of He et al. 2016, the bundled examples and ILWP's test bed."""
