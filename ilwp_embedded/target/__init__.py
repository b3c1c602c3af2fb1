# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Target stage (the firmware build): board manifests, bare-metal board support, offline PlatformIO builds, QEMU.

The lead's model build calls `build_firmware` (pio.py); `resolve_board` (boards.py) turns a
user's board name into a typed Board; qemu.py starts emulated boards.
"""
