# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""What a model's outputs are worth for its task: the one place each metric is computed.

Tasks: `classify` (top-1), `regress` (MSE and MAE against target arrays, on dequantized outputs),
`reconstruct` (an autoencoder: per-sample reconstruction error, the MSE of the dequantized output
against the dequantized input, and the ROC AUC of that error when labels say normal (0) or
anomalous (not 0)). TASK_RULE says how a task is read off the model and the data.
"""

from __future__ import annotations

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Tensor

TASKS = ("classify", "regress", "reconstruct")
TASK_RULE = ("auto (default): reconstruct when the output has the input's shape (an autoencoder), else classify "
             "when the data has integer labels and the output is a class vector, else regress")
# a confusion matrix beyond this many classes is unreadable (the report leaves it out)
MAX_CONFUSION_CLASSES = 50


def infer_task(inp: Tensor, out: Tensor, labels: np.ndarray | None, requested: str = "auto") -> str:
    """The task for `requested` ("auto": TASK_RULE); refuses a task the model or data cannot have."""
    if requested not in ("auto", *TASKS):
        raise IlwpError(f"unknown task {requested!r}: choose auto or one of {', '.join(TASKS)}")
    if requested == "reconstruct" and tuple(inp.shape) != tuple(out.shape):
        raise IlwpError(f"task reconstruct needs an output of the input's shape {list(inp.shape)}, "
                        f"the model's is {list(out.shape)}")
    if requested != "auto":
        return requested
    if tuple(inp.shape) == tuple(out.shape):
        return "reconstruct"
    classes = int(np.prod(out.shape[1:]))
    if labels is not None and labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer) and classes >= 2:
        return "classify"
    return "regress"


def dequantize(q: np.ndarray, t: Tensor) -> np.ndarray:
    """Real values of a batch of tensor `t`'s values (per-tensor quantization; float tensors as they are)."""
    q = np.asarray(q)
    if t.quant is None or not len(t.quant.scale):
        return q.astype(np.float64)
    return (q.astype(np.float64) - float(t.quant.zero_point[0])) * float(t.quant.scale[0])


def top1(outputs: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(correct, count): the argmax of each output against its integer label."""
    n = len(outputs)
    pred = np.asarray(outputs).reshape(n, -1).astype(np.float64).argmax(axis=1)
    return summarize("classify", None, labels, pred).get("correct", 0), n


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of `scores` (higher = more likely positive): the Mann-Whitney U
    statistic, ties counted half. None without both classes."""
    scores, positive = np.asarray(scores, np.float64), np.asarray(positive, bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def reconstruction_errors(outputs: np.ndarray, inputs: np.ndarray, inp: Tensor, out: Tensor) -> np.ndarray:
    """Per sample: the mean squared error of the dequantized output against the dequantized input."""
    n = len(outputs)
    d = dequantize(np.asarray(outputs).reshape(n, -1), out) - dequantize(np.asarray(inputs).reshape(n, -1), inp)
    return (d * d).mean(axis=1)


def sample_scores(task: str, outputs: np.ndarray, inputs: np.ndarray, targets: np.ndarray | None,
                  inp: Tensor, out: Tensor) -> np.ndarray | None:
    """Per sample, what the task's metrics average: reconstruct (N, 1) the reconstruction error; regress
    (N, 2) the squared and the absolute error against `targets` (None without them); classify None
    (the argmax suffices)."""
    n = len(outputs)
    if task == "reconstruct":
        return reconstruction_errors(outputs, inputs, inp, out)[:, None]
    if task != "regress" or targets is None:
        return None
    y = np.asarray(targets, np.float64).reshape(n, -1)
    pred = dequantize(np.asarray(outputs).reshape(n, -1), out)
    if y.shape != pred.shape:
        raise IlwpError(f"regression targets have {y.shape[1]} values a sample, the model's output {pred.shape[1]}")
    return np.stack([((pred - y) ** 2).mean(axis=1), np.abs(pred - y).mean(axis=1)], axis=1)


def summarize(task: str, scores: np.ndarray | None, labels: np.ndarray | None,
              predicted: np.ndarray | None) -> dict:
    """The task's metrics from per-sample scores (sample_scores), integer labels and predicted classes;
    {} when the task needs labels the data lacks (bit-exactness only)."""
    if task == "classify":
        if labels is None or predicted is None or not len(predicted):
            return {}
        correct = int((np.asarray(predicted) == np.asarray(labels)[:len(predicted)]).sum())
        return {"top1": correct / len(predicted), "correct": correct}
    if scores is None or not len(scores):
        return {}
    if task == "regress":
        return {"mse": float(scores[:, 0].mean()), "mae": float(scores[:, 1].mean())}
    err = scores[:, 0]
    m = {"reconstruction_mse": float(err.mean()), "reconstruction_mse_median": float(np.median(err))}
    if labels is not None:
        auc = roc_auc(err, np.asarray(labels)[:len(err)] != 0)
        if auc is not None:
            m["auc"] = auc
    return m


def integer_labels(labels: np.ndarray | None) -> np.ndarray | None:
    """`labels` when they are one integer a sample (classes, or normal/anomalous), else None."""
    ok = labels is not None and labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer)
    return labels if ok else None


def task_metrics(task: str, outputs: np.ndarray, inputs: np.ndarray, labels: np.ndarray | None,
                 inp: Tensor, out: Tensor) -> dict:
    """The metrics of `task` over a batch of outputs (N, ...) in the output's dtype, for inputs (N, ...)
    as the model took them, and labels (integers, or regression targets); {} without what they need."""
    n = len(outputs)
    if n == 0:
        return {}
    pred = np.asarray(outputs).reshape(n, -1).astype(np.float64).argmax(axis=1)
    return summarize(task, sample_scores(task, outputs, inputs, labels, inp, out), integer_labels(labels), pred)


def describe(task: str, m: dict) -> str:
    """One phrase for a person: "top-1 0.8650", "MSE 0.0123, MAE 0.0456", ..."""
    if not m:
        return "no labels: bit-exactness only" if task != "reconstruct" else "no metric"
    if task == "classify":
        return f"top-1 {m['top1']:.4f}"
    if task == "regress":
        return f"MSE {m['mse']:.6g}, MAE {m['mae']:.6g}"
    return (f"reconstruction error (MSE, dequantized) mean {m['reconstruction_mse']:.6g}, median "
            f"{m['reconstruction_mse_median']:.6g}" + (f", ROC AUC {m['auc']:.4f}" if "auc" in m else ""))
