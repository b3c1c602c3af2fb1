# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""metrics.py: the task read off the model and the data, and each task's metrics against a direct
computation; the report draws a confusion matrix only where one makes sense."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Quantization, Tensor
from ilwp_embedded.metrics import infer_task, roc_auc, task_metrics


def _t(shape, scale=0.05, zp=3):
    return Tensor(index=0, name="t", shape=tuple(shape), dtype="int8",
                  quant=Quantization(scale=np.array([scale]), zero_point=np.array([zp])), data=None)


def test_task_rule():
    img, cls, vec = _t((1, 8, 8, 1)), _t((1, 10)), _t((1, 64))
    labels, targets = np.array([1, 2]), np.zeros((2, 3))
    assert infer_task(img, cls, labels) == "classify"
    assert infer_task(img, cls, None) == "regress"  # no labels: nothing says classes
    assert infer_task(img, cls, targets) == "regress"  # float targets
    assert infer_task(vec, _t((1, 64)), labels) == "reconstruct"  # output shape == input shape wins
    assert infer_task(img, cls, labels, "regress") == "regress"  # asked for
    with pytest.raises(IlwpError, match="reconstruct needs an output of the input's shape"):
        infer_task(img, cls, labels, "reconstruct")


def test_roc_auc_is_the_pairwise_probability_with_ties_half():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, 40).astype(float)  # many ties
    pos = rng.random(40) < 0.4
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a, b in itertools.product(scores[pos], scores[~pos])]
    assert roc_auc(scores, pos) == pytest.approx(np.mean(pairs))
    assert roc_auc(scores, np.zeros(40, bool)) is None


def test_metrics_of_each_task_on_dequantized_values():
    rng = np.random.default_rng(1)
    tin, tout = _t((1, 16), 0.1, -2), _t((1, 16), 0.02, 5)
    x = rng.integers(-128, 128, (6, 16)).astype(np.int8)
    y = rng.integers(-128, 128, (6, 16)).astype(np.int8)
    err = (((y.astype(float) - 5) * 0.02 - (x.astype(float) + 2) * 0.1) ** 2).mean(axis=1)
    m = task_metrics("reconstruct", y, x, np.array([0, 0, 0, 1, 1, 1]), tin, tout)
    assert m["reconstruction_mse"] == pytest.approx(err.mean())
    assert m["auc"] == pytest.approx(roc_auc(err, np.array([0, 0, 0, 1, 1, 1], bool)))
    assert "auc" not in task_metrics("reconstruct", y, x, None, tin, tout)  # no labels: the error only
    targets = rng.normal(0, 1, (6, 16))
    d = (y.astype(float) - 5) * 0.02 - targets
    m = task_metrics("regress", y, x, targets, tin, tout)
    assert m == pytest.approx({"mse": (d ** 2).mean(), "mae": np.abs(d).mean()})
    m = task_metrics("classify", y, x, y.argmax(axis=1), tin, tout)
    assert m["top1"] == 1.0 and m["correct"] == 6
    assert task_metrics("classify", y, x, None, tin, tout) == {}  # bit-exactness only


@pytest.mark.parametrize("task,classes,drawn", [("classify", 10, True), ("classify", 60, False),
                                                 ("reconstruct", 2, False)])
def test_confusion_matrix_only_for_classifiers_of_at_most_50_classes(task, classes, drawn):
    from ilwp_embedded.run.report import ReportData, render_html

    labels = list(range(classes)) * 2
    d = ReportData(title="t", summary={}, task=task, labels=labels, predictions=labels[::-1],
                   errors=[0.1 * i for i in range(len(labels))] if task == "reconstruct" else [])
    page = render_html(d)
    assert ("Confusion matrix" in page) == drawn
    assert ("Reconstruction error" in page) == (task == "reconstruct")
