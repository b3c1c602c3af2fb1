# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""`ilwp-embed inspect` and `ilwp-embed convert`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import atomic_write_bytes, require_output_dir


def register(sub) -> None:
    p = sub.add_parser("inspect", help="print a model's layers, shapes, weight bytes and firmware support")
    p.add_argument("model", help=".tflite model or .ilwp blob (its size fields, as `compress --json`)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("convert", help="Keras .keras/.h5 or SavedModel -> full-integer int8 .tflite")
    p.add_argument("model", help="Keras .keras/.h5 file or SavedModel directory")
    p.add_argument("-o", "--output", required=True, help="output .tflite")
    p.add_argument("--dataset", required=True, help="representative data for calibration (see `eval --help`)")
    p.add_argument("--split", default="train", choices=("train", "test"),
                   help="split used for calibration where the dataset has one (default: train)")
    p.add_argument("--samples", type=int, default=200, help="calibration samples (default 200)")
    p.add_argument("--input-range", default="0:255", choices=("0:255", "0:1", "-1:1"),
                   help="real pixel range the float model expects (MLPerf Tiny: 0:255)")
    p.add_argument("--data-dir", default=None, help="datasets directory (default $ILWP_DATA_DIR)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_convert)


def cmd_inspect(args) -> int:
    from ilwp_embedded.ingest import load_graph
    from ilwp_embedded.ops.inspect import format_summary, summarize

    if str(args.model).endswith(".ilwp"):
        from ilwp_embedded.compress.blobinfo import blob_summary, size_line, tensor_line
        from ilwp_embedded.fileio import read_input_file

        b = blob_summary(read_input_file(args.model, ".ilwp file"), args.model)
        if args.json:
            print(json.dumps(b, indent=1))
        else:
            print(f"{args.model}: {size_line(b)}, {'lossy' if b['lossy'] else 'lossless'}")
            for t in b["tensors"]:
                print(tensor_line(t))
        return 0
    s = summarize(load_graph(args.model))
    print(json.dumps(s) if args.json else format_summary(s, args.model))
    return 0


def cmd_convert(args) -> int:
    from ilwp_embedded.ingest.convert import convert_to_int8, load_keras_or_savedmodel, pixels_to_float
    from ilwp_embedded.ops.support import require_int8
    from ilwp_embedded.ingest.tflite_io import read_tflite

    if args.samples <= 0:
        raise IlwpError(f"--samples must be positive, got {args.samples}")
    require_output_dir(args.output)  # before loading and calibrating
    src = Path(args.model)
    ds = _calibration_set(args.dataset, args.data_dir, args.split)
    converter, shape = load_keras_or_savedmodel(src)
    x = ds.x[: args.samples]
    if ds.pixels:
        x = pixels_to_float(x, args.input_range)
    try:
        x = x.reshape((x.shape[0],) + tuple(shape))
    except ValueError:
        raise IlwpError(f"dataset {ds.name} samples have shape {ds.x.shape[1:]}, the model takes {tuple(shape)}") from None
    x = x.astype(np.float32)

    def representative():
        for i in range(len(x)):
            yield [x[i:i + 1]]

    data = convert_to_int8(converter, representative, str(src))
    graph = read_tflite(data, f"converted {src}")
    require_int8(graph, f"converted {src}")
    atomic_write_bytes(args.output, data)
    info = {"output": str(args.output), "bytes": len(data), "calibration_samples": int(len(x)),
            "weights": int(sum(int(np.prod(t.shape)) for _, t in graph.weight_tensors()))}
    print(json.dumps(info) if args.json else
          f"wrote {args.output}: {len(data)} bytes, full-integer int8, calibrated on {len(x)} {ds.name} samples")
    return 0


def _calibration_set(name, data_dir, split):
    from ilwp_embedded.datasets import load_dataset

    if name == "cifar10":
        return load_dataset(name, data_dir, split=split)
    return load_dataset(name, data_dir)
