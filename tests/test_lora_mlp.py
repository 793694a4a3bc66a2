"""lora_mlp: every method's gradients against central finite differences; LoRA's step 0 is the base; the schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labs_py import lora_mlp as mlp

RTOL, ATOL = 1e-5, 1e-8  # central differences with h = 1e-6 on a smooth loss


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    base = mlp.init(rng)
    for k in ("b1", "b2", "b3"):  # non-zero biases: the gradient check also covers them
        base[k] = 0.1 * rng.standard_normal(base[k].shape)
    X = rng.uniform(0, 1, (12, 64))
    y = rng.integers(0, 10, 12)
    return base, X, y


def numeric_grad(m: mlp.Method, X, y, name: str, n: int = 12, h: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """(indices, central differences) of the loss for n entries of the trainable tensor `name`."""
    x = m.trainable[name]
    idx = np.random.default_rng(len(name)).choice(x.size, size=min(n, x.size), replace=False)
    out = []
    for i in idx:
        old = x.flat[i]
        x.flat[i] = old + h
        up = mlp.cross_entropy(mlp.forward(m.weights(), X)[0], y)
        x.flat[i] = old - h
        down = mlp.cross_entropy(mlp.forward(m.weights(), X)[0], y)
        x.flat[i] = old
        out.append((up - down) / (2 * h))
    return idx, np.array(out)


def perturbed_lora(base, r, layers, kind="standard"):
    m = mlp.lora(base, r, 8.0, kind, layers, np.random.default_rng(3))
    rng = np.random.default_rng(4)
    for k in m.trainable:
        if k.startswith("B_"):  # B = 0 would hide the gradient of A
            m.trainable[k] = 0.1 * rng.standard_normal(m.trainable[k].shape)
    return m


@pytest.mark.parametrize("make", [
    lambda b: mlp.full(b),
    lambda b: mlp.head(b),
    lambda b: perturbed_lora(b, 4, ("W1", "W2")),
    lambda b: perturbed_lora(b, 3, ("W2",), "rslora"),
    lambda b: perturbed_lora(b, 2, ("W1",)),
], ids=["full", "head", "lora-both", "lora-W2-rslora", "lora-W1"])
def test_gradients_equal_finite_differences(data, make):
    base, X, y = data
    m = make(base)
    loss, g = m.loss_and_grads(X, y)
    assert loss == pytest.approx(mlp.cross_entropy(mlp.forward(m.weights(), X)[0], y), rel=1e-12)
    assert set(g) == set(m.trainable)
    for name in m.trainable:
        idx, num = numeric_grad(m, X, y, name)
        assert np.allclose(g[name].flat[idx], num, rtol=RTOL, atol=ATOL), name


def test_lora_starts_as_the_base_model(data):
    base, X, _ = data
    m = mlp.lora(base, 8, 16.0, "standard", ("W1", "W2"), np.random.default_rng(0))
    assert all(np.array_equal(m.trainable[f"B_{k}"], np.zeros((64, 8))) for k in ("W1", "W2"))
    w = m.weights()
    assert all(np.array_equal(w[k], base[k]) for k in base)  # exactly: B = 0
    assert np.array_equal(mlp.forward(w, X)[0], mlp.forward(base, X)[0])
    assert np.std(m.trainable["A_W1"]) == pytest.approx(1 / 8, rel=0.1)  # A ~ N(0, 1/k), k = 64


def test_scaling_and_trainable_counts(data):
    base, _, _ = data
    assert mlp.scaling(16, 4, "standard") == 4.0 and mlp.scaling(16, 4, "rslora") == 8.0
    assert mlp.full(base).n_trainable() == 64 * 64 + 64 + 64 * 64 + 64 + 10 * 64 + 10
    assert mlp.head(base).n_trainable() == 650
    assert mlp.lora(base, 8, 8, "standard", ("W1", "W2"), np.random.default_rng(0)).n_trainable() == 2 * 8 * 128 + 650


def test_learning_rate_schedule():
    T, peak = 200, 0.004
    assert mlp.learning_rate(1, peak, T) == pytest.approx(peak / 10)  # warm-up over 10 steps
    assert mlp.learning_rate(10, peak, T) == pytest.approx(peak)
    assert mlp.learning_rate(105, peak, T) == pytest.approx(peak * 0.5 * (1 + math.cos(math.pi * 95 / 190)))
    assert mlp.learning_rate(T, peak, T) == pytest.approx(0.0, abs=1e-18)


def test_batches_cover_each_epoch_once():
    it = mlp.batches(100, 32, 7)
    epoch = np.concatenate([next(it) for _ in range(3)])  # 3 full batches per epoch; the last 4 are dropped
    assert len(set(epoch.tolist())) == 96
    again = mlp.batches(100, 32, 7)
    assert np.array_equal(next(again), epoch[:32])  # seeded


def test_accuracy_is_a_choice_among_the_given_classes():
    p = {"W1": np.eye(64), "b1": np.zeros(64), "W2": np.eye(64), "b2": np.zeros(64),
         "W3": np.zeros((10, 64)), "b3": np.arange(10.0)}  # logits = 0..9 for every input: argmax is 9, or 4 among 0–4
    X = np.zeros((4, 64))
    assert mlp.accuracy(p, X, np.array([4, 4, 4, 0]), np.arange(5)) == 0.75
    assert mlp.accuracy(p, X, np.array([9, 9, 5, 5]), np.arange(5, 10)) == 0.5
