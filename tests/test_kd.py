"""kd: tempered softmax, the Hinton et al. loss, its gradient and Hessian, and the exact optimum,
against scipy, expanded-vocabulary oracles and central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special, stats

from labs_py import kd

RNG = np.random.default_rng(7)
FD_H = 1e-6  # central differences: error O(h²) ≈ 1e-12, rounding O(ε/h) ≈ 1e-10


def case(n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(student logits v, teacher logits z, log bucket sizes) for a small random problem."""
    rng = np.random.default_rng(seed)
    log_m = np.zeros(n)
    log_m[-1] = np.log(1000.0)  # one bucket of 1000 tokens, like the lab's rest of the vocabulary
    return rng.standard_normal(n) * 2, rng.standard_normal(n) * 3, log_m


def fd_grad(f, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = FD_H
        out[i] = (f(x + e) - f(x - e)) / (2 * FD_H)
    return out


@pytest.mark.parametrize("T", [0.5, 1.0, 2.0, 7.3])
def test_softmax_and_log_softmax_match_scipy(T):
    z = RNG.standard_normal((3, 11)) * 5
    assert np.allclose(kd.log_softmax(z, T), special.log_softmax(z / T, axis=-1), rtol=0, atol=1e-12)
    assert np.allclose(kd.softmax(z, T), special.softmax(z / T, axis=-1), rtol=0, atol=1e-14)
    assert np.allclose(kd.logsumexp(z, axis=1), special.logsumexp(z, axis=1), rtol=1e-14)


@pytest.mark.parametrize("T", [0.05, 0.1, 1.0])
def test_log_softmax_is_stable_for_tiny_T_and_very_negative_logits(T):
    z = np.array([-300.0, -301.0, -299.5, -350.0, -300.2])
    log_p = kd.log_softmax(z, T)
    assert np.all(np.isfinite(log_p))
    assert np.allclose(log_p, special.log_softmax(z / T), rtol=1e-13, atol=1e-9)
    assert np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-14)
    assert log_p[2] == pytest.approx(-np.log1p(np.exp(-0.5 / T) + np.exp(-0.7 / T) + np.exp(-1.5 / T) + np.exp(-50.5 / T)),
                                     rel=1e-12, abs=1e-300)  # closed form around the max
    if T < 0.5:  # where the unshifted formula underflows to 0 / 0: the shift is what makes it work
        with np.errstate(invalid="ignore"):
            naive = np.exp(z / T) / np.exp(z / T).sum()
        assert not np.any(np.isfinite(naive))


def test_losses_and_gradient_stay_finite_in_the_extremes():
    v = np.array([-300.0, 0.0, 300.0, -250.0])
    z = np.array([-280.0, -300.0, -290.0, -300.0])
    log_pt = kd.log_softmax(z, 0.05)
    for y in (0, 1, None):
        L = kd.kd_losses(v, log_pt, y, 0.05, 0.5)
        g = kd.kd_grad(v, np.exp(log_pt), y, 0.05, 0.5)
        assert all(np.isfinite([L.kl, L.ce, L.total])) and np.all(np.isfinite(g))


def test_entropy_and_kl_match_scipy():
    p, q = RNG.dirichlet(np.ones(9)), RNG.dirichlet(np.ones(9))
    assert kd.entropy(np.log(p)) == pytest.approx(stats.entropy(p), rel=1e-13)
    assert kd.kl(np.log(p), np.log(q)) == pytest.approx(stats.entropy(p, q), rel=1e-13)
    p0 = np.array([0.5, 0.5, 0.0])
    with np.errstate(divide="ignore"):  # log 0 = −inf is a valid log-probability
        assert kd.entropy(np.log(p0)) == pytest.approx(np.log(2))  # 0 log 0 = 0
        assert kd.kl(np.log(p0), np.log(np.array([0.25, 0.25, 0.5]))) == pytest.approx(np.log(2))


@pytest.mark.parametrize("T", [0.5, 1.0, 3.0])
def test_shared_logits_equal_the_expanded_vocabulary(T):
    """A bucket of m tokens sharing logit v has the total probability of m separate tokens with logit v."""
    v = np.array([1.0, -0.5, 2.0, 0.3])
    m = np.array([1, 1, 1, 37])
    expanded = np.repeat(v, m)  # (40,)
    p_full = special.softmax(expanded / T)
    p_buckets = np.add.reduceat(p_full, np.concatenate([[0], np.cumsum(m)[:-1]]))
    assert np.allclose(np.exp(kd.student_log_probs(v, T, np.log(m))), p_buckets, rtol=1e-13)


@pytest.mark.parametrize(("T", "alpha", "y"), [(1.0, 0.5, 2), (0.5, 0.9, 0), (4.0, 0.3, 7), (2.0, 1.0, None), (10.0, 0.0, 3)])
def test_gradient_equals_finite_differences(T, alpha, y):
    v, z, log_m = case()
    log_pt = kd.student_log_probs(z, T, log_m)
    g = kd.kd_grad(v, np.exp(log_pt), y, T, alpha, log_m)
    num = fd_grad(lambda x: kd.kd_losses(x, log_pt, y, T, alpha, log_m).total, v)
    assert np.allclose(g, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("T", [0.7, 2.5])
def test_soft_and_hard_terms_separately_equal_finite_differences(T):
    v, z, log_m = case(seed=3)
    log_pt = kd.student_log_probs(z, T, log_m)
    soft = kd.kd_grad(v, np.exp(log_pt), None, T, 1.0, log_m)
    num = fd_grad(lambda x: T * T * kd.kl(log_pt, kd.student_log_probs(x, T, log_m)), v)
    assert np.allclose(soft, num, rtol=1e-6, atol=1e-9)
    hard = kd.kd_grad(v, np.exp(log_pt), 4, T, 0.0, log_m)
    num = fd_grad(lambda x: -kd.student_log_probs(x, 1.0, log_m)[4], v)
    assert np.allclose(hard, num, rtol=1e-6, atol=1e-9)
    assert np.sum(soft) == pytest.approx(0, abs=1e-12) and np.sum(hard) == pytest.approx(0, abs=1e-12)


def test_hessian_equals_finite_differences_of_the_gradient():
    v, z, log_m = case(seed=5)
    T, alpha, y = 1.7, 0.6, 1
    pt = kd.softmax(z, T)
    H = kd.kd_hessian(v, y, T, alpha, log_m)
    num = np.column_stack([fd_grad(lambda x, i=i: kd.kd_grad(x, pt, y, T, alpha, log_m)[i], v) for i in range(v.size)])
    assert np.allclose(H, num, rtol=1e-5, atol=1e-8)
    assert np.allclose(H, H.T)


def test_t_squared_keeps_the_soft_gradient_size_for_large_T():
    """For large T, T·(p_s^T − p_t^T) → (v − z − mean)/n: the T²-weighted gradient stops depending on T,
    while the unweighted KL gradient shrinks like 1/T²."""
    v, z, _ = case(n=10, seed=11)
    pt = {T: kd.softmax(z, T) for T in (10.0, 20.0, 40.0, 80.0)}
    weighted = {T: np.linalg.norm(kd.kd_grad(v, pt[T], None, T, 1.0)) for T in pt}
    raw = {T: weighted[T] / T**2 for T in pt}  # ∇ KL alone
    d = v - z
    limit = np.linalg.norm((d - d.mean()) / d.size)
    assert weighted[80.0] == pytest.approx(limit, rel=0.01)
    assert weighted[10.0] == pytest.approx(limit, rel=0.15)
    for lo, hi in ((10.0, 20.0), (20.0, 40.0), (40.0, 80.0)):
        assert weighted[hi] / weighted[lo] == pytest.approx(1.0, abs=0.1)
        assert raw[lo] / raw[hi] == pytest.approx(4.0, rel=0.1)


@pytest.mark.parametrize(("r", "alpha", "y", "T"), [(3, 1.0, 2, 2.0), (3, 0.5, 0, 1.0), (8, 0.9, 5, 4.0), (8, 0.2, None, 0.8)])
def test_optimum_matches_scipy_and_is_stationary(r, alpha, y, T):
    _, z, log_m = case(seed=r)
    n = z.size
    Phi = np.eye(n) if r == n else np.random.default_rng(r).standard_normal((n, r))
    log_pt = kd.student_log_probs(z, T, log_m)
    v, L = kd.optimum(Phi, log_pt, y, T, alpha, log_m)

    def f(w):
        return kd.kd_losses(Phi @ w, log_pt, y, T, alpha, log_m).total

    ref = optimize.minimize(f, np.zeros(Phi.shape[1]), jac=lambda w: Phi.T @ kd.kd_grad(Phi @ w, np.exp(log_pt), y, T, alpha, log_m),
                            method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    assert L.total == pytest.approx(ref.fun, rel=1e-8, abs=1e-12)
    assert L.total <= ref.fun + 1e-12 * max(1.0, abs(ref.fun))  # no worse than BFGS
    assert np.max(np.abs(Phi.T @ kd.kd_grad(v, np.exp(log_pt), y, T, alpha, log_m))) <= kd.GRAD_TOL


def test_free_student_at_alpha_one_reaches_zero_kl():
    _, z, log_m = case(seed=9)
    log_pt = kd.student_log_probs(z, 3.0, log_m)
    _, L = kd.optimum(np.eye(z.size), log_pt, 1, 3.0, 1.0, log_m)
    assert L.kl == pytest.approx(0.0, abs=1e-14)
    with pytest.raises(ValueError, match="alpha > 0"):
        kd.optimum(np.eye(z.size), log_pt, 1, 3.0, 0.0, log_m)


def test_missing_label_drops_the_hard_term():
    v, z, _ = case()
    log_pt = kd.log_softmax(z, 2.0)
    L = kd.kd_losses(v, log_pt, None, 2.0, 0.25)
    assert L.ce == 0.0 and L.total == pytest.approx(0.25 * 4 * L.kl)
    assert np.allclose(kd.kd_grad(v, np.exp(log_pt), None, 2.0, 0.25), 0.25 * 2.0 * (kd.softmax(v, 2.0) - np.exp(log_pt)))
