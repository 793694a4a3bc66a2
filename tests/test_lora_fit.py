"""LoRA fitting math against independent oracles: LAPACK's SVD, finite differences, scipy, hand counts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg

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
        assert fit.loss(dW, B, A, 1.0) >= best - 1e-12
    assert fit.loss(dW, U[:, :r] * sv[:r] / 2.0, Vt[:r], 2.0) == pytest.approx(best, rel=1e-12)


def test_gradients_equal_finite_differences(dW):
    rng = np.random.default_rng(5)
    r, s = 4, fit.scale(4)
    B, A = 0.1 * rng.standard_normal((64, r)), rng.standard_normal((r, 64)) / 8
    value, gB, gA = fit.loss_and_grads(dW, B, A, s)
    assert value == pytest.approx(fit.loss(dW, B, A, s), rel=1e-14)
    h = 1e-6
    for X, G in ((B, gB), (A, gA)):
        for idx in [(0, 0), (5, 2), (63, 3), (3, 17), (1, 1)]:
            if idx[0] >= X.shape[0] or idx[1] >= X.shape[1]:
                continue
            orig = X[idx]
            X[idx] = orig + h
            up = fit.loss(dW, B, A, s)
            X[idx] = orig - h
            down = fit.loss(dW, B, A, s)
            X[idx] = orig
            assert G[idx] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


def test_init_follows_lora():
    B, A = fit.init_adapter(64, 48, 8, np.random.default_rng(0))
    assert B.shape == (64, 8) and not B.any()  # B = 0: training starts at W0
    assert A.shape == (8, 48)
    assert np.std(A) == pytest.approx(1 / math.sqrt(48), rel=0.1)
    assert fit.scale(8) == fit.ALPHA / 8


def test_adam_step_matches_the_algorithm():
    """One hand-written Adam step (Kingma & Ba, Algorithm 1) on a quadratic."""
    x0, g = np.array([1.0, -2.0]), np.array([0.5, -0.1])
    m = (1 - 0.9) * g
    v = (1 - 0.999) * g**2
    expected = x0 - 0.1 * (m / (1 - 0.9)) / (np.sqrt(v / (1 - 0.999)) + 1e-8)
    x = x0.copy()
    opt = fit.Adam.zeros(x)
    fit._adam_update(x, g, opt.m[0], opt.v[0], 0.1, 1)
    assert np.allclose(x, expected, rtol=1e-12)


def test_learning_rate_schedule():
    T, lr = 400, 0.05
    warm = round(fit.WARMUP * T)
    assert fit.learning_rate(1, lr, T) == pytest.approx(lr / warm)
    assert fit.learning_rate(warm, lr, T) == pytest.approx(lr)
    assert fit.learning_rate(warm + (T - warm) // 2, lr, T) == pytest.approx(lr / 2, rel=1e-2)
    assert fit.learning_rate(T, lr, T) == pytest.approx(lr * fit.LR_FLOOR)
    assert fit.learning_rate(10 * T, lr, T) == pytest.approx(lr * fit.LR_FLOOR)
    rates = [fit.learning_rate(t, lr, T) for t in range(warm, T + 1)]
    assert all(a >= b for a, b in itertools.pairwise(rates))


@pytest.mark.parametrize("r", [1, 4, 12])
def test_training_approaches_but_never_beats_the_optimum(dW, r):
    svd = jacobi_svd(dW)
    best = fit.eckart_young(svd.s, r)
    B, A = fit.init_adapter(64, 64, r, np.random.default_rng(r))
    opt = fit.Adam.zeros(B, A)
    losses = fit.train(dW, B, A, fit.scale(r), opt, 0.05, 400, 400)
    assert losses[0] == pytest.approx(1.0)  # B = 0: ΔW untouched
    assert opt.t == 400
    assert np.all(losses >= best - 1e-12)
    final = fit.loss(dW, B, A, fit.scale(r))
    assert best - 1e-12 <= final <= best * 1.01


def test_orthonormal_basis_spans_the_same_space():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((20, 5))
    X[:, 3] = X[:, 0] - 2 * X[:, 1]  # dependent column: skipped
    Q = fit.orthonormal_basis(X)
    ref = scipy.linalg.orth(X)
    assert Q.shape == ref.shape == (20, 4)
    assert np.allclose(Q.T @ Q, np.eye(4), atol=1e-12)
    assert np.allclose(Q @ Q.T, ref @ ref.T, atol=1e-10)  # same projector, same span
    assert fit.orthonormal_basis(np.zeros((20, 3))).shape == (20, 0)


def test_subspace_overlap_is_mean_cos2_of_principal_angles():
    rng = np.random.default_rng(8)
    U = scipy.linalg.orth(rng.standard_normal((30, 6)))
    B = U @ rng.standard_normal((6, 6)) + 0.3 * rng.standard_normal((30, 6))
    angles = scipy.linalg.subspace_angles(U, B)
    assert fit.subspace_overlap(U, B) == pytest.approx(np.mean(np.cos(angles) ** 2), rel=1e-10)
    assert fit.subspace_overlap(U, U @ rng.standard_normal((6, 6))) == pytest.approx(1.0, rel=1e-12)
    assert fit.subspace_overlap(U, np.zeros((30, 6))) == 0.0


def test_captured_and_direction_gains(dW):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((64, 64))
    assert fit.captured(X, X) == pytest.approx(1.0)
    assert fit.captured(0.3 * X, X) == pytest.approx(0.3)
    svd = jacobi_svd(dW)
    gains = fit.direction_gains(svd.U, svd.s, svd.V, fit.truncate(svd.U, svd.s, svd.V, 7))
    assert np.allclose(gains[:7], 1.0, atol=1e-10) and np.allclose(gains[7:], 0.0, atol=1e-8)


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
