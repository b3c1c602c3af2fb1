#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
# Long fuzz run of the C decoder under ASan + UBSan (the CI test runs a bounded version).
#   bench/fuzz_decoder.sh [SECONDS=600] [SEED=1]
# Seeds: the stored example plus lossless and lossy blobs of every int8 model in $ILWP_DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
seed=${2:-1}
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -std=c99 -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
  -Ifirmware/decoder bench/fuzz/ilwp_fuzz.c firmware/decoder/ilwp_decode.c -o "$work/ilwp_fuzz"
PYTHONPATH=.:tests "$py" - "$work" <<'PY'
import sys
from pathlib import Path
from helpers import int8_models, load_graph
from ilwp_embedded.compress import encode_graph
out = Path(sys.argv[1])
for p in int8_models():
    for step in (1, 3, 48):  # 48: pair symbols (format v5)
        (out / f"{p.stem}_s{step}.ilwp").write_bytes(encode_graph(load_graph(str(p)), step, skeleton=False).blob)
PY
"$work/ilwp_fuzz" 4000000000 "$secs" "$seed" tests/data/codec_example.ilwp "$work"/*.ilwp
