"""`ilwp-embed compress` and `ilwp-embed decompress`."""

from __future__ import annotations

import argparse
import json
import sys

from ilwp_embedded.compress.decoder import decompress_to_tflite
from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.compress.methods import METHODS, Options, check_options, compress
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.fileio import atomic_write_bytes, read_input_file
from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite


def register(subparsers) -> None:
    p = subparsers.add_parser("compress", help="code a .tflite's int8 weights into an .ilwp blob")
    p.add_argument("model", help="int8 .tflite model")
    p.add_argument("-o", "--output", required=True, help="output .ilwp")
    p.add_argument("--method", default="ilwp", choices=METHODS,
                   help="ilwp: the ILWP codec (default); tq: transform quantization (KLT + reverse "
                        "water-filling); dqc: trained k-means codebook; slq: incremental codebook "
                        "quantization; mlq: incremental ternary quantization")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lossless", action="store_true", help="exact weights (the default)")
    g.add_argument("--step", type=int, default=None, help="lossy: residual quantisation step (>= 2)")
    p.add_argument("--bits", type=float, default=None,
                   help="dqc/slq: codebook bits per tensor (default 4); tq: average bits per coefficient (default 2)")
    p.add_argument("--no-zero", action="store_true", help="dqc/slq: no exact zero entry in the codebook")
    p.add_argument("--axis", default="auto", help="tq: transform axis: out, in, spatial or auto (default)")
    p.add_argument("--stages", type=int, default=4, help="slq/mlq: incremental rounds (default 4)")
    p.add_argument("--epochs", type=float, default=0.0,
                   help="tq/dqc/slq/mlq: retrain with the quantizer in the loop for this many epochs "
                        "(default 0: post-training; needs --dataset cifar10)")
    p.add_argument("--dataset", default=None, help="training data for --epochs (cifar10: its training split)")
    p.add_argument("--lr", type=float, default=1e-3, help="retraining learning rate")
    p.add_argument("--train-limit", type=int, default=None, help="retrain on the first N training images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="where datasets live (default $ILWP_DATA_DIR)")
    p.add_argument("--emit-tflite", default=None, metavar="PATH",
                   help="also write the .tflite whose weights the decoder reconstructs (lossy)")
    p.add_argument("--intra-only", action="store_true", help="disable inter-layer prediction")
    p.add_argument("--json", action="store_true", help="print sizes and per-tensor modes as JSON")
    p.set_defaults(func=run_compress)

    d = subparsers.add_parser("decompress", help="rebuild the .tflite from an .ilwp blob")
    d.add_argument("blob", help="input .ilwp")
    d.add_argument("-o", "--output", required=True, help="output .tflite")
    d.set_defaults(func=run_decompress)


def method_options(args: argparse.Namespace) -> Options:
    """The method's settings from the command line; settings that do not apply are refused."""
    m = args.method
    if args.step is not None and m != "ilwp":
        raise IlwpError(f"--step is for --method ilwp; {m} takes --bits")
    if args.bits is not None and m in ("ilwp", "mlq"):
        raise IlwpError(f"--bits does not apply to --method {m}" + (" (ternary)" if m == "mlq" else ""))
    if args.no_zero and m not in ("dqc", "slq"):
        raise IlwpError("--no-zero applies to --method dqc and slq")
    if args.epochs > 0 and args.dataset is None:
        raise IlwpError(f"--method {m} --epochs {args.epochs:g} retrains: give --dataset cifar10 (its training split)")
    if args.dataset is not None and args.dataset != "cifar10":
        raise IlwpError(f"retraining uses --dataset cifar10 (training split, validation held back), not {args.dataset}")
    if args.dataset is not None and args.epochs <= 0:
        raise IlwpError("--dataset is for retraining: give --epochs too")
    step = 1 if args.step is None else args.step
    if args.step is not None and not 2 <= step <= 127:
        raise IlwpError(f"--step must be between 2 and 127 (got {step}); use --lossless for exact weights")
    bits = args.bits if args.bits is not None else (2.0 if m == "tq" else 4.0)
    if m in ("dqc", "slq") and bits != int(bits):
        raise IlwpError(f"--bits for {m} is a whole number of codebook bits, got {bits:g}")
    return Options(bits=bits, zero=not args.no_zero, step=step, axis=args.axis, epochs=args.epochs,
                   stages=args.stages, lr=args.lr, train_limit=args.train_limit, data_dir=args.data_dir,
                   seed=args.seed)


def run_compress(args: argparse.Namespace) -> int:
    opts = method_options(args)
    check_options(args.method, opts)
    graph = read_tflite(read_input_file(args.model, "model"), args.model)
    if args.method == "ilwp":
        res = encode_graph(graph, opts.step, inter=not args.intra_only)
        extra = None
    else:
        if args.intra_only:
            raise IlwpError("--intra-only is for --method ilwp")
        log = (lambda m: print(m, file=sys.stderr, flush=True)) if args.json else (lambda m: print(m, flush=True))
        mres = compress(graph, args.method, opts, log)
        res, extra = mres.encoded, mres
    atomic_write_bytes(args.output, res.blob)
    if args.emit_tflite:
        atomic_write_bytes(args.emit_tflite, write_tflite(res.graph))
    summary = summarize(res)
    summary["method"] = args.method
    if extra is not None:
        q = extra.quantized
        summary["method_info"] = q.info
        if q.val_accuracy is not None:
            summary["val_accuracy"] = q.val_accuracy
        if q.device_stream is not None:
            summary["device_stream"] = q.device_stream
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{args.output}: {args.method}, {summary['weights']} weights, {summary['int8_bytes']} B int8 -> "
              f"{summary['coded_bytes']} B coded ({summary['bits_per_weight']:.3f} bits/weight, "
              f"order-0 bound {summary['entropy_bound_bits'] / 8:.0f} B), skeleton {summary['skeleton_bytes']} B")
        if extra is not None and extra.quantized.device_stream is not None:
            d = extra.quantized.device_stream
            print(f"  transform-domain stream if decoded on the device: {d['bits_per_weight']:.3f} bits/weight, "
                  f"{d['macs_per_weight']:.1f} MACs/weight to invert")
    return 0


def summarize(res) -> dict:
    w = res.weights
    return {
        "weights": w,
        "int8_bytes": w,
        "coded_bytes": res.coded_bytes,
        "skeleton_bytes": res.skeleton_bytes,
        "file_bytes": len(res.blob),
        "bits_per_weight": 8 * res.coded_bytes / w,
        "entropy_bound_bits": round(res.entropy_bound_bits, 1),
        # relative overhead; undefined when every tensor is constant (a zero bound)
        "overhead_vs_bound": (8 * res.coded_bytes / res.entropy_bound_bits - 1) if res.entropy_bound_bits else None,
        "lossy": res.container.lossy,
        "tensors": [{"tensor": s.tensor_id, "name": s.name, "shape": list(s.shape), "mode": s.mode,
                     "ref_tensor": s.ref_tensor_id, "inter_channels": s.inter_channels, "step": s.step,
                     "bits": s.bits, "entropy_bits": round(s.entropy_bits, 1)} for s in res.stats],
    }


def run_decompress(args: argparse.Namespace) -> int:
    blob = read_input_file(args.blob, ".ilwp file")
    atomic_write_bytes(args.output, decompress_to_tflite(blob, args.blob))
    return 0
