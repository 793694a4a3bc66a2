"""The digit students: softmax regression on the 64 pixels, trained by Hinton et al.'s distillation loss.

Why: the student must be much smaller than the teacher (650 parameters against 9,610) so that it
cannot copy the teacher exactly; what it learns from a small transfer set then depends on what it
is shown: the one right digit (hard labels) or the teacher's softened probabilities (soft targets).
Several students are trained side by side, one per α, in the same numpy calls: logits
z (S, n, 10) = X (n, 64) W (S, 64, 10) + b (S, 10), for S students on n images.

Loss per image, averaged over the transfer set (Hinton, Vinyals & Dean 2015, §2):

    L = α · T² · KL(p_t^T ‖ p_s^T) + (1 − α) · CE(p_s^1, y),   p^T = softmax(z / T)

with gradient ∂L/∂z = α · T · (p_s^T − p_t^T) + (1 − α) · (p_s^1 − onehot(y)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labs_py.adam import Adam
from labs_py.kd import log_softmax

D_IN, CLASSES = 64, 10
SHIFT_TOL = 1e-12  # bias shifts are solved until log(mean probability) is this close to its target
SHIFT_MAX_ITER = 200


@dataclass(frozen=True)
class Losses:
    """Mean loss terms over the transfer set, one entry per student: the soft term (without T²), the
    hard term and the weighted total."""

    kl: np.ndarray  # (S,)
    ce: np.ndarray  # (S,)
    total: np.ndarray  # (S,)


def logits(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """z (S, n, 10) = X (n, 64) W (S, 64, 10) + b (S, 10)."""
    return X @ W + b[:, None, :]


def losses(z: np.ndarray, log_pt: np.ndarray, y: np.ndarray, T: float, alpha: np.ndarray) -> Losses:
    """The distillation loss of each student's logits z (S, n, 10) against tempered teacher log-probs log_pt (n, 10)."""
    log_ps_T = log_softmax(z, T)  # (S, n, 10)
    kl = np.mean(np.sum(np.exp(log_pt) * (log_pt - log_ps_T), axis=-1), axis=-1)  # (S,)
    ce = -np.mean(log_softmax(z)[:, np.arange(len(y)), y], axis=-1)  # (S,)
    return Losses(kl, ce, alpha * T * T * kl + (1 - alpha) * ce)


def grad_logits(z: np.ndarray, pt: np.ndarray, y: np.ndarray, T: float, alpha: np.ndarray) -> np.ndarray:
    """∂L/∂z (S, n, 10) of each student's mean loss: (α · T · (p_s^T − p_t^T) + (1 − α) · (p_s − onehot(y))) / n.

    The soft term's gradient is T² · (1/T) · (p_s^T − p_t^T): the 1/T comes from z / T inside the
    softmax, and the T² in the loss leaves a single T, so the soft term keeps its weight at every T.
    """
    a = np.asarray(alpha, float)[:, None, None]  # (S, 1, 1)
    hard = np.exp(log_softmax(z))  # (S, n, 10)
    hard[:, np.arange(len(y)), y] -= 1.0
    return (a * T * (np.exp(log_softmax(z, T)) - pt) + (1 - a) * hard) / len(y)


@dataclass
class Students:
    """S students side by side: weights W (S, 64, 10) and biases b (S, 10), and their optimizer."""

    W: np.ndarray
    b: np.ndarray
    opt: Adam

    @property
    def t(self) -> int:
        """Steps taken."""
        return self.opt.t

    @classmethod
    def zeros(cls, S: int) -> Students:
        """All weights 0: every digit equally likely, the same start for every student."""
        w, b = np.zeros((S, D_IN, CLASSES)), np.zeros((S, CLASSES))
        return cls(w, b, Adam.like({"W": w, "b": b}))


def adam_step(s: Students, X: np.ndarray, pt: np.ndarray, y: np.ndarray, T: float, alpha: np.ndarray, lr: float) -> None:
    """One full-batch Adam step of every student on the transfer set X (n, 64) with tempered teacher targets pt (n, 10)."""
    g = grad_logits(logits(s.W, s.b, X), pt, y, T, alpha)  # (S, n, 10)
    s.opt.update({"W": s.W, "b": s.b}, {"W": X.T @ g, "b": g.sum(axis=1)}, lr)  # W (S, 64, 10), b (S, 10): in place


def accuracy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of images whose largest logit is the label, per student (the same at every temperature)."""
    return np.mean(np.argmax(z, axis=-1) == y, axis=-1)


def bias_shift(z: np.ndarray, target: float, c: int, T: float) -> float:
    """The shift δ of class c's logit (its bias) at which the mean of p^T(c) over the rows of z (n, 10) equals target.

    p^T(c) = σ((z_c + δ) / T − log Σ_{k≠c} e^{z_k / T}) rises monotonically with δ. Newton's method on
    log(mean p) − log(target), which is nearly linear in δ where p is tiny, finds the root in a few
    steps; a step that would leave the bracket known so far is replaced by bisection.
    """
    a = z / T
    rest = np.delete(a, c, axis=1)
    m = rest.max(axis=1)
    u = a[:, c] - (m + np.log(np.exp(rest - m[:, None]).sum(axis=1)))  # (n,) logit of p^T(c) at δ = 0
    log_target = np.log(target)
    lo, hi, delta = -np.inf, np.inf, 0.0
    for _ in range(SHIFT_MAX_ITER):
        log_p = -np.logaddexp(0.0, -(u + delta / T))  # (n,) log σ, stable
        top = log_p.max()
        w = np.exp(log_p - top)  # (n,) ∝ p
        f = top + np.log(w.mean()) - log_target
        if abs(f) <= SHIFT_TOL:
            break
        lo, hi = (delta, hi) if f < 0 else (lo, delta)
        df = float(np.sum(w * (1 - np.exp(log_p))) / (T * np.sum(w)))  # d log(mean p) / dδ
        step = delta - f / df if df > 0 else np.nan
        if not lo < step < hi:
            step = (lo + hi) / 2 if np.isfinite(lo) and np.isfinite(hi) else delta + (T if f < 0 else -T) * max(1.0, abs(delta))
        delta = float(step)
    return delta
