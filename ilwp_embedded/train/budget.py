# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The accuracy-budget search (`compress --accuracy-budget`): per-tensor steps for the fewest bits
within a top-1 budget on a validation split (ratesearch.py), optionally with quantization-aware
fine-tuning of each candidate, then a check with the golden interpreter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilwp_embedded.train import fasteval
from ilwp_embedded.train.ratesearch import SearchResult, search
from ilwp_embedded.errors import IlwpError
from ilwp_embedded.golden import Golden, prepare_inputs
from ilwp_embedded.ingest.graph import Graph


def validation_set(graph: Graph, dataset: str | None, data_dir=None):
    """(inputs in the model's dtype, labels, name): never the test set."""
    from ilwp_embedded.datasets import Dataset, load_dataset

    if dataset is None:
        raise IlwpError("--accuracy-budget needs --dataset (cifar10 or npz:PATH) to measure accuracy on")
    if dataset == "cifar10":
        from ilwp_embedded.zoo.train import train_val_split

        _, (xv, yv) = train_val_split(data_dir)
        ds, name = Dataset("cifar10-val", xv, yv), "cifar10 validation split (5,000 held-back training images)"
    elif dataset.startswith("npz:"):
        ds, name = load_dataset(dataset, data_dir), dataset
    else:
        raise IlwpError(f"--accuracy-budget measures on a validation split: use --dataset cifar10 (its "
                        f"held-back training images) or npz:PATH, not {dataset!r} (a test set)")
    return prepare_inputs(ds, graph.tensors[graph.inputs[0]]), np.asarray(ds.y), name


@dataclass(frozen=True)
class BudgetOptions:
    """What the search is asked (the command line's --accuracy-budget options)."""

    accuracy_budget: float  # top-1 points the coded model may lose on the validation split
    dataset: str | None  # cifar10 (its held-back training images) or npz:PATH
    data_dir: str | None = None
    finetune_epochs: float = 0.0
    lr: float = 1e-3
    distill: float = 0.5
    search_iterations: int | None = None  # default 12; 6 with fine-tuning
    intra_only: bool = False
    golden_check: int = 500  # validation images re-scored by the golden interpreter
    train_limit: int | None = None


def budget_search(graph: Graph, opts: BudgetOptions, log=print) -> SearchResult:
    xs, ys, name = validation_set(graph, opts.dataset, opts.data_dir)
    refine, iters = None, opts.search_iterations or 12
    if opts.finetune_epochs < 0:
        raise IlwpError(f"--finetune-epochs must be >= 0 (got {opts.finetune_epochs})")
    if not 0.0 <= opts.distill <= 1.0:
        raise IlwpError(f"--distill must be within 0..1 (got {opts.distill})")
    if opts.finetune_epochs > 0:
        if opts.dataset != "cifar10":
            raise IlwpError("--finetune-epochs trains on cifar10's training split: use --dataset cifar10")
        refine, iters = _qat_refine(graph, opts), opts.search_iterations or 6
    res = search(graph, opts.accuracy_budget, lambda g: fasteval.top1(g, xs, ys), xs,
                 iterations=iters, inter=not opts.intra_only, refine=refine, log=log)
    res.validation = name
    n = max(0, min(opts.golden_check, len(xs)))
    if n:
        res.golden_count = n
        res.golden_baseline = _golden_top1(graph, xs[:n], ys, "golden: int8")
        res.golden_accuracy = _golden_top1(res.result.graph, xs[:n], ys, "golden: chosen")
    return res


def _qat_refine(graph: Graph, opts: BudgetOptions):
    """Each candidate fine-tuned from the original model with its steps' quantizers in the loop."""
    from ilwp_embedded.train.ratesearch import step_quantizer
    from ilwp_embedded.zoo.graph_train import qat_finetune

    def refine(_cand: Graph, steps: dict[int, int]) -> Graph:
        out, _ = qat_finetune(graph, {t: step_quantizer(s) for t, s in steps.items()},
                              epochs=opts.finetune_epochs, lr=opts.lr, data_dir=opts.data_dir,
                              distill=opts.distill, train_limit=opts.train_limit,
                              log=lambda m: None)
        return out
    return refine


def _golden_top1(graph: Graph, xs, ys, desc: str) -> float:
    out = Golden(graph).run_batch(xs, progress=True, desc=desc)
    return float((out.reshape(len(xs), -1).argmax(1) == ys[:len(xs)]).mean())


def search_summary(r: SearchResult) -> dict:
    return {"validation": r.validation, "budget_points": r.budget_points,
            "baseline_accuracy": r.baseline_accuracy, "accuracy": r.chosen.accuracy,
            "golden_count": r.golden_count, "golden_baseline": r.golden_baseline,
            "golden_accuracy": r.golden_accuracy, "lambda": r.chosen.lam,
            "steps": {str(k): v for k, v in r.chosen.steps.items()},
            "tried": [{"lambda": p.lam, "bits_per_weight": round(p.bits_per_weight, 4),
                       "accuracy": p.accuracy} for p in r.tried]}
