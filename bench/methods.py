# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Quantization methods side by side (issue #7): bits/weight with everything counted vs golden
top-1 on the CIFAR-10 JPEG test set, and the decode cost on a Cortex-M4, measured in one run.

    PYTHONPATH=. .venv/bin/python bench/methods.py [--model M.tflite] [--limit N] [--no-m4]
        [--settings 'dqc:bits=3;dqc:bits=4;tq:bits=1'] [--json OUT.json]

Rows: every method at its settings (post-training unless a setting says epochs=...), each
quantized model coded by the ILWP container (bits/weight = coded bytes incl. header, tables, side
info and CRC, skeleton excluded, over the weights). For tq also the transform-domain stream's rate
(decoded on the device instead of on the host). M4 costs (qemu-m4: QEMU mps2-an386, -icount shift=0):
the container decoder's instructions per weight on each method's blob, and for tq the inverse
transform's instructions per weight (bench/m4/itransform_main.c), checked against the host.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ilwp_embedded.compress.encoder import encode_graph  # noqa: E402
from ilwp_embedded.train.methods import Options, compress, tq  # noqa: E402
from ilwp_embedded.datasets import load_dataset  # noqa: E402
from ilwp_embedded.golden import evaluate  # noqa: E402
from ilwp_embedded.ingest import load_graph  # noqa: E402
from codec import checksum, m4_cost, m4_run  # noqa: E402  (bench/codec.py: the bench/m4 programs)

DEFAULT_SETTINGS = ("ilwp:step=1;ilwp:step=3;dqc:bits=3;dqc:bits=4;dqc:bits=5;dqc:bits=4,zero=0;"
                    "slq:bits=3;slq:bits=4;mlq:;tq:bits=1;tq:bits=2;tq:bits=3")


def parse_settings(text: str) -> list[tuple[str, dict]]:
    out = []
    for item in filter(None, (s.strip() for s in text.split(";"))):
        method, _, rest = item.partition(":")
        kv = {}
        for pair in filter(None, rest.split(",")):
            k, _, v = pair.partition("=")
            kv[k] = (v != "0") if k == "zero" else (v if k == "axis" else float(v) if "." in v or k in ("bits", "epochs", "lr") else int(v))
        out.append((method, kv))
    return out


def itransform_cost(coded: dict, work: Path) -> dict:
    """Instructions per weight of the inverse transform of every tq tensor on QEMU's Cortex-M4."""
    work.mkdir(parents=True, exist_ok=True)
    lines, tensors, off, expect = [], [], 0, []
    for i, (tid, c) in enumerate(sorted(coded.items())):
        q = c.q.astype(np.int8).reshape(-1)
        b = c.basis_q.reshape(-1)
        lines.append(f"static const int8_t coef{i}[{max(1, q.size)}] = {{{','.join(map(str, q)) or '0'}}};")
        lines.append(f"static const int16_t basis{i}[{max(1, b.size)}] = {{{','.join(map(str, b)) or '0'}}};")
        tensors.append(f"{{coef{i}, basis{i}, {c.klt.samples}u, {c.klt.n}u, {c.q.shape[1]}u, {c.shift}, {off}u}}")
        # the host's reconstruction in vector order (the device writes vectors in order)
        acc = c.q.astype(np.int64) @ c.basis_q.astype(np.int64)
        half = (1 << (c.shift - 1)) if c.shift > 0 else 0
        expect.append(np.clip((acc + half) >> c.shift, -127, 127).astype(np.int8).reshape(-1))
        off += c.klt.samples * c.klt.n
    hdr = ["#include <stdint.h>",
           "typedef struct { const int8_t *coef; const int16_t *basis; uint32_t samples, n, coded; int32_t shift; uint32_t offset; } it_tensor;",
           f"#define IT_WEIGHTS {off}u", f"#define IT_TENSORS {len(tensors)}u", *lines,
           f"static const it_tensor it_tensors[{len(tensors)}] = {{{','.join(tensors)}}};"]
    (work / "itransform.h").write_text("\n".join(hdr) + "\n")
    vals = m4_run("itransform_main.c", work)
    if vals.get("checksum") != checksum(np.concatenate(expect).tobytes()):
        raise RuntimeError(f"inverse transform on the M4 differs from the host ({vals})")
    return {"instr": vals["instr_inverse"], "per_weight": vals["instr_inverse"] / off}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(REPO / "models" / "cifar_resnet20_int8.tflite"))
    ap.add_argument("--limit", type=int, default=1000, help="test images (the fixed shuffled order; 10000 = all)")
    ap.add_argument("--settings", default=DEFAULT_SETTINGS)
    ap.add_argument("--no-m4", action="store_true")
    ap.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = ap.parse_args()
    g = load_graph(args.model)
    test = load_dataset("cifar10", split="test").take(args.limit)
    base = evaluate(g, test)
    rows = [{"method": "int8", "setting": "", "bits_per_weight": 8.0, "top1": base.accuracy}]
    m4 = not args.no_m4 and shutil.which("qemu-system-arm")
    tmp = Path(tempfile.mkdtemp(prefix="ilwp_methods_"))
    for method, kv in parse_settings(args.settings):
        t0 = time.time()
        opts = Options(**kv)
        res = compress(g, method, opts, log=lambda m: print(m, file=sys.stderr))
        same = all(np.array_equal(res.graph.tensors[i].data, t.data) for i, t in enumerate(g.tensors)
                   if t.data is not None)
        top1 = base.accuracy if same else evaluate(res.graph, test).accuracy  # identical model: same outputs
        row = {"method": method, "setting": ",".join(f"{k}={v}" for k, v in kv.items()),
               "bits_per_weight": res.bits_per_weight, "top1": top1,
               "modes": sorted({s.mode for s in res.encoded.stats})}
        ds = res.quantized.device_stream
        if ds:
            row["device_stream_bits_per_weight"] = ds["bits_per_weight"]
            row["macs_per_weight"] = ds["macs_per_weight"]
        if m4:
            wonly = encode_graph(res.graph, opts.step if method == "ilwp" else 1, skeleton=False).blob
            c = m4_cost(wonly, res.encoded.weights, tmp / f"{method}{len(rows)}")
            row["m4_decode_instr_per_weight"] = c["instr_decode"] / res.encoded.weights
            if ds:
                klts, theta = tq.plan(g, opts)
                coded = {k.wt.index: tq.code_tensor(k, theta) for k in klts}
                row["m4_inverse_transform_instr_per_weight"] = itransform_cost(coded, tmp / f"it{len(rows)}")["per_weight"]
        row["seconds"] = round(time.time() - t0, 1)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(f"model {Path(args.model).name}; golden top-1 on the first {test.x.shape[0]} CIFAR-10 JPEG test images "
          f"(fixed shuffled order)\n")
    print("| method | setting | bits/weight (container) | top-1 | tq: device-stream bits/weight | "
          "M4 container decode instr/weight | tq: M4 inverse transform instr/weight |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        f = lambda k, fmt: (fmt.format(r[k]) if k in r else "")  # noqa: E731
        print(f"| {r['method']} | {r['setting']} | {r['bits_per_weight']:.3f} | {r['top1']:.4f} | "
              f"{f('device_stream_bits_per_weight', '{:.3f}')} | {f('m4_decode_instr_per_weight', '{:.1f}')} | "
              f"{f('m4_inverse_transform_instr_per_weight', '{:.1f}')} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "limit": args.limit, "rows": rows}, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
