# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Static memory plan: every activation tensor gets an offset in one arena, reused once it is dead.

Lifetimes come from the schedule (operators in graph order). Placement is greedy by size, largest
first, at the lowest offset that overlaps no tensor alive at the same time (the strategy of TFLM's
GreedyMemoryPlanner, so arenas are comparable). RESHAPE, SQUEEZE and EXPAND_DIMS outputs alias their
input: no copy, no bytes. Other buffers with a lifetime in steps (per-layer decoded weights) can
share the arena: `extra`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.ops.registry import REGISTRY

# Ops whose output is their input's bytes (RESHAPE, SQUEEZE, EXPAND_DIMS): one buffer for both.
IN_PLACE_OPS = frozenset(k.name for k in REGISTRY.values() if k.in_place)

ALIGN = 16  # every buffer starts 16-byte aligned (SIMD loads, int32 scratch)


@dataclass(frozen=True)
class Buffer:
    tensor: int  # the tensor that owns the bytes (an alias points at its root)
    offset: int
    size: int
    first: int  # first step it must hold data (-1: the graph input, before step 0)
    last: int  # last step that reads it (len(ops): a graph output, after the last step)


@dataclass(frozen=True)
class MemoryPlan:
    arena_bytes: int
    buffers: dict[int, Buffer]  # root tensor index -> placement
    alias: dict[int, int]  # tensor index -> root tensor index (identity for roots)

    def offset(self, tensor: int) -> int:
        return self.buffers[self.alias[tensor]].offset


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def activation_tensors(graph: Graph) -> list[int]:
    """Every non-constant tensor the schedule reads or writes."""
    seen: list[int] = []
    for i in graph.inputs:
        seen.append(i)
    for op in graph.operators:
        for i in op.inputs + op.outputs:
            if i >= 0 and not graph.tensors[i].is_constant and i not in seen:
                seen.append(i)
    return seen


def plan_memory(graph: Graph, extra: dict[int, tuple[int, int, int]] | None = None) -> MemoryPlan:
    """extra: {key >= 0: (bytes, first step, last step)} placed beside the activations, found in
    `buffers` under the key -1 - key (tensor indices are >= 0)."""
    n_ops = len(graph.operators)
    alias = {i: i for i in activation_tensors(graph)}
    for op in graph.operators:
        if op.op in IN_PLACE_OPS:
            src, dst = op.inputs[0], op.outputs[0]
            alias[dst] = alias[src]
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i in graph.inputs:
        first[alias[i]] = -1
    for step, op in enumerate(graph.operators):
        for i in op.outputs:
            r = alias[i]
            first.setdefault(r, step)
        for i in op.inputs:
            if i >= 0 and i in alias:
                r = alias[i]
                last[r] = max(last.get(r, step), step)
    for i in graph.outputs:
        last[alias[i]] = n_ops
    roots = sorted({alias[i] for i in alias})
    size = {r: _align(int(np.prod(graph.tensors[r].shape)) * np.dtype(graph.tensors[r].dtype).itemsize)
            for r in roots}
    lives = {r: (size[r], first.get(r, -1), last.get(r, first.get(r, -1))) for r in roots}
    lives.update({-1 - k: v for k, v in (extra or {}).items()})
    buffers, total = place(lives)
    return MemoryPlan(arena_bytes=total, buffers=buffers, alias=alias)


def place(lives: dict[int, tuple[int, int, int]]) -> tuple[dict[int, Buffer], int]:
    """Greedy placement of {key: (size, first step, last step)}: largest first, lowest free offset."""
    placed: list[Buffer] = []
    for key in sorted(lives, key=lambda k: (-lives[k][0], lives[k][1], k)):
        size, lo, hi = lives[key]
        size = _align(size)
        busy = sorted((b.offset, b.offset + b.size) for b in placed if not (b.last < lo or hi < b.first))
        off = 0
        for a, b in busy:
            if off + size <= a:
                break
            off = max(off, b)
        placed.append(Buffer(key, off, size, lo, hi))
    return {b.tensor: b for b in placed}, max((b.offset + b.size for b in placed), default=0)


def check_plan(plan: MemoryPlan) -> None:
    """No two buffers alive at the same step share a byte (raises AssertionError)."""
    bs = list(plan.buffers.values())
    for i, a in enumerate(bs):
        for b in bs[i + 1:]:
            if a.last < b.first or b.last < a.first:
                continue
            assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
