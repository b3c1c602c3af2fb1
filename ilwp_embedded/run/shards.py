# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Sharded validation, whatever runs the shards (in turn here, Ray tasks, labgrid places).

    shards = plan(len(xs), k)                  # k contiguous slices, global indices
    part = run_shard(shard, board, graph, xs, labels, elf=..., provenance=Provenance(...))
    result = merge(parts, total=len(xs))       # one ValidationResult over the union
    result = run_on_ports([(url, provenance), ...], board, graph, xs, labels)   # one shard per board, at once

A shard's records keep their global indices.  `merge` refuses shards of different boards, models,
decode modes or timer units, and shards that overlap or leave a gap; the verdict, the accuracies
and the latency percentiles are computed again over the union, the link counters summed.  A failed
shard stays in the result (its error, its provenance): the run is incomplete (`missing` > 0), never
shortened to the shards that worked.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from dataclasses import dataclass

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.run.validate import ValidationResult, result_from_records, validate_model


@dataclass(frozen=True)
class Shard:
    index: int
    start: int  # global index of the first sample
    stop: int  # one past the last

    def __len__(self) -> int:
        return self.stop - self.start

    def describe(self) -> str:
        return f"shard {self.index} [{self.start}, {self.stop})"


@dataclass(frozen=True)
class Provenance:
    """Where a shard ran: the host, the board (a labgrid place or a QEMU machine), its serial number."""

    node: str
    place: str = ""
    serial: str = ""


@dataclass
class ShardResult:
    shard: Shard
    provenance: Provenance
    result: ValidationResult | None  # None: the shard failed
    error: str = ""
    seconds: float = 0.0


def plan(n: int, k: int) -> list[Shard]:
    """`n` samples in `k` contiguous shards as even as can be (the first n % k one larger)."""
    if n <= 0:
        raise IlwpError("nothing to validate: the dataset is empty")
    if k <= 0:
        raise IlwpError(f"--shards must be positive, got {k}")
    k = min(k, n)
    size, extra = divmod(n, k)
    out, start = [], 0
    for i in range(k):
        stop = start + size + (i < extra)
        out.append(Shard(i, start, stop))
        start = stop
    return out


def local_provenance(place: str = "", serial: str = "") -> Provenance:
    return Provenance(node=socket.gethostname(), place=place, serial=serial)


def run_shard(shard: Shard, board, graph: Graph, xs: np.ndarray, labels: np.ndarray, *,
              provenance: Provenance, elf=None, port: str | None = None, want: np.ndarray | None = None,
              **kw) -> ShardResult:
    """Validate samples [start, stop) of `xs` (QEMU running `elf`, or a flashed board on `port`);
    `want`: the golden outputs of all of `xs`.  Never raises IlwpError: a failure is the result."""
    t0 = time.monotonic()
    sl = slice(shard.start, shard.stop)
    try:
        r = validate_model(board, graph, xs[sl], None if labels is None else labels[sl], elf=elf, port=port,
                           want=None if want is None else want[sl], **kw)
    except IlwpError as e:
        return ShardResult(shard, provenance, None, str(e), time.monotonic() - t0)
    r.records = [dataclasses.replace(rec, index=rec.index + shard.start) for rec in r.records]
    return ShardResult(shard, provenance, r, "", time.monotonic() - t0)


def _check_cover(parts: list[ShardResult], total: int | None) -> None:
    at = 0
    for p in parts:
        s = p.shard
        if s.start < at:
            raise IlwpError(f"shards overlap: {s.describe()} starts before sample {at}")
        if s.start > at:
            raise IlwpError(f"shards leave a gap: samples [{at}, {s.start}) are in no shard")
        if p.result is not None and [r.index for r in p.result.records] != list(range(s.start, s.stop)):
            raise IlwpError(f"{s.describe()} returned {p.result.count} results that are not its samples")
        at = s.stop
    if total is not None and at != total:
        raise IlwpError(f"shards leave a gap: samples [{at}, {total}) are in no shard")


def _same(done: list[ShardResult], what: str, get) -> None:
    first = done[0]
    for p in done[1:]:
        if get(p.result) != get(first.result):
            raise IlwpError(f"shards ran different {what}: {get(first.result)} ({first.shard.describe()}) and "
                            f"{get(p.result)} ({p.shard.describe()}): refusing to merge them")


def _sum_link(done: list[ShardResult]) -> dict:
    link: dict = {}
    for p in done:
        for k, v in p.result.link.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                link[k] = link.get(k, 0) + v
            elif link.setdefault(k, v) != v:
                link[k] = "mixed"
    return link


def shard_row(p: ShardResult) -> dict:
    """A shard's line in the JSON and HTML reports."""
    r = p.result
    return {"shard": p.shard.index, "start": p.shard.start, "stop": p.shard.stop, "node": p.provenance.node,
            "place": p.provenance.place, "serial": p.provenance.serial, "seconds": round(p.seconds, 3),
            "bit_exact": None if r is None else f"{r.count - r.mismatches}/{r.count}", "error": p.error}


def merge(parts: list[ShardResult], total: int | None = None, seconds: float | None = None) -> ValidationResult:
    """One result over the union of `parts` (IlwpError, one line, when they cannot be merged).
    seconds: the run's wall time (default: the slowest shard's)."""
    if not parts:
        raise IlwpError("no shards to merge")
    parts = sorted(parts, key=lambda p: p.shard.start)
    _check_cover(parts, total)
    done = [p for p in parts if p.result is not None]
    if not done:
        raise IlwpError(f"every shard failed; {parts[0].shard.describe()}: {parts[0].error}")
    _same(done, "boards", lambda r: r.board)
    _same(done, "models", lambda r: r.model_hash)
    _same(done, "decode modes", lambda r: r.decode_mode)
    _same(done, "timer units", lambda r: (r.latency.unit, r.latency.clock_hz))
    _same(done, "tasks", lambda r: r.task)
    first = done[0].result
    records = [rec for p in done for rec in p.result.records]
    merged = result_from_records(
        records, board=first.board, model_hash=first.model_hash, decode_mode=first.decode_mode,
        timer_unit=first.latency.unit, clock_hz=first.latency.clock_hz,
        seconds=max(p.seconds for p in parts) if seconds is None else seconds, link=_sum_link(done),
        task=first.task, class_names=first.class_names)
    merged.shards = [shard_row(p) for p in parts]
    merged.missing = sum(len(p.shard) for p in parts if p.result is None)
    return merged


def run_in_turn(board, graph: Graph, xs: np.ndarray, labels: np.ndarray, k: int, *, elf=None,
                port: str | None = None, want: np.ndarray | None = None, **kw) -> ValidationResult:
    """Every shard one after the other on this machine (each its own QEMU): the reference the
    engines' runs are checked against, and `validate --shards N` without an engine."""
    t0 = time.monotonic()
    prov = local_provenance(place=port or f"qemu:{board.id}")
    parts = [run_shard(s, board, graph, xs, labels, provenance=prov, elf=elf, port=port, want=want, **kw)
             for s in plan(len(xs), k)]
    return merge(parts, total=len(xs), seconds=time.monotonic() - t0)


def run_on_ports(ports: list[tuple[str, Provenance]], board, graph: Graph, xs: np.ndarray, labels: np.ndarray,
                 *, want: np.ndarray | None = None, **kw) -> ValidationResult:
    """One shard per flashed board (its serial URL and provenance), all at once: a thread each, as
    they wait on their serial ports; merged."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.monotonic()
    todo = list(zip(plan(len(xs), len(ports)), ports))
    with ThreadPoolExecutor(max_workers=len(todo)) as pool:
        parts = list(pool.map(lambda sp: run_shard(sp[0], board, graph, xs, labels, port=sp[1][0],
                                                   provenance=sp[1][1], want=want, **kw), todo))
    return merge(parts, total=len(xs), seconds=time.monotonic() - t0)
