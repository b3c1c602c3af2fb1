"""The decode-mode planner picks the first weight mode that fits each board, and refuses with figures."""

import pytest
from conftest import RESNET8_INT8, RESNET8_LARGE_INT8, assert_one_line_error, run_cli

from ilwp_embedded.build.boards import resolve_board
from ilwp_embedded.build.firmware import plan_weights
from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest import load_graph


@pytest.fixture(scope="module")
def resnet8():
    g = load_graph(RESNET8_INT8)
    return g, encode_graph(g, 1).container


@pytest.mark.parametrize("board,mode", [("qemu-m4", "once"), ("nucleo-f746zg", "once"),
                                        ("qemu-stm32f4", "layer"), ("nucleo-f401re", "raw")])
def test_auto_picks_the_first_mode_that_fits(resnet8, board, mode):
    g, cont = resnet8
    b = resolve_board(board)
    gen = plan_weights(b, g, cont, "auto")
    assert gen.decode_mode == mode
    assert gen.arena_bytes + gen.weight_ram_bytes < b.ram.size


def test_a_requested_mode_that_does_not_fit_is_refused(resnet8):
    g, cont = resnet8
    with pytest.raises(IlwpError, match="does not fit qemu-stm32f4: once: about"):
        plan_weights(resolve_board("qemu-stm32f4"), g, cont, "once")


def test_a_model_that_fits_no_way_names_every_mode():
    proc = run_cli("build", "--board", "qemu-stm32f4", "--model", RESNET8_LARGE_INT8)
    assert_one_line_error(proc, "does not fit qemu-stm32f4", "once:", "layer:", "raw:")


def test_flash_estimate_counts_each_byte_once(resnet8):
    from ilwp_embedded.generate.codegen import Weights, generate

    g, cont = resnet8
    raw = generate(g, Weights("raw"))
    assert raw.weights_flash_bytes == 77360  # the int8 weights, once
    coded = plan_weights(resolve_board("qemu-m4"), g, cont, "once")
    assert coded.const_flash_bytes == raw.const_flash_bytes  # biases and multipliers: the same either way
    assert coded.weights_flash_bytes < raw.weights_flash_bytes
