# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Every method end to end as a user runs it: `compress --method M` -> `build --board qemu-m4` ->
`validate` in QEMU on real CIFAR-10 test images, bit-exact with the golden interpreter; and the
firmware's weights are the method's (the .ilwp decodes to the method's value structure)."""

import json

import numpy as np
import pytest
from conftest import RESNET8_INT8, run_cli

from ilwp_embedded.compress import decode_blob

# method, options, max distinct values per tensor (None: not a codebook method)
CASES = [
    ("ilwp", ["--step", "3"], None),
    ("tq", ["--bits", "1"], None),
    ("dqc", ["--bits", "3"], 8),
    ("slq", ["--bits", "3"], 8),
    ("mlq", [], 3),
]


@pytest.mark.parametrize("method,opts,max_values", CASES, ids=[c[0] for c in CASES])
def test_method_compress_build_validate_bit_exact(tmp_path, method, opts, max_values):
    blob = tmp_path / f"{method}.ilwp"
    p = run_cli("compress", RESNET8_INT8, "--method", method, *opts, "-o", blob, "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["method"] == method and summary["bits_per_weight"] < 7.0
    dec = decode_blob(blob.read_bytes())
    if max_values is not None:
        assert max(len(np.unique(w)) for w in dec.values()) <= max_values
    b = run_cli("build", "--board", "qemu-m4", "--model", blob, "-o", tmp_path / "fw", "--json", timeout=600)
    assert b.returncode == 0, b.stderr
    fw = json.loads(b.stdout)
    assert fw["weights_coded_bytes"] < fw["weights_int8_bytes"]
    v = run_cli("validate", "--board", "qemu-m4", "--elf", fw["elf"], "--model", blob, "--dataset", "cifar10",
                "--limit", "4", "--json", timeout=600)
    assert v.returncode == 0, v.stderr
    r = json.loads(v.stdout)
    assert r["count"] == 4 and r["bit_exact"] is True and r["mismatches"] == 0
    assert r["model_hash"] == fw["model_hash"]
