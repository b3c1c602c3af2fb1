# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""TensorFlow without its terminal noise: its C++/absl logging bypasses Python's streams."""

from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def captured_fds():
    """Send fds 1 and 2 to a temp file for the duration; yields the file so a failure can quote it."""
    with tempfile.TemporaryFile(mode="w+b") as log:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield log
        finally:
            for fd, orig in zip((1, 2), saved):
                os.dup2(orig, fd)
                os.close(orig)


def import_keras():
    """Import TensorFlow and Keras quietly; returns the keras module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with captured_fds():
        import keras
        import tensorflow  # noqa: F401
    return keras
