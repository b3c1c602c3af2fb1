# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The HTML report: what a person would rather see than read, as plots in one self-contained page."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ilwp_embedded.fileio import atomic_write_text
from ilwp_embedded.metrics import MAX_CONFUSION_CLASSES


@dataclass
class ReportData:
    title: str
    summary: dict[str, object]  # label -> value, shown as a table
    layer_names: list[str] = field(default_factory=list)
    layer_bits_per_weight: list[float] = field(default_factory=list)
    layer_int8_bits: list[float] = field(default_factory=list)  # order-0 entropy or 8, for comparison
    layer_modes: list[str] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)
    latency_unit: str = ""
    task: str = "classify"  # metrics.TASKS: which plots make sense
    labels: list[int] = field(default_factory=list)
    predictions: list[int] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)  # reconstruct: per-sample reconstruction error
    # per layer of one inference (the median one): {"label", "instructions", "low", "nominal", "high", ...}
    layer_cycles: list[dict] = field(default_factory=list)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(d: ReportData) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    if d.layer_names:
        fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(d.layer_names)), 3.5))
        x = np.arange(len(d.layer_names))
        colors = ["tab:blue" if m == "intra" else "tab:orange" for m in d.layer_modes] or "tab:blue"
        ax.bar(x, d.layer_bits_per_weight, color=colors, label="coded (blue intra, orange inter)")
        if d.layer_int8_bits:
            ax.plot(x, d.layer_int8_bits, "k_", markersize=14, label="int8 order-0 entropy")
        ax.axhline(8, color="gray", lw=0.8, ls="--")
        ax.set_xticks(x, d.layer_names, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("bits / weight")
        ax.legend(fontsize=7)
        out.append(("Bits per weight, per layer", _png(fig)))
        plt.close(fig)
    if d.layer_cycles:
        lc = d.layer_cycles
        fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(lc)), 3.5))
        x = np.arange(len(lc))
        nom = np.array([l["nominal"] for l in lc]) / 1e6
        err = np.array([[l["nominal"] - l["low"], l["high"] - l["nominal"]] for l in lc]).T / 1e6
        ax.bar(x - 0.2, nom, 0.4, yerr=err, color="tab:red", label="cycles, nominal (bar: low-high)")
        ax.bar(x + 0.2, np.array([l["instructions"] for l in lc]) / 1e6, 0.4, color="tab:gray", label="instructions")
        ax.set_xticks(x, [l["label"][:28] for l in lc], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("millions per inference")
        ax.legend(fontsize=7)
        out.append(("Cycles per layer (estimated from the QEMU profile)", _png(fig)))
        plt.close(fig)
    if d.latencies:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(d.latencies, bins=min(30, max(5, len(set(d.latencies)))), color="tab:green")
        ax.set_xlabel(f"latency ({d.latency_unit})")
        ax.set_ylabel("inferences")
        out.append(("Latency distribution on the device", _png(fig)))
        plt.close(fig)
    if d.errors:
        fig, ax = plt.subplots(figsize=(6, 3))
        groups = ([("normal (label 0)", [e for e, l in zip(d.errors, d.labels) if l == 0]),
                   ("anomalous (label not 0)", [e for e, l in zip(d.errors, d.labels) if l != 0])]
                  if len(d.labels) == len(d.errors) else [("all samples", d.errors)])
        bins = np.histogram_bin_edges(d.errors, bins=min(30, max(5, len(d.errors) // 4)))
        for name, errs in groups:
            if errs:
                ax.hist(errs, bins=bins, alpha=0.6, label=name)
        ax.set_xlabel("reconstruction error (MSE, dequantized)")
        ax.set_ylabel("samples")
        ax.legend(fontsize=7)
        out.append(("Reconstruction error on the device", _png(fig)))
        plt.close(fig)
    n = max(max(d.labels), max(d.predictions)) + 1 if d.labels and d.predictions else 0
    if d.task == "classify" and 0 < n <= MAX_CONFUSION_CLASSES:
        cm = np.zeros((n, n), dtype=int)
        for t, p in zip(d.labels, d.predictions):
            cm[t, p] += 1
        fig, ax = plt.subplots(figsize=(5, 4.5))
        ax.imshow(cm, cmap="Blues")
        names = d.class_names[:n] if len(d.class_names) >= n else [str(i) for i in range(n)]
        ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(n), names, fontsize=7)
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if cm[i, j] > cm.max() / 2 else "black")
        ax.set_xlabel("predicted on the device")
        ax.set_ylabel("label")
        out.append(("Confusion matrix (device)", _png(fig)))
        plt.close(fig)
    return out


def render_html(d: ReportData) -> str:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in d.summary.items())
    if d.layer_cycles:
        tot = sum(l["nominal"] for l in d.layer_cycles) or 1.0
        body = "".join(
            f"<tr><td>{html.escape(l['label'])}</td><td>{l['instructions']:,}</td><td>{l['low']:,.0f}</td>"
            f"<td>{l['nominal']:,.0f}</td><td>{l['high']:,.0f}</td><td>{l['nominal'] / max(l['instructions'], 1):.2f}</td>"
            f"<td>{100 * l['nominal'] / tot:.1f}</td></tr>" for l in d.layer_cycles)
        rows += ("<tr><th>cycles per layer</th><td><table><tr><th>layer</th><th>instructions</th><th>low</th>"
                 f"<th>nominal</th><th>high</th><th>cycles/instr.</th><th>% of cycles</th></tr>{body}</table></td></tr>")
    figs = "".join(f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>"
                   for t, b in _plots(d))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(d.title)}</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
            "img{max-width:100%}</style></head><body>"
            f"<h1>{html.escape(d.title)}</h1><table>{rows}</table>{figs}</body></html>\n")


def write_report(d: ReportData, path: str | Path) -> Path:
    return atomic_write_text(path, render_html(d))
