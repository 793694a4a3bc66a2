"""LoRA's low-rank arithmetic against independent oracles: LAPACK's SVD, hand counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labs_py import lora_fit as fit
from labs_py.jacobi_svd import jacobi_svd

TOL = 1e-10


@pytest.fixture(scope="module")
def dW():
    """A 64×64 update with a decaying spectrum, built from LAPACK's QR (independent of the lab's code)."""
    rng = np.random.default_rng(11)
    U, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    V, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    return (U * np.exp(-0.15 * np.arange(64))) @ V.T + 0.01 * rng.standard_normal((64, 64))


@pytest.mark.parametrize("r", [1, 3, 8, 20, 63, 64])
def test_truncation_error_is_eckart_young(dW, r):
    """‖ΔW − ΔW_r‖_F / ‖ΔW‖_F from the Jacobi factors = sqrt(Σ_{i>r} σ_i²)/‖ΔW‖_F with LAPACK's σ."""
    svd = jacobi_svd(dW)
    s_ref = np.linalg.svd(dW, compute_uv=False)
    err = np.linalg.norm(dW - fit.truncate(svd.U, svd.s, svd.V, r)) / np.linalg.norm(dW)
    expected = math.sqrt(np.sum(s_ref[r:] ** 2)) / np.linalg.norm(dW)
    assert err == pytest.approx(expected, rel=TOL, abs=TOL)
    assert fit.eckart_young(svd.s, r) == pytest.approx(expected**2, rel=TOL, abs=TOL)
    assert fit.energy(svd.s, r) == pytest.approx(1 - expected**2, rel=TOL, abs=TOL)


def test_truncation_matches_lapack_truncation(dW):
    svd = jacobi_svd(dW)
    U, s, Vt = np.linalg.svd(dW)
    r = 6
    assert np.allclose(fit.truncate(svd.U, svd.s, svd.V, r), (U[:, :r] * s[:r]) @ Vt[:r], atol=1e-10)


def test_no_rank_r_matrix_beats_the_optimum(dW):
    r = 5
    s = np.linalg.svd(dW, compute_uv=False)
    best = fit.eckart_young(s, r)
    rng = np.random.default_rng(2)
    U, sv, Vt = np.linalg.svd(dW)
    for _ in range(50):  # perturbations of the optimum and random factors
        B = U[:, :r] * sv[:r] + 0.05 * rng.standard_normal((64, r))
        A = Vt[:r] + 0.05 * rng.standard_normal((r, 64))
        R = dW - B @ A
        assert np.sum(R * R) / np.sum(dW * dW) >= best - 1e-12
    R = dW - (U[:, :r] * sv[:r]) @ Vt[:r]
    assert np.sum(R * R) / np.sum(dW * dW) == pytest.approx(best, rel=1e-12)


def test_llama3_8b_shapes_and_total():
    arch = fit.LLAMA3_8B
    assert fit.projections(arch) == {"q": (4096, 4096), "k": (1024, 4096), "v": (1024, 4096), "o": (4096, 4096)}
    # embeddings 2 × 128,256 × 4,096 = 1,050,673,152; per layer: attention 41,943,040 + MLP 176,160,768
    # + norms 8,192 = 218,112,000; × 32 = 6,979,584,000; + final norm 4,096.
    assert fit.model_params(arch) == 8_030_261_248


# r → (per layer q, k, v, o; all 32 layers), computed by hand: q, o: r·8,192; k, v: r·5,120.
LLAMA_TABLE = {
    1: ((8_192, 5_120, 5_120, 8_192), 851_968),
    8: ((65_536, 40_960, 40_960, 65_536), 6_815_744),
    16: ((131_072, 81_920, 81_920, 131_072), 13_631_488),
    64: ((524_288, 327_680, 327_680, 524_288), 54_525_952),
}


@pytest.mark.parametrize("r", sorted(LLAMA_TABLE))
def test_lora_parameter_counts_match_the_hand_table(r):
    per_layer, total = LLAMA_TABLE[r]
    shapes = fit.projections(fit.LLAMA3_8B)
    assert tuple(fit.adapter_params(*shapes[t], r) for t in "qkvo") == per_layer
    assert fit.lora_params(fit.LLAMA3_8B, r) == total
    assert fit.lora_params(fit.LLAMA3_8B, r, ("q", "v")) == 32 * (per_layer[0] + per_layer[2])
