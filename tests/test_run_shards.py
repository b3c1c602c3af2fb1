# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Sharded validation (run/shards.py): the plan, the merge and its refusals, and two QEMU shards
merged against one run of the same images (ResNet-8, real CIFAR-10)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from helpers import assert_same_run, cifar, firmware, needs_qemu, needs_toolchain, resnet8, resnet8_single_run
from conftest import RESNET8_INT8, run_cli

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.run.golden_cache import dataset_digest, golden_outputs
from ilwp_embedded.run.shards import Provenance, Shard, ShardResult, merge, plan, run_in_turn, run_shard
from ilwp_embedded.run.validate import SampleRecord, result_from_records
from ilwp_embedded.target.boards import resolve_board

PROV = Provenance(node="here", place="p", serial="s")


def _part(index: int, start: int, stop: int, board="qemu-m4", model="m1", mode="once", unit="instructions",
          exact=True) -> ShardResult:
    recs = [SampleRecord(index=i, label=i % 10, device_class=i % 10 if i % 3 else 0, host_class=i % 10,
                         bit_exact=exact, elapsed=1000 + 7 * i, decode_ticks=5, max_abs_diff=0)
            for i in range(start, stop)]
    r = result_from_records(recs, board=board, model_hash=model, decode_mode=mode, timer_unit=unit,
                            clock_hz=25_000_000, seconds=1.0, link={"bytes_sent": 10 * (stop - start),
                                                                     "retries": 1, "inputs_via": "semihosting"})
    return ShardResult(Shard(index, start, stop), PROV, r, "", 1.0)


def test_plan_covers_every_sample_once_in_contiguous_even_shards():
    assert [(s.start, s.stop) for s in plan(10, 3)] == [(0, 4), (4, 7), (7, 10)]
    assert [len(s) for s in plan(3, 8)] == [1, 1, 1]  # never an empty shard
    for n, k in ((1, 1), (200, 4), (199, 7)):
        shards = plan(n, k)
        assert shards[0].start == 0 and shards[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(shards, shards[1:]))
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
    for n, k in ((0, 2), (5, 0)):
        with pytest.raises(IlwpError):
            plan(n, k)


def test_merge_recomputes_the_verdict_accuracy_and_percentiles_over_the_union():
    whole = _part(0, 0, 30).result
    merged = merge([_part(1, 12, 30), _part(0, 0, 12)], total=30)  # any order
    assert [r.index for r in merged.records] == list(range(30))
    for f in ("count", "bit_exact", "mismatches", "accuracy_device", "accuracy_host", "latency", "decode_ticks_median"):
        assert getattr(merged, f) == getattr(whole, f), f
    assert merged.link == {"bytes_sent": 300, "retries": 2, "inputs_via": "semihosting"}
    assert merged.passed and merged.missing == 0
    assert [(s["shard"], s["node"], s["place"], s["serial"]) for s in merged.shards] == [(0, "here", "p", "s"),
                                                                                      (1, "here", "p", "s")]
    one_bad = merge([_part(0, 0, 12), _part(1, 12, 30, exact=False)], total=30)
    assert not one_bad.bit_exact and one_bad.mismatches == 18 and not one_bad.passed


@pytest.mark.parametrize("parts, needle", [
    ([_part(0, 0, 10), _part(1, 10, 20, board="nucleo-f746zg")], "different boards"),
    ([_part(0, 0, 10), _part(1, 10, 20, model="m2")], "different models"),
    ([_part(0, 0, 10), _part(1, 10, 20, mode="layer")], "different decode modes"),
    ([_part(0, 0, 10), _part(1, 10, 20, unit="cycles")], "different timer units"),
    ([_part(0, 0, 10), _part(1, 8, 20)], "overlap"),
    ([_part(0, 0, 10), _part(1, 12, 20)], "gap: samples [10, 12)"),
    ([_part(0, 2, 10)], "gap: samples [0, 2)"),
    ([_part(0, 0, 10), _part(1, 10, 20)], "gap: samples [20, 25)"),  # total=25 below
    ([dataclasses.replace(_part(0, 0, 10), shard=Shard(0, 0, 12))], "not its samples"),
    ([ShardResult(Shard(0, 0, 10), PROV, None, "QEMU exited")], "every shard failed"),
    ([], "no shards"),
])
def test_merge_refuses_with_one_line(parts, needle):
    with pytest.raises(IlwpError) as e:
        merge(parts, total=25 if "[20, 25)" in needle else None)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_a_failed_shard_makes_the_run_incomplete_not_shorter():
    failed = ShardResult(Shard(1, 10, 20), Provenance("n2", "place-b", "SN2"), None, "the firmware stopped", 0.5)
    merged = merge([_part(0, 0, 10), failed, _part(2, 20, 30)], total=30)
    assert merged.count == 20 and merged.missing == 10 and merged.bit_exact and not merged.passed
    assert merged.shards[1]["error"] == "the firmware stopped" and merged.shards[1]["serial"] == "SN2"
    assert "INCOMPLETE: 10 samples missing, 1 of 3 shards failed" in merged.one_line()


def test_golden_cache_is_keyed_by_model_and_inputs(tmp_path):
    g, gen = resnet8()
    xs, _ = cifar(4)
    a = golden_outputs(g, xs, gen.model_hash, tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name == f"{gen.model_hash}-{dataset_digest(xs)}.npy"
    assert np.array_equal(golden_outputs(g, xs, gen.model_hash, tmp_path), a)  # read back
    assert dataset_digest(xs[:3]) != dataset_digest(xs) and dataset_digest(xs[::-1]) != dataset_digest(xs)
    golden_outputs(g, xs[:3], gen.model_hash, tmp_path)
    assert len(list(tmp_path.iterdir())) == 2


@needs_toolchain
@needs_qemu
def test_two_qemu_shards_merged_equal_one_run(tmp_path):
    g, gen = resnet8()
    xs, ys = cifar(12)
    board, elf, single = resolve_board("qemu-m4"), firmware("qemu-m4").elf, resnet8_single_run(12)
    want = golden_outputs(g, xs, gen.model_hash, tmp_path)
    merged = run_in_turn(board, g, xs, ys, 2, elf=elf, want=want)
    assert single.passed and merged.passed and [(s["start"], s["stop"]) for s in merged.shards] == [(0, 6), (6, 12)]
    assert_same_run(single, merged)
    assert merged.link["bytes_received"] > single.link["bytes_received"]  # two boots, two HELLOs: summed
    # a shard whose board is gone: reported, and the run incomplete
    bad = run_shard(Shard(1, 6, 12), board, g, xs, ys, provenance=PROV, elf=tmp_path / "missing.elf")
    ok = run_shard(Shard(0, 0, 6), board, g, xs, ys, provenance=PROV, elf=elf, want=want)
    m = merge([ok, bad], total=12)
    assert m.missing == 6 and not m.passed and "firmware not found" in m.shards[1]["error"]


@needs_toolchain
@needs_qemu
def test_validate_shards_cli_reports_every_shard(tmp_path):
    out = tmp_path / "r.html"
    p = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                "--limit", "6", "--shards", "2", "--json", "--html", out, "--build-dir", tmp_path / "b",
                env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert d["count"] == 6 and d["bit_exact"] and d["missing"] == 0
    assert [(s["start"], s["stop"], s["place"], s["error"]) for s in d["shards"]] == [
        (0, 3, "qemu:qemu-m4", ""), (3, 6, "qemu:qemu-m4", "")]
    html = out.read_text()
    assert "shard 0 [0, 3)" in html and "shard 1 [3, 6)" in html
    assert len(list((tmp_path / "cache" / "ilwp-embed" / "golden").glob("*.npy"))) == 1
