"""A Bradley–Terry reward model r(x) = w·φ(x), fitted by gradient descent to pairwise preferences.

Why: RLHF's reward model (Ouyang et al. 2022, arXiv 2203.02155, Eq. 1) is trained on comparisons
with the Bradley–Terry likelihood P(A ≻ B) = σ(r_A − r_B). With a linear reward and no ties this is
logistic regression without an intercept on the differences d = φ_A − φ_B, so the loss is convex,
its gradient is short to write, and Newton's method finds the exact optimum to compare with.

Conventions: D (n, d) holds one difference φ_A − φ_B per label; y (n,) is +1 when A was preferred and
−1 when B was. Swapping the sides of a pair negates both its row of D and its y, which changes nothing.
"""

from __future__ import annotations

import numpy as np

LAMBDA = 0.01  # L2 strength λ: keeps w finite when the labels are perfectly separable


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x) = exp(−log(1 + e^−x)): no overflow, and full relative precision for very negative x."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, float)))


def prob(w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """P(A ≻ B) = σ(r_A − r_B) = σ(w·(φ_A − φ_B)) for each difference row of d (…, d)."""
    return sigmoid(d @ w)


def pair_nll(r_a: np.ndarray, r_b: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood −log σ(y (r_A − r_B)) of labels y given the two rewards of each pair."""
    return float(np.mean(np.logaddexp(0.0, -y * (np.asarray(r_a, float) - np.asarray(r_b, float)))))


def loss(w: np.ndarray, D: np.ndarray, y: np.ndarray, lam: float = LAMBDA) -> float:
    """L(w) = mean_i −log σ(y_i w·d_i) + (λ/2)‖w‖²: the mean NLL of the labels plus the L2 term."""
    return float(np.mean(np.logaddexp(0.0, -y * (D @ w))) + 0.5 * lam * (w @ w))


def grad(w: np.ndarray, D: np.ndarray, y: np.ndarray, lam: float = LAMBDA) -> np.ndarray:
    """∇L(w) = −mean_i σ(−y_i w·d_i) y_i d_i + λ w   (d,)."""
    s = sigmoid(-y * (D @ w))  # (n,) probability the model gives the side that was not picked
    return -(s * y) @ D / len(y) + lam * w


def gradient_descent(w: np.ndarray, D: np.ndarray, y: np.ndarray, lr: float, steps: int,
                     lam: float = LAMBDA) -> tuple[np.ndarray, np.ndarray]:
    """`steps` steps w ← w − lr ∇L(w) from w; returns (new w, losses (steps + 1,) before each step and after the last)."""
    w = np.array(w, float)
    yD = y[:, None] * D / len(y)  # (n, d): each label's difference, signed by its label and scaled by 1/n
    losses = np.empty(steps + 1)
    for t in range(steps + 1):
        m = y * (D @ w)  # (n,) margins
        nll = np.logaddexp(0.0, -m)  # (n,) −log σ(m)
        losses[t] = np.mean(nll) + 0.5 * lam * (w @ w)
        if t < steps:
            w -= lr * (lam * w - np.exp(-m - nll) @ yD)  # σ(−m) = exp(log σ(−m)) = exp(−m − nll)
    return w, losses


def newton(D: np.ndarray, y: np.ndarray, lam: float = LAMBDA, w0: np.ndarray | None = None, tol: float = 1e-9,
           max_iter: int = 50) -> np.ndarray:
    """The exact minimiser of L by Newton's method with backtracking (L is strictly convex for λ > 0).

    Hessian: H = (1/n) Dᵀ diag(p (1 − p)) D + λ I, with p = σ(w·d_i). Starts from w0 (default 0).
    """
    n, k = D.shape
    w = np.zeros(k) if w0 is None else np.array(w0, float)
    current = loss(w, D, y, lam)
    for _ in range(max_iter):
        g = grad(w, D, y, lam)
        p = sigmoid(D @ w)  # (n,)
        H = (D * (p * (1 - p))[:, None]).T @ D / n + lam * np.eye(k)  # (d, d)
        step = np.linalg.solve(H, g)
        t = 1.0
        while True:
            trial = loss(w - t * step, D, y, lam)
            if trial <= current - 0.25 * t * (g @ step) or t < 1e-8:
                break
            t *= 0.5
        w, current = w - t * step, trial
        if np.max(np.abs(t * step)) < tol:
            break
    return w


def accuracy(w: np.ndarray, D: np.ndarray, y: np.ndarray) -> float:
    """Share of labels the reward orders the same way (y_i w·d_i > 0); exact ties count one half."""
    m = y * (D @ w)
    return float(np.mean((m > 0) + 0.5 * (m == 0)))
