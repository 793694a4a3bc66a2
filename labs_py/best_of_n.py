"""Best-of-n sampling, exactly: draw n answers from π_ref, keep the one the (learned) reward scores highest.

Why: best-of-n is the simplest way to optimise against a reward model, and the cleanest place to watch
over-optimisation (Gao, Schulman & Hilton 2022, arXiv 2210.10760): as n grows the proxy reward of the
chosen answer keeps rising, while its true reward can rise, peak and fall. On a finite pool of
candidates the distribution of the chosen answer has a closed form, so the lab computes expected
rewards and the KL divergence from π_ref exactly instead of by sampling.
"""

from __future__ import annotations

import math

import numpy as np


def distribution(proxy: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """q (m,): probability that best-of-n by `proxy` returns each candidate, for draws from p (m,).

    With the proxy's distinct levels L and F(L) = P(proxy ≤ L), the best of n draws lies on level L with
    probability F(L)ⁿ − F(L⁻)ⁿ; a tie is broken uniformly among the drawn answers, so within a level
    the chosen answer is distributed as p restricted to it.
    """
    levels, inv = np.unique(proxy, return_inverse=True)
    mass = np.bincount(inv, p, len(levels))  # (L,) probability of each level
    F = np.minimum(np.cumsum(mass), 1.0)
    top = F**n - np.maximum(F - mass, 0.0) ** n  # (L,) the maximum lies on this level
    return p * (top / mass)[inv]


def kl(q: np.ndarray, p: np.ndarray) -> float:
    """KL(q ‖ p) in nats (0 · log 0 = 0)."""
    m = q > 0
    return float(np.sum(q[m] * np.log(q[m] / p[m])))


def kl_bound(n: int) -> float:
    """log n − (n − 1)/n: the formula Gao et al. use for best-of-n, an upper bound on the exact KL (Beirami et al. 2024)."""
    return math.log(n) - (n - 1) / n
