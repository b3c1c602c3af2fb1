# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The board farm (run/farm.py) against a real labgrid: a coordinator in a temporary folder, an
exporter sharing three QEMU boards' consoles as NetworkSerialPort places (tags board=qemu-m4): two
on QEMU's TCP serial (raw), one a pty served by ser2net as rfc2217; everything on 127.0.0.1.  No
mocks: the places run the ResNet-8 firmware."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from helpers import assert_same_run, cifar, firmware, needs_qemu, needs_ser2net, needs_toolchain, resnet8
from helpers import ser2net_rfc2217
from conftest import REPO, RESNET8_INT8, assert_one_line_error, run_cli

pytest.importorskip("labgrid", reason="the 'farm' extra (labgrid) is not installed")

from ilwp_embedded.errors import IlwpError  # noqa: E402
from ilwp_embedded.run import farm  # noqa: E402
from ilwp_embedded.run.golden_cache import golden_outputs  # noqa: E402
from ilwp_embedded.run.validate import validate_model  # noqa: E402
from ilwp_embedded.target.boards import resolve_board  # noqa: E402
from ilwp_embedded.target.qemu import end_process, free_port, qemu_command, start_qemu_pty, tcp_serial_spec  # noqa: E402

pytestmark = [needs_toolchain, needs_qemu, needs_ser2net]
BIN = Path(sys.executable).parent
PLACES = ("qemu-a", "qemu-b", "qemu-pty")
PTY_PLACE = "qemu-pty"
TCP = {"board": "qemu-m4", "link": "tcp"}  # the two places on QEMU's TCP consoles

# The exporter reads its file as a Jinja2 template: a line starting with '#' is a syntax error
# there (a comment is {# ... #}).
def _exporter_yaml(ports: dict[str, int]) -> str:
    return "{# QEMU boards' consoles: TCP, and a pty behind ser2net (rfc2217) #}\n" + "".join(
        f"{n}:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {port}\n"
        f"    protocol: {'rfc2217' if n == PTY_PLACE else 'raw'}\n" for n, port in sorted(ports.items()))


def _pty_behind_ser2net(board, elf, tmp: Path, stack: ExitStack) -> int:
    """A QEMU whose console is a pty, served by ser2net as telnet rfc2217: its local port."""
    qemu = stack.enter_context(start_qemu_pty(board, elf))
    return int(stack.enter_context(ser2net_rfc2217(qemu.path, tmp)).rsplit(":", 1)[1])


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def coordinator(tmp_path_factory):
    """LG_COORDINATOR of a farm with three QEMU places, each running the ResNet-8 firmware."""
    tmp = tmp_path_factory.mktemp("labgrid")
    board = resolve_board("qemu-m4")
    elf = firmware("qemu-m4").elf
    procs: list[subprocess.Popen] = []
    with ExitStack() as stack:
        stack.callback(lambda: [end_process(p, grace_s=3.0) for p in reversed(procs)])
        ports = {PTY_PLACE: _pty_behind_ser2net(board, elf, tmp, stack)}
        for name in PLACES[:2]:
            ports[name] = free_port()
            procs.append(subprocess.Popen(qemu_command(board, Path(elf), tcp_serial_spec(ports[name]) + ",nodelay=on"),
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        # the places (tags, which exporter resource each matches) as the coordinator stores them
        (tmp / "places.yaml").write_text("".join(
            f"{n}:\n  tags: {{board: qemu-m4, serial: SN-{n}, link: {'rfc2217' if n == PTY_PLACE else 'tcp'}}}\n"
            "  matches:\n"
            f"  - {{exporter: farm-test, group: {n}, cls: NetworkSerialPort}}\n" for n in PLACES))
        cport = free_port()
        address = f"127.0.0.1:{cport}"
        procs.append(subprocess.Popen([str(BIN / "labgrid-coordinator"), "-l", address], cwd=tmp,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_port(cport, procs[-1], "labgrid-coordinator")
        (tmp / "exporter.yaml").write_text(_exporter_yaml(ports))
        procs.append(subprocess.Popen([str(BIN / "labgrid-exporter"), "-c", address, "-n", "farm-test",
                                       "--hostname", "127.0.0.1", str(tmp / "exporter.yaml")], cwd=tmp,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        f = farm.connect(address)  # both places' serial ports known to the coordinator
        deadline = time.monotonic() + 30
        while not all(f.place(n).name and _has_port(f, n) for n in PLACES):
            assert time.monotonic() < deadline, "the exporter's resources never reached the coordinator"
            time.sleep(0.2)
        yield address
        f.close()


def _has_port(f: farm.Farm, name: str) -> bool:
    return any(cls == "NetworkSerialPort" for groups in f.session.resources.values()
               for res in groups.get(name, {}).values() for cls in [res.cls])


def _env(address: str) -> dict:
    return {"LG_COORDINATOR": address}


def _idle(address: str) -> None:
    """Every place free and unreserved: what a run must leave behind."""
    f = farm.connect(address)
    for n in PLACES:
        p = f.place(n)
        assert p.acquired is None and p.reservation is None, (n, p.acquired, p.reservation)


def test_bit_exact_through_an_acquired_place_and_an_unacquired_one_refused(coordinator):
    p = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                "--limit", "4", "--port", "labgrid:qemu-b", env=_env(coordinator))
    assert_one_line_error(p, "qemu-b is not acquired", "labgrid-client -p qemu-b acquire")
    f = farm.connect(coordinator)
    f.acquire("qemu-a")
    try:
        url, place = farm.port_url("labgrid:qemu-a", coordinator)
        assert url.startswith("socket://127.0.0.1:") and place.serial == "SN-qemu-a"
        p = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                    "--limit", "6", "--port", "labgrid:qemu-a", "--json", env=_env(coordinator))
    finally:
        f.release("qemu-a")
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert d["count"] == 6 and d["bit_exact"] and d["board"] == "qemu-m4" and d["link"]["inputs_via"] == "serial"
    _idle(coordinator)


def test_labgrid_plus_names_the_place_of_a_reservation(coordinator, monkeypatch):
    f = farm.connect(coordinator)
    token = f.reserve({"name": "qemu-b"})
    try:
        deadline = time.monotonic() + 10
        while f.poll(token) != ("allocated", ["qemu-b"]):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        f.acquire("qemu-b")
        want = farm.port_url("labgrid:qemu-b", coordinator)[0]
        assert farm.port_url(f"labgrid:+{token}", coordinator)[0] == want
        monkeypatch.setenv("LG_TOKEN", token)  # as `labgrid-client reserve --shell` leaves it
        assert farm.port_url("labgrid:+", coordinator)[0] == want
    finally:
        f.cancel(token)
        f.release("qemu-b")
    _idle(coordinator)


def test_bit_exact_through_rfc2217_behind_ser2net(coordinator):
    """The pty place: ser2net's rfc2217, through whichever `serial` package is installed (pyserial
    3.5 or labgrid's pyserial-labgrid: run/link.py sets the port's timeout once)."""
    f = farm.connect(coordinator)
    f.acquire(PTY_PLACE)
    try:
        assert farm.port_url(f"labgrid:{PTY_PLACE}", coordinator)[0].startswith("rfc2217://127.0.0.1:")
        p = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                    "--limit", "3", "--port", f"labgrid:{PTY_PLACE}", "--json", env=_env(coordinator))
    finally:
        f.release(PTY_PLACE)
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert d["count"] == 3 and d["bit_exact"] and d["link"]["inputs_via"] == "serial"
    _idle(coordinator)


def test_two_reserved_units_merged_equal_one_place(coordinator, tmp_path):
    from ilwp_embedded import pipeline
    from ilwp_embedded.datasets import load_dataset

    g, _ = resnet8()
    board = resolve_board("qemu-m4")
    model = pipeline.load(RESNET8_INT8, compress=False)
    ds = load_dataset("cifar10-raw200").take(8)
    with farm.reserved(TCP, 1, address=coordinator) as (one,):
        single = validate_model(board, g, *cifar(8), port=one.url)
    os.environ["LG_COORDINATOR"] = coordinator
    try:
        merged = pipeline.validate_on_farm(board, model, ds, TCP, 2)
    finally:
        del os.environ["LG_COORDINATOR"]
    assert single.passed and merged.passed
    assert merged.count == 8
    assert_same_run(single, merged, tick=None)  # over serial: latencies not compared
    assert sorted((s["place"], s["serial"], s["start"], s["stop"]) for s in merged.shards) in (
        [("qemu-a", "SN-qemu-a", 0, 4), ("qemu-b", "SN-qemu-b", 4, 8)],
        [("qemu-a", "SN-qemu-a", 4, 8), ("qemu-b", "SN-qemu-b", 0, 4)])
    assert all(s["node"] == "127.0.0.1" for s in merged.shards)
    assert merged.link["bytes_sent"] >= 8 * 3072  # both links' counters, summed (each sent 4 inputs)
    _idle(coordinator)
    # the CLI: the same reservation, the shards in the JSON
    p = run_cli("validate", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "4",
                "--reserve", "board=qemu-m4,link=tcp", "--units", "2", "--prio", "1", "--json", env=_env(coordinator))
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert d["count"] == 4 and d["bit_exact"] and len(d["shards"]) == 2 and d["missing"] == 0
    _idle(coordinator)


# Another client (its own process: the coordinator takes one session per connection) waiting for
# qemu-a; it prints when its reservation gets the place.
WAITER = """
import sys, time
from ilwp_embedded.run import farm
f = farm.connect(sys.argv[1])
token = f.reserve({"name": "qemu-a"})
print(f.poll(token)[0], flush=True)
sys.stdin.readline()
while f.poll(token)[0] == "waiting":
    time.sleep(0.02)
print(time.time(), *f.poll(token)[1], flush=True)
f.cancel(token)
"""


def test_cancel_then_release_hands_a_place_over_at_once_also_on_ctrl_c(coordinator):
    waiter = subprocess.Popen([sys.executable, "-c", WAITER, coordinator], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        with pytest.raises(KeyboardInterrupt):
            with farm.reserved({"name": "qemu-a"}, 1, address=coordinator) as (held,):
                assert held.name == "qemu-a"
                assert waiter.stdout.readline().strip() == "waiting"
                waiter.stdin.write("go\n")
                waiter.stdin.flush()
                t0 = time.time()
                raise KeyboardInterrupt  # a user's Ctrl-C in the middle of a run
        at, place = waiter.stdout.readline().split()
        assert place == "qemu-a" and waiter.wait(timeout=10) == 0
    finally:
        end_process(waiter)
    # generous bound: released before being cancelled, the place would reach the waiter only at
    # the coordinator's next 15 s poll
    assert float(at) - t0 < 2.0, float(at) - t0
    _idle(coordinator)


def test_farm_refusals_are_one_line(coordinator):
    for args, needle in (
            (("--reserve", "board"), "expected KEY=VALUE"),
            (("--reserve", "board=qemu-m4", "--units", "0"), "--units must be positive"),
            (("--units", "2"), "go with --reserve"),
            (("--reserve", "board=qemu-m4", "--shards", "2"), "not with --port, --elf, --cluster or --shards")):
        p = run_cli("validate", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "2", *args,
                    env=_env(coordinator))
        assert_one_line_error(p, needle)
    p = run_cli("validate", "--board", "qemu-m4", "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                "--limit", "2", "--port", "labgrid:qemu-a", env=_env("127.0.0.1:9"))
    assert_one_line_error(p, "no labgrid coordinator at 127.0.0.1:9")
    with farm.reserved(TCP, 1, address=coordinator) as (place,):
        with pytest.raises(IlwpError, match="names no OpenOCD config"):
            farm.flash(place, resolve_board("qemu-m4"), firmware("qemu-m4").elf, coordinator)
        with pytest.raises(IlwpError, match="no debug probe"):
            farm.flash(place, resolve_board("nucleo-f746zg"), firmware("qemu-m4").elf, coordinator)
    _idle(coordinator)
