"""kd: tempered log-softmax, log-sum-exp, entropy and KL against scipy, stable where the naive formula fails."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from labs_py import kd

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("T", [0.5, 1.0, 2.0, 7.3])
def test_log_softmax_and_logsumexp_match_scipy(T):
    z = RNG.standard_normal((3, 11)) * 5
    assert np.allclose(kd.log_softmax(z, T), special.log_softmax(z / T, axis=-1), rtol=0, atol=1e-12)
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


def test_entropy_and_kl_match_scipy():
    p, q = RNG.dirichlet(np.ones(9)), RNG.dirichlet(np.ones(9))
    assert kd.entropy(np.log(p)) == pytest.approx(stats.entropy(p), rel=1e-13)
    assert kd.kl(np.log(p), np.log(q)) == pytest.approx(stats.entropy(p, q), rel=1e-13)
    p0 = np.array([0.5, 0.5, 0.0])
    with np.errstate(divide="ignore"):  # log 0 = −inf is a valid log-probability
        assert kd.entropy(np.log(p0)) == pytest.approx(np.log(2))  # 0 log 0 = 0
        assert kd.kl(np.log(p0), np.log(np.array([0.25, 0.25, 0.5]))) == pytest.approx(np.log(2))
