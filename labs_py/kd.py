"""Knowledge distillation from scratch: tempered softmax, the Hinton et al. loss and its gradient.

Why: the Distillation Lab trains a student on the loss of Hinton, Vinyals & Dean 2015
(arXiv 1503.02531, §2):  L = α · T² · KL(p_t^T ‖ p_s^T) + (1 − α) · CE(p_s^1, y),
where p^T = softmax(z / T). Everything here works on log-probabilities so that T down to 0.05 and
logits as low as −300 stay finite, and every function takes plain arrays so tests can check it
against finite differences and scipy.

A student logit may stand for a whole bucket of m tokens that share it (the lab's "rest of the
vocabulary"): the bucket then has probability ∝ m · exp(v / T). `log_m` (the log of each bucket's
size, 0 for a single token) carries that through every function below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRAD_TOL = 1e-11  # stop when every component of the gradient is below this
DAMPED = 1e-8  # above this Newton decrement (predicted decrease) steps are damped; below it the full step is safe
MAX_MOVE = 2.0  # a Newton step may move any logit by at most this many units of T (a trust region)
NEWTON_MAX_ITER = 60  # convex and smooth: a few tens of damped Newton steps always suffice here
GAUGE_RIDGE = 1e-12  # the logits' common shift leaves softmax unchanged: a tiny ridge fixes the gauge


def log_softmax(z: np.ndarray, T: float = 1.0) -> np.ndarray:
    """log softmax(z / T) along the last axis, shifted by the max so nothing overflows."""
    a = np.asarray(z, float) / T
    a = a - a.max(axis=-1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray, T: float = 1.0) -> np.ndarray:
    """softmax(z / T) along the last axis (the exponential of `log_softmax`)."""
    return np.exp(log_softmax(z, T))


def student_log_probs(v: np.ndarray, T: float = 1.0, log_m: np.ndarray | float = 0.0) -> np.ndarray:
    """log p^T over buckets whose m tokens share the logit v: log softmax(v / T + log m)."""
    return log_softmax(np.asarray(v, float) + T * np.asarray(log_m, float), T)


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """log Σ exp(a) along `axis`, stable for any finite a."""
    a = np.asarray(a, float)
    m = a.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(a - m).sum(axis=axis))


def entropy(log_p: np.ndarray) -> float:
    """H(p) = −Σ p log p in nats, from log-probabilities (a zero probability contributes 0)."""
    p = np.exp(log_p)
    return float(-np.sum(p * np.where(p > 0, log_p, 0.0)))


def kl(log_p: np.ndarray, log_q: np.ndarray) -> float:
    """KL(p ‖ q) = Σ p (log p − log q) in nats, from log-probabilities (rounding below 0 is clipped to 0)."""
    p = np.exp(log_p)
    return max(0.0, float(np.sum(p * np.where(p > 0, log_p - log_q, 0.0))))


@dataclass(frozen=True)
class Losses:
    """The three numbers the lab plots: the soft term, the hard term and the weighted total."""

    kl: float  # KL(p_t^T ‖ p_s^T), without the T² factor
    ce: float  # −log p_s^1(y); 0 when there is no label
    total: float  # α T² kl + (1 − α) ce


def kd_losses(v: np.ndarray, log_pt: np.ndarray, y: int | None, T: float, alpha: float,
              log_m: np.ndarray | float = 0.0) -> Losses:
    """The Hinton et al. loss of student logits v (n,) against tempered teacher log-probs log_pt (n,).

    y is the index of the true next token, or None when there is none (the hard term is then absent).
    """
    d = kl(log_pt, student_log_probs(v, T, log_m))
    ce = float(-student_log_probs(v, 1.0, log_m)[y]) if y is not None else 0.0
    return Losses(d, ce, alpha * T * T * d + (1 - alpha) * ce)


def kd_grad(v: np.ndarray, pt: np.ndarray, y: int | None, T: float, alpha: float,
            log_m: np.ndarray | float = 0.0) -> np.ndarray:
    """∂L/∂v = α · T · (p_s^T − p_t^T) + (1 − α) · (p_s^1 − onehot(y)), shape (n,).

    The soft term's gradient is T² · (1/T) · (p_s^T − p_t^T): the 1/T comes from v / T inside the
    softmax, and the T² in the loss cancels it down to a single T so that the soft term's pull stays
    comparable across temperatures (Hinton et al. §2.1). Shared logits (log_m) shift v by a
    constant, so the formula is unchanged.
    """
    g = alpha * T * (np.exp(student_log_probs(v, T, log_m)) - pt)  # (n,)
    if y is not None:
        hard = np.exp(student_log_probs(v, 1.0, log_m))  # (n,)
        hard[y] -= 1.0
        g = g + (1 - alpha) * hard
    return g


def kd_hessian(v: np.ndarray, y: int | None, T: float, alpha: float, log_m: np.ndarray | float = 0.0) -> np.ndarray:
    """∂²L/∂v² = α (diag p_s^T − p_s^T p_s^Tᵀ) + (1 − α)(diag p_s − p_s p_sᵀ), shape (n, n); used by `optimum`."""
    ps_T = np.exp(student_log_probs(v, T, log_m))
    H = alpha * (np.diag(ps_T) - np.outer(ps_T, ps_T))  # T² · (1/T²)
    if y is not None:
        ps = np.exp(student_log_probs(v, 1.0, log_m))
        H = H + (1 - alpha) * (np.diag(ps) - np.outer(ps, ps))
    return H


def optimum(Phi: np.ndarray, log_pt: np.ndarray, y: int | None, T: float, alpha: float,
            log_m: np.ndarray | float = 0.0) -> tuple[np.ndarray, Losses]:
    """The best student logits v = Φ w (Φ: (n, r)) for this loss, by damped Newton on w; needs α > 0.

    With α > 0 the soft term makes the loss strictly convex and coercive in w (p_t > 0 everywhere),
    so the minimiser exists and is unique; with α = 0 and a label it may lie at infinity. Newton starts
    from the least-squares fit of Φ w to T · (log p_t − log m), the exact answer for free logits at α = 1,
    and never moves a logit by more than MAX_MOVE · max(T, 1) per step: where p is nearly one-hot the
    Hessian is nearly singular and an undamped step would overshoot by orders of magnitude.
    """
    if alpha <= 0:
        raise ValueError("the loss has a finite minimiser only for alpha > 0")
    target = T * (log_pt - np.asarray(log_m, float))  # (n,) logits whose tempered bucket distribution is p_t
    w = np.linalg.lstsq(Phi, target - target.mean(), rcond=None)[0]  # (r,)
    pt = np.exp(log_pt)
    f = kd_losses(Phi @ w, log_pt, y, T, alpha, log_m).total
    for _ in range(NEWTON_MAX_ITER):
        v = Phi @ w  # (n,)
        g = Phi.T @ kd_grad(v, pt, y, T, alpha, log_m)  # (r,)
        if np.max(np.abs(g)) <= GRAD_TOL:
            break
        H = Phi.T @ kd_hessian(v, y, T, alpha, log_m) @ Phi + GAUGE_RIDGE * np.eye(Phi.shape[1])  # (r, r)
        step = np.linalg.solve(H, g)
        step *= min(1.0, MAX_MOVE * max(T, 1.0) / max(float(np.max(np.abs(Phi @ step))), 1e-300))
        decrement = float(g @ step)
        t = 1.0
        while decrement > DAMPED:  # backtracking line search (Armijo) while far from the optimum
            f_new = kd_losses(Phi @ (w - t * step), log_pt, y, T, alpha, log_m).total
            if f_new <= f - 0.25 * t * decrement:
                break
            t /= 2
            if t < 1e-10:  # no decrease along the Newton direction: f is flat to rounding here
                return Phi @ w, kd_losses(Phi @ w, log_pt, y, T, alpha, log_m)
        w = w - t * step
        f = kd_losses(Phi @ w, log_pt, y, T, alpha, log_m).total
    v = Phi @ w
    return v, kd_losses(v, log_pt, y, T, alpha, log_m)
