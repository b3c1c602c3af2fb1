# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Training and search, a stage above compress: quantization methods that can retrain (methods/),
the accuracy-budget rate search (ratesearch.py) and the fast evaluator (fasteval.py). With zoo/ (the
CIFAR ResNets and their training) it imports the codec, the golden model and the datasets; the
codec and the firmware stages never import it."""
