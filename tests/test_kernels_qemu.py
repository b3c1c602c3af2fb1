# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The DSP (SMLAD) path on an emulated Cortex-M4: ResNet-8 through QEMU mps2-an386 equals TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import data_dir, tflm_outputs
from qemu_bench import INSTR_PER_TICK, available, build_and_run

RESNET = data_dir() / "models" / "mlperf_tiny" / "image_classification" / "pretrainedResnet_quant.tflite"
KWS = data_dir() / "models" / "mlperf_tiny" / "streaming_wakeword" / "str_ww_ref_model.tflite"
CIFAR = data_dir() / "datasets" / "cifar10_raw200.npz"


@pytest.mark.slow
def test_resnet8_on_qemu_cortex_m4(tmp_path):
    if not available():
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    if not (RESNET.exists() and CIFAR.exists()):
        pytest.skip("data not found (set ILWP_DATA_DIR)")
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model = RESNET.read_bytes()
    graph = read_tflite(model, RESNET.name)
    with np.load(CIFAR) as d:
        x = (d["x"][3].astype(np.int16) - 128).astype(np.int8)[None]
    res = build_and_run(graph, x, tmp_path)
    assert res["rc"] == 0, res["log"][-2000:]
    gold = tflm_outputs(model, [x])[0].reshape(-1)
    np.testing.assert_array_equal(res["out"], gold)
    # SysTick calibration: a 100k-iteration volatile countdown loop is a few instructions per pass.
    assert res["calib"] and 2 * 100000 <= res["calib"] * INSTR_PER_TICK <= 12 * 100000
    total = sum(res["ticks"]) * INSTR_PER_TICK
    print(f"ResNet-8 on QEMU Cortex-M4: ~{total / 1e6:.1f} M instructions per inference")


@pytest.mark.slow
def test_kws_on_qemu_cortex_m4(tmp_path):
    if not available():
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    if not KWS.exists():
        pytest.skip("data not found (set ILWP_DATA_DIR)")
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model = KWS.read_bytes()
    graph = read_tflite(model, KWS.name)
    x = np.random.default_rng(77).integers(-128, 128, size=(1, 30, 1, 40), dtype=np.int8)
    res = build_and_run(graph, x, tmp_path)
    assert res["rc"] == 0, res["log"][-2000:]
    np.testing.assert_array_equal(res["out"], tflm_outputs(model, [x])[0].reshape(-1))
    total = sum(res["ticks"]) * INSTR_PER_TICK
    print(f"KWS on QEMU Cortex-M4: ~{total / 1e6:.2f} M instructions per inference")


def _qemu_specs():
    from helpers import SPECS
    return [s for s in SPECS if s["kind"] in ("conv", "dwconv", "dense")]  # one input (what qemu_bench feeds)


@pytest.mark.slow
@pytest.mark.parametrize("spec", _qemu_specs(), ids=lambda s: f"{s['kind']}-{s['seed']}")
def test_single_op_on_qemu_cortex_m4(spec, tmp_path):
    """The real DSP instructions (and the conv's inline-assembly loop, which the host never runs) on
    every conv/depthwise/dense shape of test_kernels_ops: odd k, odd channel counts, groups, strides,
    dilation, padding, activations."""
    if not available():
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    from helpers import build_single_op
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model, _ = build_single_op(spec)
    graph = read_tflite(model, spec["kind"])
    x = np.random.default_rng(spec["seed"]).integers(-128, 128, size=graph.tensor(graph.inputs[0]).shape,
                                                      dtype=np.int8)
    res = build_and_run(graph, x, tmp_path)
    assert res["rc"] == 0, res["log"][-2000:]
    np.testing.assert_array_equal(res["out"], tflm_outputs(model, [x])[0].reshape(-1))


@pytest.mark.slow
def test_per_step_hook_times_every_layer(tmp_path):
    """bench_model(step_hook=True) (bench/firmware_layers.py): the generated model reports the timer
    after every step; the ends rise step by step up to the whole inference, and the outputs stay exact."""
    if not available():
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    from devtools.model_bench import bench_model
    from ilwp_embedded.ingest.tflite_io import read_tflite

    model = KWS.read_bytes()
    graph = read_tflite(model, KWS.name)
    x = np.random.default_rng(78).integers(-128, 128, size=(1, 30, 1, 40), dtype=np.int8)
    r = bench_model(graph, x, "portable", tmp_path, step_hook=True)
    np.testing.assert_array_equal(r.outputs[0], tflm_outputs(model, [x])[0].reshape(-1))
    ends = np.array(r.step_end[0])
    assert len(ends) == len(graph.operators) and np.all(np.diff(ends) >= 0) and ends[0] > 0
    assert ends[-1] <= r.elapsed and ends[-1] > 0.99 * r.elapsed
