"""The Quantization Lab's demo layer and what a quantize → dequantize round trip does to it.

Why: the lab's numbers are measurements on one fixed, seeded 512×512 "layer": N(0, 0.02²)
entries, like a transformer projection at initialisation scale, optionally with 0.1 % of entries
replaced by outliers of 6–12 σ, the heavy tail that makes per-tensor absmax waste its levels.
Everything here is cached: a slider move re-reads results instead of re-quantizing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from labs_py import quant

N_ROWS = N_COLS = 512
SIGMA = 0.02  # typical init std of transformer projections
OUTLIER_FRACTION = 0.001
BITS_AXIS = tuple(range(2, 16))  # integer codes; 16 is fp16, a float format drawn apart


@dataclass(frozen=True)
class Roundtrip:
    """Error of Ŵ = dequantize(quantize(W)) on the demo layer (sums in float64)."""

    rmse: float  # √(mean (Ŵ − W)²)
    rel: float  # ‖Ŵ − W‖_F / ‖W‖_F
    zero_share: float  # share of all weights with Ŵ exactly 0


@lru_cache(maxsize=2)
def weights(outliers: bool = True) -> np.ndarray:
    """The demo layer (float32, 512×512), identical on every run and platform."""
    rng = np.random.default_rng(20230523)
    W = rng.standard_normal((N_ROWS, N_COLS)) * SIGMA
    n_out = int(OUTLIER_FRACTION * W.size)
    idx = rng.choice(W.size, size=n_out, replace=False)
    tail = rng.choice([-1.0, 1.0], n_out) * rng.uniform(6, 12, n_out) * SIGMA  # drawn either way: same base W
    if outliers:
        W.flat[idx] = tail
    return W.astype(np.float32)


@lru_cache(maxsize=512)
def roundtrip(bits: int, method: str, block: int, dq: bool, outliers: bool = True) -> Roundtrip:
    """RMSE, relative error and exact-zero share of one format on the demo layer."""
    W = weights(outliers)
    W_hat = quant.roundtrip(W, bits, method, block, dq)
    E = (W_hat - W).astype(np.float64).ravel()
    W64 = W.astype(np.float64).ravel()
    sq = float(E @ E)
    return Roundtrip((sq / W.size) ** 0.5, (sq / float(W64 @ W64)) ** 0.5, float(np.mean(W_hat == 0)))


@lru_cache(maxsize=4)
def histogram(outliers: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(edges, counts) of the demo weights in 120 bins over ±max|W|."""
    W = weights(outliers)
    m = float(np.abs(W).max())
    counts, edges = np.histogram(W, bins=120, range=(-m, m))
    return edges, counts


@lru_cache(maxsize=16)
def typical_block_scale(block: int, outliers: bool = True) -> float:
    """Median (upper) per-block absmax of the demo layer: the scale whose levels the histogram shows."""
    scales = np.sort(quant.block_absmax(weights(outliers), block).ravel())
    return float(scales[scales.size // 2])
