# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Quantization methods (tq, dqc, slq, mlq) on real models: each method's defining property, the
rate moving the right way with its setting, the container decoding exactly the method's weights,
and the CLI's refusals."""

import json

import numpy as np
import pytest
from conftest import REPO, RESNET8_INT8, assert_one_line_error, run_cli

from ilwp_embedded.compress import decode_blob
from ilwp_embedded.train.methods import Options, compress, dqc, slq, tq
from ilwp_embedded.train.methods.codebook import kmeans_1d
from ilwp_embedded.train.methods.common import weight_tensors
from ilwp_embedded.ingest import load_graph

RESNET20 = REPO / "models" / "cifar_resnet20_int8.tflite"


@pytest.fixture(scope="module")
def r8():
    return load_graph(RESNET8_INT8)


@pytest.fixture(scope="module")
def r20():
    return load_graph(RESNET20)


def values(graph):
    return {wt.index: np.unique(wt.tensor.data) for wt in weight_tensors(graph)}


def assert_container_exact(res):
    """The blob decodes to exactly the method's int8 weights (the container adds no loss)."""
    dec = decode_blob(res.encoded.blob)
    for wt in weight_tensors(res.quantized.graph):
        assert np.array_equal(dec[wt.index], wt.tensor.data.reshape(-1)), wt.tensor.name


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_dqc_leaves_at_most_2_to_bits_values_with_zero(r8, bits):
    res = compress(r8, "dqc", Options(bits=bits))
    for i, v in values(res.graph).items():
        assert len(v) <= 2 ** bits
    assert_container_exact(res)
    # the zero entry exists and is exact: every original zero weight stays zero
    for wt in weight_tensors(r8):
        z = wt.tensor.data == 0
        assert np.all(res.graph.tensors[wt.index].data[z] == 0)


def test_dqc_rate_and_error_move_with_bits(r20):
    rates, errs = [], []
    for bits in (2, 3, 4, 5):
        res = compress(r20, "dqc", Options(bits=bits))
        rates.append(res.bits_per_weight)
        errs.append(sum(float(((wt.tensor.data.astype(float) - res.graph.tensors[wt.index].data) ** 2).sum())
                        for wt in weight_tensors(r20)))
    assert all(a < b for a, b in zip(rates, rates[1:])), rates
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    # entropy-coded indices plus the table cost no more than the fixed-length index (+2% tables)
    assert all(r <= b * 1.02 for r, b in zip(rates, (2, 3, 4, 5))), rates


def test_kmeans_codebook_is_lloyd_optimal_and_pins_zero():
    rng = np.random.default_rng(0)
    w = np.clip(np.rint(rng.laplace(0, 20, 5000)), -127, 127)
    for zero in (True, False):
        cb = kmeans_1d(w, 8, zero)
        assert len(cb) == 8
        idx = np.abs(w[:, None] - cb[None, :]).argmin(1)
        for j, c in enumerate(cb):  # every free centroid is the mean of its cell
            if not (zero and c == 0):
                assert abs(c - w[idx == j].mean()) < 1e-6
    assert 0.0 in kmeans_1d(w, 8, True)


def test_dqc_without_zero_differs_and_refuses_bad_bits(r8):
    a = compress(r8, "dqc", Options(bits=3, zero=True)).graph
    b = compress(r8, "dqc", Options(bits=3, zero=False)).graph
    assert any(not np.array_equal(a.tensors[w.index].data, b.tensors[w.index].data) for w in weight_tensors(r8))
    with pytest.raises(Exception, match="1..7"):
        dqc.check(Options(bits=9))


def test_mlq_is_ternary_with_least_squares_level(r8):
    res = compress(r8, "mlq", Options())
    for wt in weight_tensors(r8):
        v = np.unique(res.graph.tensors[wt.index].data)
        a = int(v.max())
        assert set(v.tolist()) <= {-a, 0, a} and a > 0
        w = wt.tensor.data.astype(np.int64)

        def err(level):
            q = np.where(np.abs(w) > level / 2, np.sign(w) * level, 0)
            return float(((w - q) ** 2).sum())

        # the level is the least-squares one (checked against every other level)
        assert err(slq.ternary_level(w)) <= min(err(x) for x in range(1, 128))
    assert_container_exact(res)
    assert res.bits_per_weight < np.log2(3)  # entropy-coded ternary: under 1.585 bits, tables included


def test_slq_freezes_incrementally_lowest_loss_first():
    rng = np.random.default_rng(1)
    w = rng.normal(0, 30, 1000)
    cb = np.array([-60.0, -20.0, 0.0, 20.0, 60.0])
    frozen = np.zeros(1000, bool)
    seen = []
    for target in slq.fractions(4):
        new = slq.freeze_more(w, cb, frozen, target, by_cluster=False)
        assert np.all(new[frozen]) and new.mean() >= target - 1e-9
        loss = (w - cb[np.abs(w[:, None] - cb).argmin(1)]) ** 2
        added = new & ~frozen
        if target < 1:  # what got frozen has no more loss than what stays free
            assert loss[added].max() <= loss[~new].min() + 1e-12
        seen.append(new.mean())
        frozen = new
    assert seen[-1] == 1.0 and slq.fractions(4) == [0.5, 0.75, 0.875, 1.0]


def test_slq_post_training_compensation_keeps_channel_sums(r8):
    wt = weight_tensors(r8)[1]
    w = wt.tensor.data.astype(np.float64)
    cb = slq.codebook("slq", w, Options(bits=3))
    q = cb[np.abs(w.reshape(-1)[:, None] - cb).argmin(1)].reshape(w.shape)
    mask = slq.freeze_more(w, cb, np.zeros(w.shape, bool), 0.5, by_cluster=True)
    after = np.where(mask, q, slq.compensate(wt, w, q, mask, mask))
    assert np.allclose(slq._fmatrix(wt, after).sum(axis=1), slq._fmatrix(wt, w).sum(axis=1))
    assert not np.allclose(after, np.where(mask, q, w))  # the free weights did move


def test_slq_at_most_2_to_bits_values(r8):
    res = compress(r8, "slq", Options(bits=3))
    assert max(len(v) for v in values(res.graph).values()) <= 8
    assert_container_exact(res)


def test_tq_water_filling_allocation():
    lam = np.array([100.0, 25.0, 4.0, 1.0, 0.25])
    theta = 1.0
    b = tq.water_bits(lam, theta)
    # components under the water level get no bits; the others 1/2 log2(lambda/theta)
    assert np.allclose(b, [0.5 * np.log2(100), 0.5 * np.log2(25), 1.0, 0.0, 0.0])
    # every coded component ends at the same distortion theta (Gaussian D(R) = lambda 2^-2R)
    d = lam * 2.0 ** (-2 * b)
    assert np.allclose(np.where(lam > theta, d, lam), np.minimum(lam, theta))


def test_tq_klt_decorrelates_and_meets_target_rate(r20):
    wt = weight_tensors(r20)[5]
    k = tq.klt(wt, "in")
    assert np.allclose(k.basis.T @ k.basis, np.eye(k.n), atol=1e-9)
    y = k.vectors(wt.tensor.data) @ k.basis
    cov = y.T @ y / len(y)
    assert np.allclose(cov, np.diag(k.variances), atol=1e-6 * k.variances.max())
    assert np.all(np.diff(k.variances) <= 1e-9)
    klts, theta = tq.plan(r20, Options(bits=1.5))
    modelled = sum(tq.model_cost(kk, theta)[0] for kk in klts) / sum(kk.wt.tensor.data.size for kk in klts)
    assert abs(modelled - 1.5) < 0.01


def test_tq_rate_falls_with_bits_and_host_decode_is_the_device_arithmetic(r20):
    prev = prev_container = None
    for bits in (3, 2, 1, 0.5):
        res = compress(r20, "tq", Options(bits=bits))
        ds = res.quantized.device_stream
        if prev is not None:
            assert ds["bits_per_weight"] < prev["bits_per_weight"]
            assert res.bits_per_weight < prev_container
        prev, prev_container = ds, res.bits_per_weight
        assert_container_exact(res)
    klts, theta = tq.plan(r20, Options(bits=1))
    c = tq.code_tensor(klts[3], theta)
    # reconstruct() = sum_j q_j * basis_q[j] in int64, rounded shift: recompute in plain loops
    acc = np.zeros((c.q.shape[0], c.klt.n), np.int64)
    for j in range(c.q.shape[1]):
        acc += c.q[:, j:j + 1].astype(np.int64) * c.basis_q[j].astype(np.int64)[None, :]
    w = np.clip((acc + (1 << (c.shift - 1))) >> c.shift, -127, 127)
    assert np.array_equal(c.klt.unvectors(w).astype(np.int8), c.reconstruct())
    assert np.abs(c.q).max() <= 2 ** (tq.MAX_DEPTH - 1) and np.abs(c.basis_q).max() <= 32767


def test_cli_json_reports_method_and_bits(tmp_path):
    out = tmp_path / "m.ilwp"
    p = run_cli("compress", RESNET8_INT8, "--method", "tq", "--bits", "1", "-o", out, "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["method"] == "tq" and r["coded_bytes"] * 8 / r["weights"] == pytest.approx(r["bits_per_weight"])
    assert r["device_stream"]["bits_per_weight"] < r["bits_per_weight"]
    assert out.stat().st_size == r["file_bytes"]


@pytest.mark.parametrize("args,needle", [
    (["--method", "dqc", "--epochs", "1"], "--dataset cifar10"),
    (["--method", "mlq", "--bits", "3"], "does not apply"),
    (["--method", "dqc", "--step", "3"], "--step is for --method ilwp"),
    (["--method", "dqc", "--bits", "9"], "1..7"),
    (["--method", "tq", "--axis", "diagonal"], "--axis"),
    (["--method", "slq", "--epochs", "1", "--dataset", "mnist-test"], "cifar10"),
    (["--method", "dqc", "--bits", "3.5"], "whole number"),
    (["--bits", "3"], "need --method"),
    (["--method", "slq", "--stages", "11"], "--stages"),
])
def test_cli_refuses_bad_settings(tmp_path, args, needle):
    out = tmp_path / "x.ilwp"
    assert_one_line_error(run_cli("compress", RESNET8_INT8, "-o", out, *args), needle)
    assert not out.exists()


def test_dqc_retraining_trains_the_codebook_and_keeps_its_size(r8):
    """Quantizer-in-the-loop fine-tuning (zoo/graph_train.py) on a few training images: the
    codebook entries move (straight-through gradients reach them), the pinned zero does not, and
    each tensor still holds at most 2^bits values."""
    from ilwp_embedded.train.methods.retrain import codebook_quantizer
    from ilwp_embedded.zoo.graph_train import qat_finetune

    wts = weight_tensors(r8)
    books = dqc.codebooks(r8, 3, True)
    quantizers = {i: codebook_quantizer(cb, True) for i, cb in books.items()}
    before = {i: q.codebook.numpy().copy() for i, q in quantizers.items()}
    g, val = qat_finetune(r8, quantizers, epochs=1, lr=1e-2, batch=32, train_limit=96, log=lambda s: None)
    assert 0.0 <= val <= 1.0
    moved = 0
    for wt in wts:
        q = quantizers[wt.index]
        after = q.codebook.numpy()
        zero = books[wt.index] == 0
        assert np.all(after[zero] == 0)
        moved += int(np.any(np.abs(after - before[wt.index]) > 1e-6))
        assert len(np.unique(g.tensors[wt.index].data)) <= 8
    assert moved == len(wts)
