#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
# Fuzz run of the device's serial protocol parser (firmware/runtime/protocol.c, through the host
# shim of the tests) under ASan + UBSan; the CI test runs a bounded version.
#   bench/fuzz_protocol.sh [SECONDS=600] [SEED=1] [ITERATIONS=unbounded]
# SECONDS: CPU seconds of the fuzzer (0: no limit), so a busy machine gets the same amount of fuzzing.
# Seeds: streams of valid frames from run/framing.py (bench/fuzz/proto_seeds.py).
# PROTOCOL_C=path fuzzes another copy of protocol.c (the CI test checks that a planted bug is found).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
seed=${2:-1}
iters=${3:-4000000000000}
proto=${PROTOCOL_C:-firmware/runtime/protocol.c}
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "/* host fuzz build: no board */" > "$work/board_config.h"
gcc -std=c99 -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
  -I"$work" -Ifirmware/include -Ifirmware/runtime -Ifirmware/decoder \
  bench/fuzz/proto_fuzz.c "$proto" firmware/decoder/ilwp_decode.c tests/run_shim/proto_host_shim.c \
  -o "$work/proto_fuzz"
PYTHONPATH=. "$py" bench/fuzz/proto_seeds.py "$work"
"$work/proto_fuzz" "$iters" "$secs" "$seed" "$work"/*.bin
