"""Mode decisions are measured: inter wins on correlated layers, intra on the MLPerf models."""

from __future__ import annotations

import numpy as np
import pytest

from codec_support import build_c_decoder, int8_models, load_graph, synthetic_graph
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
