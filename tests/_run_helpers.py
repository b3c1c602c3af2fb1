"""Shared by tests/test_run_*.py: inference firmware builds (generated ResNet-8, raw weights,
portable kernels), cached per process."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from _boards_helpers import core_dir, no_network
from conftest import RESNET8_INT8

from ilwp_embedded.target.pio import BuildResult
from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.generate.codegen import Generated, generate
from ilwp_embedded.golden import prepare_inputs
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.target.firmware import build_inference_firmware


@functools.cache
def resnet8() -> tuple[Graph, Generated]:
    g = load_graph(RESNET8_INT8)
    return g, generate(g)


@functools.cache
def cifar(n: int):
    g, _ = resnet8()
    ds = load_dataset("cifar10-raw200").take(n)
    return prepare_inputs(ds, g.tensors[g.inputs[0]]), ds.y


@functools.cache
def _out_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="ilwp-run-test-"))


@functools.cache
def firmware(board_id: str, variant: str = "test") -> BuildResult:
    """variant: 'test' (TEST commands built in), 'badblob' (init reports a corrupt blob),
    'smallring' (a 256-byte receive ring, which a run fills)."""
    defines = {"badblob": {"ILWP_FORCE_INIT_STATUS": -50},
               "smallring": {"ILWP_PROTO_RX_RING_BYTES": 256}}.get(variant, {})
    with no_network():
        return build_inference_firmware(board_id, resnet8()[1], _out_root() / f"{board_id}-{variant}",
                                        defines=defines, test_commands=True, core_dir=core_dir(),
                                        timeout_s=300)
