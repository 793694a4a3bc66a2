"""The Bradley–Terry reward model against independent oracles: finite differences, scipy, invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from labs_py import bradley_terry as bt
from labs_py import preferences as pref

FD_H = 1e-6
FD_TOL = 1e-7  # central differences of a smooth O(1) function: error ~ h² plus rounding ~ 1e-10 / h


@pytest.fixture(scope="module")
def labelled():
    """300 noisy labels by the careful annotator on the lab's own training pairs: (D, y)."""
    ia, ib, y = pref.simulate("careful", 300, 0.7, np.random.default_rng(3))
    return pref.PHI[ia] - pref.PHI[ib], y


def reference_loss(w, D, y, lam):
    """The same objective written with scipy: mean −log σ(y w·d) + (λ/2)‖w‖²."""
    return -np.mean(log_expit(y * (D @ w))) + 0.5 * lam * np.dot(w, w)


def reference_grad(w, D, y, lam):
    return -(expit(-y * (D @ w)) * y) @ D / len(y) + lam * w


def test_loss_matches_scipy_transcription(labelled):
    D, y = labelled
    w = np.random.default_rng(0).normal(size=D.shape[1])
    assert bt.loss(w, D, y) == pytest.approx(reference_loss(w, D, y, bt.LAMBDA), rel=1e-12)
    assert bt.loss(np.zeros(D.shape[1]), D, y) == pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize("lam", [0.0, bt.LAMBDA, 0.3])
def test_gradient_equals_finite_differences(labelled, lam):
    D, y = labelled
    rng = np.random.default_rng(1)
    w = rng.normal(size=D.shape[1])
    fd = np.array([(bt.loss(w + FD_H * e, D, y, lam) - bt.loss(w - FD_H * e, D, y, lam)) / (2 * FD_H)
                   for e in np.eye(D.shape[1])])
    assert np.allclose(bt.grad(w, D, y, lam), fd, rtol=0, atol=FD_TOL)


def test_gradient_descent_takes_the_steps_it_reports(labelled):
    """The returned losses are L(w_t) along w_{t+1} = w_t − lr ∇L(w_t), replayed with the scipy gradient."""
    D, y = labelled
    w0 = np.full(D.shape[1], 0.3)
    w, losses = bt.gradient_descent(w0, D, y, lr=0.7, steps=25)
    replay = w0.copy()
    for t in range(25):
        assert losses[t] == pytest.approx(reference_loss(replay, D, y, bt.LAMBDA), rel=1e-12)
        replay = replay - 0.7 * reference_grad(replay, D, y, bt.LAMBDA)
    assert np.allclose(w, replay, rtol=0, atol=1e-12)
    assert losses[-1] == pytest.approx(reference_loss(w, D, y, bt.LAMBDA), rel=1e-12)
    assert np.all(np.diff(losses) < 0)  # lr 0.7 is below 2 / (largest curvature) here: every step descends


def test_fitted_weights_equal_scipy_logistic_regression(labelled):
    """BT without ties = logistic regression on φ_A − φ_B, no intercept: scipy's BFGS solves the same problem."""
    D, y = labelled
    ref = minimize(reference_loss, np.zeros(D.shape[1]), args=(D, y, bt.LAMBDA), jac=reference_grad,
                   method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    assert np.linalg.norm(reference_grad(ref.x, D, y, bt.LAMBDA)) < 1e-9
    w_gd, _ = bt.gradient_descent(np.zeros(D.shape[1]), D, y, lr=1.0, steps=3000)
    assert np.allclose(w_gd, ref.x, rtol=0, atol=1e-4)
    assert np.allclose(bt.newton(D, y), ref.x, rtol=0, atol=1e-8)


def test_fit_on_separable_labels_stays_finite_and_matches_scipy():
    """Labels a linear reward separates perfectly: only λ keeps w finite; Newton still agrees with scipy."""
    rows = pref.TRAINING_ORDER
    D = pref.PHI[rows[:, 0]] - pref.PHI[rows[:, 1]]
    y = np.where(D[:, 2] > 0, 1.0, -1.0)  # "the longer answer wins"
    keep = D[:, 2] != 0
    D, y = D[keep], y[keep]
    ref = minimize(reference_loss, np.zeros(D.shape[1]), args=(D, y, bt.LAMBDA), jac=reference_grad,
                   method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    w = bt.newton(D, y)
    assert np.allclose(w, ref.x, rtol=0, atol=1e-6)
    assert np.linalg.norm(w) < 10
    assert np.argmax(np.abs(w)) == pref.FEATURES.index("length")
    w_weaker, _ = bt.gradient_descent(w, D, y, lr=1.0, steps=2000, lam=0.0)  # without λ, descent keeps inflating w
    assert np.linalg.norm(w_weaker) > np.linalg.norm(w) + 1


def test_adding_a_constant_to_all_rewards_changes_nothing():
    rng = np.random.default_rng(4)
    r_a, r_b = rng.normal(size=20), rng.normal(size=20)
    y = rng.choice([-1.0, 1.0], 20)
    base = bt.pair_nll(r_a, r_b, y)
    for c in (-7.5, 0.25, 1e3):
        assert bt.pair_nll(r_a + c, r_b + c, y) == pytest.approx(base, rel=1e-12)
    w = rng.normal(size=len(pref.FEATURES))
    r = pref.PHI @ w  # a constant feature would add the same to every reward: no difference survives
    ia, ib = pref.TRAINING_ORDER[:10, 0], pref.TRAINING_ORDER[:10, 1]
    assert bt.pair_nll(r[ia] + 3.0, r[ib] + 3.0, y[:10]) == pytest.approx(bt.loss(w, pref.PHI[ia] - pref.PHI[ib], y[:10], 0.0))


def test_swapping_a_and_b_flips_the_label_and_keeps_the_loss(labelled):
    D, y = labelled
    rng = np.random.default_rng(5)
    w = rng.normal(size=D.shape[1])
    flip = rng.random(len(y)) < 0.5
    sign = np.where(flip, -1.0, 1.0)
    D2, y2 = D * sign[:, None], y * sign  # the same judgements with A and B swapped on half of the pairs
    assert bt.loss(w, D2, y2) == pytest.approx(bt.loss(w, D, y), rel=1e-12)
    assert np.allclose(bt.grad(w, D2, y2), bt.grad(w, D, y), atol=1e-15)
    assert np.allclose(bt.prob(w, -D), 1 - bt.prob(w, D), atol=1e-15)
    assert np.allclose(bt.newton(D2, y2), bt.newton(D, y), atol=1e-12)


def test_sigmoid_is_stable_and_matches_scipy():
    x = np.array([-1e4, -40.0, -1.0, 0.0, 2.5, 40.0, 1e4])
    assert np.allclose(bt.sigmoid(x), expit(x), rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(bt.sigmoid(x)))


def test_accuracy_on_a_hand_made_table():
    w = np.array([1.0, -1.0])
    D = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])  # margins w·d: 1, −1, 0, 2
    y = np.array([1.0, 1.0, -1.0, -1.0])  # right, wrong, tie (½), wrong
    assert bt.accuracy(w, D, y) == pytest.approx(1.5 / 4)
