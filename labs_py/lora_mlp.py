"""A small MLP on 8×8 digits and three ways to fine-tune it: full, LoRA, head only.

Why: real LoRA never sees the update ΔW it replaces; it trains B and A on a task loss. This module
is the whole training machinery the LoRA Lab runs in the browser: a 64-64-64-10 ReLU network with
one shared 10-way head, softmax cross-entropy and its gradients by hand (Adam is labs_py.adam). The fine-tuning
methods differ only in which parameters are trained:

    full   every weight and bias
    lora   W = W0 + s·B A on the chosen hidden layers (B (d, r) = 0 at the start, A (r, k) random;
           s = α/r, or α/√r for rsLoRA), hidden biases frozen, and the head trained as a whole
           (as PEFT's `modules_to_save` does for a classifier head)
    head   only the head W3, b3

Weights follow the LoRA paper's convention: W (d, k) maps k inputs to d outputs, h = W x + b.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

SIZES = (64, 64, 64, 10)  # input pixels, hidden, hidden, classes
HIDDEN = ("W1", "W2")  # the layers LoRA can adapt
WARMUP = 0.05  # share of the schedule spent warming the learning rate up

Params = dict[str, np.ndarray]


def init(rng: np.random.Generator) -> Params:
    """He-initialised weights (d, k) and zero biases (d,) for SIZES."""
    p: Params = {}
    for i, (k, d) in enumerate(itertools.pairwise(SIZES), 1):
        p[f"W{i}"] = rng.standard_normal((d, k)) * math.sqrt(2.0 / k)  # (d, k)
        p[f"b{i}"] = np.zeros(d)  # (d,)
    return p


def forward(p: Params, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits (n, 10) and the layer inputs [X, h1, h2] the backward pass needs."""
    h1 = np.maximum(X @ p["W1"].T + p["b1"], 0.0)  # (n, 64)
    h2 = np.maximum(h1 @ p["W2"].T + p["b2"], 0.0)  # (n, 64)
    return h2 @ p["W3"].T + p["b3"], [X, h1, h2]


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log softmax, stable for large logits."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
    """Mean −log softmax(z)_y over the rows: the loss every method minimises."""
    return float(-log_softmax(z)[np.arange(y.size), y].mean())


def loss_and_grads(p: Params, X: np.ndarray, y: np.ndarray, upto: int = 1) -> tuple[float, Params]:
    """Cross-entropy of the MLP with weights p and its gradients for layers upto…3 (1: all, 3: the head only).

    Backward pass: ∂L/∂z = (softmax(z) − onehot(y)) / n; for h = W x + b, ∂L/∂W = δᵀ x and
    ∂L/∂x = δ W, and ReLU passes δ only where its output is positive.
    """
    z, (x0, h1, h2) = forward(p, X)
    n = y.size
    delta = np.exp(log_softmax(z))  # (n, 10)
    loss = float(-np.log(np.maximum(delta[np.arange(n), y], 1e-300)).mean())
    delta[np.arange(n), y] -= 1.0
    delta /= n
    g: Params = {"W3": delta.T @ h2, "b3": delta.sum(axis=0)}
    if upto <= 2:
        delta = (delta @ p["W3"]) * (h2 > 0)  # (n, 64)
        g["W2"], g["b2"] = delta.T @ h1, delta.sum(axis=0)
        if upto <= 1:
            delta = (delta @ p["W2"]) * (h1 > 0)  # (n, 64)
            g["W1"], g["b1"] = delta.T @ x0, delta.sum(axis=0)
    return loss, g


def scaling(alpha: float, r: int, kind: str) -> float:
    """LoRA's s = α/r (Hu et al. 2021, §4.1), or rsLoRA's s = α/√r (Kalajdzievski 2023)."""
    return alpha / math.sqrt(r) if kind == "rslora" else alpha / r


# ---- the three methods -------------------------------------------------------------------------

@dataclass
class Method:
    """One fine-tuning method: its trainable tensors over the frozen base W0 and how they map to weights.

    kind: "full" | "lora" | "head"; trainable: name → array (full: the six weights and biases;
    lora: B_Wi, A_Wi per adapted layer plus W3, b3; head: W3, b3); s: LoRA's scaling.
    """

    kind: str
    base: Params
    trainable: Params
    layers: tuple[str, ...] = ()
    s: float = 1.0

    def weights(self) -> Params:
        """The network's effective weights: W0 + s·B A for adapted layers, trained tensors elsewhere."""
        p = {**self.base, **{k: v for k, v in self.trainable.items() if not k.startswith(("A_", "B_"))}}
        for name in self.layers:
            p[name] = self.base[name] + self.s * (self.trainable[f"B_{name}"] @ self.trainable[f"A_{name}"])  # (d, k)
        return p

    def delta(self, name: str) -> np.ndarray:
        """ΔW = W − W0 of one layer (d, k)."""
        return self.weights()[name] - self.base[name]

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Training loss and its gradient for every trainable tensor (chain rule through W = W0 + s·B A)."""
        upto = 1 if self.kind == "full" or "W1" in self.layers else 2 if self.layers else 3
        loss, g = loss_and_grads(self.weights(), X, y, upto)
        if self.kind != "lora":
            return loss, g
        out = {"W3": g["W3"], "b3": g["b3"]}
        for name in self.layers:
            B, A, G = self.trainable[f"B_{name}"], self.trainable[f"A_{name}"], g[name]  # G = ∂L/∂W (d, k)
            out[f"B_{name}"] = self.s * (G @ A.T)  # (d, r)
            out[f"A_{name}"] = self.s * (B.T @ G)  # (r, k)
        return loss, out

    def n_trainable(self) -> int:
        """Number of trained numbers."""
        return sum(v.size for v in self.trainable.values())


def full(base: Params) -> Method:
    """Full fine-tuning: every weight and bias starts at the base and is trained."""
    return Method("full", base, {k: v.copy() for k, v in base.items()})


def head(base: Params) -> Method:
    """Head only: W3 and b3 trained, the body frozen."""
    return Method("head", base, {"W3": base["W3"].copy(), "b3": base["b3"].copy()})


def lora(base: Params, r: int, alpha: float, kind: str, layers: tuple[str, ...], rng: np.random.Generator) -> Method:
    """LoRA on `layers` at rank r: B = 0 (d, r), A ~ N(0, 1/k) (r, k), so W = W0 exactly at step 0."""
    t: Params = {"W3": base["W3"].copy(), "b3": base["b3"].copy()}
    for name in layers:
        d, k = base[name].shape
        rr = min(r, d, k)
        t[f"B_{name}"] = np.zeros((d, rr))  # (d, r)
        t[f"A_{name}"] = rng.standard_normal((rr, k)) / math.sqrt(k)  # (r, k)
    return Method("lora", base, t, tuple(layers), scaling(alpha, r, kind))


# ---- the learning-rate schedule -------------------------------------------------------------------

def learning_rate(t: int, peak: float, T: int) -> float:
    """Linear warm-up over the first WARMUP·T steps, then cosine decay to 0 at step T (t counts from 1)."""
    warm = max(1, round(WARMUP * T))
    if t <= warm:
        return peak * t / warm
    x = min(t - warm, T - warm) / max(T - warm, 1)
    return peak * 0.5 * (1.0 + math.cos(math.pi * x))


def batches(n: int, size: int, seed: int):
    """Endless minibatch index arrays: a fresh seeded permutation of range(n) each epoch, cut into `size`."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for i in range(0, n - size + 1, size):
            yield order[i:i + size]


def accuracy(p: Params, X: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    """Share of rows whose highest logit among `classes` is the true class (a choice among those digits)."""
    z, _ = forward(p, X)
    return float(np.mean(classes[np.argmax(z[:, classes], axis=1)] == y))
