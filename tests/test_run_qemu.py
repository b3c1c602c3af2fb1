# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The inference firmware in QEMU: ResNet-8 on real CIFAR images bit-exact against the golden
model, through a faulty link, and the failures (hang, fault, corrupt blob) reported clearly."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest
from helpers import ALL_BOARDS, QEMU_BOARDS, needs_qemu, needs_toolchain
from helpers import cifar, firmware, resnet8
from conftest import REPO, RESNET8_INT8, RESNET8_LARGE_INT8, assert_one_line_error, run_cli

from ilwp_embedded.target.boards import resolve_board
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.golden import Golden
from ilwp_embedded.run import framing as P
from ilwp_embedded.run.hello import parse_hello
from ilwp_embedded.run.fault_proxy import FaultProxy
from ilwp_embedded.run.link import QemuLink, open_link
from ilwp_embedded.run.session import Device, DeviceError
from ilwp_embedded.run.validate import validate

pytestmark = [needs_toolchain, needs_qemu]


def _device(board_id: str, variant: str = "test", proxy=None, **kw) -> tuple[QemuLink, Device]:
    link = QemuLink(resolve_board(board_id), firmware(board_id, variant).elf, proxy=proxy)
    dev = Device(link, **kw)
    dev.connect()
    return link, dev


def test_validate_resnet8_20_cifar_images_bit_exact_on_qemu_m4():
    g, gen = resnet8()
    xs, ys = cifar(20)
    link, dev = _device("qemu-m4")
    with link:
        assert dev.hello_info.model_hash == gen.model_hash and dev.hello_info.init_ok
        assert dev.hello_info.timer_unit == "instructions" and dev.hello_info.board == "qemu-m4"
        r = validate(dev, g, xs, ys, clock_hz=resolve_board("qemu-m4").cpu_hz, expect_hash=gen.model_hash)
    assert r.count == 20 and r.bit_exact and r.mismatches == 0
    assert r.accuracy_device == r.accuracy_host > 0.5
    assert r.latency.unit == "instructions"
    # two inputs in flight: the host streamed the next image during every run but the last (how
    # much arrived during each run depends on host timing; only the last is sure to get nothing)
    assert dev.stats.ahead_bytes == 19 * 3072 and r.records[-1].rx_in_run == 0
    assert 10e6 < r.latency.median < 200e6
    print(r.one_line())


def test_streamed_runs_of_one_image_agree():
    """One image run 6 times, the next copy streaming in during each run but the last: the same
    output every time, and no run with bytes received costs less than the one without (to one
    40-instruction tick; how many bytes come during a run depends on host timing, so no more)."""
    xs, _ = cifar(1)
    link, dev = _device("qemu-m4")
    with link:
        runs = list(dev.infer_many([xs[0]] * 6))
    assert all(np.array_equal(r.output, runs[0].output) for r in runs)
    assert runs[-1].rx_in_run == 0 and dev.stats.ahead_bytes == 5 * 3072
    assert all(r.elapsed >= runs[-1].elapsed - 40 for r in runs), [(r.elapsed, r.rx_in_run) for r in runs]


def test_receive_interrupt_costs_a_fixed_count_per_byte():
    """TEST 5: the firmware calls its receive handler k times itself (interrupts masked, the
    ring's state restored), then an empty function in the same loop: (handler - empty) / k + 1
    (the empty function's return) is the handler's instructions per byte, whatever the host's
    timing.  Each reading is whole SysTick ticks (40 instructions): the error is below 80 / k."""
    g, _ = resnet8()
    xs, _ = cifar(1)
    link, dev = _device("qemu-m4")
    with link:
        per_byte = {}
        for k in (1000, 4000):
            handler, empty = dev.rx_handler_units(k)
            assert handler > empty > 0
            per_byte[k] = (handler - empty) / k + 1
        # the protocol goes on undisturbed: the ring's bytes and count are as before
        assert dev.echo(b"after") == b"after"
        out, _, _, _ = dev.infer(xs[0])
        np.testing.assert_array_equal(out, Golden(g).run(xs[0]).reshape(-1))
    c = round(per_byte[4000])
    assert abs(per_byte[4000] - c) < 80 / 4000 and abs(per_byte[1000] - c) < 80 / 1000, per_byte
    # within 1.2x of what docs/serial-protocol.md states ("a fixed count per byte: N instructions on qemu-m4")
    documented = re.search(r"fixed count per byte: (\d+) instructions on qemu-m4",
                           " ".join((REPO / "docs" / "serial-protocol.md").read_text().split()))
    assert documented, "docs/serial-protocol.md no longer states the receive interrupt's count"
    assert 0 < c <= 1.2 * int(documented.group(1)), (c, documented.group(0))
    print(f"receive interrupt: {c} instructions per byte ({per_byte})")


def test_validate_on_qemu_stm32f4():
    g, gen = resnet8()
    xs, ys = cifar(4)
    link, dev = _device("qemu-stm32f4")
    with link:
        r = validate(dev, g, xs, ys, clock_hz=resolve_board("qemu-stm32f4").cpu_hz, expect_hash=gen.model_hash)
    assert r.bit_exact and r.count == 4 and r.board == "qemu-stm32f4"
    # every byte came through the USART1 receive interrupt (NVIC 37) and its ring; how many came
    # during each run depends on host timing, but the last run had nothing left to receive
    assert dev.stats.ahead_bytes == 3 * 3072 and r.records[-1].rx_in_run == 0, r.records


def test_full_receive_ring_holds_input_back_and_loses_nothing():
    """Three images' INPUT frames (9.4 KB) sent during a run into a 256-byte ring: the interrupt
    masks itself when the ring is full, QEMU keeps the rest, every chunk is stored and ACKed."""
    xs, _ = cifar(2)
    link, dev = _device("qemu-m4", "smallring")
    with link:
        assert dev.hello_info.rx_buffer == 256
        dev.send_input(xs[0])
        seq = dev._next_seq()
        link.write(P.encode_frame(P.RUN, seq, struct.pack("<I", P.crc32(xs[0].tobytes()))))
        data = xs[1].tobytes()
        sent = []
        for _ in range(3):
            for off in range(0, len(data), 1024):
                s = dev._next_seq()
                link.write(P.encode_frame(P.INPUT, s, struct.pack("<I", off) + data[off:off + 1024]))
                sent.append((s, off + 1024))
        got = {}
        while len(got) < 2 + len(sent):
            f = dev.read_frame(30.0)
            assert f is not None, got
            got[(f.seq, f.type)] = f
        assert (seq, P.ACK) in got and (seq, P.OUTPUT) in got
        out = got[(seq, P.OUTPUT)].payload
        assert struct.unpack_from("<I", out, 16)[0] == P.crc32(xs[0].tobytes())
        assert struct.unpack_from("<I", out, 20)[0] <= 256  # the ring fills, then the bytes wait
        assert [struct.unpack("<I", got[(s, P.ACK)].payload)[0] for s, _ in sent] == [end for _, end in sent]
        # and the device still answers: the last copy of image 1 is complete and runs
        out1, _, _, _ = dev.infer(xs[1])
        np.testing.assert_array_equal(out1, Golden(resnet8()[0]).run(xs[1]).reshape(-1))


def test_run_resend_is_answered_from_the_cache_after_the_next_input_streamed_in():
    """v2: a RUN resend (same seq and input CRC) gets the cached OUTPUT even after INPUT of the
    next image; a RUN naming another input than the one held is refused, never run."""
    xs, _ = cifar(2)
    link, dev = _device("qemu-m4")
    with link:
        c0, c1 = P.crc32(xs[0].tobytes()), P.crc32(xs[1].tobytes())
        dev.send_input(xs[0])
        first = dev.run(c0)
        dev.send_input(xs[1])  # the device now holds image 1
        link.write(P.encode_frame(P.RUN, first.seq, struct.pack("<I", c0)))
        again = dev.read_frame(5.0)
        assert again == first  # same seq, same payload: not run twice (elapsed and all)
        with pytest.raises(DeviceError, match="input held is not the one named"):
            dev.run(c0)
        out = dev.run(c1)
        assert struct.unpack_from("<I", out.payload, 16)[0] == c1


def test_kws_model_bit_exact_on_qemu_m4(tmp_path):
    """Another model (1200-byte input: two INPUT chunks, 3 outputs) through the same firmware."""
    from conftest import KWS_INT8

    from ilwp_embedded import pipeline

    board = resolve_board("qemu-m4")
    model = pipeline.load(KWS_INT8, compress=False)
    fw = pipeline.build(board, model, tmp_path, decode="raw")
    g = model.graph
    xs = np.random.default_rng(3).integers(-128, 128, (3,) + g.tensors[g.inputs[0]].shape[1:]).astype(np.int8)
    with QemuLink(board, fw.elf) as link:
        dev = Device(link)
        assert dev.connect().input_bytes == 1200
        r = validate(dev, g, xs, np.zeros(3, int), clock_hz=25_000_000, expect_hash=fw.model_hash)
    assert r.bit_exact and r.count == 3


@pytest.mark.parametrize("board_id", ["qemu-m4", "qemu-stm32f4"])
def test_inputs_by_semihosting_bit_exact_and_exactly_repeatable(board_id):
    """inputs_via auto in QEMU: the board reads each input from a host file (semihosting); RUN's
    CRC check and the OUTPUT frames over serial are unchanged.  Nothing arrives during a run, so
    the instruction counts are the model's alone."""
    g, gen = resnet8()
    xs, ys = cifar(6)
    board = resolve_board(board_id)
    with QemuLink(board, firmware(board_id).elf) as link:
        dev = Device(link, inputs_via="auto")
        assert dev.connect().file_inputs and dev.resolved_inputs_via() == "semihosting"
        r = validate(dev, g, xs, ys, clock_hz=board.cpu_hz, expect_hash=gen.model_hash)
        assert r.bit_exact and r.count == 6 and r.link["inputs_via"] == "semihosting"
        assert r.link["bytes_sent"] < 6 * 200  # small frames only: no input went over serial
        assert all(rec.rx_in_run == 0 for rec in r.records)
        assert r.latency.max - r.latency.min < 0.001 * r.latency.median
        # a missing file, a read past its end: refused, never run, and the link goes on
        with pytest.raises(DeviceError, match="semihosting file read failed.*detail -2"):
            dev.load_from_file(str(link.host_dir / "none.bin").encode(), 0)
        with pytest.raises(DeviceError, match="semihosting file read failed.*detail -4"):
            dev.load_from_file(str(link.host_dir / "inputs.bin").encode(), 5 * gen.input_bytes + 1)
        with pytest.raises(DeviceError, match="input incomplete"):
            dev.run(P.crc32(xs[0].tobytes()))
        # and infer() still uploads over serial in the same session
        np.testing.assert_array_equal(dev.infer(xs[0])[0], Golden(g).run(xs[0]).reshape(-1))


def test_inputs_by_semihosting_need_qemu():
    with open_link("loop://") as link:
        dev = Device(link, inputs_via="semihosting")
        dev.hello_info = parse_hello(bytes([2, 0]) + struct.pack("<iIIHIII", 0, 4, 1, 1028, 10**9, 0, 4096)
                                       + b"\x01b\x01u\x01h\x01r")
        assert not dev.hello_info.file_inputs
        with pytest.raises(IlwpError, match="cannot read inputs from host files"):
            next(dev.infer_many([np.zeros(4, np.int8)]))
        auto = Device(link, inputs_via="auto")
        auto.hello_info = dev.hello_info
        assert auto.resolved_inputs_via() == "serial"  # no host_dir on a serial link
    with pytest.raises(IlwpError, match="inputs via 'usb'"):
        Device(None, inputs_via="usb")


def test_faulty_link_gives_only_correct_results():
    g, _ = resnet8()
    xs, _ = cifar(2)
    golden = Golden(g)
    proxy = FaultProxy(drop=0.0035, dup=0.0035, flip=0.0035, seed=7)  # ~1% of bytes damaged
    link, dev = _device("qemu-m4", proxy=proxy, timeout_s=0.2, chunk_bytes=128)
    with link:
        for x in xs:
            out, _, _, _ = dev.infer(x)
            np.testing.assert_array_equal(out, golden.run(x).reshape(-1))
    assert proxy.counts["drop"] + proxy.counts["dup"] + proxy.counts["flip"] > 10, proxy.counts
    assert dev.stats.retries > 0, dev.stats
    print(proxy.counts, dev.stats)


def test_faulty_link_with_two_inputs_in_flight_gives_only_correct_results():
    """infer_many streams the next image during each run: damage to those chunks, to RUNs and to
    their answers falls back to the checked paths, and every result is the golden one."""
    g, _ = resnet8()
    xs, _ = cifar(3)
    golden = Golden(g)
    proxy = FaultProxy(drop=0.002, dup=0.002, flip=0.002, seed=11)  # ~0.6% of bytes damaged
    link, dev = _device("qemu-m4", proxy=proxy, timeout_s=0.3, chunk_bytes=256)
    with link:
        runs = list(dev.infer_many(xs))
    for x, r in zip(xs, runs):
        np.testing.assert_array_equal(r.output, golden.run(x).reshape(-1))
    assert len(runs) == len(xs) and dev.stats.ahead_bytes > 0
    assert proxy.counts["drop"] + proxy.counts["dup"] + proxy.counts["flip"] > 10, proxy.counts
    print(proxy.counts, dev.stats)


def test_very_faulty_link_fails_loudly_never_wrong():
    g, _ = resnet8()
    xs, _ = cifar(1)
    golden = Golden(g)
    proxy = FaultProxy(drop=0.03, dup=0.03, flip=0.03, seed=3)
    link = QemuLink(resolve_board("qemu-m4"), firmware("qemu-m4").elf, proxy=proxy)
    with link:
        dev = Device(link, timeout_s=0.2, retries=3)
        try:
            dev.connect(banner_timeout_s=2)
            runs = list(dev.infer_many([xs[0], xs[0]]))  # also through the streamed-ahead path
        except IlwpError as e:
            # gave up after its bounded attempts (how soon in wall time depends on the host)
            assert "no valid answer" in str(e) and "after 4 attempts" in str(e), e
        else:
            for r in runs:
                np.testing.assert_array_equal(r.output, golden.run(xs[0]).reshape(-1))


def test_hung_firmware_is_detected():
    link, dev = _device("qemu-m4", timeout_s=0.5)
    with link:
        assert dev.echo(b"alive") == b"alive"
        timeouts = dev.stats.timeouts
        with pytest.raises(IlwpError, match="hung or not answering"):
            dev.test(P.TEST_HANG)
        with pytest.raises(IlwpError, match=r"no valid answer to HELLO_REQ after 2 attempts \(timeout 0.5 s\)"):
            dev.request(P.HELLO_REQ, b"", (P.HELLO,), retries=1)
        assert dev.stats.timeouts - timeouts == 3  # one wait of 0.5 s per attempt, no more


def test_firmware_hanging_in_a_run_is_detected_without_a_long_wait():
    xs, _ = cifar(2)
    link, dev = _device("qemu-m4", run_timeout_s=600)
    with link:
        dev.infer(xs[0])  # the first run sets the expected run time
        dev.test(P.TEST_HANG_IN_RUN)
        with pytest.raises(IlwpError, match="no valid answer to RUN.*hung or not answering") as e:
            dev.infer(xs[1])
        # the wait was set from the first run (10x it, at least 5 s), not the 600 s given
        wait = float(re.search(r"run timeout ([0-9.e+]+) s", str(e.value)).group(1))
        assert 5 <= wait < 600, e.value


def test_crashed_firmware_is_detected():
    link, dev = _device("qemu-m4", timeout_s=2.0)
    with link:
        with pytest.raises(IlwpError, match="exited with status 250 .*fault"):
            dev.test(P.TEST_FAULT)
    link2, dev2 = _device("qemu-m4", timeout_s=2.0)
    with link2:
        with pytest.raises(IlwpError, match="exited with status 7"):
            dev2.test(P.TEST_EXIT, 7)


def test_corrupt_blob_is_refused_before_inference():
    xs, ys = cifar(1)
    link, dev = _device("qemu-m4", "badblob")
    with link:
        h = dev.hello_info
        assert h.init_status == -50 and not h.init_ok and "blob" in h.init_problem()
        with pytest.raises(IlwpError, match="refuses to run.*-50"):
            dev.infer(xs[0])
        # the firmware itself refuses, too
        with pytest.raises(DeviceError, match="model init failed.*detail -50"):
            dev.request(P.RUN, b"", (P.OUTPUT,))
        with pytest.raises(DeviceError, match="model init failed"):
            dev.request(P.INPUT, bytes(8), (P.ACK,))


def test_cli_validate_json_and_errors(tmp_path):
    elf = firmware("qemu-m4").elf
    r = run_cli("validate", "--board", "qemu-m4", "--elf", elf, "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                "--limit", "3", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["count"] == 3 and d["bit_exact"] is True and d["link"]["inputs_via"] == "semihosting"  # auto
    assert {"accuracy_device", "accuracy_host"} <= d.keys()
    assert d["latency"]["unit"] == "instructions" and d["latency"]["median"] > 0 and d["latency"]["p95"] > 0
    r = run_cli("validate", "--board", "qemu-m4", "--elf", elf, "--model", RESNET8_INT8, "--dataset", "cifar10-raw200",
                "--limit", "3", "--json", "--inputs-via", "serial")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["bit_exact"] is True and d["link"]["inputs_via"] == "serial" and d["link"]["ahead_bytes"] == 2 * 3072
    bad = run_cli("validate", "--board", "qemu-m4", "--elf", firmware("qemu-m4", "badblob").elf,
                  "--model", RESNET8_INT8, "--dataset", "cifar10-raw200", "--limit", "2", timeout=60)
    # the device reports which model it runs: another model's firmware is refused
    assert_one_line_error(run_cli("validate", "--board", "qemu-m4", "--elf", elf, "--model", RESNET8_LARGE_INT8,
                                  "--dataset", "cifar10-raw200", "--limit", "1"), "runs model")
    assert_one_line_error(bad, "refuses to run", "-50")
    assert_one_line_error(run_cli("validate", "--board", "qemu-m4", "--elf", tmp_path / "none.elf",
                                  "--dataset", "cifar10-raw200"), "firmware not found")
    assert_one_line_error(run_cli("validate", "--board", "nucleo-f401re", "--dataset", "cifar10-raw200"),
                          "--port")
    assert_one_line_error(run_cli("validate", "--board", "qemu-m4", "--port", "/dev/ttyNONE9",
                                  "--dataset", "cifar10-raw200", "--limit", "1"), "cannot open serial port")
    assert_one_line_error(run_cli("validate", "--board", "qemu-m4", "--port", "/dev/ttyNONE9", "--inputs-via",
                                  "semihosting", "--dataset", "cifar10-raw200", "--limit", "1"), "need QEMU")
    f = run_cli("flash", "--board", "qemu-m4")
    assert f.returncode == 0 and "nothing to flash" in f.stdout
    # a real board: the firmware builds, the upload needs the board's drive
    assert_one_line_error(run_cli("flash", "--board", "nucleo-f401re", "--build-dir", tmp_path / "fl"),
                          "upload to nucleo-f401re failed", "upload_port")


@pytest.mark.parametrize("board_id", [b for b in ALL_BOARDS if b not in QEMU_BOARDS])
def test_firmware_builds_for_hardware_boards(board_id):
    r = firmware(board_id)
    assert r.elf.is_file() and r.flash_bytes > 80_000 and r.ram_bytes > 49152


def test_open_link_urls():
    with pytest.raises(IlwpError, match="needs the firmware"):
        open_link("qemu:qemu-m4")
    with pytest.raises(IlwpError, match="not emulated"):
        open_link("qemu:nucleo-f401re", elf="x.elf")
    with open_link("loop://") as link:  # pyserial's loopback: our own frames come back
        link.write(P.encode_frame(P.ECHO, 3, b"x"))
        dev = Device(link)
        assert dev.read_frame(1.0) == P.Frame(P.ECHO, 3, b"x")
