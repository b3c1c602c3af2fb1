# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Training layers to be predictable in the domain the coder codes (weight-tying parametrisation).

Each predicted convolution l (same kernel shape as its reference ref(l)) is parametrised as

    q_l = clip(P(q_ref, M_l) + D_l * Z_D(r_l), -127, 127),   P(q, M) = floor((q * M + 2^11) / 2^12)

with q the int8 weights on the tflite's own (fixed) per-channel scales, M_l = round(4096 m_l) the
per-output-channel Q12 multiplier the stream stores, r_l the trainable residual in quanta and Z_D
the coder's dead-zone quantiser of step D (D = 1: rounding, lossless). P is exactly the decoder's
prediction (compress/predict.py `scale_kernel`) applied to the *reconstructed* reference, so the
coder finds the trained residual back unchanged. Cross-entropy reaches q_ref through every layer
that predicts from it (weight tying, straight-through through the roundings).

The rate term is lambda * sum_l |r_l| / sum_l |q_l(0)|: L1 on the residual in quanta, divided by the
untouched model's L1 mass (scale-free), and/or (`prox`) a proximal L1 step after every Adam step that
moves each residual tau quanta towards 0 (ISTA). Measured on ResNet-20: with Adam alone (lambda 4,
batch 32) the penalty fell only 1.42 -> 1.40 in 180 steps (Adam's per-parameter normalisation lets
the noisy task gradient dominate the sign); the proximal step is what moves the residuals. Shrinking a layer cannot satisfy it: r_l only falls when
q_l approaches the scaled reference. The multipliers start at the per-channel RMS ratio
rms(q_l) / rms(q_ref) (not the least-squares fit, ~0.06 on the published weights, which would turn
the term into L1 shrinkage of q_l as in the probe), so the initial model is exactly the original.
Distillation from the original int8 graph (emulated) keeps the function while the weights move.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.ingest.graph import Graph
from ilwp_embedded.zoo.graph_train import FULL, GraphModel, float_top1, start_training

MULT_ONE = 4096.0


def prediction_pairs(graph: Graph, rule: str = "chain") -> dict[int, int]:
    """{predicted weight tensor: reference weight tensor} among same-shape CONV_2D kernels.

    chain: the previous convolution of the same kernel shape; role: the previous one of the same
    shape *and* the same activation (a block's first conv from the previous block's first conv,
    second from second); star: the first convolution of that shape.
    """
    if rule == "none":
        return {}
    out, last, first = {}, {}, {}
    for op, t in graph.coded_weights():
        if op.op != "CONV_2D":
            continue
        act = op.options.get("fusedActivationFunction", "NONE") if rule == "role" else ""
        key = (tuple(t.shape), act)
        if key in last:
            out[t.index] = first[key] if rule == "star" else last[key]
        else:
            first[key] = t.index
        last[key] = t.index
    if rule not in ("chain", "role", "star"):  # "none": intra-only (the QAT baseline)
        raise IlwpError(f"unknown prediction rule {rule!r} (chain, role, star)")
    return out


def steps_for(graph: Graph, rule: str, step_intra: int, step_residual: int) -> dict[int, int]:
    """{weight tensor: step} as the trainer used them: residual step on predicted tensors."""
    pairs = prediction_pairs(graph, rule)
    return {t.index: (step_residual if t.index in pairs else step_intra) for _, t in graph.coded_weights()}


def _deadzone(w, step):
    """The coder's dead-zone quantiser on integers: sign(w) * floor((|w| + step // 3) / step) * step."""
    import tensorflow as tf

    wi = tf.round(w)
    off = tf.floor(step / 3.0)
    return tf.sign(wi) * tf.floor((tf.abs(wi) + off) / step) * step


class TiedGraphModel(GraphModel):
    def __init__(self, graph: Graph, pairs: dict[int, int]):
        import tensorflow as tf

        super().__init__(graph)
        self.pairs = dict(pairs)
        self.by_w = {L.op.inputs[1]: L for L in self.layers if L.w is not None}
        self.steps = {i: tf.Variable(1.0, trainable=False, name=f"step{i}") for i in self.by_w}
        self.mults: dict[int, object] = {}
        self.l1_init = 0.0
        for wid, rid in self.pairs.items():
            q = graph.tensors[wid].data.astype(np.float64)
            qr = graph.tensors[rid].data.astype(np.float64)
            ax = tuple(range(1, q.ndim))
            rq, rr = np.sqrt((q ** 2).mean(axis=ax)), np.sqrt((qr ** 2).mean(axis=ax))
            m = np.where(rr > 0, rq / np.maximum(rr, 1e-9), 0.0)
            M = np.clip(np.rint(m * MULT_ONE), 0, 65535)
            # at the start every tensor reconstructs exactly (step 1), so the reference is its data
            p = np.clip(np.floor((qr * M.reshape(-1, *([1] * len(ax))) + 2048) / MULT_ONE), -127, 127)
            self.by_w[wid].w.assign(((q - p) / FULL).astype(np.float32))
            self.mults[wid] = tf.Variable(m.astype(np.float32), name=f"m{wid}")
            self.l1_init += float(np.abs(q).sum())
        self._q = None

    @property
    def trainable_variables(self) -> list:
        return super().trainable_variables + list(self.mults.values())

    def residual(self, wid):
        return self.by_w[wid].w * FULL

    def all_quantized(self) -> dict:
        import tensorflow as tf

        sg = tf.stop_gradient
        out = {}
        for wid, L in self.by_w.items():
            w = L.w * FULL
            D = self.steps[wid]
            if wid not in self.pairs:
                q = tf.clip_by_value(_deadzone(w, D), -127.0, 127.0)
                out[wid] = w + sg(q - w)
                continue
            ref = out[self.pairs[wid]]
            m = tf.maximum(self.mults[wid], 0.0)
            shape = (-1,) + (1,) * (len(L.w.shape) - 1)
            mb = tf.reshape(m, shape)
            M = tf.clip_by_value(tf.round(mb * MULT_ONE), 0.0, 65535.0)
            p_exact = tf.clip_by_value(tf.floor((sg(ref) * M + 2048.0) / MULT_ONE), -127.0, 127.0)
            p = mb * ref + sg(p_exact - mb * ref)
            res = w + sg(_deadzone(w, D) - w)
            q_exact = tf.clip_by_value(p_exact + sg(res), -127.0, 127.0)
            out[wid] = p + res + sg(q_exact - p - res)
        return out

    def __call__(self, x_real):
        self._q = self.all_quantized()
        return super().__call__(x_real)

    def quantized_weight(self, L):
        if self._q is None:
            self._q = self.all_quantized()
        return self._q[L.op.inputs[1]]

    def to_graph(self) -> Graph:
        self._q = self.all_quantized()
        return super().to_graph()

    def penalty(self):
        import tensorflow as tf

        if not self.pairs:
            return tf.constant(0.0)
        return tf.add_n([tf.reduce_sum(tf.abs(self.residual(w))) for w in self.pairs]) / self.l1_init

    def multipliers_q12(self) -> dict[int, np.ndarray]:
        return {w: np.clip(np.rint(np.maximum(m.numpy(), 0) * MULT_ONE), 0, 65535).astype(np.int64)
                for w, m in self.mults.items()}


@dataclass
class Schedule:
    epochs: float = 10.0
    lam: float = 1.0
    lam_ramp: float = 0.3  # fraction of training over which lambda rises linearly from 0
    lossy_from: float = 0.6  # fraction of training after which the steps below apply (1: never)
    step_intra: int = 1
    step_residual: int = 1
    lr: float = 1e-3
    distill: float = 0.5
    batch: int = 128
    eval_every: int = 0  # steps between checkpoints (0: once per epoch)
    prox: float = 0.0  # proximal shrinkage of the residuals, quanta per step (after the ramp)


def code_sizes(graph: Graph, steps: dict[int, int] | int = 1) -> dict:
    """Measured coded bytes with inter prediction and intra-only, lossless and at `steps`."""
    from ilwp_embedded.compress.encoder import encode_graph

    n = sum(int(t.data.size) for _, t in graph.coded_weights())
    out = {"weights": n}
    for tag, st in (("lossless", 1), ("steps", steps)):
        if tag == "steps" and (st == 1 or (isinstance(st, dict) and all(v == 1 for v in st.values()))):
            continue
        inter = encode_graph(graph, st, skeleton=False)
        intra = encode_graph(graph, st, inter=False, skeleton=False)
        out[tag] = {"inter_bytes": inter.coded_bytes, "intra_bytes": intra.coded_bytes,
                    "inter_bpw": 8 * inter.coded_bytes / n, "intra_bpw": 8 * intra.coded_bytes / n,
                    "saving": 1 - inter.coded_bytes / intra.coded_bytes,
                    "inter_tensors": sum(s.mode != "intra" for s in inter.stats)}
    return out


def train_prediction(graph: Graph, pairs: dict[int, int], sched: Schedule, out: Path, *, data_dir=None,
                     seed: int = 0, train_limit: int | None = None, log=print) -> Graph:
    """Train the tied model; writes `out` (.tflite) after every epoch, `out`.lossless.tflite when the
    lossless phase ends, and a JSON line per epoch to `out`.jsonl. Returns the final int8 graph."""
    import tensorflow as tf
    from tqdm import tqdm

    from ilwp_embedded.fileio import atomic_write_bytes
    from ilwp_embedded.ingest.tflite_io import write_tflite

    tf.random.set_seed(seed)
    model = TiedGraphModel(graph, pairs)
    tr = start_training(graph, epochs=sched.epochs, lr=sched.lr, batch=sched.batch, data_dir=data_dir,
                        train_limit=train_limit, distill=sched.distill)
    xva, yva, per_epoch, total = tr.xva, tr.yva, tr.per_epoch, tr.total
    variables = model.trainable_variables
    lam = tf.Variable(0.0, trainable=False)
    tau = tf.Variable(0.0, trainable=False)
    res_vars = [model.by_w[w].w for w in pairs]

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            task = tr.task_loss(x, y, model(x))
            pen = model.penalty()
            loss = task + lam * pen
        grads = tape.gradient(loss, variables)
        tr.opt.apply_gradients(zip(grads, variables))
        # proximal L1 step on the residuals (ISTA): each moves tau quanta towards 0 per step
        for w in res_vars:
            w.assign(tf.sign(w) * tf.maximum(tf.abs(w) - tau / FULL, 0.0))
        return task, pen

    steps_final = {w: (sched.step_residual if w in pairs else sched.step_intra) for w in model.by_w}
    lossy_step = int(round(sched.lossy_from * total)) if sched.lossy_from < 1 else total + 1
    eval_every = sched.eval_every or per_epoch
    rng = np.random.default_rng(seed)
    done, hist, t0 = 0, [], time.time()
    jl = Path(str(out) + ".jsonl")
    bar = tqdm(total=total, desc="predict-train", unit="step", mininterval=5.0)

    def checkpoint(final: bool):
        g = model.to_graph()
        nval = len(yva) if final else min(len(yva), 2000)
        val = float_top1(model, xva[:nval], yva[:nval])
        lossy = done >= lossy_step
        sizes = code_sizes(g, steps_final if lossy else 1)
        rec = {"steps_done": done, "epochs_done": round(done / per_epoch, 3), "seconds": round(time.time() - t0),
               "lambda": float(lam.numpy()), "prox_tau": float(tau.numpy()), "task_loss": float(np.mean([h[0] for h in hist[-eval_every:]])),
               "penalty": hist[-1][1], "val_images": nval, "val_top1_emulated": val, "lossy": lossy,
               "sizes": sizes, "final": final}
        log(json.dumps(rec))
        with open(jl, "a") as f:
            f.write(json.dumps(rec) + "\n")
        atomic_write_bytes(str(out), write_tflite(g))
        return g

    for x, y in tr.batches(graph, sched.batch, rng):
        frac = done / total
        ramp = min(1.0, frac / sched.lam_ramp) if sched.lam_ramp > 0 else 1.0
        lam.assign(sched.lam * ramp)
        tau.assign(sched.prox * ramp)
        if done == lossy_step:
            if done > 0:
                atomic_write_bytes(str(out) + ".lossless.tflite", write_tflite(model.to_graph()))
            for w, st in steps_final.items():
                model.steps[w].assign(float(st))
        task, pen = train_step(x, y)
        hist.append((float(task), float(pen)))
        done += 1
        bar.update(1)
        if done % 20 == 0:
            bar.set_postfix(task=f"{np.mean([h[0] for h in hist[-20:]]):.3f}", pen=f"{hist[-1][1]:.3f}",
                            lam=f"{float(lam.numpy()):.2f}")
        if not np.isfinite(hist[-1][0]):
            raise IlwpError("prediction training diverged; lower --lr or --lam")
        if done % eval_every == 0 and done < total:
            checkpoint(False)
    g = checkpoint(True)
    if lossy_step > total:
        atomic_write_bytes(str(out) + ".lossless.tflite", write_tflite(g))
    bar.close()
    return model.to_graph()
