# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Validation: stream a dataset through the board, compare every output with the golden
interpreter (TFLite Micro), time every inference on the board's own timer.

`validate(device, graph, xs, labels)` returns a ValidationResult; reports (JSON, HTML) are built
from it and nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.golden import Golden
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.metrics import describe, infer_task, integer_labels, sample_scores, summarize
from ilwp_embedded.run.session import Device


@dataclass(frozen=True)
class SampleRecord:
    index: int
    label: int | None  # the integer label (class, or normal 0 / anomalous for reconstruct); None: none
    device_class: int
    host_class: int
    bit_exact: bool
    elapsed: int  # in Latency.unit (the receive interrupt's work during the run included)
    decode_ticks: int
    max_abs_diff: int
    rx_in_run: int = 0  # bytes the board received while it ran (the next input, streamed)
    # what the task's metrics average for this sample (metrics.sample_scores): reconstruct (error,),
    # regress (squared error, absolute error); () for classify or without targets
    score_device: tuple[float, ...] = ()
    score_host: tuple[float, ...] = ()


@dataclass(frozen=True)
class Latency:
    unit: str  # "instructions" (QEMU -icount) or "cycles" (real boards)
    median: float
    p95: float
    min: int
    max: int
    clock_hz: int  # the board's CPU clock
    median_ms: float | None  # from cycles at clock_hz; None when the unit is instructions (QEMU):
    p95_ms: float | None  # milliseconds never come from instructions (validate --profile: cycles)


@dataclass
class ValidationResult:
    board: str
    model_hash: str
    decode_mode: str
    count: int
    bit_exact: bool
    mismatches: int
    accuracy_device: float | None  # top-1 (classify with labels), else None: see metrics_*
    accuracy_host: float | None
    latency: Latency
    decode_ticks_median: float
    seconds: float
    link: dict
    records: list[SampleRecord] = field(default_factory=list)
    # per inference (median): {"model", "low", "nominal", "high", "instructions", "ms", "layers", ...};
    # measured on real boards (DWT), estimated from the QEMU plugin's counts with --profile, else None
    cycles: dict | None = None
    # a sharded run (run/shards.py): per shard {"shard", "start", "stop", "node", "place", "serial",
    # "seconds", "error"}; a failed shard's samples are missing, never dropped: the run is incomplete
    shards: list[dict] = field(default_factory=list)
    missing: int = 0  # samples of failed shards
    task: str = "classify"  # metrics.TASKS
    metrics_device: dict = field(default_factory=dict)  # metrics.summarize of the device's outputs
    metrics_host: dict = field(default_factory=dict)  # ... of the golden interpreter's
    class_names: list[str] = field(default_factory=list)  # the dataset's, where it has them

    def metrics_line(self) -> str:
        dev = describe(self.task, self.metrics_device)
        host = describe(self.task, self.metrics_host)
        return f"{self.task}: {dev}" + ("" if host == dev else f" on the device, {host} on the host")

    @property
    def passed(self) -> bool:
        """Every sample ran, each one bit-exact (the exit code of `validate`)."""
        return self.bit_exact and self.missing == 0

    def summary(self) -> dict:
        """The machine-readable summary (`validate --json`), without per-sample records."""
        d = asdict(self)
        d.pop("records")
        return d

    def to_dict(self) -> dict:
        return asdict(self)

    def one_line(self) -> str:
        lat = self.latency
        verdict = "bit-exact" if self.bit_exact else f"NOT bit-exact ({self.mismatches} differ)"
        cyc = self.cycles or {}
        if lat.median_ms is not None:
            timing = f"p95 {lat.p95:.0f}; {lat.median_ms:.1f} ms at {lat.clock_hz / 1e6:g} MHz"
        elif cyc.get("nominal") is not None:
            timing = (f"p95 {lat.p95:.0f}; {cyc['nominal']:.0f} cycles ({cyc['low']:.0f}-{cyc['high']:.0f}, "
                      f"{cyc['model']}) = {cyc['ms']['nominal']:.1f} ms at {lat.clock_hz / 1e6:g} MHz")
        elif cyc.get("note"):
            timing = f"p95 {lat.p95:.0f}; {cyc['note']}"
        else:
            timing = f"p95 {lat.p95:.0f}; no cycle estimate: validate --profile"
        if self.shards:
            verdict += f" ({len(self.shards)} shards merged)"
        if self.missing:
            failed = [s for s in self.shards if s.get("error")]
            verdict += (f"; INCOMPLETE: {self.missing} samples missing, {len(failed)} of {len(self.shards)} "
                        f"shards failed (first: shard {failed[0]['shard']}: {failed[0]['error']})")
        return (f"{self.board}: {self.count} samples {verdict}; {self.metrics_line()}; latency median {lat.median:.0f} {lat.unit} ({timing}); "
                f"{self.seconds:.1f} s")


def _predicted(out: np.ndarray) -> int:
    return int(np.argmax(out.astype(np.int32)))


def validate(device: Device, graph: Graph, xs: np.ndarray, labels: np.ndarray | None, clock_hz: int,
             expect_hash: str | None = None, golden: Golden | None = None,
             on_sample: Callable[[SampleRecord], None] | None = None,
             want: np.ndarray | None = None, task: str = "auto", class_names: tuple[str, ...] = ()
             ) -> ValidationResult:
    """Run every input on the device and on the golden interpreter; compare bit for bit, and score
    both for the task (metrics.py; "auto": metrics.TASK_RULE). labels: integers (classes, or normal 0
    / anomalous), regression targets, or None (bit-exactness only, and a reconstruction's error).
    want: the golden outputs, computed before (run/golden_cache.py); else computed here."""
    if len(xs) == 0:
        raise IlwpError("nothing to validate: the dataset is empty")
    t_in, t_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    task = infer_task(t_in, t_out, labels, task)
    int_labels = integer_labels(labels)

    def scores(out: np.ndarray, i: int) -> tuple[float, ...]:
        sc = sample_scores(task, out[None], xs[i:i + 1], None if labels is None else labels[i:i + 1], t_in, t_out)
        return () if sc is None else tuple(float(v) for v in sc[0])
    info = device.hello_info or device.connect()
    if not info.init_ok:
        raise IlwpError(f"{info.board} refuses to run: {info.init_problem()}")
    if expect_hash is not None and info.model_hash != expect_hash:
        raise IlwpError(f"the board runs model {info.model_hash}, not {expect_hash}: rebuild or reflash it")
    if want is not None and len(want) != len(xs):
        raise IlwpError(f"{len(want)} golden outputs for {len(xs)} inputs")
    golden = golden or (Golden(graph) if want is None else None)
    t0 = time.monotonic()
    records: list[SampleRecord] = []
    ready: dict[int, np.ndarray] = {}  # golden outputs, computed while the device runs

    def run_golden(k: int) -> None:
        ready[k] = golden.run(xs[k]).reshape(-1) if want is None else want[k].reshape(-1)

    # two inputs in flight: the next one uploads while the device runs this one
    for i, r in enumerate(device.infer_many(xs, while_running=run_golden)):
        if i not in ready:
            run_golden(i)
        ref = ready.pop(i).astype(np.int8)
        out = r.output
        if ref.shape != out.shape:
            raise IlwpError(f"the device returned {out.size} output bytes, the golden model {ref.size}")
        diff = int(np.max(np.abs(out.astype(np.int16) - ref.astype(np.int16)))) if out.size else 0
        rec = SampleRecord(index=i, label=None if int_labels is None else int(int_labels[i]),
                           device_class=_predicted(out), host_class=_predicted(ref),
                           bit_exact=bool(np.array_equal(out, ref)), elapsed=r.elapsed,
                           decode_ticks=r.decode_ticks, max_abs_diff=diff, rx_in_run=r.rx_in_run,
                           score_device=scores(out, i), score_host=scores(ref, i))
        records.append(rec)
        if on_sample is not None:
            on_sample(rec)
    seconds = time.monotonic() - t0
    st = device.stats
    link = {"bytes_sent": st.bytes_sent, "bytes_received": st.bytes_received, "retries": st.retries,
            "timeouts": st.timeouts, "nak_bad_crc": st.nak_bad_crc, "input_restarts": st.input_restarts,
            "ahead_bytes": st.ahead_bytes, "rx_in_run_bytes": st.rx_in_run_bytes,
            "inputs_via": device.resolved_inputs_via()}
    return result_from_records(records, board=info.board, model_hash=info.model_hash,
                               decode_mode=info.decode_mode, timer_unit=info.timer_unit, clock_hz=clock_hz,
                               seconds=seconds, link=link, task=task, class_names=class_names)


def result_from_records(records: list[SampleRecord], *, board: str, model_hash: str, decode_mode: str,
                        timer_unit: str, clock_hz: int, seconds: float, link: dict, task: str = "classify",
                        class_names=()) -> ValidationResult:
    """The verdict, the task's metrics and latency figures of `records` (one run, or the union of shards)."""
    el = np.array([r.elapsed for r in records], dtype=np.float64)
    med, p95 = float(np.median(el)), float(np.percentile(el, 95))
    cycles_unit = timer_unit == "cycles"
    latency = Latency(unit=timer_unit, median=med, p95=p95, min=int(el.min()), max=int(el.max()),
                      clock_hz=int(clock_hz), median_ms=med / clock_hz * 1e3 if cycles_unit else None,
                      p95_ms=p95 / clock_hz * 1e3 if cycles_unit else None)
    cycles = None
    if cycles_unit:  # the board's own cycle counter: a measurement, not a model
        cycles = {"model": "measured (DWT cycle counter)", "low": med, "nominal": med, "high": med,
                  "ms": {k: med / clock_hz * 1e3 for k in ("low", "nominal", "high")}, "clock_hz": int(clock_hz)}
    n = len(records)
    labels = np.array([r.label for r in records]) if all(r.label is not None for r in records) else None

    def metrics(score, cls) -> dict:
        sc = np.array([score(r) for r in records]) if all(score(r) for r in records) else None
        return summarize(task, sc, labels, np.array([cls(r) for r in records]))

    m_dev = metrics(lambda r: r.score_device, lambda r: r.device_class)
    m_host = metrics(lambda r: r.score_host, lambda r: r.host_class)
    return ValidationResult(
        board=board, model_hash=model_hash, decode_mode=decode_mode, count=n,
        bit_exact=all(r.bit_exact for r in records), mismatches=sum(not r.bit_exact for r in records),
        accuracy_device=m_dev.get("top1"), accuracy_host=m_host.get("top1"),
        latency=latency, decode_ticks_median=float(np.median([r.decode_ticks for r in records])),
        seconds=seconds, link=link, records=records, cycles=cycles, task=task, metrics_device=m_dev,
        metrics_host=m_host, class_names=list(class_names))


def validate_model(board, graph: Graph, xs: np.ndarray, labels: np.ndarray | None, *, elf=None,
                   port: str | None = None, baud: int = 115200, run_timeout_s: float = 60.0,
                   on_sample=None, inputs_via: str = "auto", profile: bool = False,
                   model_c=None, want: np.ndarray | None = None, task: str = "auto",
                   class_names: tuple[str, ...] = ()) -> ValidationResult:
    """Validate `graph` on `board`: over `port` (a flashed real board) or in QEMU running `elf`
    (built by target/firmware.py). The device must report this graph's hash.  inputs_via: "serial"
    (the inputs go through the serial link, as to a real board), "semihosting" (QEMU only: the
    board reads them from a host file; results still come over serial, checked the same) or
    "auto" (semihosting where the firmware offers it, else serial).  profile: QEMU only, run
    with the cycle-profile plugin and fill `cycles` (model_c: the generated ilwp_model.c, for layer
    names). want: the golden outputs when computed before (else computed during the run).
    task, class_names: as validate()."""
    from ilwp_embedded.ingest.tflite_io import graph_hash
    from ilwp_embedded.run.link import open_link

    prof_run = None
    if profile and port is not None:
        raise IlwpError("--profile runs the firmware in QEMU under a plugin; a real board measures cycles itself")
    if port is not None:
        if inputs_via == "semihosting":
            raise IlwpError(f"inputs via {inputs_via} need QEMU; a board on a serial port gets them over serial")
        link = open_link(port, baud=baud)
    else:
        if not board.emulated:
            raise IlwpError(f"board {board.id} runs on hardware: flash it (ilwp-embed flash --board "
                            f"{board.id}) and give its serial port with --port")
        if elf is None:
            raise IlwpError("no firmware to run: build one (ilwp-embed build) or give --elf")
        if profile:
            from ilwp_embedded.cycles.profile import ProfiledRun

            prof_run = ProfiledRun(Path(elf), board)
        link = open_link(f"qemu:{board.id}", elf=elf, qemu_extra=prof_run.extra if prof_run else ())
    try:
        device = Device(link, run_timeout_s=run_timeout_s, inputs_via=inputs_via)
        device.connect(banner_timeout_s=getattr(link, "banner_timeout_s", 1.0))
        result = validate(device, graph, xs, labels, clock_hz=board.cpu_hz, expect_hash=graph_hash(graph),
                          on_sample=on_sample, want=want, task=task, class_names=class_names)
    finally:
        link.close()  # QEMU ends: the plugin's file holds every finished inference
    if prof_run is not None:
        result.cycles = prof_run.result(model_c)
    return result
