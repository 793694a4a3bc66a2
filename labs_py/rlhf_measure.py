"""What the RLHF Lab measures: held-out accuracy with its interval, best-of-n against the learned reward, a GRPO group.

Why: the lab's claims are measurements on its own data. Held-out accuracy is a share of 200 pairs, so it
comes with a Wilson interval. Over-optimisation is the change of the proxy (learned) and the true reward
of the answer best-of-n picks on the held-out prompts, exactly (`best_of_n`). GRPO's group, advantages
and update are computed for the prompt on screen (`grpo`). `learning_curve` averages the lab's own
training over seeds: the numbers the page quotes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from labs_py import best_of_n, grpo
from labs_py import bradley_terry as bt
from labs_py import preferences as pref
from labs_py import rlhf_state as st

BON_NS = tuple(2**k for k in range(9))  # 1 … 256 samples
Z95 = 1.959963984540054  # two-sided 95 % normal quantile
GRPO_LR, GRPO_ITERATIONS = 1.0, 10  # inner gradient-ascent steps on one group
GRPO_SEED = 41


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a share k/n (k may be fractional when ties count one half)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def heldout(w: np.ndarray) -> tuple[float, float, float]:
    """(accuracy, low, high): share of the held-out pairs w orders as r* does, ties one half, with its 95 % interval."""
    ia, ib, y = pref.HELD_OUT
    acc = bt.accuracy(w, pref.PHI[ia] - pref.PHI[ib], y)
    lo, hi = wilson(acc * len(y), len(y))
    return acc, lo, hi


@dataclass(frozen=True)
class BonCurve:
    """Best-of-n on the held-out prompts: mean proxy and true reward of the chosen answer, and KL from π_ref.

    proxy, true: (len(BON_NS),) changes from n = 1 in standard deviations of that reward under π_ref
    (proxy is None when the learned reward is constant: nothing to choose by); kl: exact KL(best-of-n ‖ π_ref).
    """

    proxy: np.ndarray | None
    true: np.ndarray
    kl: np.ndarray


def _mixture_sd(values: np.ndarray) -> float:
    """SD of a reward over the held-out prompts (uniform) and π_ref's answers to each."""
    rows = np.concatenate([pref.rows_of(p) for p in pref.HELD_OUT_PROMPTS])
    p = np.exp(pref.LOGP_REF[rows]) / len(pref.HELD_OUT_PROMPTS)
    v = values[rows]
    return float(np.sqrt(p @ (v - p @ v) ** 2))


def bon_curve(w: np.ndarray) -> BonCurve:
    """Best-of-n by the learned reward w·φ for every n in BON_NS, averaged over the held-out prompts."""
    proxy_all = pref.PHI @ w  # (M,)
    P, T, K = (np.zeros(len(BON_NS)) for _ in range(3))
    for prompt in pref.HELD_OUT_PROMPTS:
        rows = pref.rows_of(prompt)
        p, r, t = np.exp(pref.LOGP_REF[rows]), proxy_all[rows], pref.TRUE[rows]
        for j, n in enumerate(BON_NS):
            q = best_of_n.distribution(r, p, n)
            P[j] += q @ r
            T[j] += q @ t
            K[j] += best_of_n.kl(q, p)
    P, T, K = (x / len(pref.HELD_OUT_PROMPTS) for x in (P, T, K))
    sd_proxy = _mixture_sd(proxy_all)
    proxy = (P - P[0]) / sd_proxy if sd_proxy > 1e-12 else None
    return BonCurve(proxy, (T - T[0]) / _mixture_sd(pref.TRUE), K)


@dataclass(frozen=True)
class Group:
    """One GRPO update on one prompt: the sampled answers (rows), rewards, advantages, π before and after."""

    rows: np.ndarray  # (G,) rows of PHI
    r: np.ndarray  # (G,) learned reward
    A: np.ndarray  # (G,) group-normalised advantages
    before: np.ndarray  # (G,) π_old of each sampled answer
    after: np.ndarray  # (G,) π after the update
    moved: float  # total probability moved: ½ Σ |π_after − π_old| over all the prompt's answers


def grpo_group(w: np.ndarray, prompt: int, G: int, seed: int) -> Group:
    """Sample G answers from π_old = π_ref for `prompt`, score them with w·φ, and take one GRPO update."""
    rows = pref.rows_of(prompt)
    Phi, logp_ref = pref.PHI[rows], pref.LOGP_REF[rows]
    theta0 = np.zeros(len(pref.FEATURES))
    o = grpo.sample_group(logp_ref, G, np.random.default_rng([GRPO_SEED, seed]))
    r = Phi[o] @ w
    A = grpo.advantages(r)
    theta = grpo.update(theta0, Phi, logp_ref, o, A, GRPO_LR, GRPO_ITERATIONS)
    pi_old, pi_new = np.exp(grpo.log_policy(theta0, Phi, logp_ref)), np.exp(grpo.log_policy(theta, Phi, logp_ref))
    return Group(rows[o], r, A, pi_old[o], pi_new[o], 0.5 * float(np.abs(pi_new - pi_old).sum()))


@lru_cache(maxsize=16)
def learning_curve(name: str, counts: tuple[int, ...], seeds: int, noise: float = 0.5, lr: float = 1.0,
                   steps: int = 20, beta: float = 0.1) -> tuple[float, ...]:
    """Mean held-out accuracy after each count of labels, over `seeds` annotators' label streams.

    Labels arrive one at a time and each is followed by `steps` gradient steps, as when the reader picks.
    """
    out = np.zeros(len(counts))
    for seed in range(seeds):
        ia, ib, y = pref.simulate(name, max(counts), noise, np.random.default_rng([st.SIM_SEED, 1000 + seed]))
        D = pref.PHI[ia] - pref.PHI[ib]  # (N, d)
        w = np.zeros(len(pref.FEATURES))
        for k in range(1, max(counts) + 1):
            w, _ = bt.gradient_descent(w, D[:k], y[:k], lr, steps)
            if k in counts:
                out[counts.index(k)] += heldout(w)[0]
    return tuple(float(v) for v in out / seeds)


def fit(name: str, n: int, noise: float = 0.5, lr: float = 1.0, steps: int = 20, beta: float = 0.1) -> st.Session:
    """A session with the first batch of n labels from annotator `name`, trained as the lab trains after a batch."""
    s = st.Session(labels=st.simulated(name, n, noise, 0))
    st.train(s, lr, beta, steps)
    return s
