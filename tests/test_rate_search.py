# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Rate-accuracy search: per-tensor steps under an accuracy budget, on a validation split."""

import json

import numpy as np
import pytest

from conftest import RESNET8_INT8, assert_one_line_error, run_cli
from ilwp_embedded.train import ratesearch
from ilwp_embedded.compress.decoder import decode_blob
from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.ingest import load_graph


@pytest.fixture(scope="module")
def resnet8():
    return load_graph(RESNET8_INT8)


def test_intra_reconstruction_is_the_encoders(resnet8):
    for step in (1, 3, 16, 48):
        res = encode_graph(resnet8, step, inter=False, skeleton=False)
        for _, t in resnet8.coded_weights():
            assert np.array_equal(res.recon[t.index].astype(np.int64), ratesearch.quantize_intra(t.data, step))


def test_rate_table_and_allocation_trade_bits_for_error(resnet8):
    rates, errors = ratesearch.rate_table(resnet8), ratesearch.weight_error(resnet8)
    for t in rates:  # coarser steps: fewer bytes, more error
        assert rates[t][64] < rates[t][1] and errors[t][64] > errors[t][2] > errors[t][1] == 0
    sens = {t: 1.0 for t in rates}
    bits = [sum(rates[t][s] for t, s in ratesearch.allocate(rates, errors, sens, lam).items())
            for lam in (1e-6, 1e-3, 1.0, 1e3, 1e9)]
    assert bits == sorted(bits) and bits[0] < bits[-1]
    assert all(s == 1 for s in ratesearch.allocate(rates, errors, sens, 1e12).values())


@pytest.fixture(scope="module")
def val_npz(tmp_path_factory):
    """300 held-back training images (the validation split's head) as a user-given npz."""
    from ilwp_embedded.zoo.train import train_val_split

    _, (xv, yv) = train_val_split()
    p = tmp_path_factory.mktemp("val") / "val.npz"
    np.savez(p, x=xv[:300], y=yv[:300])
    return p


def test_budget_search_end_to_end(tmp_path, val_npz):
    out = tmp_path / "r8.ilwp"
    p = run_cli("compress", str(RESNET8_INT8), "--accuracy-budget", "3", "--dataset", f"npz:{val_npz}",
                "--search-iterations", "4", "--golden-check", "40", "-o", str(out), "--json", timeout=1200)
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    s = d["search"]
    assert s["accuracy"] >= s["baseline_accuracy"] - 0.03 + 1e-9  # within the budget it was given
    assert d["bits_per_weight"] < 7.0  # lossless ResNet-8 is 7.38: the budget was spent on bits
    assert len(s["tried"]) == 4 and s["golden_count"] == 40
    assert set(map(int, s["steps"])) == {t.index for _, t in load_graph(RESNET8_INT8).weight_tensors()}
    assert decode_blob(out.read_bytes())  # the file is a valid container


@pytest.mark.parametrize("args,needle", [
    (["--accuracy-budget", "1"], "--dataset"),
    (["--accuracy-budget", "1", "--dataset", "cifar10-raw200"], "validation"),
    (["--accuracy-budget", "-1", "--dataset", "cifar10"], "budget"),
    (["--dataset", "cifar10"], "--accuracy-budget"),
])
def test_search_refuses_bad_arguments(tmp_path, args, needle):
    out = tmp_path / "x.ilwp"
    p = run_cli("compress", str(RESNET8_INT8), "-o", str(out), *args)
    assert_one_line_error(p, needle)
    assert not out.exists()


def test_budget_search_with_quantization_aware_fine_tuning(tmp_path):
    """Each candidate is fine-tuned at its steps; the file holds the fine-tuned weights."""
    out, tfl = tmp_path / "r8q.ilwp", tmp_path / "r8q.tflite"
    p = run_cli("compress", str(RESNET8_INT8), "--accuracy-budget", "20", "--dataset", "cifar10",
                "--finetune-epochs", "1", "--train-limit", "256", "--search-iterations", "2",
                "--golden-check", "20", "-o", str(out), "--emit-tflite", str(tfl), "--json", timeout=1800)
    assert p.returncode == 0, p.stderr[-2000:]
    s = json.loads(p.stdout)["search"]
    assert s["accuracy"] >= s["baseline_accuracy"] - 0.20 + 1e-9
    tuned = load_graph(tfl)
    orig = load_graph(RESNET8_INT8)
    steps = {int(k): v for k, v in s["steps"].items()}
    assert any(v > 1 for v in steps.values())
    bias_moved = 0
    for (op, a), (_, b) in zip(orig.weight_tensors(), tuned.weight_tensors()):
        # every weight on the grid its step's intra decoder rebuilds
        assert np.array_equal(ratesearch.quantize_intra(b.data, steps[a.index]), b.data.astype(np.int64))
        bias_moved += int((orig.tensors[op.inputs[2]].data != tuned.tensors[op.inputs[2]].data).sum())
    assert bias_moved > 0  # the emitted model is the fine-tuned one, not the post-training one
