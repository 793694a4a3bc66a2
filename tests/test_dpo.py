"""DPO against independent oracles: the paper's Eq. 7 transcribed by hand, finite differences, scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import log_softmax
from scipy.stats import entropy

from labs_py import bradley_terry as bt
from labs_py import dpo
from labs_py import preferences as pref

FD_H = 1e-6
FD_TOL = 1e-8
M = len(pref.PHI)


def eq7(logp_w, logp_l, ref_w, ref_l, beta):
    """Rafailov et al. 2023, Eq. 7, one term at a time with the math module:
    −E[log σ(β log πθ(y_w|x)/π_ref(y_w|x) − β log πθ(y_l|x)/π_ref(y_l|x))]."""
    terms = []
    for lw, ll, rw, rl in zip(logp_w, logp_l, ref_w, ref_l, strict=True):
        z = beta * math.log(math.exp(lw) / math.exp(rw)) - beta * math.log(math.exp(ll) / math.exp(rl))
        terms.append(-math.log(1 / (1 + math.exp(-z))))
    return sum(terms) / len(terms)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_loss_equals_the_papers_formula_on_hand_made_numbers(beta):
    logp_w = [-1.2, -0.3, -2.5, -0.05]  # log πθ of the preferred responses
    logp_l = [-2.0, -0.1, -0.4, -3.0]  # … and of the rejected ones
    ref_w = [-1.5, -0.7, -1.1, -1.386]
    ref_l = [-1.4, -0.2, -1.9, -1.386]
    got = dpo.dpo_loss(*(np.array(v) for v in (logp_w, logp_l, ref_w, ref_l)), beta)
    assert got == pytest.approx(eq7(logp_w, logp_l, ref_w, ref_l, beta), rel=1e-12)


def test_loss_at_the_reference_is_log_2():
    """θ = 0 is πθ = π_ref, which makes every implicit reward 0: the loss is −log σ(0) = log 2 whatever β."""
    iw, il = pref.TRAINING_ORDER[:, 0], pref.TRAINING_ORDER[:, 1]
    assert dpo.loss(np.zeros(len(pref.FEATURES)), pref.PHI, pref.STARTS, iw, il, 0.3, pref.LOGP_REF) == pytest.approx(
        math.log(2))
    assert np.allclose(dpo.log_policy(np.zeros(len(pref.FEATURES)), pref.PHI, pref.STARTS, pref.LOGP_REF), pref.LOGP_REF)


def test_log_policy_tilts_the_reference_by_a_softmax_over_each_prompts_candidates():
    theta = np.random.default_rng(0).normal(size=len(pref.FEATURES)) * 3
    logp = dpo.log_policy(theta, pref.PHI, pref.STARTS, pref.LOGP_REF)
    for p, start in enumerate(pref.STARTS):
        rows = slice(start, start + len(pref.PROMPTS[p].responses))
        assert np.allclose(logp[rows], log_softmax(pref.PHI[rows] @ theta + pref.LOGP_REF[rows]), atol=1e-13)
    assert np.allclose(np.add.reduceat(np.exp(pref.LOGP_REF), pref.STARTS), 1.0)


def _random_case(seed: int, same_prompt: bool):
    """θ, a reference (the lab's π_ref tilted at random) and labelled pairs."""
    rng = np.random.default_rng(seed)
    k = len(pref.FEATURES)
    theta = rng.normal(size=k)
    ref = dpo.log_policy(rng.normal(size=k), pref.PHI, pref.STARTS, pref.LOGP_REF)
    if same_prompt:
        pairs = pref.TRAINING_ORDER[rng.integers(0, len(pref.TRAINING_ORDER), 40)]
        iw, il = pairs[:, 0], pairs[:, 1]
    else:  # the formula does not need it, so the gradient must hold for pairs across prompts too
        iw, il = rng.integers(0, M, 40), rng.integers(0, M, 40)
    return theta, ref, iw, il


@pytest.mark.parametrize("same_prompt", [True, False])
@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_gradient_equals_finite_differences(same_prompt, beta):
    theta, ref, iw, il = _random_case(7, same_prompt)

    def f(t):
        logp = log_softmax_per_prompt(pref.PHI @ t + ref)
        return eq7(logp[iw], logp[il], ref[iw], ref[il], beta)

    fd = np.array([(f(theta + FD_H * e) - f(theta - FD_H * e)) / (2 * FD_H) for e in np.eye(len(theta))])
    g = dpo.grad(theta, pref.PHI, pref.STARTS, iw, il, beta, ref)
    assert np.allclose(g, fd, rtol=0, atol=FD_TOL)


def log_softmax_per_prompt(logits):
    """scipy's log_softmax applied prompt by prompt (independent of dpo.log_softmax)."""
    out = np.empty_like(logits)
    bounds = [*pref.STARTS.tolist(), len(logits)]
    for a, b in itertools.pairwise(bounds):
        out[a:b] = log_softmax(logits[a:b])
    return out


def test_dpo_is_bradley_terry_at_w_equal_beta_theta():
    """β log πθ/π_ref = βθ·φ − β log Z(x) inside one prompt, and log Z cancels in a pair: L_DPO(θ) = NLL_BT(βθ)."""
    theta, ref, iw, il = _random_case(3, same_prompt=True)
    D = pref.PHI[iw] - pref.PHI[il]
    y = np.ones(len(iw))
    for beta in (0.05, 0.1, 0.7):
        assert dpo.loss(theta, pref.PHI, pref.STARTS, iw, il, beta, ref) == pytest.approx(
            bt.loss(beta * theta, D, y, lam=0.0), rel=1e-12)
        assert np.allclose(dpo.grad(theta, pref.PHI, pref.STARTS, iw, il, beta, ref),
                           beta * bt.grad(beta * theta, D, y, lam=0.0), atol=1e-14)


def test_gradient_descent_reports_the_losses_of_its_iterates():
    theta0, ref, iw, il = _random_case(11, same_prompt=True)
    theta, losses = dpo.gradient_descent(theta0, pref.PHI, pref.STARTS, iw, il, 0.5, ref, lr=2.0, steps=30)
    replay = theta0.copy()
    for t in range(30):
        assert losses[t] == pytest.approx(dpo.loss(replay, pref.PHI, pref.STARTS, iw, il, 0.5, ref), rel=1e-12)
        replay = replay - 2.0 * dpo.grad(replay, pref.PHI, pref.STARTS, iw, il, 0.5, ref)
    assert np.allclose(theta, replay, atol=1e-12)
    assert losses[-1] < losses[0]


def test_implicit_reward_and_kl():
    theta, ref, _, _ = _random_case(5, same_prompt=True)
    beta = 0.3
    r_hat = dpo.implicit_reward(theta, pref.PHI, pref.STARTS, beta, ref)
    logp = log_softmax_per_prompt(pref.PHI @ theta + ref)
    assert np.allclose(r_hat, beta * (logp - ref), atol=1e-13)
    kl = dpo.kl_to_reference(theta, pref.PHI, pref.STARTS, ref)
    bounds = [*pref.STARTS.tolist(), M]
    expected = [entropy(np.exp(logp[a:b]), np.exp(ref[a:b])) for a, b in itertools.pairwise(bounds)]
    assert np.allclose(kl, expected, atol=1e-12)
    assert np.allclose(dpo.kl_to_reference(np.zeros(len(theta)), pref.PHI, pref.STARTS, ref), 0.0, atol=1e-15)
