"""Best-of-n's closed form against brute-force enumeration of every draw, and its KL against scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import entropy

from labs_py import best_of_n


def enumerate_best_of_n(proxy, p, n):
    """Every ordered draw of n candidates, its probability, and the winner (ties shared evenly among the tied draws)."""
    q = np.zeros(len(p))
    for draw in itertools.product(range(len(p)), repeat=n):
        prob = math.prod(p[i] for i in draw)
        top = max(proxy[i] for i in draw)
        winners = [i for i in draw if proxy[i] == top]
        for i in winners:
            q[i] += prob / len(winners)
    return q


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("proxy", [[0.3, -1.0, 2.0, 0.5, 0.1], [1.0, 1.0, 0.0, 2.0, 0.0], [0.0] * 5])
def test_distribution_equals_enumeration(n, proxy):
    p = np.array([0.1, 0.3, 0.05, 0.25, 0.3])
    q = best_of_n.distribution(np.array(proxy), p, n)
    assert np.allclose(q, enumerate_best_of_n(proxy, p, n), atol=1e-12)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)


def test_kl_equals_scipy_and_stays_under_the_formula():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(200))
    proxy = rng.normal(size=200)
    for n in (1, 2, 8, 64):
        q = best_of_n.distribution(proxy, p, n)
        assert best_of_n.kl(q, p) == pytest.approx(entropy(q, p), abs=1e-12)
        assert best_of_n.kl(q, p) <= best_of_n.kl_bound(n) + 1e-12
    assert best_of_n.kl_bound(1) == 0 and best_of_n.kl_bound(4) == pytest.approx(math.log(4) - 0.75)
