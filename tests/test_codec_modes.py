# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Mode decisions are measured: inter wins on correlated layers, intra on the MLPerf models."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import KWS_INT8
from helpers import build_c_decoder, int8_models, load_graph, synthetic_graph
from ilwp_embedded.compress import decode_blob, encode_graph

MODELS = int8_models()


@pytest.mark.parametrize("step", [1, 2])
def test_inter_wins_on_correlated_layers(step, tmp_path):
    g = synthetic_graph()
    res = encode_graph(g, step, skeleton=False)
    intra = encode_graph(g, step, inter=False, skeleton=False)
    modes = [s.mode for s in res.stats]
    assert modes[0] == "intra"
    assert modes[1] == "inter-collocated"  # W2 ~ W1 at other scales
    assert modes[2] == "inter-searched"  # W3 ~ W2 with shuffled channels
    if step > 1:  # lossless, the 144-weight depthwise pair codes 1 B smaller stored (153 B) than predicted
        assert modes[4] == "inter-collocated"  # depthwise pair (channel axis last)
    assert len(res.blob) < 0.9 * len(intra.blob)
    py = decode_blob(res.blob)
    rc, c_out = build_c_decoder(tmp_path).decode_all(res.blob)
    assert rc == len(res.recon)
    for tid, w in c_out:
        assert np.array_equal(w, res.recon[tid].reshape(-1))
        assert np.array_equal(py[tid], w)
    if step == 1:
        for _, t in g.weight_tensors():
            assert np.array_equal(res.recon[t.index], t.data)


def test_uncorrelated_layers_choose_intra():
    g = synthetic_graph(noise=10.0)  # noise dwarfs the weights: nothing to predict from
    res = encode_graph(g, 1, skeleton=False)
    assert all(s.mode == "intra" for s in res.stats)


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_mlperf_models_choose_intra_after_measuring_inter(path):
    g = load_graph(str(path))
    res = encode_graph(g, 1, skeleton=False)
    intra_only = encode_graph(g, 1, inter=False, skeleton=False)
    assert len(res.blob) <= len(intra_only.blob)
    measured = [s for s in res.stats if s.best_inter_bytes is not None]
    assert measured, "no tensor had an inter candidate: the test would prove nothing"
    for s in res.stats:
        assert s.mode == "intra", (s.name, s.mode)
        if s.best_inter_bytes is not None:
            assert s.best_inter_bytes >= s.intra_bytes


def test_channel_alignment_recovers_a_shuffle():
    from ilwp_embedded.compress.predict import align_channels

    rng = np.random.default_rng(3)
    ref = rng.normal(size=(12, 20))
    perm = rng.permutation(12)
    cur = ref[perm] + rng.normal(scale=0.05, size=ref.shape)
    energy = ((cur[:, None, :] - ref[None, :, :]) ** 2).sum(-1)
    got = align_channels(energy)
    assert np.array_equal(got, perm)
    assert sorted(got.tolist()) == list(range(12))  # a permutation even where rows tie


def test_aligned_mode_round_trips(tmp_path):
    """Force the alignment candidate (a permutation map, coded as mode 2) and decode it."""
    from ilwp_embedded.compress import encoder

    g = synthetic_graph()
    orig = encoder._inter_candidates

    def only_aligned(*a, **k):
        for cand in orig(*a, **k):
            if cand[0] == encoder.MODE_ALIGNED:
                yield cand
    encoder._inter_candidates = only_aligned
    try:
        res = encode_graph(g, 1, skeleton=False)
    finally:
        encoder._inter_candidates = orig
    assert res.stats[2].mode == "inter-aligned"
    rc, c_out = build_c_decoder(tmp_path).decode_all(res.blob)
    assert rc == len(res.recon)
    for tid, w in c_out:
        assert np.array_equal(w, g.tensors[tid].data.reshape(-1))


def test_edge_tensors_constant_and_minus_128(tmp_path):
    """A constant tensor (entropy 0: the rANS payload is just its state), full int8 range with
    -128 (lossless must keep it; lossy clamps to -127), and a 1-channel tensor."""
    from helpers import _conv_graph

    rng = np.random.default_rng(5)
    const = np.full((4, 3, 3, 2), 7, np.int8)
    full = rng.integers(-128, 128, size=(8, 3, 3, 2)).astype(np.int8)
    full.flat[0] = -128
    one = rng.integers(-5, 6, size=(1, 18)).astype(np.int8)
    g = _conv_graph([("CONV_2D", const, np.ones(4), 0), ("CONV_2D", full, np.ones(8), 0),
                     ("FULLY_CONNECTED", one, np.ones(1), 0)])
    cdec = build_c_decoder(tmp_path)
    for step in (1, 3):
        res = encode_graph(g, step, skeleton=False)
        rc, c_out = cdec.decode_all(res.blob)
        assert rc == 3
        py = decode_blob(res.blob)
        for tid, w in c_out:
            assert np.array_equal(w, py[tid]) and np.array_equal(w, res.recon[tid].reshape(-1))
        if step == 1:
            for _, t in g.weight_tensors():
                assert np.array_equal(res.recon[t.index], t.data)
        else:
            assert res.recon[g.weight_tensors()[1][1].index].min() >= -127
    assert res.stats[0].entropy_bits == 0


def test_ref_window_limits_references():
    g = synthetic_graph()
    res = encode_graph(g, 1, skeleton=False, ref_window=1)
    recs = res.container.records
    for i, r in enumerate(recs):
        if r.mode:
            assert r.ref_record == i - 1
    assert res.stats[1].mode == "inter-collocated"
    assert all(s.mode == "intra" for s in encode_graph(g, 1, skeleton=False, ref_window=0).stats)


def test_pair_symbols_only_when_asked_and_never_larger():
    """Pair symbols (format v5) cost ~0.8 KB of decoder code and never save bytes, so the default
    (a flash-first build) codes none; asked for (`compress --pairs`, `build --optimize speed`), the
    keyword model at step 48 takes them on most tensors at no more bytes."""
    from ilwp_embedded.compress import encode_graph
    from ilwp_embedded.compress import container as ctn

    g = load_graph(str(KWS_INT8))
    plain, fast = encode_graph(g, 48, skeleton=False), encode_graph(g, 48, skeleton=False, pairs=True)
    assert not any(r.pair_log2 for r in ctn.unpack(plain.blob).records)
    assert sum(1 for r in ctn.unpack(fast.blob).records if r.pair_log2) >= 5
    assert fast.coded_bytes <= plain.coded_bytes
    assert all(np.array_equal(plain.recon[k], fast.recon[k]) for k in plain.recon)  # same weights
