"""kd_student: the distillation loss against scipy, its gradient (T² included) against central finite
differences, Adam against a direct re-implementation, and the bias shift against scipy's root finder."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from labs_py import kd_student as ks

FD_H = 1e-6  # central differences: error O(h²) ≈ 1e-12, rounding O(T² ε/h) ≤ 1e-8


def problem(S: int = 2, n: int = 7, seed: int = 0):
    """(z (S, n, 10), teacher logits v (n, 10), labels y (n,)) of a small random problem."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((S, n, 10)) * 2, rng.standard_normal((n, 10)) * 3, rng.integers(0, 10, n)


def oracle_loss(z: np.ndarray, v: np.ndarray, y: np.ndarray, T: float, alpha: float) -> float:
    """One student's loss written out with scipy: α T² mean KL(p_t^T ‖ p_s^T) + (1 − α) mean CE."""
    pt = special.softmax(v / T, axis=1)
    kl = np.mean(np.sum(special.rel_entr(pt, special.softmax(z / T, axis=1)), axis=1))
    ce = -np.mean(special.log_softmax(z, axis=1)[np.arange(len(y)), y])
    return alpha * T * T * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 10.0])
def test_losses_match_scipy(T):
    z, v, y = problem()
    alpha = np.array([0.0, 0.7])
    L = ks.losses(z, special.log_softmax(v / T, axis=1), y, T, alpha)
    for s in range(2):
        assert L.total[s] == pytest.approx(oracle_loss(z[s], v, y, T, alpha[s]), rel=1e-12)
    assert L.total[0] == pytest.approx(L.ce[0], rel=1e-14)  # α = 0: the labels' cross-entropy only


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 10.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_gradient_with_the_t_squared_factor_equals_finite_differences(T, alpha):
    z, v, y = problem(S=1)
    g = ks.grad_logits(z, special.softmax(v / T, axis=1), y, T, np.array([alpha]))[0]  # (n, 10)
    fd = np.empty_like(g)
    for i in range(z.shape[1]):
        for k in range(10):
            e = np.zeros_like(z[0])
            e[i, k] = FD_H
            fd[i, k] = (oracle_loss(z[0] + e, v, y, T, alpha) - oracle_loss(z[0] - e, v, y, T, alpha)) / (2 * FD_H)
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-8)  # T² = 100 multiplies the loss's rounding by 100


def test_t_squared_keeps_the_soft_gradient_the_same_size_at_high_T():
    """Without T² the soft term's gradient shrinks like 1/T² (§2.1); with it, like the logit gap / N."""
    z, v, y = problem(S=1, n=50, seed=3)
    z, v = z * 0.2, v * 0.2  # logits small against T: the high-temperature regime
    sizes = [np.abs(ks.grad_logits(z, special.softmax(v / T, axis=1), y, T, np.array([1.0]))).mean() for T in (5.0, 10.0, 20.0)]
    assert max(sizes) / min(sizes) < 1.1  # with T²: about constant
    # the limit (1 / (N n)) (z − v) after zero-meaning, the paper's Eq. 4 times T²
    zc, vc = z[0] - z[0].mean(1, keepdims=True), v - v.mean(1, keepdims=True)
    g = ks.grad_logits(z, special.softmax(v / 50.0, axis=1), y, 50.0, np.array([1.0]))[0]
    assert np.allclose(g, (zc - vc) / (10 * len(y)), rtol=0, atol=2e-3 * np.abs(zc - vc).max() / len(y))


def test_adam_step_equals_a_direct_re_implementation():
    rng = np.random.default_rng(5)
    X, y = rng.random((30, 64)), rng.integers(0, 10, 30)
    pt = special.softmax(rng.standard_normal((30, 10)) * 3 / 4.0, axis=1)
    alpha, T, lr = np.array([0.0, 0.8]), 4.0, 0.05
    s = ks.Students.zeros(2)
    W, b = np.zeros((2, 64, 10)), np.zeros((2, 10))
    m = {k: np.zeros_like(a) for k, a in (("W", W), ("b", b))}
    v = {k: np.zeros_like(a) for k, a in (("W", W), ("b", b))}
    for t in range(1, 6):
        ks.adam_step(s, X, pt, y, T, alpha, lr)
        for i in range(2):  # one student at a time, from the formulas
            z = X @ W[i] + b[i]
            p1, pT = special.softmax(z, axis=1), special.softmax(z / T, axis=1)
            g = (alpha[i] * T * (pT - pt) + (1 - alpha[i]) * (p1 - np.eye(10)[y])) / len(y)
            for k, grad in (("W", X.T @ g), ("b", g.sum(0))):
                m[k][i] = 0.9 * m[k][i] + 0.1 * grad
                v[k][i] = 0.999 * v[k][i] + 0.001 * grad**2
                step = lr * (m[k][i] / (1 - 0.9**t)) / (np.sqrt(v[k][i] / (1 - 0.999**t)) + 1e-8)
                (W if k == "W" else b)[i] -= step
    # Adam divides by √v: last-bit differences in near-zero gradients grow to ~1e-11 here, far below a step (lr = 0.05)
    assert s.t == 5 and np.allclose(s.W, W, rtol=0, atol=1e-9) and np.allclose(s.b, b, rtol=0, atol=1e-9)


def test_accuracy_counts_argmax_hits_per_student():
    z = np.zeros((2, 4, 10))
    z[0, [0, 1, 2, 3], [1, 2, 3, 4]] = 1.0  # student 0 predicts 1, 2, 3, 4
    z[1, :, 7] = 1.0  # student 1 always predicts 7
    assert ks.accuracy(z, np.array([1, 2, 0, 7])).tolist() == [0.5, 0.25]


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 10.0])
@pytest.mark.parametrize("scale", [0.5, 3.0, 20.0])
def test_bias_shift_solves_its_equation_like_brentq(T, scale):
    rng = np.random.default_rng(int(10 * T + scale))
    z = rng.standard_normal((80, 10)) * scale
    z[:, 3] -= 3 * scale  # class 3 pushed down, as when it was left out
    target = 0.1

    def gap(delta: float) -> float:
        return np.mean(special.softmax((z + delta * np.eye(10)[3]) / T, axis=1)[:, 3]) - target

    root = optimize.brentq(gap, -1e4, 1e4, xtol=1e-12, rtol=1e-14)
    assert ks.bias_shift(z, target, 3, T) == pytest.approx(root, rel=1e-8, abs=1e-8)


def test_bias_shift_is_zero_when_the_student_already_matches():
    z = np.random.default_rng(2).standard_normal((40, 10))
    target = float(np.mean(special.softmax(z / 4.0, axis=1)[:, 6]))
    assert abs(ks.bias_shift(z, target, 6, 4.0)) < 1e-9
