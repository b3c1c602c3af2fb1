# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Where the firmware's weights come from: raw int8 arrays, or a compressed blob (codec container)."""

from __future__ import annotations

from ilwp_embedded.compress import container as ctn
from ilwp_embedded.compress.freqtable import read_table
from ilwp_embedded.compress.streams import MODE_INTRA, Container
from ilwp_embedded.generate.codegen import WeightRecord, Weights


def firmware_blob(cont: Container) -> bytes:
    """The container without its skeleton section: header, records and CRC are all a device needs."""
    return ctn.pack(Container(lossy=cont.lossy, records=cont.records, skeleton=b""))


def coded_weights(cont: Container, mode: str) -> Weights:
    """Weights decoded by the firmware, at boot ("once") or before each layer ("layer")."""
    if mode not in ("once", "layer"):
        raise ValueError(f"decode mode {mode!r}")
    records = tuple(
        WeightRecord(record=i, tensor=r.tensor_id, n_elems=r.n_elems,
                     ref_record=None if r.mode == MODE_INTRA else r.ref_record)
        for i, r in enumerate(cont.records))
    # stored records: no table; pair records: 2^P2 slots (format v5)
    table_log2 = max((max(read_table(r.table).precision, r.pair_log2) for r in cont.records if r.table), default=1)
    return Weights(mode=mode, blob=firmware_blob(cont), records=records, table_log2=table_log2,
                   pairs=any(r.pair_log2 for r in cont.records))
