# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Validation and sweeps on a Ray cluster: the one module that speaks to Ray (optional extra `cluster`).

    run_on_cluster("local:4", board, graph, xs, labels, shards=4, elf=fw.elf, want=golden)
    tune_steps("auto", graph, xs, labels, steps=(1, 4, 8))      # a rate sweep as a Ray Tune experiment

The firmware is built once, here, and its ELF goes to the nodes through Ray's object store with the
inputs, the graph and the golden outputs (computed once and cached by run/golden_cache.py); each
shard is one Ray task that runs its own QEMU (run/shards.py).  A task whose worker dies is run
again by Ray (`max_retries`); a shard that fails in itself stays in the result as failed.

Cluster addresses: `local[:N]` (a Ray started in this process, N CPUs), `auto` (the cluster this
machine belongs to, as `ray start` left it, or $RAY_ADDRESS), `ray://HOST:10001` (a Ray client
connection to a head node), or `HOST:PORT` (a head node's GCS address).  The nodes need
ilwp-embed and qemu-system-arm installed, nothing else: the data comes with the tasks.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.run.shards import Provenance, Shard, ShardResult, merge, plan, run_shard
from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.run.validate import ValidationResult

TASK_RETRIES = 3  # runs of a shard whose worker process or node died


def _ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports from a test or CI run
    try:
        import ray
    except ImportError:
        raise IlwpError("Ray is not installed: pip install 'ilwp-embedded[cluster]'") from None
    return ray


def connect(spec: str):
    """ray.init for a --cluster address; returns the ray module."""
    ray = _ray()
    kw: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if spec == "local" or spec.startswith("local:"):
        n = spec.partition(":")[2]
        if n and not (n.isdigit() and int(n) > 0):
            raise IlwpError(f"--cluster {spec}: expected local or local:N with N CPUs, e.g. local:4")
        kw.update(num_cpus=int(n) if n else None)
        address = None
    elif spec == "auto" or spec.startswith("ray://") or ":" in spec:
        address = spec
        kw.pop("include_dashboard")
    else:
        raise IlwpError(f"--cluster {spec!r}: expected local[:N], auto, ray://HOST:10001 or HOST:PORT")
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=address, **kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise IlwpError(f"cannot reach Ray cluster {spec}: {str(e).splitlines()[0] if str(e) else e!r}") from None
    return ray


@contextlib.contextmanager
def _session(spec: str):
    """Ray connected for a `with` block, shut down after it.  Ray's driver prints its workers' news
    (a task failed and will be retried, ...) on stdout, which is the command's output (--json):
    stderr gets them."""
    with contextlib.redirect_stdout(sys.stderr):
        ray = connect(spec)
        try:
            yield ray
        finally:
            ray.shutdown()


def _shard_task(shard: Shard, board_id: str, graph: Graph, xs: np.ndarray, labels: np.ndarray,
                want: np.ndarray | None, elf_bytes: bytes, kw: dict) -> ShardResult:
    """One shard on a Ray worker: the ELF from the object store to a temporary file, QEMU on it."""
    with tempfile.TemporaryDirectory(prefix="ilwp-shard-") as d:
        elf = Path(d) / "firmware.elf"
        elf.write_bytes(elf_bytes)
        prov = Provenance(node=socket.gethostname(), place=f"qemu:{board_id} (Ray worker pid {os.getpid()})")
        return run_shard(shard, resolve_board(board_id), graph, xs, labels, provenance=prov, elf=elf,
                         want=want, **kw)


def run_on_cluster(spec: str, board, graph: Graph, xs: np.ndarray, labels: np.ndarray, shards: int | None,
                   *, elf, want: np.ndarray | None = None, **kw) -> ValidationResult:
    """Validate in `shards` Ray tasks (default: one per CPU of the cluster), merged into one result."""
    if not board.emulated:
        raise IlwpError(f"--cluster runs QEMU on the cluster's nodes; {board.id} is a real board "
                        "(use a farm: validate --reserve)")
    if elf is None or not Path(elf).is_file():
        raise IlwpError(f"firmware not found: {elf}")
    with _session(spec) as ray:
        k = shards or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_shard_task)
        t0 = time.monotonic()
        # each put once: every task gets a reference, not a copy in its arguments
        common = [ray.put(v) for v in (graph, xs, labels, want, Path(elf).read_bytes())]
        todo = plan(len(xs), k)
        refs = [task.remote(s, board.id, *common[:4], common[4], kw) for s in todo]
        parts = []
        for s, ref in zip(todo, refs):
            try:
                parts.append(ray.get(ref))
            except ray.exceptions.RayError as e:  # retries spent, node lost: the shard failed
                why = str(e).strip().splitlines()
                parts.append(ShardResult(s, Provenance(node="?", place=f"qemu:{board.id}"), None,
                                         f"Ray task failed: {why[0] if why else type(e).__name__}"))
        return merge(parts, total=len(xs), seconds=time.monotonic() - t0)


def _step_trial(config: dict, graph: Graph, xs: np.ndarray, labels: np.ndarray) -> None:
    """One Tune trial: the weights coded with residual step config["step"]; bits per weight (all
    side information counted) and the golden top-1 of the graph the blob decodes to."""
    from ray import tune

    from ilwp_embedded.compress.encoder import encode_graph
    from ilwp_embedded.golden import Golden

    step = int(config["step"])
    enc = encode_graph(graph, step)
    out = Golden(enc.graph if step > 1 else graph).run_batch(xs).reshape(len(xs), -1)
    tune.report({"step": step, "bits_per_weight": 8 * enc.coded_bytes / enc.weights,
                 "top1": float(np.mean(out.argmax(axis=1) == labels[:len(xs)]))})


def tune_steps(spec: str, graph: Graph, xs: np.ndarray, labels: np.ndarray, steps, *, max_failures: int = 2,
               storage: str | None = None) -> list[dict]:
    """A rate sweep as a Ray Tune experiment: one trial per residual step (bits per weight, golden
    top-1 on `xs`), a trial whose worker is lost run again (`max_failures`).  Rows sorted by step."""
    if labels is None:
        raise IlwpError("a rate sweep scores top-1: it needs a labelled dataset")
    with _session(spec):
        try:
            from ray import tune
        except ImportError:
            raise IlwpError("Ray Tune is not installed: pip install 'ilwp-embedded[cluster]'") from None
        storage = storage or tempfile.mkdtemp(prefix="ilwp-tune-")
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_step_trial, graph=graph, xs=xs, labels=labels), {"cpu": 1}),
            param_space={"step": tune.grid_search(sorted({int(s) for s in steps}))},
            run_config=tune.RunConfig(name="ilwp-steps", storage_path=str(Path(storage).resolve()), verbose=0,
                                      failure_config=tune.FailureConfig(max_failures=max_failures)))
        grid = tuner.fit()
        if grid.errors:
            raise IlwpError(f"{len(grid.errors)} Tune trials failed; first: {str(grid.errors[0]).splitlines()[0]}")
        return sorted(({k: r.metrics[k] for k in ("step", "bits_per_weight", "top1")} for r in grid),
                      key=lambda m: m["step"])
