"""labs_py.quant against independent oracles: scipy's normal quantiles, closed-form error bounds, QLoRA's figures,
a float64 reimplementation that saturates codes."""

import numpy as np
import pytest
from scipy.stats import norm

from labs_py import quant, quant_layer

RNG = np.random.default_rng(0)


def nf4_from_quantiles(offset: float = 0.9677083) -> np.ndarray:
    """NF4 rebuilt from its definition (QLoRA §3): quantiles of N(0,1), 8 positive + 7 negative + exact zero, normalised."""
    pos = norm.ppf(np.linspace(offset, 0.5, 9)[:-1])
    neg = -norm.ppf(np.linspace(offset, 0.5, 8)[:-1])
    v = np.sort(np.concatenate([pos, [0.0], neg]))
    return v / np.abs(v).max()


def test_nf4_table_matches_quantile_construction():
    np.testing.assert_allclose(quant.NF4, nf4_from_quantiles(), atol=2e-7)
    assert quant.NF4.size == 16 and quant.NF4[7] == 0.0


@pytest.mark.parametrize("bits", [2, 3, 4, 8, 12])
def test_absmax_error_at_most_half_a_step(bits):
    X = RNG.standard_normal(4096)
    scale = np.abs(X).max()
    err = np.abs(quant.absmax_roundtrip(X, bits, scale) - X)
    assert err.max() <= scale / quant.qmax(bits) / 2 + 1e-12


@pytest.mark.parametrize("block", [32, 64, 256])
def test_blockwise_error_bounded_by_each_blocks_step(block):
    X = RNG.standard_normal(64 * 256)
    err = np.abs(quant.roundtrip(X, 4, "block", block) - X).reshape(-1, block)
    steps = np.abs(X.reshape(-1, block)).max(axis=1) / quant.qmax(4)
    assert np.all(err.max(axis=1) <= steps / 2 + 1e-12)


def test_nf4_picks_the_nearest_code_in_every_block():
    X = RNG.standard_normal(64 * 64)
    Y = quant.roundtrip(X, 4, "nf4", 64)
    rows, scales = X.reshape(-1, 64), np.abs(X.reshape(-1, 64)).max(axis=1, keepdims=True)
    brute = quant.NF4[np.argmin(np.abs(rows[..., None] / scales[..., None] - quant.NF4), axis=-1)] * scales
    np.testing.assert_allclose(Y, brute.ravel(), rtol=0, atol=1e-15)


def test_fp16_baseline_is_half_precision_rounding():
    X = RNG.standard_normal(1000).astype(np.float32)
    assert np.array_equal(quant.roundtrip(X, 16, "block", 64), X.astype(np.float16).astype(np.float32))


def test_double_quantization_rounds_each_scale_up_by_less_than_one_step():
    scales = np.abs(RNG.standard_normal((1024, 1))) * 0.05
    back = quant.double_quantize(scales)
    centred = scales - scales.mean()
    step = np.abs(centred.reshape(-1, 256)).max(axis=1, keepdims=True) / quant.qmax(8)
    up = (back - scales).reshape(-1, 256)
    assert np.all(up >= -1e-15) and np.all(up < step + 1e-15)


def saturated_block_rmse(W: np.ndarray, bits: int, block: int, dq: bool) -> float:
    """Per-block absmax written out in float64, every code clipped to what its bit width can store."""
    x = W.astype(np.float64).reshape(-1, block)
    scale = np.abs(x).max(axis=1)
    if dq:
        mean = scale.mean()
        d = np.pad(scale - mean, (0, (-scale.size) % 256)).reshape(-1, 256)
        c2 = np.abs(d).max(axis=1, keepdims=True)
        scale = (np.clip(np.ceil(d / c2 * 127), -127, 127) * c2 / 127).ravel()[: scale.size] + mean
    q = 2 ** (bits - 1) - 1
    step = scale[:, None] / q
    y = np.clip(np.rint(x / step), -q, q) * step
    return float(np.sqrt(np.mean((y - x) ** 2)))


@pytest.mark.parametrize("dq", [False, True])
@pytest.mark.parametrize("block", [32, 64, 128, 256, 1024])
def test_every_block_code_fits_its_bits_and_rmse_matches_saturating_oracle(block, dq):
    W = quant_layer.weights()
    for bits in range(2, 16):
        codes, scales = quant.block_codes(W, bits, block, dq)
        assert np.abs(codes).max() <= quant.qmax(bits), (bits, block, dq)
        assert np.all(scales >= quant.block_absmax(W, block)), (bits, block, dq)
        rmse = quant_layer.roundtrip(bits, "block", block, dq).rmse  # the lab's RMSE
        assert rmse == pytest.approx(saturated_block_rmse(W, bits, block, dq), rel=1e-4), (bits, block, dq)


def test_bits_per_param_equals_qlora_figures():
    assert quant.bits_per_param(4, "nf4", 64, False) == pytest.approx(4.5, abs=1e-12)
    assert quant.bits_per_param(4, "nf4", 64, True) == pytest.approx(4 + 8 / 64 + 32 / (64 * 256), abs=1e-12)
    assert round(quant.bits_per_param(4, "nf4", 64, True), 3) == 4.127  # QLoRA §3: "≈ 4.127 bits"
    assert quant.bits_per_param(16, "nf4", 64, True) == 16.0
    assert quant.bits_per_param(8, "absmax", 64, False, n=1024 * 1024) == pytest.approx(8 + 32 / 2**20)


def test_levels_cover_the_code_values():
    assert quant.levels(3, "block", 1.0).tolist() == pytest.approx([-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(quant.levels(4, "nf4", 2.0), 2 * quant.NF4)
