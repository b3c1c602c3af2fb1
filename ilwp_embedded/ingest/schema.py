# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The TFLite flatbuffers schema: the generated Python shipped inside the tflite-micro package.

One import site, so the rest of the project never depends on where the generated module lives.
"""

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

# Enum value -> name tables, built once from the generated classes.
def _names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


BUILTIN_OP_NAMES = _names(fb.BuiltinOperator)
TENSOR_TYPE_NAMES = _names(fb.TensorType)
OPTIONS_TYPE_NAMES = _names(fb.BuiltinOptions)
PADDING_NAMES = _names(fb.Padding)
ACTIVATION_NAMES = _names(fb.ActivationFunctionType)

NUMPY_DTYPES = {
    "FLOAT32": "float32", "FLOAT16": "float16", "FLOAT64": "float64",
    "INT8": "int8", "UINT8": "uint8", "INT16": "int16", "UINT16": "uint16",
    "INT32": "int32", "UINT32": "uint32", "INT64": "int64", "UINT64": "uint64", "BOOL": "bool",
}
