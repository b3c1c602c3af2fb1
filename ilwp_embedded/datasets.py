# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Datasets by name, from a data directory (flag or $ILWP_DATA_DIR), with Keras' download as fallback.

Names: `cifar10` (the lossless CIFAR-10, original pixels, split test|train), `cifar10-jpeg` (the
lossy JPEG copy, about 10 points worse for models trained on the original pixels; kept only for
historical figures), `cifar10-raw200` (200 lossless test images), `mnist-test`, and `npz:PATH`
(a user's arrays: `x`, and optionally `y` - integer labels, or float regression targets - and
`classes`, the class names), `load_inputs` an .npy of inputs without labels. Both CIFAR-10 sets come in a fixed shuffled order (seed 0) so that
every prefix (`--limit N`) is a fair sample.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError, cause
from ilwp_embedded.fileio import atomic_write_bytes

NAMES = ("cifar10", "cifar10-jpeg", "cifar10-raw200", "mnist-test", "npz:PATH")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MNIST_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class Dataset:
    name: str
    x: np.ndarray  # uint8 pixels (N,H,W[,C]) when `pixels`, else arrays already in the model's input form
    y: np.ndarray | None  # int64 labels (N,), float regression targets (N, k), or None: no labels
    pixels: bool = True
    class_names: tuple[str, ...] = ()  # label i's name, where the dataset has them

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, limit: int | None) -> "Dataset":
        if limit is None:
            return self
        if limit <= 0:
            raise IlwpError(f"--limit must be positive, got {limit}")
        return Dataset(self.name, self.x[:limit], None if self.y is None else self.y[:limit], self.pixels,
                       self.class_names)


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    d = data_dir if data_dir is not None else os.environ.get("ILWP_DATA_DIR")
    if not d:
        return None
    p = Path(d).expanduser()
    if not p.is_dir():
        raise IlwpError(f"data directory not found: {p}")
    return p


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "ilwp-embed"


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, split: str = "test") -> Dataset:
    """Load a dataset by name; raise IlwpError naming what is missing when it cannot be had."""
    if name.startswith("npz:"):
        return _load_npz(Path(name[4:]))
    root = resolve_data_dir(data_dir)
    if name in ("cifar10", "cifar10-jpeg"):
        if split not in ("test", "train"):
            raise IlwpError(f"{name} has splits test and train, not {split!r}")
        if name == "cifar10-jpeg":
            f = find_file(root, f"cifar10_jpeg/{split}.npz")
            if f is None:
                raise IlwpError(_missing(name, root, f"cifar10_jpeg/{split}.npz") + " (the JPEG copy has no download)")
            return _load_jpeg_npz(f, f"cifar10-jpeg-{split}")
        f = find_file(root, f"cifar10_lossless/{split}.npz")
        if f is not None:
            return _load_lossless_npz(f, f"cifar10-{split}")
        return _keras_fallback("cifar10", split, root)
    if name == "cifar10-raw200":
        f = find_file(root, "cifar10_raw200.npz")
        if f is None:
            raise IlwpError(_missing("cifar10-raw200", root, "cifar10_raw200.npz") + " (it has no public download)")
        with np.load(f, allow_pickle=False) as z:
            return Dataset("cifar10-raw200", z["x"], z["y"].astype(np.int64), class_names=CIFAR10_CLASSES)
    if name == "mnist-test":
        f = find_file(root, "mnist_t10k.npz")
        if f is not None:
            with np.load(f, allow_pickle=False) as z:
                return Dataset("mnist-test", z["x"], z["y"].astype(np.int64), class_names=MNIST_CLASSES)
        return _keras_fallback("mnist", "test", root)
    raise IlwpError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")


def find_file(root: Path | None, rel: str) -> Path | None:
    """root/datasets/rel or root/rel, whichever exists (None when neither does or root is None)."""
    if root is None:
        return None
    for cand in (root / "datasets" / rel, root / rel):
        if cand.is_file():
            return cand
    return None


def _missing(name: str, root: Path | None, rel: str) -> str:
    where = f"{root}/datasets/{rel}" if root else f"$ILWP_DATA_DIR/datasets/{rel} (ILWP_DATA_DIR is not set)"
    return f"dataset {name} not found: looked for {where}"


def _load_npz(path: Path) -> Dataset:
    if not path.is_file():
        raise IlwpError(f"dataset file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "x" not in z:
                raise IlwpError(f"{path}: an npz dataset needs an array 'x' (and optionally 'y'), it has {sorted(z.files)}")
            x = z["x"]
            y = z["y"] if "y" in z else None
            names = tuple(str(c) for c in z["classes"].reshape(-1)) if "classes" in z else ()
    except IlwpError:
        raise
    except Exception as e:
        raise IlwpError(f"{path}: not a readable npz file ({type(e).__name__})") from None
    if y is not None:
        if x.shape[0] != y.shape[0]:
            raise IlwpError(f"{path}: x has {x.shape[0]} samples but y has {y.shape[0]}")
        if np.issubdtype(y.dtype, np.integer):
            y = y.astype(np.int64).reshape(-1) if y.size == y.shape[0] else y.astype(np.int64)
        elif np.issubdtype(y.dtype, np.floating):
            y = y.astype(np.float64).reshape(y.shape[0], -1)  # regression targets
        else:
            raise IlwpError(f"{path}: y must hold integer labels or float targets, got {y.dtype}")
    # uint8 arrays are images to quantize by the model's input parameters; others are model-ready.
    return Dataset(f"npz:{path}", x, y, pixels=x.dtype == np.uint8, class_names=names)


def load_inputs(path: str | os.PathLike) -> Dataset:
    """An .npy of inputs without labels (uint8 images, or arrays in the model's input form)."""
    path = Path(path)
    if not path.is_file():
        raise IlwpError(f"inputs file not found: {path}")
    try:
        x = np.load(path, allow_pickle=False)
    except Exception as e:
        raise IlwpError(f"{path}: not a readable .npy file ({type(e).__name__})") from None
    if x.ndim < 1 or x.shape[0] == 0:
        raise IlwpError(f"{path}: no samples (shape {x.shape})")
    return Dataset(f"inputs:{path}", x, None, pixels=x.dtype == np.uint8)


def _load_lossless_npz(path: Path, name: str) -> Dataset:
    """The original CIFAR-10 pixels (ordered by class in the file) in a fixed shuffled order."""
    try:
        with np.load(path, allow_pickle=False) as z:
            x, y = z["x"], z["y"].astype(np.int64)
    except Exception as e:
        raise IlwpError(f"{path}: not a readable CIFAR-10 npz ({type(e).__name__})") from None
    order = np.random.default_rng(0).permutation(len(y))
    return Dataset(name, x[order], y[order], class_names=CIFAR10_CLASSES)


def _load_jpeg_npz(path: Path, name: str) -> Dataset:
    """Decode the JPEG-packed CIFAR-10 once (cached), in a fixed shuffled order.

    The files are sorted by class; a fixed permutation (seed 0) makes every prefix (`--limit N`)
    a fair sample.
    """
    x, y = _decode_jpeg_npz(path, name)
    order = np.random.default_rng(0).permutation(len(y))
    return Dataset(name, x[order], y[order], class_names=CIFAR10_CLASSES)


def _decode_jpeg_npz(path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"{name}-{key}.npz"
    if cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as z:
                return z["x"], z["y"].astype(np.int64)
        except Exception:
            pass  # a damaged cache is rebuilt below
    from PIL import Image

    with np.load(path, allow_pickle=False) as z:
        jpeg, offsets, y = z["jpeg"], z["offsets"], z["y"]
    x = np.empty((len(y), 32, 32, 3), dtype=np.uint8)
    for i in range(len(y)):
        x[i] = np.asarray(Image.open(io.BytesIO(jpeg[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, x=x, y=y)
        atomic_write_bytes(cached, buf.getvalue())
    except OSError:
        pass  # no cache is only slower
    return x, y.astype(np.int64)


def _keras_fallback(which: str, split: str, root: Path | None) -> Dataset:
    rel = f"cifar10_lossless/{split}.npz" if which == "cifar10" else "mnist_t10k.npz"
    from ilwp_embedded.tfquiet import captured_fds, import_keras

    try:
        keras = import_keras()
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(30)
        try:
            loader = keras.datasets.cifar10 if which == "cifar10" else keras.datasets.mnist
            with captured_fds():
                (xtr, ytr), (xte, yte) = loader.load_data()
        finally:
            socket.setdefaulttimeout(old)
    except Exception as e:
        raise IlwpError(f"{_missing(which, root, rel)}, and the Keras download failed ({_reason(e)})") from None
    x, y = (xtr, ytr) if split == "train" else (xte, yte)
    return Dataset(f"{which}-{split}", x, np.asarray(y, dtype=np.int64).reshape(-1),
                   class_names=CIFAR10_CLASSES if which == "cifar10" else MNIST_CLASSES)


def _reason(e: BaseException) -> str:
    return cause(e)
