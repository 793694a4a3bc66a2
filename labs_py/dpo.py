"""Direct Preference Optimization (Rafailov et al. 2023, arXiv 2305.18290) for a toy policy over candidates.

Why: DPO skips the separate reward model and trains the policy on the same preference pairs. Here
the "policy" chooses among one prompt's candidate responses by tilting the reference policy with a
linear score: πθ(y|x) ∝ π_ref(y|x) exp(θ·φ(y)), so θ = 0 is π_ref itself. Its implicit reward
β·log(πθ(y|x) / π_ref(y|x)) = (βθ)·φ(y) − β log Z(x) is then a linear reward in φ too, and can be
compared, response by response, with the Bradley–Terry reward model fitted to the same labels.

Layout: Phi (M, d) stacks the candidates of every prompt, prompt after prompt; `starts` (P,) gives the
first row of each prompt; iw, il (n,) are the rows of the preferred (y_w) and rejected (y_l) responses.
"""

from __future__ import annotations

import numpy as np


def segments(starts: np.ndarray, M: int) -> np.ndarray:
    """The prompt index of every row (M,), from the first row of each prompt."""
    counts = np.diff(np.append(starts, M))
    return np.repeat(np.arange(len(starts)), counts)


def log_softmax(logits: np.ndarray, starts: np.ndarray, seg: np.ndarray | None = None) -> np.ndarray:
    """log of a softmax taken separately over each prompt's rows (M,); `seg` = segments(starts, M) if known."""
    seg = segments(starts, len(logits)) if seg is None else seg
    top = np.maximum.reduceat(logits, starts)  # (P,)
    lse = top + np.log(np.add.reduceat(np.exp(logits - top[seg]), starts))  # (P,)
    return logits - lse[seg]


def log_policy(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, logp_ref: np.ndarray) -> np.ndarray:
    """log πθ(y|x) = log π_ref(y|x) + θ·φ(y) − logsumexp over x's candidates of the same   (M,)."""
    return log_softmax(Phi @ theta + logp_ref, starts)


def dpo_loss(logp_w: np.ndarray, logp_l: np.ndarray, ref_w: np.ndarray, ref_l: np.ndarray, beta: float) -> float:
    """Eq. 7 of Rafailov et al. 2023, on log-probabilities of the preferred (w) and rejected (l) responses:

    L_DPO = −E[ log σ( β log πθ(y_w|x)/π_ref(y_w|x) − β log πθ(y_l|x)/π_ref(y_l|x) ) ].
    """
    h = beta * (logp_w - ref_w) - beta * (logp_l - ref_l)  # (n,)
    return float(np.mean(np.logaddexp(0.0, -h)))  # −log σ(h) = log(1 + e^−h)


def _loss_and_grad(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, seg: np.ndarray, iw: np.ndarray,
                   il: np.ndarray, beta: float, logp_ref: np.ndarray, ref_margin: np.ndarray) -> tuple[float, np.ndarray]:
    """L_DPO (Eq. 7) and its gradient from one evaluation of log πθ; ref_margin = log π_ref(y_w|x) − log π_ref(y_l|x).

    ∇θ L_DPO = −(β/n) Σ_i σ(−h_i) (∇ log πθ(y_w|x) − ∇ log πθ(y_l|x)), the weighted likelihood difference of
    the paper's §4, with ∇θ log πθ(y|x) = φ(y) − E_πθ(·|x)[φ]. Summing the weights per candidate row first
    (c) and per prompt (C) gives Σ_rows (c − C π) φ: one product with Phi instead of one per label.
    """
    logp = log_softmax(Phi @ theta + logp_ref, starts, seg)  # (M,)
    h = beta * ((logp[iw] - logp[il]) - ref_margin)  # (n,) the argument of σ in Eq. 7
    nll = np.logaddexp(0.0, -h)  # (n,) −log σ(h)
    s = np.exp(-h - nll)  # (n,) σ(−h)
    M = len(Phi)
    c = np.bincount(iw, s, M) - np.bincount(il, s, M)  # (M,) weight of each row's ∇ log πθ
    C = np.add.reduceat(c, starts)  # (P,) total weight per prompt
    return float(np.mean(nll)), -beta / len(iw) * ((c - C[seg] * np.exp(logp)) @ Phi)


def loss(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, iw: np.ndarray, il: np.ndarray, beta: float,
         logp_ref: np.ndarray) -> float:
    """The DPO loss (Eq. 7) of the toy policy θ on the labelled pairs."""
    logp = log_policy(theta, Phi, starts, logp_ref)
    return dpo_loss(logp[iw], logp[il], logp_ref[iw], logp_ref[il], beta)


def grad(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, iw: np.ndarray, il: np.ndarray, beta: float,
         logp_ref: np.ndarray) -> np.ndarray:
    """∇θ L_DPO (d,)."""
    return _loss_and_grad(theta, Phi, starts, segments(starts, len(Phi)), iw, il, beta, logp_ref,
                          logp_ref[iw] - logp_ref[il])[1]


def gradient_descent(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, iw: np.ndarray, il: np.ndarray,
                     beta: float, logp_ref: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """`steps` steps θ ← θ − lr ∇L_DPO from θ; returns (new θ, losses (steps + 1,) before each step and after the last)."""
    theta = np.array(theta, float)
    seg = segments(starts, len(Phi))
    ref_margin = logp_ref[iw] - logp_ref[il]  # (n,)
    losses = np.empty(steps + 1)
    for t in range(steps):
        losses[t], g = _loss_and_grad(theta, Phi, starts, seg, iw, il, beta, logp_ref, ref_margin)
        theta -= lr * g
    losses[steps] = loss(theta, Phi, starts, iw, il, beta, logp_ref)
    return theta, losses


def implicit_reward(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, beta: float,
                    logp_ref: np.ndarray) -> np.ndarray:
    """DPO's implicit reward β·log(πθ(y|x) / π_ref(y|x)) of every candidate (M,) (paper, §4)."""
    return beta * (log_policy(theta, Phi, starts, logp_ref) - logp_ref)


def kl_to_reference(theta: np.ndarray, Phi: np.ndarray, starts: np.ndarray, logp_ref: np.ndarray) -> np.ndarray:
    """KL(πθ(·|x) ‖ π_ref(·|x)) for each prompt (P,): how far the policy has moved from the reference."""
    logp = log_policy(theta, Phi, starts, logp_ref)
    return np.add.reduceat(np.exp(logp) * (logp - logp_ref), starts)
