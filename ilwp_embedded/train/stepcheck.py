# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The accuracy check of a lossy `compress --step`: top-1 of the coded model against the original
on a small fixed sample, so that a step that costs points does not pass unnoticed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilwp_embedded.datasets import load_dataset
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.golden import prepare_inputs
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.train import fasteval

SAMPLE = 500  # images at most: ~2 s of LiteRT per model on CIFAR, a drop of 1 point is 5 images
WARN_POINTS = 1.0  # the default --warn-drop
# A default sample per input shape, used when it is in the data directory (it has no download).
DEFAULTS = {(32, 32, 3): "cifar10-raw200"}


@dataclass(frozen=True)
class Sample:
    name: str
    x: np.ndarray  # in the model's input dtype
    y: np.ndarray


@dataclass(frozen=True)
class Drop:
    name: str
    count: int
    original: float  # top-1, 0..1
    coded: float

    @property
    def points(self) -> float:
        return 100.0 * (self.original - self.coded)


def check_sample(graph: Graph, dataset: str | None, data_dir=None) -> Sample | None:
    """The fixed sample (evenly spread over the dataset: some are ordered by class), read and shaped
    against the model before any coding; None when no dataset is given and none is at hand."""
    t = graph.tensors[graph.inputs[0]]
    if dataset is not None:
        ds = load_dataset(dataset, data_dir)
    elif tuple(t.shape[1:]) not in DEFAULTS:
        return None
    else:
        try:
            ds = load_dataset(DEFAULTS[tuple(t.shape[1:])], data_dir)
        except IlwpError:
            return None  # not at hand: nothing to measure on
    x = prepare_inputs(ds, t)
    idx = np.unique(np.linspace(0, len(ds) - 1, min(SAMPLE, len(ds))).astype(np.int64))
    return Sample(ds.name, x[idx], np.asarray(ds.y)[idx])


def accuracy_drop(original: Graph, coded: Graph, sample: Sample) -> Drop:
    return Drop(sample.name, len(sample.y), fasteval.top1(original, sample.x, sample.y),
                fasteval.top1(coded, sample.x, sample.y))
