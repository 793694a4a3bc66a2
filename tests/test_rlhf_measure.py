"""What the RLHF Lab measures: Wilson intervals against scipy, best-of-n curves against sampling, learning and over-optimisation claims."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from labs_py import best_of_n, grpo
from labs_py import preferences as pref
from labs_py import rlhf_measure as ms


@pytest.mark.parametrize(("k", "n"), [(0, 200), (1, 10), (150, 200), (200, 200), (57, 100)])
def test_wilson_interval_equals_scipy(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert ms.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_heldout_accuracy_counts_pairs_ordered_as_the_true_reward():
    w = np.random.default_rng(1).normal(size=len(pref.FEATURES))
    ia, ib, y = pref.HELD_OUT
    acc, lo, hi = ms.heldout(w)
    assert acc == pytest.approx(np.mean(np.sign((pref.PHI[ia] - pref.PHI[ib]) @ w) == y))
    assert lo < acc < hi


def test_best_of_n_curve_matches_sampling():
    """Draw n answers from π_ref and keep the proxy's favourite, 4,000 times per prompt: the exact curve agrees."""
    w = ms.fit("longer", 50).w
    curve = ms.bon_curve(w)
    rng = np.random.default_rng(0)
    n, j = 16, ms.BON_NS.index(16)
    true = []
    for prompt in pref.HELD_OUT_PROMPTS:
        rows = pref.rows_of(prompt)
        p = np.exp(pref.LOGP_REF[rows])
        draws = rng.choice(len(rows), size=(4000, n), p=p)
        best = draws[np.arange(4000), np.argmax((pref.PHI[rows] @ w)[draws], axis=1)]
        true.append(pref.TRUE[rows][best].mean() - p @ pref.TRUE[rows])
    sd = ms._mixture_sd(pref.TRUE)
    assert curve.true[j] == pytest.approx(np.mean(true) / sd, abs=0.03)
    assert curve.kl[j] <= best_of_n.kl_bound(n)


def test_without_labels_best_of_n_is_random_and_has_no_proxy():
    curve = ms.bon_curve(np.zeros(len(pref.FEATURES)))
    assert curve.proxy is None and np.allclose(curve.true, 0) and np.allclose(curve.kl, 0)


def test_longer_annotator_overoptimises_and_careful_does_not():
    """The first batch of 50 labels (the lab's fixed seed): proxy up, true down at n = 256 for "longer"; both up for "careful"."""
    longer = ms.bon_curve(ms.fit("longer", 50).w)
    assert longer.proxy[-1] > 0 > longer.true[-1]
    assert longer.true.max() > 0.2  # it rose first: small n finds detail, large n finds padding
    careful = ms.bon_curve(ms.fit("careful", 50).w)
    assert careful.proxy[-1] > 1 and careful.true[-1] > 1


def test_learning_curve_is_slow_at_first_and_good_by_50_labels():
    """Averaged over 20 streams of careful labels: ≤ 60 % after 1 label, ≥ 75 % after 50."""
    one, fifty = ms.learning_curve("careful", (1, 50), 20)
    assert one <= 0.60 and fifty >= 0.75


def test_grpo_group_is_one_update_from_pi_ref():
    w = ms.fit("careful", 50).w
    g = ms.grpo_group(w, 2, 8, 3)
    assert np.allclose(g.A, grpo.advantages(pref.PHI[g.rows] @ w))
    assert np.allclose(g.before, np.exp(pref.LOGP_REF[g.rows]))
    assert 0 < g.moved < 1 and (g.after > g.before)[np.argmax(g.A)]
