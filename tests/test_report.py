# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The HTML report renders real plots from real compression stats."""

import base64
import re

import numpy as np

from conftest import RESNET8_INT8

from ilwp_embedded.compress.encoder import encode_graph
from ilwp_embedded.ingest import load_graph
from ilwp_embedded.run.report import ReportData, write_report


def test_report_has_three_png_plots_and_the_summary(tmp_path):
    enc = encode_graph(load_graph(RESNET8_INT8), 1)
    d = ReportData(
        title="ResNet-8 on qemu-m4",
        summary={"bit-exact": "20/20", "coded bytes": enc.coded_bytes},
        layer_names=[s.name[:20] for s in enc.stats],
        layer_bits_per_weight=[s.bits / int(np.prod(s.shape)) for s in enc.stats],
        layer_modes=[s.mode for s in enc.stats],
        latencies=[1000 + i for i in range(20)], latency_unit="instructions",
        labels=[i % 10 for i in range(20)], predictions=[(i * 3) % 10 for i in range(20)],
    )
    p = write_report(d, tmp_path / "r.html")
    text = p.read_text()
    imgs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(imgs) == 3
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in imgs)
    assert "20/20" in text and str(enc.coded_bytes) in text
    assert [f.name for f in tmp_path.iterdir()] == ["r.html"]  # atomic: no temp file left
