"""Fitting a LoRA adapter to a weight update, and what the best rank-r fit can achieve.

Why: LoRA (Hu et al. 2021, arXiv 2106.09685, §4.1) freezes W0 and learns ΔW = (α/r)·B A with
B (d, r) initialised to zero and A (r, k) random, so training starts exactly at W0. Fitting B A to
a known ΔW by gradient descent shows how close a rank-r adapter gets to the best possible rank-r
matrix, whose error the Eckart–Young theorem gives from the singular values. The module also
counts adapter parameters for a real architecture (Llama-3-8B).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ALPHA = 16.0  # LoRA's α: a common default; the adapter's output is scaled by α/r
BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-8  # Adam's defaults (Kingma & Ba 2015, Algorithm 1)
LR_FLOOR = 0.02  # after the cosine schedule ends, training goes on at 2 % of the peak learning rate
WARMUP = 0.05  # share of the schedule spent warming up


# ---- the best rank-r approximation (Eckart–Young) ----------------------------------------------

def energy(s: np.ndarray, r: int) -> float:
    """Share of ‖ΔW‖_F² in the top r singular values: Σ_{i≤r} σ_i² / Σ σ_i²."""
    s2 = np.asarray(s, float) ** 2
    return float(np.sum(s2[:r]) / np.sum(s2))


def eckart_young(s: np.ndarray, r: int) -> float:
    """Smallest possible loss of a rank-r matrix: min ‖ΔW − M‖_F² / ‖ΔW‖_F² = Σ_{i>r} σ_i² / Σ σ_i²."""
    s2 = np.asarray(s, float) ** 2
    return float(np.sum(s2[r:]) / np.sum(s2))


def truncate(U: np.ndarray, s: np.ndarray, V: np.ndarray, r: int) -> np.ndarray:
    """ΔW_r = U_r Σ_r V_rᵀ, the best rank-r approximation (d, k)."""
    return (U[:, :r] * s[:r]) @ V[:, :r].T


# ---- the adapter and its loss --------------------------------------------------------------------

def scale(r: int, alpha: float = ALPHA) -> float:
    """LoRA's scaling α/r of the update B A."""
    return alpha / r


def init_adapter(d: int, k: int, r: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """LoRA's initialisation: B = 0 (d, r) so B A = 0 at the start; A ~ N(0, 1/k) (r, k)."""
    B = np.zeros((d, r))  # (d, r)
    A = rng.standard_normal((r, k)) / np.sqrt(k)  # (r, k)
    return B, A


def loss(dW: np.ndarray, B: np.ndarray, A: np.ndarray, s: float) -> float:
    """L = ‖ΔW − s·B A‖_F² / ‖ΔW‖_F²; its minimum over B, A is `eckart_young(σ, r)`."""
    R = dW - s * (B @ A)  # (d, k)
    return float(np.sum(R * R) / np.sum(dW * dW))


def loss_and_grads(dW: np.ndarray, B: np.ndarray, A: np.ndarray, s: float) -> tuple[float, np.ndarray, np.ndarray]:
    """L and its gradients: with R = ΔW − s·B A and N = ‖ΔW‖_F², ∂L/∂B = −2s·R Aᵀ/N, ∂L/∂A = −2s·Bᵀ R/N."""
    n2 = float(np.sum(dW * dW))
    R = dW - s * (B @ A)  # (d, k)
    g = -2.0 * s / n2
    return float(np.sum(R * R)) / n2, g * (R @ A.T), g * (B.T @ R)


@dataclass
class Adam:
    """Adam's first and second moment estimates, one array per parameter (B, A), and the step count t."""

    m: list[np.ndarray]
    v: list[np.ndarray]
    t: int = 0

    @classmethod
    def zeros(cls, *params: np.ndarray) -> Adam:
        """Fresh moments shaped like the parameters."""
        return cls([np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params])


def _adam_update(x: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float, t: int) -> None:
    """One in-place Adam update of x with gradient g (Kingma & Ba 2015, Algorithm 1)."""
    m *= BETA1
    m += (1 - BETA1) * g
    v *= BETA2
    v += (1 - BETA2) * (g * g)
    m_hat = m / (1 - BETA1**t)  # bias-corrected moments
    v_hat = v / (1 - BETA2**t)
    x -= lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)


def learning_rate(t: int, lr: float, T: int) -> float:
    """Linear warm-up over the first WARMUP·T steps, cosine decay to LR_FLOOR·lr at step T, then constant.

    Adam's first steps move every weight by about lr whatever the gradient's size; the warm-up keeps
    those steps small while the moment estimates fill. Without the decay, plain Adam keeps
    overshooting near the optimum of this deterministic problem; fine-tuning recipes use the same shape.
    """
    warm = max(1, round(WARMUP * T))
    if t <= warm:
        return lr * t / warm
    x = min(t - warm, T - warm) / (T - warm)
    return lr * max(0.5 * (1.0 + math.cos(math.pi * x)), LR_FLOOR)


def train(dW: np.ndarray, B: np.ndarray, A: np.ndarray, s: float, opt: Adam, lr: float, T: int,
          steps: int) -> np.ndarray:
    """Run `steps` Adam steps on B and A in place (schedule of length T); returns the loss before each step."""
    losses = np.empty(steps)
    for i in range(steps):
        losses[i], gB, gA = loss_and_grads(dW, B, A, s)
        opt.t += 1
        lr_t = learning_rate(opt.t, lr, T)
        for x, g, m, v in zip((B, A), (gB, gA), opt.m, opt.v, strict=True):
            _adam_update(x, g, m, v, lr_t, opt.t)
    return losses


# ---- what the adapter learned --------------------------------------------------------------------

def orthonormal_basis(X: np.ndarray, rel_tol: float = 1e-10) -> np.ndarray:
    """An orthonormal basis (d, q) of the column space of X (d, r), by Gram–Schmidt applied twice.

    Columns whose remainder is below rel_tol·max‖x_j‖ add nothing and are skipped (e.g. B = 0).
    """
    X = np.asarray(X, float)
    d, r = X.shape
    top = float(np.sqrt(np.max(np.sum(X * X, axis=0)))) if X.size else 0.0
    if top == 0.0:
        return np.zeros((d, 0))
    Q = np.empty((d, r))  # (d, r); the first q columns are filled
    q = 0
    for j in range(r):
        x = X[:, j]
        for _ in range(2):  # "twice is enough" (Parlett): re-orthogonalise once
            x = x - Q[:, :q] @ (Q[:, :q].T @ x)
        norm = float(np.sqrt(x @ x))
        if norm > rel_tol * top:
            Q[:, q] = x / norm
            q += 1
    return Q[:, :q]


def subspace_overlap(U: np.ndarray, B: np.ndarray) -> float:
    """Mean cos² of the principal angles between span(U) (orthonormal, (d, r)) and span(B) (d, r).

    ‖Uᵀ Q‖_F² / r with Q an orthonormal basis of span(B): 1 when the spaces coincide, ≈ r/d for a
    random subspace, 0 for B = 0.
    """
    Q = orthonormal_basis(B)
    C = U.T @ Q  # (r, q): cosines of the principal angles are its singular values
    return float(np.sum(C * C) / U.shape[1])


def captured(M: np.ndarray, X: np.ndarray) -> float:
    """How much of X the matrix M reproduces: the coefficient ⟨M, X⟩_F / ‖X‖_F² of M's projection on X."""
    return float(np.sum(M * X) / np.sum(X * X))


def direction_gains(U: np.ndarray, s: np.ndarray, V: np.ndarray, M: np.ndarray) -> np.ndarray:
    """u_iᵀ M v_i / σ_i for every singular direction of ΔW: 1 where M reproduces it fully, 0 where it ignores it."""
    safe = np.where(s > 0, s, 1.0)
    return np.einsum("ik,ki->i", U.T @ M, V) / safe


# ---- real scale: LoRA on the attention projections of a transformer -----------------------------

@dataclass(frozen=True)
class Arch:
    """The shape of a decoder-only transformer with grouped-query attention and a gated MLP."""

    name: str
    hidden: int  # d_model
    layers: int
    heads: int  # query heads
    kv_heads: int  # key/value heads (GQA)
    head_dim: int
    intermediate: int  # MLP width
    vocab: int
    tied_embeddings: bool = False


# meta-llama/Meta-Llama-3-8B config.json; the same shape is in Table 3 of the Llama 3 paper (arXiv 2407.21783).
LLAMA3_8B = Arch("Llama-3-8B", hidden=4096, layers=32, heads=32, kv_heads=8, head_dim=128,
                 intermediate=14336, vocab=128256)


def projections(arch: Arch) -> dict[str, tuple[int, int]]:
    """(d_out, d_in) of the attention projections q, k, v, o of one layer."""
    q = arch.heads * arch.head_dim
    kv = arch.kv_heads * arch.head_dim
    return {"q": (q, arch.hidden), "k": (kv, arch.hidden), "v": (kv, arch.hidden), "o": (arch.hidden, q)}


def adapter_params(d: int, k: int, r: int) -> int:
    """Trainable parameters of a rank-r adapter on a (d, k) weight: B (d, r) plus A (r, k)."""
    return r * (d + k)


def lora_params(arch: Arch, r: int, targets: tuple[str, ...] = ("q", "k", "v", "o")) -> int:
    """Trainable parameters when every layer gets a rank-r adapter on each target projection."""
    shapes = projections(arch)
    return arch.layers * sum(adapter_params(*shapes[t], r) for t in targets)


def model_params(arch: Arch) -> int:
    """All parameters: embeddings (+ untied output head), attention, gated MLP and RMSNorm weights."""
    attention = sum(d * k for d, k in projections(arch).values())
    mlp = 3 * arch.hidden * arch.intermediate  # gate, up, down
    norms = 2 * arch.hidden
    embed = arch.vocab * arch.hidden * (1 if arch.tied_embeddings else 2)
    return arch.layers * (attention + mlp + norms) + embed + arch.hidden
