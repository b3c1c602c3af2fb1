# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The pipeline as one library API: load -> compress -> plan + generate + build -> flash | run.

    model = load(path)                      # int8 .tflite (ILWP-coded here by encode(), lossless unless
                                            # `step`) or .ilwp
    fw = build(board, model, out_dir)       # decode-mode plan, generated C, offline PlatformIO build
    export(board, model, out_dir, "cmake")  # or: the model as a C library folder for the user's firmware
    result = validate(board, model, ds, elf=fw.elf)   # on QEMU or a board, bit-exact vs the golden model
    write_report(result, model, fw, title, path)

The commands (`build`, `validate`, `flash`, `demo`), bench/firmware.py and the tests call these; the
command modules only parse arguments and print.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ilwp_embedded.compress.container import unpack
from ilwp_embedded.compress.decoder import decompress_to_tflite
from ilwp_embedded.compress.encoder import EncodeResult, encode_graph
from ilwp_embedded.compress.streams import Container
from ilwp_embedded.datasets import Dataset
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import read_input_file
from ilwp_embedded.generate.decode_plan import DEFAULT_GOAL
from ilwp_embedded.golden import Golden, prepare_inputs
from ilwp_embedded.ingest import load_graph, read_tflite
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.ops.support import require_firmware_ops, require_int8
from ilwp_embedded.run.report import write_report as _write_html
from ilwp_embedded.run.summary import report_data
from ilwp_embedded.run.validate import ValidationResult, validate_model
from ilwp_embedded.target.boards import Board
from ilwp_embedded.target.export import ExportResult, check_export_dir, check_format, export_library
from ilwp_embedded.target.firmware import FirmwareBuild, build_model_firmware, plan_model
from ilwp_embedded.target.pio import run_pio


@dataclass(frozen=True)
class Model:
    """A model ready for the firmware."""

    path: Path
    graph: Graph  # what the firmware runs: for lossy coding, the graph the blob decodes to
    coded: Container | None  # the compressed weights (None: raw int8 only)
    encoded: EncodeResult | None = None  # the encoder's figures, when compressed here


def load(path: Path, step: int = 1, compress: bool = True, pairs: bool = False) -> Model:
    """An int8 .tflite (compressed here with residual `step` unless `compress` is False) or an .ilwp;
    refuses (IlwpError) a model that is not full-integer int8 or has ops the firmware lacks."""
    path = Path(path)
    if path.suffix == ".ilwp":
        blob = read_input_file(path, "compressed model")
        graph = read_tflite(decompress_to_tflite(blob, str(path)), str(path))
        cont = unpack(blob)
    else:
        graph = load_graph(path)
        cont = None
    require_int8(graph, str(path))
    require_firmware_ops(graph, str(path))
    model = Model(path, graph, cont)
    # (no weights, e.g. pooling only: nothing to code, the firmware keeps it raw)
    return encode(model, step, pairs) if cont is None and compress and graph.coded_weights() else model


def encode(model: Model, step: int = 1, pairs: bool = False) -> Model:
    """ILWP-code the model's weights (residual `step`; 1 = lossless; pairs: see encode_graph)."""
    enc = encode_graph(model.graph, step, pairs=pairs)
    return Model(model.path, enc.graph if step > 1 else model.graph, enc.container, enc)


def build(board: Board, model: Model, out_dir: Path, decode: str = "auto", kernels: str = "portable",
          cmsis_nn_path=None, optimize: str = DEFAULT_GOAL) -> FirmwareBuild:
    """Plan the weights (decode once, per layer, or raw; "auto": what `optimize` - flash, ram or speed -
    prefers among the modes that fit), generate the C and compile it for `board`."""
    return build_model_firmware(board, model.graph, None if decode == "raw" else model.coded, Path(out_dir),
                                decode_mode=decode, kernels=kernels, cmsis_nn_path=cmsis_nn_path,
                                optimize=optimize)


def validate(board: Board, model: Model, ds: Dataset, *, elf: str | None = None, port: str | None = None,
             baud: int | None = None, run_timeout_s: float | None = None, inputs_via: str = "auto",
             on_sample: Callable | None = None, profile: bool = False, model_c: Path | None = None,
             task: str = "auto") -> ValidationResult:
    """Every image of `ds` through the firmware (QEMU with `elf`, or a board on `port`), each output
    checked bit for bit against the golden interpreter and scored for `task` (metrics.py; without
    labels in `ds`: bit-exactness only). profile: QEMU only, cycles estimated with the cycle-profile
    plugin (model_c: the generated ilwp_model.c, for layer names)."""
    xs = prepare_inputs(ds, model.graph.tensors[model.graph.inputs[0]])
    kw = {k: v for k, v in (("baud", baud), ("run_timeout_s", run_timeout_s)) if v is not None}
    return validate_model(board, model.graph, xs, ds.y, elf=elf, port=port, on_sample=on_sample,
                          inputs_via=inputs_via, profile=profile, model_c=model_c, task=task,
                          class_names=ds.class_names, **kw)


def validate_sharded(board: Board, model: Model, ds: Dataset, shards: int | None, *, elf: str | None = None,
                     port: str | None = None, cluster: str | None = None, **kw) -> ValidationResult:
    """`validate` in `shards` contiguous slices merged into one result (run/shards.py): on a Ray
    cluster (`cluster`: local[:N], auto, ray://HOST:PORT; run/cluster.py) or one after the other
    here.  The golden outputs are computed once and cached by (model hash, dataset digest)."""
    from ilwp_embedded.ingest.tflite_io import graph_hash
    from ilwp_embedded.run.golden_cache import golden_outputs
    from ilwp_embedded.run.shards import run_in_turn

    xs = prepare_inputs(ds, model.graph.tensors[model.graph.inputs[0]])
    want = golden_outputs(model.graph, xs, graph_hash(model.graph))
    kw.setdefault("class_names", ds.class_names)
    if cluster is not None:
        from ilwp_embedded.run.cluster import run_on_cluster

        return run_on_cluster(cluster, board, model.graph, xs, ds.y, shards, elf=elf, want=want, **kw)
    return run_in_turn(board, model.graph, xs, ds.y, shards or 1, elf=elf, port=port, want=want, **kw)


def validate_on_farm(board: Board, model: Model, ds: Dataset, tags: dict[str, str], units: int = 1, *,
                     prio: float = 0.0, fw: FirmwareBuild | None = None, wait_s: float = 600.0,
                     **kw) -> ValidationResult:
    """Reserve `units` labgrid places with `tags`, flash them with `fw` (None: they run the model
    already), one shard of `ds` each, merged; the places are always handed back (run/farm.py)."""
    from ilwp_embedded.ingest.tflite_io import graph_hash
    from ilwp_embedded.run import farm
    from ilwp_embedded.run.golden_cache import golden_outputs
    from ilwp_embedded.run.shards import Provenance, run_on_ports

    xs = prepare_inputs(ds, model.graph.tensors[model.graph.inputs[0]])
    want = golden_outputs(model.graph, xs, graph_hash(model.graph))
    kw.setdefault("class_names", ds.class_names)
    with farm.reserved(tags, units, prio, wait_s=wait_s) as places:
        for place in places if fw is not None else ():
            farm.flash(place, board, fw.elf)
        ports = [(p.url, Provenance(node=p.host, place=p.name, serial=p.serial)) for p in places]
        return run_on_ports(ports, board, model.graph, xs, ds.y, want=want, **kw)


def flash(board: Board, fw: FirmwareBuild, upload_port: str | None = None) -> None:
    """Upload a built firmware to a real board with PlatformIO (the ST-LINK drive or a serial port), or
    to an acquired labgrid place (`labgrid:PLACE`) with labgrid's OpenOCD driver."""
    if upload_port and upload_port.startswith("labgrid:"):  # a farm's place: labgrid's OpenOCD driver
        from ilwp_embedded.run import farm

        farm.flash(farm.port_url(upload_port)[1], board, fw.elf)
        return
    env = {"PLATFORMIO_UPLOAD_PORT": upload_port} if upload_port else None
    try:
        run_pio(Path(fw.project_dir), board.id, targets=("upload",), extra_env=env)
    except IlwpError as e:  # run_pio words every failure as a build failure
        raise IlwpError(str(e).replace(f"firmware build failed for {board.id}",
                                       f"upload to {board.id} failed", 1)) from None


def export(board: Board, model: Model, out_dir: Path, fmt: str, decode: str = "auto", kernels: str = "portable",
           cmsis_nn_path=None, test_input: Path | None = None, optimize: str = DEFAULT_GOAL) -> ExportResult:
    """The model as a library folder for the user's firmware (target/export.py): the decode plan for
    `board`'s memories, the generated C, the kernels, build files for `fmt` and an example application
    whose test input (`test_input`, an .npy of int8 model input; else seeded random values) comes with
    the golden interpreter's output for it. optimize: the planner's goal for decode "auto"."""
    check_format(fmt)
    check_export_dir(out_dir)  # before any work
    plan = plan_model(board, model.graph, model.coded, decode, kernels, cmsis_nn_path, optimize)
    x, origin = _example_input(model.graph, test_input)
    expected = Golden(model.graph).run(x)
    return export_library(board, plan.gen, out_dir, fmt, x, expected, input_origin=origin,
                          model_name=model.path.name, reason=plan.reason, cmsis_nn_path=cmsis_nn_path)


def _example_input(graph: Graph, path: Path | None) -> tuple[np.ndarray, str]:
    t = graph.tensors[graph.inputs[0]]
    size = int(np.prod(t.shape))
    if path is None:
        return np.random.default_rng(0).integers(-128, 128, size).astype(np.int8), "seeded random values"
    try:
        x = np.load(io.BytesIO(read_input_file(path, "test input")), allow_pickle=False)
    except (OSError, ValueError) as e:
        raise IlwpError(f"cannot read test input {path}: not a .npy array ({e})") from None
    if not isinstance(x, np.ndarray):  # an .npz archive
        raise IlwpError(f"test input {path} is not one .npy array")
    if x.dtype != np.int8 or x.size != size:
        raise IlwpError(f"test input {path} holds {x.size} {x.dtype} values; the model takes {size} int8 "
                        f"(shape {tuple(t.shape)})")
    return x.reshape(-1), Path(path).name


def write_report(result: ValidationResult, model: Model, fw: FirmwareBuild | None, title: str, path: Path) -> None:
    """The HTML report: per-layer bits, latency distribution, the task's metrics (a confusion matrix for
    classifiers, reconstruction errors for autoencoders)."""
    _write_html(report_data(result, model.graph, model.coded, fw, title), path)
