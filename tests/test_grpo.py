"""GRPO against independent oracles: the paper's formulas transcribed term by term, finite differences."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from labs_py import grpo
from labs_py import preferences as pref

FD_H = 1e-6
FD_TOL = 1e-8
ROWS = pref.rows_of(2)  # a prompt with 48 answers
PHI, REF = pref.PHI[ROWS], pref.LOGP_REF[ROWS]


def paper_advantages(r):
    """DeepSeekMath §4.1.2, outcome supervision: Â_i = r̃_i = (r_i − mean(r)) / std(r), one reward at a time."""
    mean, std = statistics.fmean(r), statistics.pstdev(r)
    return [(x - mean) / std for x in r]


def paper_objective(theta, theta_old, o, A, eps, beta):
    """Eq. 3 with Eq. 4, one answer (of one token) at a time, with math only."""
    def pi(t, i):
        z = [sum(a * b for a, b in zip(PHI[j], t, strict=True)) + REF[j] for j in range(len(PHI))]
        return math.exp(z[i]) / sum(math.exp(v) for v in z)
    total = 0.0
    for i, a in zip(o, A, strict=True):
        ratio = pi(theta, i) / pi(theta_old, i)
        clipped = min(max(ratio, 1 - eps), 1 + eps)
        kl = math.exp(REF[i]) / pi(theta, i) - math.log(math.exp(REF[i]) / pi(theta, i)) - 1
        total += min(ratio * a, clipped * a) - beta * kl
    return total / len(o)


@pytest.mark.parametrize("seed", range(5))
def test_advantages_equal_the_papers_formula(seed):
    r = np.random.default_rng(seed).normal(size=8) * 2
    assert np.allclose(grpo.advantages(r), paper_advantages(r.tolist()), atol=1e-12)
    assert grpo.advantages(r).sum() == pytest.approx(0, abs=1e-12)


def test_a_group_with_equal_rewards_has_zero_advantages():
    assert not grpo.advantages(np.full(6, 0.7)).any()
    assert np.allclose(grpo.advantages([1.0, 0.0, 0.0, 0.0]), [1.7320508, -0.5773503, -0.5773503, -0.5773503])


def case(seed):
    rng = np.random.default_rng(seed)
    theta_old = rng.normal(size=len(pref.FEATURES)) * 0.5
    theta = theta_old + rng.normal(size=len(pref.FEATURES)) * 0.3  # far enough that some ratios are clipped
    o = rng.integers(0, len(PHI), 8)
    return theta, theta_old, o, np.array(paper_advantages(rng.normal(size=8).tolist()))


@pytest.mark.parametrize("seed", range(4))
def test_objective_equals_the_transcription(seed):
    theta, theta_old, o, A = case(seed)
    got = grpo.objective(theta, theta_old, PHI, REF, o, A, 0.2, 0.04)
    assert got == pytest.approx(paper_objective(theta, theta_old, o, A, 0.2, 0.04), rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_gradient_equals_finite_differences(seed):
    theta, theta_old, o, A = case(seed)
    rho = np.exp(grpo.log_policy(theta, PHI, REF)[o] - grpo.log_policy(theta_old, PHI, REF)[o])
    assert np.min(np.abs(np.abs(rho - 1) - 0.2)) > 1e-3  # off the clip's kinks, where J is differentiable

    def f(t):
        return grpo.objective(t, theta_old, PHI, REF, o, A, 0.2, 0.04)

    fd = np.array([(f(theta + FD_H * e) - f(theta - FD_H * e)) / (2 * FD_H) for e in np.eye(len(theta))])
    assert np.allclose(grpo.grad(theta, theta_old, PHI, REF, o, A, 0.2, 0.04), fd, rtol=0, atol=FD_TOL)


def test_update_raises_above_mean_answers_and_stays_near_the_clip():
    theta0 = np.zeros(len(pref.FEATURES))
    o = np.array([0, 5, 17, 30, 41])
    r = pref.TRUE[ROWS][o]
    A = grpo.advantages(r)
    theta = grpo.update(theta0, PHI, REF, o, A, 1.0, 10)
    before, after = np.exp(grpo.log_policy(theta0, PHI, REF))[o], np.exp(grpo.log_policy(theta, PHI, REF))[o]
    assert after[np.argmax(A)] > before[np.argmax(A)] and after[np.argmin(A)] < before[np.argmin(A)]
    assert grpo.objective(theta, theta0, PHI, REF, o, A) > grpo.objective(theta0, theta0, PHI, REF, o, A)


def test_sampling_follows_the_old_policy():
    logp = grpo.log_policy(np.zeros(len(pref.FEATURES)), PHI, REF)
    o = grpo.sample_group(logp, 40_000, np.random.default_rng(0))
    freq = np.bincount(o, minlength=len(PHI)) / len(o)
    assert np.allclose(freq, np.exp(logp), atol=0.01)
