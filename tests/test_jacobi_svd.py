"""One-sided Jacobi SVD against LAPACK (np.linalg.svd) and against its own definition."""

from __future__ import annotations

import numpy as np
import pytest

from labs_py.jacobi_svd import jacobi_svd, round_robin

TOL = 1e-10


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal matrix from LAPACK's QR (an independent source)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def with_spectrum(m: int, n: int, s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """U diag(s) Vᵀ with random orthogonal U (m, m), V (n, n)."""
    p = min(m, n)
    return (orthogonal(m, rng)[:, :p] * s) @ orthogonal(n, rng)[:, :p].T


def off_norm(X: np.ndarray) -> float:
    """‖offdiag(XᵀX)‖_F / ‖X‖_F², the convergence measure the SVD records."""
    G = X.T @ X
    return float(np.linalg.norm(G - np.diag(np.diag(G))) / np.trace(G))


def cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "random 64×64": rng.standard_normal((64, 64)),
        "random 9×9": rng.standard_normal((9, 9)),
        "tall 80×30 (d > k)": rng.standard_normal((80, 30)),
        "wide 30×80 (d < k)": rng.standard_normal((30, 80)),
        "odd columns 40×17": rng.standard_normal((40, 17)),
        "rank 5 of 64×64": rng.standard_normal((64, 5)) @ rng.standard_normal((5, 64)),
        "rank 3 of 50×20": rng.standard_normal((50, 3)) @ rng.standard_normal((3, 20)),
        "rank 4 of 20×50": rng.standard_normal((20, 4)) @ rng.standard_normal((4, 50)),
        "ill-conditioned, κ = 1e12": with_spectrum(48, 40, np.logspace(0, -12, 40), rng),
        "graded columns": rng.standard_normal((30, 30)) * np.logspace(0, -8, 30),
        "single column": rng.standard_normal((7, 1)),
        "single row": rng.standard_normal((1, 7)),
        "zero columns inside": np.hstack([rng.standard_normal((10, 3)), np.zeros((10, 2)), rng.standard_normal((10, 3))]),
    }


CASES = cases()


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request):
    A = CASES[request.param]
    return A, jacobi_svd(A), np.linalg.svd(A, compute_uv=False)


def test_round_robin_meets_every_pair_once_in_disjoint_rounds():
    for n in (2, 4, 10, 64):
        P, Q = round_robin(n)
        assert P.shape == Q.shape == (n - 1, n // 2)
        for p, q in zip(P, Q, strict=True):
            assert len(set(p) | set(q)) == n  # every column exactly once per round: disjoint pairs
        pairs = {(int(a), int(b)) for a, b in zip(P.ravel(), Q.ravel(), strict=True)}
        assert pairs == {(a, b) for a in range(n) for b in range(a + 1, n)}


def test_round_robin_rejects_odd_n():
    with pytest.raises(ValueError):
        round_robin(5)


def test_singular_values_match_lapack(case):
    _, svd, s_ref = case
    assert svd.s.shape == s_ref.shape
    assert np.all(np.diff(svd.s) <= 0), "σ must be descending"
    assert np.max(np.abs(svd.s - s_ref)) <= TOL * s_ref[0]


def test_small_singular_values_keep_relative_accuracy():
    """For κ = 1e12 the σ ≥ 1e-5·σ_1 agree with LAPACK per value, not only relative to σ_1."""
    A = CASES["ill-conditioned, κ = 1e12"]
    s, s_ref = jacobi_svd(A).s, np.linalg.svd(A, compute_uv=False)
    big = s_ref >= 1e-5 * s_ref[0]
    assert big.sum() >= 16
    assert np.max(np.abs(s[big] - s_ref[big]) / s_ref[big]) <= TOL


def test_reconstruction(case):
    A, svd, _ = case
    assert np.linalg.norm((svd.U * svd.s) @ svd.V.T - A) <= TOL * np.linalg.norm(A)


def test_factors_are_orthonormal_on_the_non_null_part(case):
    A, svd, s_ref = case
    m, n = A.shape
    p = min(m, n)
    assert svd.U.shape == (m, p) and svd.V.shape == (n, p)
    keep = s_ref > 1e-10 * s_ref[0]  # the non-null singular values
    for F in (svd.U, svd.V):
        Fk = F[:, keep]
        assert np.max(np.abs(Fk.T @ Fk - np.eye(keep.sum()))) <= TOL
    full = svd.V if m >= n else svd.U  # the accumulated rotations: orthonormal in full
    assert np.max(np.abs(full.T @ full - np.eye(p))) <= TOL


def test_singular_vectors_match_lapack_up_to_sign():
    rng = np.random.default_rng(3)
    A = with_spectrum(30, 20, np.linspace(5, 1, 20), rng)  # well separated σ: unique vectors
    svd = jacobi_svd(A)
    U_ref, _, Vt_ref = np.linalg.svd(A, full_matrices=False)
    signs = np.sign(np.sum(svd.U * U_ref, axis=0))
    assert np.max(np.abs(svd.U - U_ref * signs)) <= 1e-9
    assert np.max(np.abs(svd.V - Vt_ref.T * signs)) <= 1e-9


def test_off_diagonal_norm_is_recorded_per_sweep_and_vanishes():
    A = CASES["random 64×64"]
    svd = jacobi_svd(A)
    assert svd.sweeps == len(svd.off) - 1 >= 3
    assert svd.off[0] == pytest.approx(off_norm(A), rel=1e-12)
    assert svd.off[0] > 1e-2
    assert svd.off[-1] <= 1e-13
    assert svd.off[-1] == pytest.approx(off_norm(A @ svd.V), rel=1e-6, abs=1e-15)


def test_max_sweeps_caps_the_work():
    svd = jacobi_svd(CASES["random 64×64"], max_sweeps=2)
    assert svd.sweeps == 2
    assert svd.off[-1] > 1e-8  # not converged yet, and it says so


def test_no_lapack_call(monkeypatch):
    """The SVD is ours: it must work with every numpy.linalg routine removed."""
    for name in ("svd", "eig", "eigh", "qr", "solve", "inv", "lstsq", "cholesky", "norm"):
        monkeypatch.setattr(np.linalg, name, lambda *a, **k: pytest.fail("numpy.linalg was called"))
    A = CASES["tall 80×30 (d > k)"]
    assert jacobi_svd(A).s.shape == (30,)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        jacobi_svd(np.zeros(5))
    with pytest.raises(ValueError):
        jacobi_svd(np.zeros((0, 3)))
