# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Typed view of the codec's streams: one record per coded weight tensor, and the container."""

from __future__ import annotations

from dataclasses import dataclass

MODE_INTRA = 0  # prediction 0: the symbols are the (quantised) weights
MODE_COLLOCATED = 1  # channel c predicted from channel c of the reference tensor
MODE_SEARCHED = 2  # channel c predicted from a chosen channel ref_map[c] of the reference
MODE_NAMES = {MODE_INTRA: "intra", MODE_COLLOCATED: "inter-collocated", MODE_SEARCHED: "inter-searched"}

MULT_SHIFT = 12  # per-channel scale ratios are Q12 fixed point; multiplier 0 = channel coded intra


@dataclass(frozen=True)
class TensorRecord:
    tensor_id: int  # the tensor's index in the .tflite subgraph
    mode: int
    channel_minor: bool  # channel axis is the last one (depthwise), else the first
    n_elems: int
    n_channels: int
    step: int  # 1: lossless (residuals mod 256); >= 2: residuals quantised with this step
    ref_record: int = 0  # decode-order index of the reference record (inter modes)
    ref_channels: int = 0
    ref_channel_minor: bool = False
    mults: tuple[int, ...] = ()  # Q12 multiplier per channel (inter modes)
    ref_map: tuple[int, ...] = ()  # reference channel per channel (searched mode)
    table: bytes = b""  # coded frequency table (freqtable.py)
    payload: bytes = b""  # rANS payload
    pair_log2: int = 0  # 0: a rANS symbol per weight; 9..11: per two weights, P2 of the pair table (v5)

    @property
    def kernel(self) -> int:
        return self.n_elems // self.n_channels


@dataclass(frozen=True)
class Container:
    lossy: bool
    records: tuple[TensorRecord, ...]
    skeleton: bytes = b""  # zlib'd .tflite with the coded weights zeroed (rebuilds the model)
