"""Tempered softmax and the information measures distillation is built on.

Why: Hinton, Vinyals & Dean 2015 (arXiv 1503.02531, §2) soften a model's output with a temperature:
p^T = softmax(z / T). Everything here works on log-probabilities so that T down to 0.05 and logits
as low as −300 stay finite, and every function takes plain arrays (any leading axes) so tests can
check it against scipy. The distillation loss itself is in `kd_student`.
"""

from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray, T: float = 1.0) -> np.ndarray:
    """log softmax(z / T) along the last axis, shifted by the max so nothing overflows."""
    a = np.asarray(z, float) / T
    a = a - a.max(axis=-1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=-1, keepdims=True))


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
