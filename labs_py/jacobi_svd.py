"""Singular value decomposition by one-sided (Hestenes) Jacobi rotations, vectorised with numpy.

Why: the LoRA Lab shows *how* the singular values of ΔW are found, not just the answer. One-sided
Jacobi rotates pairs of columns of A until all columns are mutually orthogonal: then A V = U Σ with
V the product of the rotations, σ_i the column norms and U the normalised columns. Each sweep
visits every pair (p, q) once in round-robin (tournament) order, so the n/2 pairs of a round are
disjoint and their rotations are applied as one numpy operation. numpy is used for array arithmetic
only; no LAPACK routine is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

EPS = float(np.finfo(np.float64).eps)
MAX_SWEEPS = 40  # 64×64 matrices take ~10 sweeps, strongly graded ones ~20; the cap only guards bad input


@dataclass(frozen=True)
class SVD:
    """A = U diag(s) Vᵀ with s descending.

    U: (m, p), s: (p,), V: (n, p) with p = min(m, n). Columns of U (or of V when m < n) that belong
    to zero singular values are left at zero. off[j] is the relative off-diagonal norm of the Gram
    matrix of the working columns after j sweeps (off[0]: before the first), the quantity Jacobi
    drives to zero.
    """

    U: np.ndarray
    s: np.ndarray
    V: np.ndarray
    off: np.ndarray

    @property
    def sweeps(self) -> int:
        """Number of sweeps performed."""
        return len(self.off) - 1


@lru_cache(maxsize=16)
def round_robin(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pair schedule of one sweep over n columns (n even): arrays P, Q of shape (n − 1, n/2), P < Q.

    The circle method: player 0 stays, the others move one seat per round, so every pair meets
    exactly once in n − 1 rounds and the pairs of one round are disjoint.
    """
    if n % 2:
        raise ValueError(f"round_robin needs an even n, got {n}")
    seats = np.arange(n)
    P, Q = [], []
    for _ in range(n - 1):
        a, b = seats[: n // 2], seats[n // 2:][::-1]
        P.append(np.minimum(a, b))
        Q.append(np.maximum(a, b))
        seats = np.concatenate(([seats[0]], [seats[-1]], seats[1:-1]))
    return np.array(P), np.array(Q)


@lru_cache(maxsize=16)
def _layouts(n: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Row layouts that put each round's pairs in adjacent rows (2i, 2i + 1).

    Returns the column held by each row in round 0, and for every round the gather index that
    turns its layout into the next round's (the last one leads back to round 0).
    """
    P, Q = round_robin(n)
    held = np.stack([P, Q], axis=2).reshape(n - 1, n)  # held[k, row] = column in that row at round k
    where = np.argsort(held, axis=1)  # where[k, column] = its row at round k
    moves = tuple(where[k][held[(k + 1) % (n - 1)]] for k in range(n - 1))
    return held[0], moves


def _off(G_off: np.ndarray, sq: np.ndarray) -> float:
    """‖offdiag(WᵀW)‖_F / ‖W‖_F², from the Gram matrix with its diagonal zeroed and that diagonal: 0 iff orthogonal."""
    total = float(np.sum(sq))
    return float(np.sqrt(np.sum(G_off * G_off))) / total if total > 0 else 0.0


def jacobi_svd(A: np.ndarray, tol: float | None = None, max_sweeps: int = MAX_SWEEPS) -> SVD:
    """Thin SVD of a real matrix A (m, n) by one-sided Jacobi.

    The columns a_p, a_q of a pair are rotated by the angle that makes them orthogonal (the Jacobi
    rotation of their 2×2 Gram matrix [[α, γ], [γ, β]], Golub & Van Loan §8.5) unless they are
    orthogonal to working precision already, |γ| ≤ tol·√(αβ) with tol = m·ε, or one of them is
    numerically zero (‖a‖ ≤ n·ε·‖A‖_F, as in a rank-deficient matrix). The test is relative, so
    small singular values get relative accuracy too (Demmel & Veselić 1992). Before each sweep the
    whole Gram matrix is checked, so a sweep that would rotate nothing is never run.
    """
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"jacobi_svd needs a non-empty 2-D array, got shape {A.shape}")
    if A.shape[0] < A.shape[1]:
        t = jacobi_svd(A.T, tol, max_sweeps)
        return SVD(t.V, t.s, t.U, t.off)
    m, n = A.shape
    tol = m * EPS if tol is None else tol
    n2 = n + n % 2  # an odd n gets a zero column, which is never rotated
    L = m + n
    X = np.zeros((n2, L))  # row i: column i of A, then column i of V
    X[:n, :m] = A.T
    X[:n, m:] = np.eye(n)
    X[:n] = X[np.argsort(-np.einsum("ij,ij->i", X[:n, :m], X[:n, :m]), kind="stable")]  # by norm: fewer sweeps
    held, moves = _layouts(n2)
    X = X[held]
    tol2 = tol * tol  # rotate when γ² > tol²·α·β …
    null = (n * EPS) ** 2 * float(np.sum(A * A))  # … and neither ‖a‖² is below this
    h = n2 // 2
    off = []
    for sweep in range(max_sweeps + 1):
        Xa = X[:, :m]
        G = Xa @ Xa.T  # (n2, n2) Gram matrix of the current columns
        sq = np.diag(G).copy()
        np.fill_diagonal(G, 0.0)
        off.append(_off(G, sq))
        live = sq > null
        if sweep == max_sweeps or not ((tol2 * np.outer(sq, sq) < G * G) & np.outer(live, live)).any():
            break
        for move in moves:
            Y = X.reshape(h, 2, L)
            a0, a1 = Y[:, 0, :m], Y[:, 1, :m]
            alpha = np.vecdot(a0, a0)  # ‖a_p‖², (h,)
            beta = np.vecdot(a1, a1)  # ‖a_q‖²
            gamma = np.vecdot(a0, a1)  # a_pᵀa_q
            act = (gamma * gamma > tol2 * alpha * beta) & (np.minimum(alpha, beta) > null)
            delta, g2 = beta - alpha, 2.0 * gamma
            # tan θ = 2γ·sign(δ) / (|δ| + √(δ² + 4γ²)), the smaller root: |θ| ≤ π/4
            t = np.divide(g2 * np.copysign(1.0, delta), np.abs(delta) + np.hypot(delta, g2), out=np.zeros(h), where=act)
            c = 1.0 / np.hypot(1.0, t)
            s = c * t
            R = np.empty((h, 2, 2))
            R[:, 0, 0], R[:, 0, 1], R[:, 1, 0], R[:, 1, 1] = c, -s, s, c
            X = (R @ Y).reshape(n2, L)[move]  # a_p ← c·a_p − s·a_q, a_q ← s·a_p + c·a_q; then the next round's layout
    Xc = np.empty_like(X)
    Xc[held] = X
    W, V = Xc[:n, :m].T, Xc[:n, m:].T  # W = A V, (m, n); V (n, n)
    s = np.sqrt(np.einsum("ij,ij->j", W, W))
    idx = np.argsort(-s, kind="stable")
    s, W, V = s[idx], W[:, idx], V[:, idx]
    nonzero = s > s[0] * n * EPS
    U = np.zeros_like(W)
    U[:, nonzero] = W[:, nonzero] / s[nonzero]
    return SVD(U, s, V, np.array(off))
