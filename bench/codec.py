# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Weight-codec benchmark: one table, every int8 model in $ILWP_DATA_DIR, measured in one run.

    PYTHONPATH=. .venv/bin/python bench/codec.py [--images 200] [--no-m4]

Columns: coded size of the int8 weights of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
(biases and the rest of the model are not counted anywhere in this table), bits per weight,
ratio to raw int8, and golden top-1 (TFLite Micro reference kernels) on cifar10_raw200 for
the image models. Then the C decoder's cost on a Cortex-M4 (QEMU mps2-an386, -icount shift=0).
"""

from __future__ import annotations

import argparse
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ilwp_embedded.compress import decode_blob, encode_graph  # noqa: E402
from ilwp_embedded.compress.baselines import huffman_coded_bits, kmeans  # noqa: E402
from ilwp_embedded.compress.encoder import entropy_bits  # noqa: E402
from ilwp_embedded.cycles import plugin, timing  # noqa: E402
from ilwp_embedded.cycles.profile import region_setup  # noqa: E402
from ilwp_embedded.ingest.tflite_io import read_tflite, write_tflite  # noqa: E402
from ilwp_embedded.target.boards import resolve_board  # noqa: E402
from ilwp_embedded.target.pio import build_firmware  # noqa: E402
from ilwp_embedded.target.qemu import run_to_exit  # noqa: E402

DATA = Path(os.environ.get("ILWP_DATA_DIR", REPO.parent / "shared" / "data"))
STEPS = (2, 3, 4)
M4_STEPS = (1, 3, 32, 48)  # decoder cost: lossless, high rate, and low rates (48: pair symbols, format v5,
# allowed in every M4 row as `compress --pairs` allows them: only few-valued low-rate tensors take them)


def top1(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model)
    hits = 0
    for img, label in zip(x, y):
        it.set_input((img[None].astype(np.int16) - 128).astype(np.int8), 0)
        it.invoke()
        hits += int(np.argmax(it.get_output(0)) == int(label))
    return hits / len(x)


def kmeans16(w: np.ndarray) -> tuple[np.ndarray, int]:
    """Deep-Compression-style weight sharing on one tensor: 16 int8 centroids, Huffman-coded
    4-bit indices. Returns (int8 weights, coded bits incl. codebook + code lengths)."""
    shared, idx = kmeans(w, 16)
    return shared, huffman_coded_bits(idx, 16)


M4 = REPO / "bench" / "m4"


def m4_run(program: str, work: Path, sources=(), include_dirs=(), profile: str | None = None) -> dict:
    """Build bench/m4/<program> (+ sources) as qemu-m4 firmware, the product's way (PlatformIO, the
    board's start-up and linker script), run it under -icount shift=0 and read its "label value" lines.
    profile: a function whose call is timed by the cycle plugin; its Cortex-M4 estimate (QEMU plugin +
    TRM table, `docs/cycles.md`) comes back as vals["cycles"] = {low, nominal, high}."""
    board = resolve_board("qemu-m4")  # mps2-an386
    build = build_firmware(board, [M4 / program, M4 / "bench_io.c", *sources], [M4, work, *include_dirs],
                           out_dir=work / "pio")
    extra = []
    if profile:
        setup = region_setup(build.elf, profile)
        extra = plugin.plugin_args(work / "profile.bin", setup.start, setup.stop)
    run = run_to_exit(board, build.elf, timeout_s=300, extra=extra)
    if run.returncode != 0:
        raise RuntimeError(f"{program} failed on QEMU ({run.returncode}): {run.output}")
    vals: dict = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", run.output)}
    if profile:
        prof = plugin.read_profile(work / "profile.bin")
        tot = prof.totals(prof.region_segments(0))
        vals["cycles"] = timing.cycles_from_counts(timing.CORTEX_M4, timing.disassemble(build.elf), prof.pc,
                                                   tot["exec"], tot["taken"], tot["jumped_in"], tot["mem"])
    return vals


def checksum(data: bytes) -> int:
    """The checksum the bench programs print over what they computed (h = 31 h + byte, 32 bits)."""
    h = 0
    for b in data:
        h = (h * 31 + b) & 0xFFFFFFFF
    return h


def m4_cost(blob: bytes, weights: int, work: Path, cycles: bool = False) -> dict:
    """Decode `blob` on QEMU's Cortex-M4 and read the SysTick-based instruction counts; cycles: also
    the Cortex-M4 cycle estimate of ilwp_decode_all as cycles_decode = {low, nominal, high}."""
    work.mkdir(parents=True, exist_ok=True)
    rows = ",\n".join(",".join(str(b) for b in blob[i:i + 32]) for i in range(0, len(blob), 32))
    (work / "blob.h").write_text(f"#define BLOB_WEIGHTS {weights}u\nstatic const unsigned char blob[{len(blob)}] = {{\n{rows}}};\n")
    dec = REPO / "firmware" / "decoder"
    vals = m4_run("bench_main.c", work, [dec / "ilwp_decode.c"], [dec],
                  profile="ilwp_decode_all" if cycles else None)
    if cycles:
        vals["cycles_decode"] = vals.pop("cycles")
    if "instr_decode" not in vals:
        raise RuntimeError(f"no decoder counts from QEMU: {vals}")
    # the same checksum over the decoded weights as bench_main.c: proves the M4 decode is right
    h = checksum(b"".join(w.tobytes() for w in decode_blob(blob).values()))
    if vals["checksum"] != h:
        raise RuntimeError(f"M4 decode differs from the Python decoder (checksum {vals['checksum']} != {h})")
    return vals


def decoder_footprint(work: Path) -> dict:
    dec = REPO / "firmware" / "decoder"
    obj = work / "ilwp_decode.o"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", "-fstack-usage", "-c",
                    str(dec / "ilwp_decode.c"), "-o", str(obj)], check=True, cwd=work)
    size = subprocess.run(["arm-none-eabi-size", str(obj)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in size.splitlines()[1].split()[:3])
    su = (work / "ilwp_decode.su").read_text()
    stack = {m.group(1): int(m.group(2)) for m in re.finditer(r":\d+:\d+:(\w+)\s+(\d+)", su)}
    # deepest call chain: decode_all -> decode -> rans_loop / fill_slots / the table's bit reader
    # (get_eg -> peek32, where not inlined) / ilwp_next
    deepest = stack.get("ilwp_decode_all", 0) + stack.get("ilwp_decode", 0) + max(
        stack.get("rans_loop", 0), stack.get("fill_slots", 0),
        stack.get("get_eg", 0) + stack.get("get_bits", 0) + stack.get("peek32", 0), stack.get("ilwp_next", 0))
    return {"text": text, "data": data, "bss": bss, "stack": deepest, "work": 8 + 2 * 256}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--no-m4", action="store_true")
    args = ap.parse_args()
    import zstandard

    cifar = np.load(DATA / "datasets" / "cifar10_raw200.npz")
    x, y = cifar["x"][:args.images], cifar["y"].reshape(-1)[:args.images]
    models = []
    for p in sorted((DATA / "models").rglob("*.tflite")):
        g = read_tflite(p.read_bytes(), str(p))
        if g.coded_weights():
            models.append((p, g))
    rows, m4rows = [], []
    tmp = Path(tempfile.mkdtemp(prefix="ilwp_bench_"))
    for p, g in models:
        image = "image_classification" in str(p)
        acc = (lambda gr: f"{top1(write_tflite(gr), x, y):.3f}") if image else (lambda gr: "n/a")
        ts = [t for _, t in g.coded_weights()]
        n = sum(t.data.size for t in ts)
        raw = b"".join(t.data.tobytes() for t in ts)
        bound = sum(entropy_bits(t.data.reshape(-1).astype(np.int64)) for t in ts) / 8
        name = p.stem

        def row(method, nbytes, a="", note=""):
            rows.append((name, method, nbytes, 8 * nbytes / n, n / nbytes, a, note))

        row("raw int8", n, acc(g))
        row("zlib -9", len(zlib.compress(raw, 9)))
        row("xz -9", len(lzma.compress(raw, preset=9)))
        row("zstd -19", len(zstandard.ZstdCompressor(level=19).compress(raw)))
        row("order-0 entropy bound", bound, note="per tensor, of the int8 weights")
        km, kbits = {}, 0
        for t in ts:
            w, b = kmeans16(t.data)
            km[t.index] = (w, None)
            kbits += b
        row("k-means(16)+Huffman", kbits / 8, acc(g.with_tensor_data(km)), "lossy, int8 codebook per tensor")
        res = encode_graph(g, 1)
        assert all(np.array_equal(decode_blob(res.blob)[t.index], t.data.reshape(-1)) for t in ts)
        modes = sorted({s.mode for s in res.stats})
        row("ilwp lossless", res.coded_bytes, acc(res.graph),
            f"{100 * (8 * res.coded_bytes / res.entropy_bound_bits - 1):.2f}% over bound; modes {','.join(modes)}; "
            f"skeleton {res.skeleton_bytes} B")
        for step in STEPS:
            r = encode_graph(g, step)
            row(f"ilwp lossy step {step}", r.coded_bytes, acc(r.graph),
                f"{100 * (8 * r.coded_bytes / r.entropy_bound_bits - 1):.2f}% over its bound; "
                f"max |dw| {max(int(np.abs(r.recon[t.index].astype(int) - t.data).max()) for t in ts)}")
        if not args.no_m4 and shutil.which("qemu-system-arm"):
            for step in M4_STEPS:
                label = "lossless" if step == 1 else f"step {step}"
                r = encode_graph(g, step, skeleton=False, pairs=True)  # as `compress --pairs`
                c = m4_cost(r.blob, r.weights, tmp / f"{name}_{label.replace(' ', '')}", cycles=True)
                m4rows.append((name, label, r.weights, 8 * r.coded_bytes / r.weights, c["instr_decode"],
                               c["instr_decode"] / r.weights, c["instr_open_crc"] / len(r.blob),
                               c["cycles_decode"]["nominal"] / r.weights))
    print("| model | method | bytes | bits/weight | ratio vs int8 | top-1 (cifar10_raw200) | notes |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, method, nbytes, bpw, ratio, a, note in rows:
        print(f"| {name} | {method} | {nbytes:.0f} | {bpw:.3f} | {ratio:.3f} | {a} | {note} |")
    print("\nNNCodec: not measured. `pip download nncodec` works (2.1.3), but it pins numpy<2 (this project "
          "uses numpy 2.x) and pulls torch, torchvision and opencv, and builds a C++ extension: not installable "
          "into the project venv.")
    if m4rows:
        fp = decoder_footprint(tmp)
        print("\nC decoder on Cortex-M4 (qemu-m4: QEMU mps2-an386, -icount shift=0, SysTick 40 instructions/tick; "
              "decode_all without CRC, tables included; cycles: the TRM table over the QEMU plugin's counts, "
              "nominal, zero-wait memory):")
        print("| model | blob | weights | bits/weight | instructions | instructions/weight | CRC32 check, "
              "instructions/byte | cycles/weight |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, label, w, bpw, ins, ipw, crc, cpw in m4rows:
            print(f"| {name} | {label} | {w} | {bpw:.2f} | {ins} | {ipw:.2f} | {crc:.1f} | {cpw:.1f} |")
        print(f"\ndecoder code (arm-none-eabi-gcc -Os, ilwp_decode.o): text {fp['text']} B, data {fp['data']} B, "
              f"bss {fp['bss']} B; RAM: ilwp_work {fp['work']} B + its slot table, 4 * 2^P <= 8192 B (both caller-provided) + stack <= {fp['stack']} B "
              f"(-fstack-usage, deepest chain)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
