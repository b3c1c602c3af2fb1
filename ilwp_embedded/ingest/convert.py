"""Keras (.keras/.h5) or SavedModel -> full-integer int8 .tflite, with TensorFlow's converter."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.tfquiet import captured_fds, import_keras

# Real-valued pixel range the float model expects; "0:255" is the MLPerf Tiny convention.
INPUT_RANGES = {"0:255": (0.0, 1.0), "0:1": (0.0, 1.0 / 255.0), "-1:1": (-1.0, 2.0 / 255.0)}


def pixels_to_float(x_uint8: np.ndarray, input_range: str) -> np.ndarray:
    offset, scale = INPUT_RANGES[input_range]
    return (x_uint8.astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(np.float32)


def load_keras_or_savedmodel(path: Path):
    """Return (TFLiteConverter, keras model or None) for the model at `path`."""
    if not path.exists():
        raise IlwpError(f"model not found: {path}")
    if path.is_dir() and not (path / "saved_model.pb").is_file():
        raise IlwpError(f"{path} is a directory but not a SavedModel (no saved_model.pb)")
    if path.is_file() and path.suffix not in (".keras", ".h5", ".hdf5"):
        raise IlwpError(f"{path}: expected a Keras .keras/.h5 file or a SavedModel directory")
    keras = import_keras()
    import tensorflow as tf

    if path.is_dir():
        try:
            return tf.lite.TFLiteConverter.from_saved_model(str(path)), None
        except Exception as e:
            raise IlwpError(f"{path}: cannot load SavedModel ({type(e).__name__}: {_first_line(e)})") from None
    import ilwp_embedded.ingest.keras_layers  # noqa: F401  (registers the zoo's custom layers)

    try:
        with captured_fds():
            model = keras.models.load_model(str(path), compile=False)
    except Exception as e:
        raise IlwpError(f"{path}: cannot load Keras model ({type(e).__name__}: {_first_line(e)})") from None
    return tf.lite.TFLiteConverter.from_keras_model(model), model


def convert_to_int8(converter, representative: Callable[[], Iterator[list[np.ndarray]]], source: str) -> bytes:
    """Full-integer quantization: int8 weights and activations, int8 input and output."""
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # The converter prints pages of MLIR diagnostics; keep them off the terminal.
    try:
        with captured_fds():
            return converter.convert()
    except Exception as e:
        raise IlwpError(f"{source}: int8 conversion failed ({type(e).__name__}: {_first_line(e)})") from None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""
