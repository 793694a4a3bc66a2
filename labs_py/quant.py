"""Weight quantization from scratch: absmax (per tensor, per block), NF4, double quantization.

Why: QLoRA stores the frozen base model in 4-bit NormalFloat with blockwise absmax scales
(Dettmers et al. 2023, arXiv 2305.14314, §3); this module reproduces those formats and their
exact storage cost so the Quantization Lab can show error and memory side by side.
"""

from __future__ import annotations

import numpy as np

# The 16 NF4 code values as published with QLoRA (Appendix E) and shipped by bitsandbytes.
NF4 = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
])
NF4_MIDPOINTS = (NF4[1:] + NF4[:-1]) / 2  # decision boundaries for round-to-nearest code
SCALE_BITS = 32  # block scales stored in fp32, as in QLoRA
DQ_BITS, DQ_BLOCK = 8, 256  # double quantization: 8-bit second-level scales in blocks of 256 (QLoRA §3)


def qmax(bits: int) -> int:
    """Largest positive integer code of a symmetric signed `bits`-bit format (e.g. 7 for 4 bits)."""
    return 2 ** (bits - 1) - 1


def code_step(bits: int, scale: np.ndarray | float) -> np.ndarray:
    """The value of one integer step, scale / qmax (a zero scale counts as 1: its block is all zeros)."""
    return np.where(scale == 0, 1.0, scale) / qmax(bits)


def absmax_codes(X: np.ndarray, bits: int, scale: np.ndarray | float) -> np.ndarray:
    """The stored integer codes round(X / scale · qmax); within ±qmax wherever |X| ≤ scale."""
    return np.round(X / code_step(bits, scale))


def absmax_roundtrip(X: np.ndarray, bits: int, scale: np.ndarray | float) -> np.ndarray:
    """Quantize X to its codes and back; `scale` broadcasts (a tensor or per-block)."""
    return absmax_codes(X, bits, scale) * code_step(bits, scale)


def block_view(x: np.ndarray, block: int) -> np.ndarray:
    """Flatten x into rows of `block` consecutive values (x.size must be a multiple of block)."""
    return x.reshape(-1, block)


def block_absmax(x: np.ndarray, block: int) -> np.ndarray:
    """Per-block absmax scales, shape (n_blocks, 1)."""
    return np.abs(block_view(x, block)).max(axis=1, keepdims=True)


def double_quantize(scales: np.ndarray) -> np.ndarray:
    """Quantize the (mean-centred) fp32 block scales to 8 bits in blocks of 256 and return them dequantized.

    QLoRA quantizes the first-level constants with 8-bit floats; here they use a symmetric 8-bit
    integer code, which has the same storage cost. Each scale's code is rounded up, never to the
    nearest: a scale below its block's absmax would give that block codes beyond ±qmax, values its
    b-bit code cannot store.
    """
    c = scales.ravel()
    mean = c.mean()
    centred = c - mean
    pad = (-centred.size) % DQ_BLOCK
    blocks = block_view(np.concatenate([centred, np.zeros(pad, centred.dtype)]), DQ_BLOCK)
    step = code_step(DQ_BITS, np.abs(blocks).max(axis=1, keepdims=True))
    # the largest scale of each block is exactly qmax steps; the cap removes rounding noise above it
    codes = np.minimum(np.ceil(blocks / step), qmax(DQ_BITS))
    back = (codes * step).ravel()[: c.size] + mean
    return back.reshape(scales.shape)


def nf4_roundtrip(X: np.ndarray, block: int, dq: bool = False) -> np.ndarray:
    """NF4: normalise each block by its absmax, snap to the nearest of the 16 codes, scale back."""
    rows = block_view(X, block)
    scales = block_absmax(X, block)
    if dq:
        scales = double_quantize(scales)
    safe = np.where(scales == 0, 1.0, scales)
    idx = np.searchsorted(NF4_MIDPOINTS, rows / safe)
    return (NF4[idx] * scales).reshape(X.shape)


def block_codes(X: np.ndarray, bits: int, block: int, dq: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """What per-block absmax stores: integer codes (n_blocks, block) and the scales they decode with."""
    scales = block_absmax(X, block)
    if dq:
        scales = double_quantize(scales)
    return absmax_codes(block_view(X, block), bits, scales), scales


def roundtrip(X: np.ndarray, bits: int, method: str, block: int, dq: bool = False) -> np.ndarray:
    """dequantize(quantize(X)) for any supported format; bits=16 is the fp16 baseline."""
    if bits == 16:
        return X.astype(np.float16).astype(X.dtype)
    if method == "absmax":
        return absmax_roundtrip(X, bits, np.abs(X).max())
    if method == "nf4":
        return nf4_roundtrip(X, block, dq)
    codes, scales = block_codes(X, bits, block, dq)
    return (codes * code_step(bits, scales)).reshape(X.shape)


def bits_per_param(bits: int, method: str, block: int, dq: bool, n: int | None = None) -> float:
    """Stored bits per weight, scales included. n=None gives the large-tensor limit.

    Per block: b + 32/B (fp32 scales); with double quantization b + 8/B + 32/(256·B).
    For NF4 with B = 64 that is 4.5 and ≈ 4.127 bits, the figures in QLoRA §3.
    """
    if bits == 16:
        return 16.0
    if method == "absmax":
        return bits + (SCALE_BITS / n if n else 0.0)
    if not dq:
        return bits + SCALE_BITS / block
    extra = SCALE_BITS / n if n else 0.0  # the one fp32 mean subtracted before double quantization
    return bits + DQ_BITS / block + SCALE_BITS / (DQ_BLOCK * block) + extra


def levels(bits: int, method: str, scale: float) -> np.ndarray:
    """The representable values for one block (or tensor) with absmax `scale`."""
    if method == "nf4":
        return NF4 * scale
    q = qmax(bits)
    return np.arange(-q, q + 1) * (scale / q)
