# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Quantization-aware fine-tuning of an int8 .tflite graph itself.

Every compression method ends in int8 weights on the model's own per-channel scales (so the
firmware and the golden interpreter run it unchanged). Fine-tuning therefore happens on a float
TensorFlow emulation of the int8 graph, not on the Keras model it came from: BN is already folded,
weights are trainable variables in units of their int8 quanta (the tflite's scales fixed), every
activation is fake-quantised at the tflite's scale and zero point, and a per-tensor `quantizer`
maps the float quanta to the values the codec will store (straight-through or with its own
trainable parameters). The result is written back as int8 weights and requantised int32 biases;
activation quantization is untouched. This works for any int8 model, including ones with no
float original (the MLPerf ResNet-8).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ilwp_embedded.errors import IlwpError
from ilwp_embedded.golden import real_range_of_pixels
from ilwp_embedded.ingest.graph import Graph, Operator, Tensor
from ilwp_embedded.zoo.train import augment_batches, train_val_split

FULL = 127.0  # int8 weight full scale, in quanta
Quantizer = Callable  # quantizer(w_quanta: tf.Tensor) -> tf.Tensor (forward value, own gradient path)


def ste(w, q):
    """Straight-through: forward q, gradient of the identity."""
    import tensorflow as tf

    return w + tf.stop_gradient(q - w)


@dataclass
class _Layer:
    op: Operator
    w: object | None = None  # tf.Variable, quanta, tflite layout
    b: object | None = None  # tf.Variable, in units of the output scale
    w_scale: np.ndarray | None = None  # per output channel
    bias_scale: np.ndarray | None = None  # s_in * s_w


class GraphModel:
    """A differentiable float emulation of an int8 graph (NHWC, batch first)."""

    def __init__(self, graph: Graph, quantizers: dict[int, Quantizer] | None = None):
        import tensorflow as tf

        self.graph = graph
        self.quantizers = dict(quantizers or {})
        self.layers: list[_Layer] = []
        for op in graph.operators:
            L = _Layer(op)
            if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                wt = graph.tensors[op.inputs[1]]
                if wt.dtype != "int8" or wt.quant is None:
                    raise IlwpError(f"{op.op} {wt.name}: fine-tuning needs int8 weights with scales")
                # Variables hold quanta / 127 (fractions of a channel's full scale) so that Adam's
                # step size means the same thing for every layer.
                L.w = tf.Variable(wt.data.astype(np.float32) / FULL, name=f"w{wt.index}")
                L.w_scale = _channel(wt, op)
                s_in = float(graph.tensors[op.inputs[0]].quant.scale[0])
                L.bias_scale = s_in * L.w_scale
                out = graph.tensors[op.outputs[0]]
                s_out = float(out.quant.scale[0])
                b = np.zeros(L.w_scale.shape, np.float64)
                if len(op.inputs) > 2 and op.inputs[2] >= 0:
                    b = graph.tensors[op.inputs[2]].data.astype(np.float64) * L.bias_scale
                L.b = tf.Variable((b / s_out / FULL).astype(np.float32), name=f"b{wt.index}")
                L.out_scale = s_out
            elif op.op not in _ELEMENTWISE | {"SOFTMAX", "QUANTIZE", "DEQUANTIZE"}:
                raise IlwpError(f"fine-tuning does not support {op.op} yet")
            self.layers.append(L)
        self.logits_tensor = self._logits_tensor()

    # -- the trainable parameters -----------------------------------------------------------
    @property
    def trainable_variables(self) -> list:
        vs = [v for L in self.layers for v in (L.w, L.b) if v is not None]
        for q in self.quantizers.values():
            vs += list(getattr(q, "trainable_variables", ()))
        return vs

    def quantized_weight(self, L: _Layer):
        w = L.w * FULL
        q = self.quantizers.get(L.op.inputs[1])
        return q(w) if q is not None else ste(w, _round_clip(w))

    # -- forward ----------------------------------------------------------------------------
    def __call__(self, x_real):
        """Logits (the input of the final SOFTMAX, or output 0) for a batch of real-valued inputs."""
        import tensorflow as tf

        g = self.graph
        vals = {g.inputs[0]: _fq(x_real, g.tensors[g.inputs[0]])}
        for L in self.layers:
            op = L.op
            x = vals.get(op.inputs[0])
            if op.op == "SOFTMAX":
                vals[op.outputs[0]] = tf.nn.softmax(x * op.options.get("beta", 1.0))
                continue
            if op.op in ("QUANTIZE", "DEQUANTIZE"):
                vals[op.outputs[0]] = x
                continue
            if L.w is not None:
                y = self._weighted(L, x)
            else:
                y = self._elementwise(op, [vals.get(i) if i >= 0 else None for i in op.inputs])
            y = _activation(y, op.options.get("fusedActivationFunction", "NONE"))
            vals[op.outputs[0]] = _fq(y, g.tensors[op.outputs[0]])
        return vals[self.logits_tensor]

    def _weighted(self, L: _Layer, x):
        import tensorflow as tf

        op = L.op
        w = self.quantized_weight(L) * L.w_scale.astype(np.float32).reshape(_scale_shape(op, L.w.shape))
        bias = L.b * (FULL * L.out_scale)
        if op.op == "FULLY_CONNECTED":
            x = tf.reshape(x, (-1, L.w.shape[1]))
            return tf.matmul(x, w, transpose_b=True) + bias
        strides = (1, op.options["strideH"], op.options["strideW"], 1)
        dil = (op.options.get("dilationHFactor", 1), op.options.get("dilationWFactor", 1))
        if op.op == "CONV_2D":
            k = tf.transpose(w, (1, 2, 3, 0))  # OHWI -> HWIO
            y = tf.nn.conv2d(x, k, strides, op.options["padding"], dilations=dil)
        else:  # DEPTHWISE_CONV_2D: 1HWC, C = in * multiplier
            cin = x.shape[-1]
            k = tf.reshape(w[0], (w.shape[1], w.shape[2], cin, w.shape[3] // cin))
            y = tf.nn.depthwise_conv2d(x, k, strides, op.options["padding"], dilations=dil)
        return y + bias

    def _elementwise(self, op: Operator, xs):
        import tensorflow as tf

        g, o = self.graph, op.options
        if op.op == "ADD":
            return xs[0] + xs[1]
        if op.op in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            f = tf.nn.max_pool2d if op.op == "MAX_POOL_2D" else tf.nn.avg_pool2d
            return f(xs[0], (o["filterHeight"], o["filterWidth"]), (o["strideH"], o["strideW"]), o["padding"])
        if op.op == "PAD":
            pads = g.tensors[op.inputs[1]].data.astype(np.int64)
            zero = 0.0  # pads with the zero point, i.e. a real 0
            return tf.pad(xs[0], pads, constant_values=zero)
        if op.op == "MEAN":
            axes = [int(a) for a in np.atleast_1d(g.tensors[op.inputs[1]].data)]
            return tf.reduce_mean(xs[0], axis=axes, keepdims=bool(o.get("keepDims", False)))
        if op.op == "RESHAPE":
            shape = g.tensors[op.outputs[0]].shape
            return tf.reshape(xs[0], (-1, *shape[1:]))
        if op.op == "CONCATENATION":
            return tf.concat([v for v in xs if v is not None], axis=o.get("axis", -1))
        raise IlwpError(f"fine-tuning does not support {op.op} yet")

    def _logits_tensor(self) -> int:
        out = self.graph.outputs[0]
        for op in self.graph.operators:
            if op.op == "SOFTMAX" and op.outputs[0] == out:
                return op.inputs[0]
        return out

    # -- back to int8 -----------------------------------------------------------------------
    def to_graph(self) -> Graph:
        """The graph with the quantised weights as int8 and the trained biases as int32."""
        updates = {}
        for L in self.layers:
            if L.w is None:
                continue
            wq = np.asarray(self.quantized_weight(L).numpy(), dtype=np.float64)
            updates[L.op.inputs[1]] = (np.clip(np.round(wq), -127, 127).astype(np.int8), None)
            if len(L.op.inputs) > 2 and L.op.inputs[2] >= 0:
                b_real = L.b.numpy().astype(np.float64) * FULL * L.out_scale
                q = np.round(b_real / L.bias_scale)
                updates[L.op.inputs[2]] = (np.clip(q, -2**31, 2**31 - 1).astype(np.int32), None)
        return self.graph.with_tensor_data(updates)


_ELEMENTWISE = {"ADD", "MAX_POOL_2D", "AVERAGE_POOL_2D", "PAD", "MEAN", "RESHAPE", "CONCATENATION"}


def _channel(t: Tensor, op: Operator) -> np.ndarray:
    n = t.shape[-1] if op.op == "DEPTHWISE_CONV_2D" else t.shape[0]
    s = t.quant.scale.astype(np.float64).reshape(-1)
    return np.broadcast_to(s, (n,)).copy() if s.size == 1 else s


def _scale_shape(op: Operator, shape) -> tuple:
    if op.op == "DEPTHWISE_CONV_2D":
        return (1,) * (len(shape) - 1) + (-1,)
    return (-1,) + (1,) * (len(shape) - 1)


def _round_clip(w):
    import tensorflow as tf

    return tf.clip_by_value(tf.round(w), -127.0, 127.0)


def _activation(y, name: str):
    import tensorflow as tf

    if name == "RELU":
        return tf.nn.relu(y)
    if name == "RELU6":
        return tf.clip_by_value(y, 0.0, 6.0)
    if name == "RELU_N1_TO_1":
        return tf.clip_by_value(y, -1.0, 1.0)
    if name not in ("NONE", None):
        raise IlwpError(f"fine-tuning does not support fused activation {name}")
    return y


def _fq(x, t: Tensor):
    """Fake-quantise at the tensor's int8 scale and zero point (straight-through inside the range)."""
    import tensorflow as tf

    if t.quant is None or t.dtype != "int8":
        return x
    s, zp = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    return tf.quantization.fake_quant_with_min_max_args(x, min=s * (-128 - zp), max=s * (127 - zp), num_bits=8)


def pixels_to_real(graph: Graph, pixels01: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] (as augment_batches yields them) -> the real values the int8 input encodes."""
    off, sc = real_range_of_pixels(graph.tensors[graph.inputs[0]])
    return (pixels01 * 255.0 * sc + off).astype(np.float32)


def float_top1(model: GraphModel, x_uint8: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    preds = [np.argmax(model(pixels_to_real(model.graph, x_uint8[s:s + batch] / 255.0)).numpy(), 1)
             for s in range(0, len(x_uint8), batch)]
    return float(np.mean(np.concatenate(preds) == y[:len(x_uint8)]))


@dataclass
class Training:
    """What every training loop over a graph model starts from: the CIFAR-10 split, the step count,
    Adam on a cosine schedule, the loss, and the teacher when distilling."""
    xtr: np.ndarray
    ytr: np.ndarray
    xva: np.ndarray
    yva: np.ndarray
    per_epoch: int
    total: int
    opt: object
    ce: object
    teacher: GraphModel | None
    distill: float

    def task_loss(self, x, y, logits):
        """Cross-entropy, mixed with the KL divergence to the teacher's predictions when distilling."""
        import tensorflow as tf

        loss = self.ce(y, logits)
        if self.teacher is not None:
            p_t = tf.nn.softmax(tf.stop_gradient(self.teacher(x)))
            kl = tf.reduce_mean(tf.reduce_sum(p_t * (tf.math.log(p_t + 1e-8) - tf.nn.log_softmax(logits)), -1))
            loss = (1.0 - self.distill) * loss + self.distill * kl
        return loss

    def batches(self, graph: Graph, batch: int, rng: np.random.Generator):
        """`total` augmented training batches (as many epochs as that takes), as model inputs."""
        import tensorflow as tf

        done = 0
        while True:
            for xb, yb in augment_batches(self.xtr, self.ytr, batch, rng):
                yield tf.constant(pixels_to_real(graph, xb)), tf.constant(yb)
                done += 1
                if done >= self.total:
                    return


def start_training(graph: Graph, *, epochs: float, lr: float, batch: int, data_dir=None,
                   train_limit: int | None = None, distill: float = 0.0) -> Training:
    """The data, schedule and loss of a run of `epochs` (fractional allowed) on `graph`; call it after
    building the model (the teacher, the unquantised graph, is built here)."""
    from ilwp_embedded.tfquiet import import_keras

    teacher = GraphModel(graph) if distill > 0 else None
    (xtr, ytr), (xva, yva) = train_val_split(data_dir)
    if train_limit is not None:
        xtr, ytr, xva, yva = xtr[:train_limit], ytr[:train_limit], xva[:train_limit], yva[:train_limit]
    per_epoch = max(1, len(ytr) // batch)
    total = max(1, int(round(epochs * per_epoch)))
    keras = import_keras()
    opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, total))
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return Training(xtr, ytr, xva, yva, per_epoch, total, opt, ce, teacher, distill)


def qat_finetune(graph: Graph, quantizers: dict[int, Quantizer] | None = None, *, epochs: float = 1.0,
                 lr: float = 1e-3, batch: int = 64, data_dir=None, train_limit: int | None = None,
                 seed: int = 0, log=print, extra_loss: Callable | None = None,
                 distill: float = 0.0) -> tuple[Graph, float]:
    """Fine-tune `graph`'s weights (and biases) through its quantizers; returns (int8 graph, val top-1).

    lr is Adam's step as a fraction of the int8 full scale (1e-3 = 0.127 quanta per step): enough
    to move weights across coarse levels (4-32 quanta apart) within an epoch without wrecking a
    trained model. `epochs` may be fractional.
    extra_loss(model) adds a differentiable term (e.g. the inter-layer loss).
    distill in [0, 1] mixes in the KL divergence to the unquantised model's own predictions
    (knowledge distillation: the original int8 graph, emulated, as teacher), which recovers more
    per step than labels alone when only a fraction of an epoch is affordable."""
    import tensorflow as tf

    tf.random.set_seed(seed)
    model = GraphModel(graph, quantizers)
    tr = start_training(graph, epochs=epochs, lr=lr, batch=batch, data_dir=data_dir, train_limit=train_limit,
                        distill=distill)
    variables = model.trainable_variables

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x)
            loss = tr.task_loss(x, y, logits)
            if extra_loss is not None:
                loss = loss + extra_loss(model)
        grads = tape.gradient(loss, variables)
        tr.opt.apply_gradients(zip(grads, variables))
        return loss

    t0, losses = time.time(), []
    from tqdm import tqdm

    bar = tqdm(total=tr.total, desc="fine-tune", unit="step", leave=False, mininterval=2.0)
    for done, (x, y) in enumerate(tr.batches(graph, batch, np.random.default_rng(seed)), 1):
        losses.append(float(train_step(x, y)))
        bar.update(1)
        # checked at the end of every epoch and of the run
        if (done % tr.per_epoch == 0 or done == tr.total) and not np.isfinite(np.mean(losses[-tr.per_epoch:])):
            bar.close()
            raise IlwpError(f"fine-tuning diverged (loss {np.mean(losses[-tr.per_epoch:])}); lower the learning rate (now {lr})")
    bar.close()
    val = float_top1(model, tr.xva, tr.yva)
    log(f"fine-tuned {tr.total} steps ({tr.total / tr.per_epoch:.2f} epochs) in {time.time() - t0:.0f} s: "
        f"loss {np.mean(losses[-min(len(losses), 100):]):.4f}, float-emulation val top-1 {val:.4f}")
    return model.to_graph(), val
