# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Weight codec: inter-layer weight prediction + static rANS for int8 CNN weights.

The container format is specified in docs/blob-format.md; this package (encoder, Python
reference decoder) and firmware/decoder/ilwp_decode.c both implement that one spec.
"""

from ilwp_embedded.compress.encoder import EncodeResult, encode_graph
from ilwp_embedded.compress.decoder import decode_blob, decompress_to_tflite

__all__ = ["EncodeResult", "encode_graph", "decode_blob", "decompress_to_tflite"]
