"""Low-rank arithmetic of LoRA: the Eckart–Young rank-r cut of an update and adapter sizes at real scale.

Why: the share of an update's energy in its top r singular directions is what a rank-r adapter can
at best keep (Eckart–Young), and the parameter count r(d + k) per adapted weight is what it costs.
The module also counts adapter parameters for a real architecture (Llama-3-8B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
