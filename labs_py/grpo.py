"""GRPO (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300, §4.1) for the lab's toy policy over one prompt's candidates.

Why: GRPO drops PPO's value model. For a prompt it samples a group of G answers from the old policy,
scores them with a reward model, and uses the group itself as the baseline: with outcome rewards
every token of answer i gets the advantage Â_i = (r_i − mean(r)) / std(r) (§4.1.2). The policy then
climbs PPO's clipped surrogate minus β times an unbiased KL estimate (§4.1.1, Eqs. 3–4). Here an
answer is a single action of the policy πθ(y|x) ∝ π_ref(y|x) exp(θ·φ(y)) (as in `dpo`), so the
per-token average over |o_i| is over one token and ∇θ log πθ(y|x) = φ(y) − E_πθ[φ].

Layout: Phi (m, d) and logp_ref (m,) are one prompt's candidates; o (G,) indexes the sampled answers.
"""

from __future__ import annotations

import numpy as np

EPS = 0.2  # PPO/GRPO clipping ε
KL_BETA = 0.04  # DeepSeekMath's KL coefficient (§4.2)


def log_policy(theta: np.ndarray, Phi: np.ndarray, logp_ref: np.ndarray) -> np.ndarray:
    """log πθ(y|x) over one prompt's candidates (m,)."""
    z = Phi @ theta + logp_ref
    top = z.max()
    return z - top - np.log(np.sum(np.exp(z - top)))


def sample_group(logp_old: np.ndarray, G: int, rng: np.random.Generator) -> np.ndarray:
    """G answers (indices into the prompt's candidates) drawn with replacement from π_old."""
    return rng.choice(len(logp_old), size=G, p=np.exp(logp_old - np.logaddexp.reduce(logp_old)))


def advantages(r: np.ndarray) -> np.ndarray:
    """Group-normalised advantages Â_i = (r_i − mean(r)) / std(r) (population std, §4.1.2); all 0 when std is 0."""
    r = np.asarray(r, float)
    sd = r.std()
    if sd <= 1e-12 * max(1.0, float(np.abs(r).max())):
        return np.zeros_like(r)
    return (r - r.mean()) / sd


def objective(theta: np.ndarray, theta_old: np.ndarray, Phi: np.ndarray, logp_ref: np.ndarray, o: np.ndarray,
              A: np.ndarray, eps: float = EPS, beta: float = KL_BETA) -> float:
    """J_GRPO(θ) = (1/G) Σ_i [min(ρ_i Â_i, clip(ρ_i, 1 − ε, 1 + ε) Â_i) − β D_i] (Eq. 3, one token per answer).

    ρ_i = πθ(o_i) / π_old(o_i); D_i = π_ref(o_i)/πθ(o_i) − log(π_ref(o_i)/πθ(o_i)) − 1, the KL estimate of Eq. 4.
    """
    logp = log_policy(theta, Phi, logp_ref)[o]  # (G,)
    rho = np.exp(logp - log_policy(theta_old, Phi, logp_ref)[o])
    x = np.exp(logp_ref[o] - logp)
    surrogate = np.minimum(rho * A, np.clip(rho, 1 - eps, 1 + eps) * A)
    return float(np.mean(surrogate - beta * (x - np.log(x) - 1)))


def grad(theta: np.ndarray, theta_old: np.ndarray, Phi: np.ndarray, logp_ref: np.ndarray, o: np.ndarray,
         A: np.ndarray, eps: float = EPS, beta: float = KL_BETA) -> np.ndarray:
    """∇θ J_GRPO (d,): (1/G) Σ_i [Â_i ρ_i g_i where the unclipped term is the min, else 0] − β (1 − x_i) g_i,

    with g_i = ∇ log πθ(o_i) = φ(o_i) − E_πθ[φ] and x_i = π_ref(o_i)/πθ(o_i) (so ∇D_i = (1 − x_i) g_i).
    """
    logp_all = log_policy(theta, Phi, logp_ref)  # (m,)
    g = Phi[o] - np.exp(logp_all) @ Phi  # (G, d)
    logp = logp_all[o]
    rho = np.exp(logp - log_policy(theta_old, Phi, logp_ref)[o])
    x = np.exp(logp_ref[o] - logp)
    active = rho * A <= np.clip(rho, 1 - eps, 1 + eps) * A  # the unclipped term is the minimum
    coef = np.where(active, A * rho, 0.0) - beta * (1 - x)  # (G,)
    return coef @ g / len(o)


def update(theta_old: np.ndarray, Phi: np.ndarray, logp_ref: np.ndarray, o: np.ndarray, A: np.ndarray, lr: float,
           iterations: int, eps: float = EPS, beta: float = KL_BETA) -> np.ndarray:
    """θ after `iterations` gradient-ascent steps on J_GRPO with the group fixed (the μ inner steps of Algorithm 1)."""
    theta = np.array(theta_old, float)
    for _ in range(iterations):
        theta += lr * grad(theta, theta_old, Phi, logp_ref, o, A, eps, beta)
    return theta
