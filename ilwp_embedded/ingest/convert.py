# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Keras (.keras/.h5) or SavedModel -> full-integer int8 .tflite, with TensorFlow's converter.

The model is traced with a batch of exactly 1: an open batch dimension makes the converter emit
SHAPE/STRIDED_SLICE/PACK around every Flatten/Reshape, which no microcontroller kernel runs."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ilwp_embedded.errors import IlwpError, cause
from ilwp_embedded.tfquiet import captured_fds, import_keras

# Real-valued pixel range the float model expects; "0:255" is the MLPerf Tiny convention.
INPUT_RANGES = {"0:255": (0.0, 1.0), "0:1": (0.0, 1.0 / 255.0), "-1:1": (-1.0, 2.0 / 255.0)}

# Arguments every Keras 3 layer takes besides its __init__'s own (keras Layer's **kwargs).
_LAYER_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size", "weights", "implementation"}


def pixels_to_float(x_uint8: np.ndarray, input_range: str) -> np.ndarray:
    offset, scale = INPUT_RANGES[input_range]
    return (x_uint8.astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(np.float32)


def load_keras_or_savedmodel(path: Path):
    """Return (TFLiteConverter for a batch of 1, input shape without the batch) for `path`."""
    if not path.exists():
        raise IlwpError(f"model not found: {path}")
    if path.is_dir() and not (path / "saved_model.pb").is_file():
        raise IlwpError(f"{path} is a directory but not a SavedModel (no saved_model.pb)")
    if path.is_file() and path.suffix not in (".keras", ".h5", ".hdf5"):
        raise IlwpError(f"{path}: expected a Keras .keras/.h5 file or a SavedModel directory")
    keras = import_keras()
    if path.is_dir():
        return _from_saved_model(path)
    import ilwp_embedded.ingest.keras_layers  # noqa: F401  (registers the zoo's custom layers)

    custom = _keras2_compat(keras, path) if path.suffix in (".h5", ".hdf5") else {}
    try:
        with captured_fds():
            model = keras.models.load_model(str(path), compile=False, custom_objects=custom)
    except Exception as e:
        raise IlwpError(f"{path}: cannot load Keras model ({cause(e)})") from None
    if len(model.inputs) != 1:
        raise IlwpError(f"{path}: models with {len(model.inputs)} inputs are not supported")
    dims = _known_dims(path, tuple(model.inputs[0].shape))
    import tensorflow as tf

    # The same layers behind an input of batch 1 (the converter freezes a Keras model's variables,
    # not those of a traced function's).
    one = keras.Input(batch_shape=(1,) + dims, dtype=model.inputs[0].dtype)
    return tf.lite.TFLiteConverter.from_keras_model(keras.Model(one, model(one))), dims


def _known_dims(path: Path, shape: tuple) -> tuple[int, ...]:
    dims = tuple(shape[1:])
    if any(d is None for d in dims):
        raise IlwpError(f"{path}: input shape {tuple(shape)} has unknown dimensions")
    return tuple(int(d) for d in dims)


def _keras2_compat(keras, path: Path) -> dict:
    """Keras 3 refuses config keys that Keras 2 wrote and it no longer takes (DepthwiseConv2D's and
    Conv2DTranspose's `groups`, SeparableConv2D's kernel_*): each such layer class is replaced, for
    loading only, by one whose from_config drops the keys its constructor does not know."""
    try:
        import h5py

        with h5py.File(path, "r") as f:
            text = f.attrs.get("model_config")
    except Exception:
        return {}  # not a Keras 2 HDF5 model: load_model says what is wrong
    if text is None:
        return {}
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("class_name"), str):
                names.add(node["class_name"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(text.decode() if isinstance(text, bytes) else text))
    custom = {}
    for name in names:
        base = getattr(keras.layers, name, None)
        if not (isinstance(base, type) and issubclass(base, keras.layers.Layer)) or name == "InputLayer":
            continue
        known = set(_LAYER_KWARGS)
        for cls in inspect.getmro(base):
            if "__init__" in vars(cls):
                known |= set(inspect.signature(cls.__init__).parameters)
        custom[name] = type(name, (base,), {"from_config": classmethod(
            lambda cls, config, base=base, known=frozenset(known):
                base.from_config({k: v for k, v in config.items() if k in known}))})
    return custom


def _from_saved_model(path: Path):
    """A SavedModel's serving signature traced for a batch of 1; an older SavedModel that the
    object loader cannot rebuild (e.g. '_UserObject' object has no attribute 'add_slot': a Keras 2
    optimizer) goes through TensorFlow's graph (v1) loader, which reads only the signature."""
    import tensorflow as tf

    try:
        with captured_fds():
            loaded = tf.saved_model.load(str(path))
        sig = loaded.signatures.get("serving_default")
        if sig is None:
            raise IlwpError(f"{path}: SavedModel has no serving_default signature")
    except IlwpError:
        raise
    except Exception as e:
        return _from_saved_model_v1(path, cause(e))
    specs = sig.structured_input_signature[1]
    if len(specs) != 1:
        raise IlwpError(f"{path}: models with {len(specs)} inputs are not supported")
    (name, spec), = specs.items()
    dims = _known_dims(path, tuple(spec.shape))
    outputs = list(sig.structured_outputs)
    if len(outputs) != 1:
        raise IlwpError(f"{path}: models with {len(outputs)} outputs are not supported")
    fn = tf.function(lambda x: sig(**{name: x})[outputs[0]]).get_concrete_function(
        tf.TensorSpec((1,) + dims, spec.dtype))
    return tf.lite.TFLiteConverter.from_concrete_functions([fn], loaded), dims


def _from_saved_model_v1(path: Path, first_failure: str):
    import tensorflow as tf

    advice = ("re-export it with a current TensorFlow (`model.export(dir)` in Keras 3, "
              "`tf.saved_model.save`) or convert its .h5/.keras file instead")
    try:
        from tensorflow.python.tools import saved_model_utils

        with captured_fds():
            sig = saved_model_utils.get_meta_graph_def(str(path), "serve").signature_def["serving_default"]
            if len(sig.inputs) != 1:
                raise IlwpError(f"{path}: models with {len(sig.inputs)} inputs are not supported")
            (info,) = sig.inputs.values()
            dims = _known_dims(path, tuple(None if d.size < 0 else d.size for d in info.tensor_shape.dim))
            conv = tf.compat.v1.lite.TFLiteConverter.from_saved_model(
                str(path), input_shapes={info.name.split(":")[0]: [1, *dims]}, signature_key="serving_default")
    except IlwpError:
        raise
    except Exception as e:
        raise IlwpError(f"{path}: cannot load SavedModel ({first_failure}); the graph loader failed too "
                        f"({cause(e)}): {advice}") from None
    return conv, dims


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
        raise IlwpError(f"{source}: int8 conversion failed ({cause(e)})") from None
