# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The main job (`make demo`): bundled model -> compress -> build -> validate in QEMU -> report."""

import re

from conftest import run_cli


def test_demo_runs_the_whole_pipeline_bit_exact(tmp_path):
    p = run_cli("demo", "--limit", "3", "--out", tmp_path, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    for stage in ("[1/5] ingest", "[2/5] compress", "[3/5] generate + build for qemu-m4", "[4/5] validate",
                  "[5/5] report"):
        assert stage in p.stdout
    assert "cifar_resnet20_int8.tflite" in p.stdout  # the bundled example
    assert re.search(r"qemu-m4: 3 samples bit-exact", p.stdout)
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "3/3" in html
