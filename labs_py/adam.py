"""Adam (Kingma & Ba 2015, Algorithm 1), the one optimizer every training lab uses.

Why: the LoRA Lab, its base model, the Distillation Lab's teacher and its students all train with
the same update; one implementation, tested once against the paper's algorithm, serves them all.
Parameters are a dict of numpy arrays updated in place, so callers may keep references to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # the paper's defaults

Params = dict[str, np.ndarray]


@dataclass
class Adam:
    """Adam's moment estimates per parameter and the step count t."""

    m: Params
    v: Params
    t: int = 0

    @classmethod
    def like(cls, params: Params) -> Adam:
        """Zero moments shaped like the parameters."""
        return cls({k: np.zeros_like(x) for k, x in params.items()}, {k: np.zeros_like(x) for k, x in params.items()})

    def update(self, params: Params, grads: Params, lr: float) -> None:
        """One in-place step on every parameter that has a gradient."""
        self.t += 1
        c1, c2 = 1 - BETA1**self.t, 1 - BETA2**self.t  # bias corrections
        for k, g in grads.items():
            m, v = self.m[k], self.v[k]
            m *= BETA1
            m += (1 - BETA1) * g
            v *= BETA2
            v += (1 - BETA2) * (g * g)
            params[k] -= lr * (m / c1) / (np.sqrt(v / c2) + EPS)
