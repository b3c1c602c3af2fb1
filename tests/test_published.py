# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Import of the published CIFAR ResNets, eval --fast, inspect X.ilwp, and the prediction trainer's
parametrisation (no training here beyond nothing: the trainer's start must be the model itself)."""

import json

import numpy as np
import pytest

from conftest import REPO, RESNET8_INT8, assert_one_line_error, data_dir, run_cli

PUB = data_dir() / "models" / "cifar_resnet"
R20_INT8 = REPO / "models" / "cifar_resnet20_int8.tflite"


@pytest.fixture(scope="module")
def tf_ready():
    from ilwp_embedded.tfquiet import import_keras

    import_keras()


def test_resnet20_float_logits_match_the_reference(tf_ready):
    from ilwp_embedded.zoo import published

    m = published.build_keras(published.load_weights(PUB / "resnet20_akamaster.npz"))
    with np.load(data_dir() / "datasets" / "cifar10_lossless" / "test.npz") as z:
        idx = np.random.default_rng(5).choice(len(z["y"]), 300, replace=False)  # all classes
        x = z["x"][idx]
    ref = np.load(PUB / "resnet20_akamaster_test_logits.npy")[idx]
    got = published.float_logits(m, x)
    assert np.abs(got - ref).max() < 1e-3


def _tiny_state_dict(n=1, seed=0):
    rng = np.random.default_rng(seed)
    w = {"conv1.weight": rng.normal(0, 0.3, (16, 3, 3, 3)), "linear.weight": rng.normal(0, 0.3, (10, 64)),
         "linear.bias": np.zeros(10)}

    def bn(k, c):
        w.update({f"{k}.weight": np.ones(c), f"{k}.bias": np.zeros(c), f"{k}.running_mean": np.zeros(c),
                  f"{k}.running_var": np.ones(c)})

    bn("bn1", 16)
    cin = 16
    for s, c in ((1, 16), (2, 32), (3, 64)):
        for i in range(n):
            w[f"layer{s}.{i}.conv1.weight"] = rng.normal(0, 0.1, (c, cin, 3, 3))
            w[f"layer{s}.{i}.conv2.weight"] = rng.normal(0, 0.1, (c, c, 3, 3))
            bn(f"layer{s}.{i}.bn1", c)
            bn(f"layer{s}.{i}.bn2", c)
            cin = c
    return {k: v.astype(np.float32) for k, v in w.items()}


def test_depth_is_read_off_the_arrays(tf_ready, tmp_path):
    from ilwp_embedded.errors import IlwpError
    from ilwp_embedded.zoo import published

    w = _tiny_state_dict(n=2)
    assert published.infer_depth(w) == 14
    m = published.build_keras(w)
    assert m.output.shape[-1] == 10 and m.name.startswith("resnet14")
    # shortcut A pads planes/4 zero channels on both sides
    pads = [l for l in m.layers if type(l).__name__ == "ChannelPadBoth"]
    assert [(p.before, p.after) for p in pads] == [(8, 8), (16, 16)]
    del w["layer2.1.bn2.running_var"]
    with pytest.raises(IlwpError, match="missing"):
        published.infer_depth(w)
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=np.zeros(3))
    assert_one_line_error(run_cli("import-resnet", bad, "-o", tmp_path / "m.keras"), "not a CIFAR ResNet")
    assert_one_line_error(run_cli("import-resnet", tmp_path / "none.npz", "-o", tmp_path / "m.keras"), "not found")


def test_import_cli_writes_an_int8_model_that_runs(tmp_path):
    from ilwp_embedded.train import fasteval
    from ilwp_embedded.datasets import load_dataset
    from ilwp_embedded.golden import prepare_inputs
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.ops.support import require_firmware_ops, require_int8

    w = _tiny_state_dict(n=1)
    src = tmp_path / "r8.npz"
    np.savez(src, **w)
    out = tmp_path / "r8_int8.tflite"
    p = run_cli("import-resnet", src, "-o", tmp_path / "r8.keras", "--int8", out, "--samples", "20", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    info = json.loads(p.stdout)
    assert info["depth"] == 8 and out.is_file()
    g = load_graph(out)
    require_int8(g, "imported")
    require_firmware_ops(g, "imported")
    inp = g.tensors[g.inputs[0]]
    assert inp.quant.zero_point[0] == -128 and abs(inp.quant.scale[0] - 1 / 255) < 1e-9
    ds = load_dataset("cifar10-raw200").take(8)
    assert fasteval.run_batched(g, prepare_inputs(ds, inp)).shape == (8, 10)


def test_eval_fast_and_inspect_ilwp_json(tmp_path):
    p = run_cli("eval", R20_INT8, "--dataset", "cifar10-raw200", "--limit", "100", "--fast", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    assert r["interpreter"] == "litert" and r["count"] == 100 and r["accuracy"] > 0.85
    blob = tmp_path / "r8.ilwp"
    c = run_cli("compress", RESNET8_INT8, "-o", blob, "--step", "4", "--json")
    assert c.returncode == 0, c.stderr[-2000:]
    i = run_cli("inspect", blob, "--json")
    assert i.returncode == 0, i.stderr[-2000:]
    cj, ij = json.loads(c.stdout), json.loads(i.stdout)
    for k in ("weights", "coded_bytes", "bits_per_weight", "skeleton_bytes", "file_bytes", "lossy",
              "entropy_bound_bits", "total_bytes", "bias_bytes", "requant_bytes", "tensors"):
        assert cj[k] == ij[k], k
    assert_one_line_error(run_cli("inspect", tmp_path / "missing.ilwp"), "not found")


def test_fitted_multipliers_find_a_scaled_reference():
    from ilwp_embedded.compress.encoder import fitted_multipliers
    from ilwp_embedded.compress.predict import scale_kernel

    rng = np.random.default_rng(0)
    R = np.clip(np.round(rng.laplace(0, 20, (32, 144))), -127, 127).astype(np.int64)
    M = rng.integers(1000, 9000, size=32)
    W = scale_kernel(R, M[:, None])
    got, cost = fitted_multipliers(W, R, 1)
    assert np.array_equal(scale_kernel(R, got[:, None]), W)  # the prediction is exact
    assert np.all(cost == 0)


def test_tied_model_starts_as_the_model_and_pairs_follow_the_rule(tf_ready):
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.zoo.predtrain import TiedGraphModel, prediction_pairs

    g = load_graph(R20_INT8)
    chain, role = prediction_pairs(g, "chain"), prediction_pairs(g, "role")
    assert len(chain) == 13 and sum(g.tensors[t].data.size for t in chain) == 195840
    assert len(role) == 10 and set(role) <= set(chain)
    back = TiedGraphModel(g, chain).to_graph()
    for (_, a), (_, b) in zip(g.weight_tensors(), back.weight_tensors()):
        assert np.array_equal(a.data, b.data)


def test_compress_steps_json_codes_per_tensor_steps(tmp_path):
    from ilwp_embedded.ingest import load_graph

    g = load_graph(RESNET8_INT8)
    ids = [t.index for _, t in g.coded_weights()]
    sj = tmp_path / "s.json"
    sj.write_text(json.dumps({str(ids[0]): 8, str(ids[1]): 4}))
    p = run_cli("compress", RESNET8_INT8, "-o", tmp_path / "m.ilwp", "--steps-json", sj, "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    steps = {t["tensor"]: t["step"] for t in json.loads(p.stdout)["tensors"]}
    assert steps[ids[0]] == 8 and steps[ids[1]] == 4 and steps[ids[2]] == 1
    sj.write_text(json.dumps({"99999": 4}))
    assert_one_line_error(run_cli("compress", RESNET8_INT8, "-o", tmp_path / "m.ilwp", "--steps-json", sj),
                          "not a coded weight tensor")


@pytest.mark.parametrize("depth", [20, 32, 56])
def test_committed_ilwp_results_decode_to_their_int8_model(depth):
    """The committed rate-accuracy results (`models/cifar_resnetN.ilwp`) are read by this decoder
    (a blob-format change must re-encode them) and decode to the int8 model's graph."""
    from ilwp_embedded.compress import decompress_to_tflite
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.ingest.tflite_io import read_tflite

    blob = (REPO / "models" / f"cifar_resnet{depth}.ilwp").read_bytes()
    got = read_tflite(decompress_to_tflite(blob, f"cifar_resnet{depth}.ilwp"), "decoded")
    ref = load_graph(str(REPO / "models" / f"cifar_resnet{depth}_int8.tflite"))
    shapes = lambda g: [(t.name, t.data.shape) for _, t in g.coded_weights()]  # noqa: E731
    assert shapes(got) == shapes(ref)
    # trained and lossy-coded: the weights differ from the int8 model's, but not everywhere
    same = sum(int((a.data == b.data).sum()) for (_, a), (_, b) in zip(got.coded_weights(), ref.coded_weights()))
    assert 0 < same < sum(t.data.size for _, t in ref.coded_weights())
