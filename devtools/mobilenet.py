# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""MobileNet v1 0.25 at 96x96x3 (Keras applications, random weights, 10 classes), full-integer
int8: the MobileNet-class model of the runtime flash target (issue #16), for tests and benches.

    path = mobilenet_v1_025(Path("build/mnv1.tflite"))  # written once, then reused
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHAPE = (96, 96, 3)


def mobilenet_v1_025(path: Path, seed: int = 0) -> Path:
    """The int8 .tflite at `path` (converted as `ilwp-embed convert` does, calibrated on 16
    random inputs); an existing file is kept."""
    path = Path(path)
    if path.is_file():
        return path
    from ilwp_embedded.ingest.convert import convert_to_int8, load_keras_or_savedmodel
    from ilwp_embedded.tfquiet import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = keras.applications.MobileNet(input_shape=SHAPE, alpha=0.25, weights=None, classes=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    src = path.with_suffix(".keras")
    model.save(src)
    converter, dims = load_keras_or_savedmodel(src)  # fixes the batch to 1
    cal = np.random.default_rng(seed).uniform(-1.0, 1.0, (16, 1) + tuple(dims)).astype(np.float32)
    data = convert_to_int8(converter, lambda: ([c] for c in cal), str(src))
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
