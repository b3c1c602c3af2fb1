# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The DSP (SMLAD) path on an emulated Cortex-M4: models and single ops, generated and built as
product firmware for qemu-m4 (QEMU mps2-an386, devtools/model_bench.py), equal TFLM bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from devtools.model_bench import bench_model
from helpers import data_dir, needs_qemu, needs_toolchain, tflm_outputs
from ilwp_embedded.ingest.tflite_io import read_tflite

RESNET = data_dir() / "models" / "mlperf_tiny" / "image_classification" / "pretrainedResnet_quant.tflite"
KWS = data_dir() / "models" / "mlperf_tiny" / "streaming_wakeword" / "str_ww_ref_model.tflite"
CIFAR = data_dir() / "datasets" / "cifar10_raw200.npz"

pytestmark = [pytest.mark.slow, needs_toolchain, needs_qemu]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One build folder for the module: PlatformIO recompiles only the generated model each time."""
    return tmp_path_factory.mktemp("kernels_qemu")


def _on_qemu(model: bytes, name: str, x: np.ndarray, work, **kw):
    """The bench result of `model` on input x; the board's output must equal TFLM's."""
    r = bench_model(read_tflite(model, name), x, "portable", work, **kw)
    gold = tflm_outputs(model, [x])[0].reshape(-1)
    np.testing.assert_array_equal(r.outputs[0], gold)
    return r


def test_resnet8_on_qemu_cortex_m4(work):
    if not (RESNET.exists() and CIFAR.exists()):
        pytest.skip("data not found (set ILWP_DATA_DIR)")
    with np.load(CIFAR) as d:
        x = (d["x"][3].astype(np.int16) - 128).astype(np.int8)[None]
    r = _on_qemu(RESNET.read_bytes(), RESNET.name, x, work)
    assert r.unit == "instructions" and r.elapsed > 0
    print(f"ResNet-8 on QEMU Cortex-M4: ~{r.elapsed / 1e6:.1f} M instructions per inference")


def test_kws_on_qemu_cortex_m4(work):
    if not KWS.exists():
        pytest.skip("data not found (set ILWP_DATA_DIR)")
    x = np.random.default_rng(77).integers(-128, 128, size=(1, 30, 1, 40), dtype=np.int8)
    r = _on_qemu(KWS.read_bytes(), KWS.name, x, work)
    print(f"KWS on QEMU Cortex-M4: ~{r.elapsed / 1e6:.2f} M instructions per inference")


def _qemu_specs():
    from helpers import SPECS
    return [s for s in SPECS if s["kind"] in ("conv", "dwconv", "dense")]


@pytest.mark.parametrize("spec", _qemu_specs(), ids=lambda s: f"{s['kind']}-{s['seed']}")
def test_single_op_on_qemu_cortex_m4(spec, work):
    """The real DSP instructions (and the conv's inline-assembly loop, which the host never runs) on
    every conv/depthwise/dense shape of test_kernels_ops: odd k, odd channel counts, groups, strides,
    dilation, padding, activations."""
    from helpers import build_single_op

    model, _ = build_single_op(spec)
    g = read_tflite(model, spec["kind"])
    x = np.random.default_rng(spec["seed"]).integers(-128, 128, size=g.tensor(g.inputs[0]).shape, dtype=np.int8)
    _on_qemu(model, spec["kind"], x, work)


def test_per_step_hook_times_every_layer(work):
    """bench_model(step_hook=True) (bench/firmware_layers.py): the generated model reports the timer
    after every step; the ends rise step by step up to the whole inference, and the outputs stay exact."""
    if not KWS.exists():
        pytest.skip("data not found (set ILWP_DATA_DIR)")
    x = np.random.default_rng(78).integers(-128, 128, size=(1, 30, 1, 40), dtype=np.int8)
    r = _on_qemu(KWS.read_bytes(), KWS.name, x, work, step_hook=True)
    ends = np.array(r.step_end[0])
    assert len(ends) == len(read_tflite(KWS.read_bytes(), KWS.name).operators)
    assert np.all(np.diff(ends) >= 0) and ends[0] > 0
    assert ends[-1] <= r.elapsed and ends[-1] > 0.99 * r.elapsed
