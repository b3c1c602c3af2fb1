# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Regenerates tests/data/codec_example.ilwp and its expected hashes (run after an intended
format or encoder change; the test then proves old blobs still decode and encoding is stable).

    PYTHONPATH=. python tests/make_codec_example.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from helpers import synthetic_graph
from ilwp_embedded.compress import encode_graph

DATA = Path(__file__).resolve().parent / "data"
# lossy: an inter-collocated conv and depthwise, and pair symbols (format v5) in an inter-searched conv (5)
# and the intra FC (11); the rest lossless
EXAMPLE_STEPS = {3: 2, 5: 16, 9: 3, 11: 48}


def example():
    return encode_graph(synthetic_graph(seed=1), EXAMPLE_STEPS, skeleton=False, pairs=True)


def expected_hashes(recon) -> dict:
    per = {str(k): hashlib.sha256(v.tobytes()).hexdigest() for k, v in sorted(recon.items())}
    allh = hashlib.sha256(b"".join(recon[k].tobytes() for k in sorted(recon))).hexdigest()
    return {"tensors": per, "all": allh}


if __name__ == "__main__":
    res = example()
    (DATA / "codec_example.ilwp").write_bytes(res.blob)
    meta = expected_hashes({k: v.reshape(-1) for k, v in res.recon.items()})
    meta["modes"] = [s.mode for s in res.stats]
    meta["steps"] = [s.step for s in res.stats]
    (DATA / "codec_example.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(len(res.blob), meta["modes"], meta["steps"])
