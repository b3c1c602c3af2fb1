# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Fuzz worker: mutates a real model many times and drives `inspect` and `eval` in-process.

Run in a subprocess by test_bad_input.py, so a crash (segfault) or a hang fails the test instead of
the test run. Each call must return 0 or 2; anything else (an uncaught exception) prints and exits 1.
"""

import contextlib
import signal
import sys
from pathlib import Path

import numpy as np

from ilwp_embedded.cli import main
from ilwp_embedded.tfquiet import captured_fds


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    kind = rng.integers(0, 5)
    if kind == 0:  # a few bit flips
        for _ in range(rng.integers(1, 9)):
            i = int(rng.integers(0, len(b)))
            b[i] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:  # truncate
        b = b[: int(rng.integers(0, len(b)))]
    elif kind == 2:  # overwrite a 32-bit word with an extreme value (offsets, lengths, indices)
        i = int(rng.integers(0, len(b) - 4)) & ~3
        b[i:i + 4] = int(rng.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000])).to_bytes(4, "little")
    elif kind == 3:  # random bytes over a span
        i = int(rng.integers(0, len(b)))
        n = int(rng.integers(1, 64))
        b[i:i + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()[: len(b) - i]
    else:  # the table region: flips in the first 2 KB and the last 4 KB, where offsets live
        for _ in range(rng.integers(1, 4)):
            i = int(rng.integers(0, 2048)) if rng.random() < 0.5 else len(b) - 1 - int(rng.integers(0, 4096))
            b[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


def _timeout(*_):
    raise SystemExit("hang: a call took longer than 20 s")


def run(model: Path, dataset: str, n: int, seed: int, workdir: Path) -> dict[int, int]:
    rng = np.random.default_rng(seed)
    data = model.read_bytes()
    codes: dict[int, int] = {}
    signal.signal(signal.SIGALRM, _timeout)
    path = workdir / "mutant.tflite"
    for k in range(n):
        path.write_bytes(mutate(data, rng))
        for argv in (["inspect", str(path)], ["eval", str(path), "--dataset", dataset, "--json"]):
            signal.alarm(20)
            # Capture at the fd level: C++ code printing to fd 2 would break the one-line rule.
            with captured_fds() as log:
                with contextlib.redirect_stdout(sys.__stdout__), contextlib.redirect_stderr(sys.__stderr__):
                    rc = main(argv)
                sys.stdout.flush()
                sys.stderr.flush()
                log.seek(0)
                text = log.read().decode("utf-8", "replace")
            signal.alarm(0)
            errs = [l for l in text.splitlines() if l.startswith("error:")]
            noise = [l for l in text.splitlines() if l.strip() and not l.startswith(("error:", "{", "model "))
                     and argv[0] == "eval"]
            if rc not in (0, 2) or (rc == 2 and len(errs) != 1) or noise:
                print(f"mutation {k}: {argv[0]} returned {rc}: {text[-800:]}")
                sys.exit(1)
            codes[rc] = codes.get(rc, 0) + 1
    return codes


if __name__ == "__main__":
    model, dataset, n, seed, workdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    print(run(Path(model), dataset, n, seed, Path(workdir)))
