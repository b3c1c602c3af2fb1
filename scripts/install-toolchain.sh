#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
# Installs the Arm cross compiler, QEMU and ser2net from Debian's packages when they are missing.
# As root it installs them; otherwise it prints the exact command and fails.
set -euo pipefail
# gcc: host build of the weight decoder for the tests (ctypes library, ASan/UBSan fuzz driver)
# ser2net: serves a QEMU pty as rfc2217:// to the tests, as board farms serve their boards
# cmake: builds the CMake example of `ilwp-embed export` (tests/test_export.py)
pkgs="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc ser2net cmake"
missing=0
command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing=1
command -v qemu-system-arm >/dev/null 2>&1 || missing=1
command -v gcc >/dev/null 2>&1 || missing=1
[ -x /usr/sbin/ser2net ] || command -v ser2net >/dev/null 2>&1 || missing=1
command -v cmake >/dev/null 2>&1 || missing=1
[ -f /usr/lib/arm-none-eabi/newlib/libc.a ] || [ -d /usr/lib/arm-none-eabi/newlib ] || missing=1
[ "$missing" = 0 ] && exit 0
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs"
if [ "$(id -u)" = 0 ]; then
  echo "installing the Arm toolchain, QEMU and ser2net: $cmd"
  sh -c "$cmd"
else
  echo "error: the Arm toolchain, QEMU or ser2net is missing; run as root:  sudo sh -c '$cmd'" >&2
  exit 1
fi
