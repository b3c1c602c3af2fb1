# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""HELLO, the device's self-description (protocol version, model hash, buffer sizes, timer unit,
board, decode mode), decoded from its payload (docs/serial-protocol.md, "HELLO")."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.run.framing import VERSION

# ilwp_model_init() statuses with a known meaning (templates/ilwp_model.h.j2)
INIT_STATUS_NAMES = {-50: "weight blob records do not match the firmware (ILWP_MODEL_ERR_BLOB)"}


@dataclass(frozen=True)
class Hello:
    version: int
    test_commands: bool
    init_status: int
    input_bytes: int
    output_bytes: int
    max_payload: int
    timer_unit_hz: int
    init_decode_ticks: int
    rx_buffer: int  # bytes the device's receive ring holds while it computes
    board: str
    timer_unit: str
    model_hash: str
    decode_mode: str
    file_inputs: bool = False  # INPUT_FILE understood (semihosting: QEMU boards)

    @property
    def init_ok(self) -> bool:
        return self.init_status >= 0

    def init_problem(self) -> str:
        what = INIT_STATUS_NAMES.get(self.init_status, "weight blob rejected (CRC or format)")
        return f"model init failed with status {self.init_status}: {what}"


def parse_hello(p: bytes) -> Hello:
    try:
        version = p[0]
        if version != VERSION:
            raise IlwpError(f"device speaks serial protocol v{version}; this host speaks v{VERSION}")
        flags, init_status, nin, nout, maxp, hz, dticks, ring = struct.unpack_from("<BiIIHIII", p, 1)
        pos = 1 + struct.calcsize("<BiIIHIII")
        strings = []
        for _ in range(4):
            n = p[pos]
            strings.append(p[pos + 1:pos + 1 + n].decode("utf-8", "replace"))
            pos += 1 + n
            if pos > len(p):
                raise IndexError
    except (IndexError, struct.error):
        raise IlwpError(f"malformed HELLO payload ({len(p)} bytes)") from None
    return Hello(version, bool(flags & 1), init_status, nin, nout, maxp, hz, dticks, ring, *strings,
                 file_inputs=bool(flags & 2))
