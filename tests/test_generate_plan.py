# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The static memory plan: no live buffers overlap, reuse makes the arena far smaller than the sum."""

import numpy as np
import pytest
from conftest import INT8_MODELS

from ilwp_embedded.generate.plan import ALIGN, check_plan, plan_memory
from ilwp_embedded.ingest import load_graph


@pytest.mark.parametrize("path", INT8_MODELS, ids=lambda p: p.name)
def test_plan_is_valid_and_reuses_memory(path):
    g = load_graph(path)
    plan = plan_memory(g)
    check_plan(plan)
    total = sum(b.size for b in plan.buffers.values())
    assert plan.arena_bytes < 0.6 * total
    # Every activation the schedule touches has a placement, aligned, inside the arena.
    for op in g.operators:
        for i in op.inputs + op.outputs:
            if i >= 0 and not g.tensors[i].is_constant:
                off = plan.offset(i)
                assert off % ALIGN == 0
                need = int(np.prod(g.tensors[i].shape)) * np.dtype(g.tensors[i].dtype).itemsize
                assert off + need <= plan.arena_bytes


def test_reshape_aliases_its_input():
    g = load_graph(INT8_MODELS[0])
    plan = plan_memory(g)
    r = next(o for o in g.operators if o.op == "RESHAPE")
    assert plan.offset(r.inputs[0]) == plan.offset(r.outputs[0])


def test_the_inputs_of_a_step_never_share_bytes_with_its_output():
    for path in INT8_MODELS:
        g = load_graph(path)
        plan = plan_memory(g)
        for op in g.operators:
            if op.op == "RESHAPE":
                continue
            out = plan.buffers[plan.alias[op.outputs[0]]]
            for i in op.inputs:
                if i >= 0 and not g.tensors[i].is_constant:
                    b = plan.buffers[plan.alias[i]]
                    assert b.offset + b.size <= out.offset or out.offset + out.size <= b.offset


@pytest.mark.parametrize("path", INT8_MODELS, ids=lambda p: p.name)
def test_planned_arena_is_below_tflite_micro_minimal_arena(path):
    from ilwp_embedded.golden import tflm_minimal_arena

    g = load_graph(path)
    tflm = tflm_minimal_arena(g)
    assert 4096 < tflm < 1 << 20
    assert plan_memory(g).arena_bytes < tflm
