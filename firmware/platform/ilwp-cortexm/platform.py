# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""PlatformIO development platform `ilwp-cortexm` (offline; see docs/boards.md).

The board JSONs are derived from the repository's boards/*.json by
ilwp_embedded.target.pio and written into each generated project's boards/ folder.
"""

from platformio.public import PlatformBase


class IlwpcortexmPlatform(PlatformBase):
    def is_embedded(self):
        return True
