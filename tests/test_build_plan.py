# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The decode-mode planner costs every weight mode on each board, picks what the goal (--optimize
flash|ram|speed) prefers among those that fit, and refuses with figures."""

from pathlib import Path

import pytest
from conftest import RESNET8_INT8, RESNET8_LARGE_INT8, assert_one_line_error, run_cli

from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.generate.decode_plan import plan_weights
from ilwp_embedded.target.firmware import budget
from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest import load_graph


@pytest.fixture(scope="module")
def resnet8():
    g = load_graph(RESNET8_INT8)
    return g, encode_graph(g, 1).container


# ResNet-8 (77 KB of weights, 49 KB arena): decoded once where they fit (320 KB, 4 MB), per layer into
# the idle arena on 128 KB and 96 KB boards
@pytest.mark.parametrize("board,mode", [("qemu-m4", "once"), ("nucleo-f746zg", "once"),
                                        ("qemu-stm32f4", "layer"), ("nucleo-f401re", "layer")])
def test_auto_picks_the_first_mode_that_fits(resnet8, board, mode):
    g, cont = resnet8
    b = resolve_board(board)
    gen = plan_weights(budget(b), g, cont, "auto")
    assert gen.decode_mode == mode
    assert gen.arena_bytes + gen.weight_ram_bytes < b.ram.size


@pytest.mark.parametrize("board", ["nucleo-f746zg", "qemu-stm32f4", "nucleo-f401re"])
def test_each_goal_picks_its_best_fitting_mode_and_reports_every_mode(resnet8, kws, board):
    from ilwp_embedded.generate.decode_plan import CODED_MIN_SAVING, GOALS, plan_weights_explained

    for g, cont in (resnet8, kws):
        plans = {goal: plan_weights_explained(budget(resolve_board(board)), g, cont, "auto", goal=goal)
                 for goal in GOALS}
        costs = {c.mode: c for c in plans["flash"].costs}
        assert set(costs) == {"once", "layer", "raw"}
        fit = [c for c in costs.values() if c.misfit is None]
        chosen = {goal: costs[p.gen.decode_mode] for goal, p in plans.items()}
        assert all(c.misfit is None for c in chosen.values())
        assert chosen["ram"].ram == min(c.ram for c in fit)
        assert chosen["speed"].decode_per_inference == min(c.decode_per_inference for c in fit)
        assert chosen["flash"].flash < min(c.flash for c in fit) + CODED_MIN_SAVING
        assert costs["raw"].decode_per_inference == costs["once"].decode_per_inference == 0
        assert costs["layer"].decode_per_inference == costs["once"].decode_at_boot > 0
        for p in plans.values():
            assert p.costs == plans["flash"].costs and p.reason
    # ResNet-8 on the 320 KB F746: flash decodes at boot, ram keeps raw int8 weights (no decoder, no
    # decoded copy); on the 128 KB F405 decoding at boot does not fit: speed keeps them raw
    if board == "nucleo-f746zg":
        assert [plan_weights(budget(resolve_board(board)), *resnet8, "auto", goal=goal).decode_mode
                for goal in GOALS] == ["once", "raw", "once"]
    if board == "qemu-stm32f4":
        assert [plan_weights(budget(resolve_board(board)), *resnet8, "auto", goal=goal).decode_mode
                for goal in GOALS] == ["layer", "raw", "raw"]


def test_per_layer_weights_and_decoder_tables_share_the_idle_arena(resnet8):
    """Per-layer decoding needs less RAM than the arena, the largest layer's weights and the decoder's
    slot table side by side: ResNet-8's late 9 KB-37 KB layers meet small activations."""
    from ilwp_embedded.generate.codegen import WORK_STRUCT_BYTES, Weights, generate
    from ilwp_embedded.generate.weights import coded_weights

    g, cont = resnet8
    raw = generate(g, Weights("raw"))
    layer = generate(g, coded_weights(cont, "layer"))
    assert layer.weights_in_arena and layer.weight_ram_bytes == 0 and layer.decoder_ram_bytes == WORK_STRUCT_BYTES
    largest = max(t.nbytes for _, t in g.weight_tensors())
    assert raw.arena_bytes < layer.arena_bytes < raw.arena_bytes + largest + coded_weights(cont, "layer").slot_bytes
    assert "ilwp_work_tables.slot = (uint32_t *)(void *)(ilwp_arena + " in layer.files["ilwp_model.c"]


def test_decoder_tables_are_counted_and_borrow_the_arena_at_boot(resnet8):
    """The slot table (2^P uint32_t, P = the blob's largest table precision) needs RAM of its own only
    when decoding runs between layers; decode-once lends it the idle arena."""
    from ilwp_embedded.compress.freqtable import read_table
    from ilwp_embedded.generate.codegen import WORK_STRUCT_BYTES, generate
    from ilwp_embedded.generate.weights import coded_weights

    g, cont = resnet8
    p = max(read_table(r.table).precision for r in cont.records if r.table)  # stored records have none
    once, layer = (generate(g, coded_weights(cont, m)) for m in ("once", "layer"))
    assert once.table_log2 == layer.table_log2 == p
    assert layer.decoder_ram_bytes == WORK_STRUCT_BYTES  # the slot table lies in idle arena bytes
    assert once.decoder_ram_bytes == WORK_STRUCT_BYTES + max(0, (4 << p) - once.arena_bytes)
    assert f"uint32_t slot[{1 << p}]" in once.files["ilwp_model.c"]  # the union with the arena
    assert "ilwp_slot[" not in layer.files["ilwp_model.c"]


def test_a_requested_mode_that_does_not_fit_is_refused(resnet8):
    g, cont = resnet8
    with pytest.raises(IlwpError, match="does not fit qemu-stm32f4: once: about"):
        plan_weights(budget(resolve_board("qemu-stm32f4")), g, cont, "once")


def test_a_model_that_fits_no_way_names_every_mode():
    proc = run_cli("build", "--board", "qemu-stm32f4", "--model", RESNET8_LARGE_INT8)
    assert_one_line_error(proc, "does not fit qemu-stm32f4", "once:", "layer:", "raw:")


def test_flash_estimate_counts_each_byte_once(resnet8):
    from ilwp_embedded.generate.codegen import Weights, generate

    g, cont = resnet8
    raw = generate(g, Weights("raw"))
    assert raw.weights_flash_bytes == 77360  # the int8 weights, once
    coded = plan_weights(budget(resolve_board("qemu-m4")), g, cont, "once")
    assert coded.const_flash_bytes == raw.const_flash_bytes  # biases and multipliers: the same either way
    assert coded.weights_flash_bytes < raw.weights_flash_bytes


@pytest.fixture(scope="module")
def kws():
    from conftest import KWS_INT8
    g = load_graph(KWS_INT8)
    return g, encode_graph(g, 1).container


def test_auto_keeps_raw_weights_when_coding_does_not_save_flash(kws):
    """KWS: the blob saves 1.9 KB over the int8 weights, less than the decoder costs."""
    from ilwp_embedded.generate.decode_plan import plan_weights_explained

    g, cont = kws
    plan = plan_weights_explained(budget(resolve_board("qemu-m4")), g, cont, "auto")
    assert plan.gen.decode_mode == "raw"
    assert "would not make the firmware smaller" in plan.reason and "raw int8 weights 46048 B" in plan.reason
    assert plan_weights_explained(budget(resolve_board("qemu-m4")), g, cont, "once").gen.decode_mode == "once"  # asked for


@pytest.mark.slow
@pytest.mark.parametrize("model", ["kws", "resnet8"])
def test_auto_never_costs_more_flash_than_raw(model, kws, resnet8, tmp_path):
    """Real builds on qemu-m4: the mode `auto` picks takes no more flash than raw int8 weights, and the
    planner's flash estimate of each coded mode is within 128 B of what the linker made of it."""
    from helpers import core_dir

    from ilwp_embedded.generate.decode_plan import CODED_MIN_SAVING, coded_flash_estimate, raw_flash
    from ilwp_embedded import pipeline
    from ilwp_embedded.generate.codegen import generate
    from ilwp_embedded.generate.weights import coded_weights

    g, cont = kws if model == "kws" else resnet8
    board = resolve_board("qemu-m4")
    core_dir()  # the offline PlatformIO core, prepared once
    from conftest import KWS_INT8

    coded = pipeline.Model(Path(KWS_INT8 if model == "kws" else RESNET8_INT8), g, cont)  # as pipeline.load makes it
    fw = {m: pipeline.build(board, coded, tmp_path / m, decode=m) for m in ("auto", "raw", "once", "layer")}
    assert fw["auto"].flash_bytes <= fw["raw"].flash_bytes
    assert fw["auto"].optimize == "flash" and [m["mode"] for m in fw["auto"].modes] == ["once", "layer", "raw"]
    for m in ("once", "layer"):
        estimate = coded_flash_estimate(generate(g, coded_weights(cont, m)), len(cont.records)) - raw_flash(g)
        assert abs(estimate - (fw[m].flash_bytes - fw["raw"].flash_bytes)) <= 128, (m, estimate)
    if model == "kws":  # coded weights would cost more flash: raw, and the build says why
        assert fw["auto"].decode_mode == "raw" and fw["once"].flash_bytes > fw["raw"].flash_bytes
        assert "would not make the firmware smaller" in fw["auto"].decode_reason
    else:
        assert fw["auto"].decode_mode == "once"
        assert fw["raw"].flash_bytes - fw["auto"].flash_bytes >= CODED_MIN_SAVING
        assert "saves ~" in fw["auto"].decode_reason
