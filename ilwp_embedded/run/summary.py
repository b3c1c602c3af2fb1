# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""What a validation run shows a person: the terminal summary and the HTML report's data."""

from __future__ import annotations

from ilwp_embedded.compress.container import record_bytes
from ilwp_embedded.compress.streams import MODE_INTRA, Container
from ilwp_embedded.metrics import describe
from ilwp_embedded.run.report import ReportData

MODE_NAMES = {0: "intra", 1: "inter-collocated", 2: "inter-searched"}


def report_data(result, graph, cont: Container | None, fw, title: str) -> ReportData:
    """ReportData from a ValidationResult, the coded container and the FirmwareBuild (either may be None)."""
    lat = result.latency
    summary = {
        "board": result.board,
        "model hash": result.model_hash,
        "samples": result.count,
        "bit-exact with the golden model": f"{result.count - result.mismatches}/{result.count}",
        "task": result.task,
        "metrics on the device": describe(result.task, result.metrics_device),
        "metrics on the host (golden)": describe(result.task, result.metrics_host),
        f"latency median / p95 ({lat.unit})": f"{lat.median:.0f} / {lat.p95:.0f}",
        "latency median at the board clock": (f"{lat.median_ms:.2f} ms at {lat.clock_hz / 1e6:g} MHz"
                                              if lat.median_ms is not None else
                                              f"not from {lat.unit}: see cycles (validate --profile)"),
        "weights decoded": result.decode_mode,
        "decode per run (median)": f"{result.decode_ticks_median:.0f} {lat.unit}",
        "input bytes received during runs (upload overlapped)": str(sum(r.rx_in_run for r in result.records)),
    }
    if result.missing:
        summary["INCOMPLETE: samples of failed shards"] = str(result.missing)
    for row in result.shards:  # provenance: where each slice of the dataset ran
        where = ", ".join(f"{k} {row[k]}" for k in ("node", "place", "serial") if row[k])
        summary[f"shard {row['shard']} [{row['start']}, {row['stop']})"] = (
            f"{where}; " + (f"FAILED: {row['error']}" if row["error"] else f"{row['bit_exact']} bit-exact")
            + f"; {row['seconds']:.1f} s")
    labelled = all(r.label is not None for r in result.records)
    d = ReportData(title=title, summary=summary, latencies=[r.elapsed for r in result.records],
                   latency_unit=lat.unit, task=result.task,
                   labels=[r.label for r in result.records] if labelled else [],
                   predictions=[r.device_class for r in result.records] if result.task == "classify" else [],
                   class_names=list(result.class_names),
                   errors=[r.score_device[0] for r in result.records if r.score_device]
                   if result.task == "reconstruct" else [])
    cyc = result.cycles
    if cyc and cyc.get("nominal") is not None:
        summary[f"cycles per inference, median ({cyc['model']})"] = (
            f"{cyc['nominal']:.0f} nominal ({cyc['low']:.0f} - {cyc['high']:.0f})")
        summary["latency from cycles at the board clock"] = (
            f"{cyc['ms']['nominal']:.2f} ms ({cyc['ms']['low']:.2f} - {cyc['ms']['high']:.2f}) at "
            f"{cyc['clock_hz'] / 1e6:g} MHz")
        if cyc.get("instructions") is not None:
            summary["instructions per inference (plugin)"] = f"{cyc['instructions']:.0f}"
        if cyc.get("note"):
            summary["cycle model"] = cyc["note"]
        d.layer_cycles = list(cyc.get("layers") or [])
    elif cyc:
        summary["cycles"] = cyc.get("note", "not estimated")
    if fw is not None:
        summary["flash (weights coded / int8)"] = (f"{fw.flash_bytes} B ({fw.weights_coded_bytes} / "
                                                   f"{fw.weights_int8_bytes} B)")
        summary["RAM (arena, decoded weights)"] = f"{fw.ram_bytes} B ({fw.arena_bytes}, {fw.weight_ram_bytes})"
    if cont is not None:
        layer = {t.index: f"{op.index} {op.op}" for op, t in graph.weight_tensors()}  # index + op type
        bits = [8 * len(record_bytes(r)) for r in cont.records]
        n = sum(r.n_elems for r in cont.records)
        summary["weights: bits per weight, all side information counted"] = f"{sum(bits) / n:.3f}"
        d.layer_names = [layer.get(r.tensor_id, f"tensor {r.tensor_id}") for r in cont.records]
        d.layer_bits_per_weight = [b / r.n_elems for b, r in zip(bits, cont.records)]
        d.layer_modes = ["intra" if r.mode == MODE_INTRA else MODE_NAMES.get(r.mode, "inter") for r in cont.records]
    return d


def sweep_report_data(rows: list[dict], title: str) -> ReportData:
    """A rate sweep's trials (run/cluster.py tune_steps: step, bits_per_weight, top1) as a report."""
    summary = {f"residual step {r['step']}": f"{r['bits_per_weight']:.3f} bits/weight, golden top-1 {r['top1']:.4f}"
               for r in rows}
    return ReportData(title=title, summary=summary)
