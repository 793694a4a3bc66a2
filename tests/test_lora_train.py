"""lora_train: step 0 is the base, the three methods share minibatches, accuracies vs an independent numpy
evaluation, full-rank LoRA reaches full fine-tuning's training loss, the spectrum vs LAPACK, the schedule ends."""

from __future__ import annotations

import numpy as np
import pytest
from test_lora_base import predict

from labs_py import lora_base, lora_train
from labs_py import lora_mlp as mlp

CFG = lora_train.Config(8, 8.0, "standard", ("W1", "W2"), 0.004)
LOSS_TOL = 0.03  # nats: full-rank LoRA ends within this of full fine-tuning's training loss (or below it)


@pytest.fixture(scope="module")
def run():
    """One side-by-side run to the end of the schedule (≈ 0.3 s)."""
    r = lora_train.new_run(CFG)
    lora_train.advance(r, lora_train.T + 50)  # asking for more than the schedule stops at T
    return r


def test_step_0_is_the_base_model_for_every_method():
    r = lora_train.new_run(CFG)
    base = lora_base.load()
    for m in r.methods.values():
        w = m.weights()
        assert all(np.array_equal(w[k], base[k]) for k in base)
    assert len({(r.acc[k][0], r.keep[k][0]) for k in lora_train.KINDS}) == 1
    assert lora_train.spectrum(r, "W2") is None  # ΔW = 0: nothing to decompose


def test_schedule_ends_at_T_with_evaluations_every_k(run):
    assert run.t == lora_train.T and run.done
    assert run.eval_steps == list(range(0, lora_train.T + 1, lora_train.EVAL_EVERY))
    assert all(len(v) == lora_train.T for v in run.losses.values())
    lora_train.advance(run, 5)
    assert run.t == lora_train.T and len(run.eval_steps) == lora_train.T // lora_train.EVAL_EVERY + 1


def test_accuracies_match_an_independent_evaluation(run):
    A, B = lora_base.tasks()
    for k, m in run.methods.items():
        w = m.weights()
        assert run.acc[k][-1].correct == int(np.sum(predict(w, B.X_test, B.classes) == B.y_test))
        assert run.keep[k][-1].correct == int(np.sum(predict(w, A.X_test, A.classes) == A.y_test))
        assert run.acc[k][-1].total == B.y_test.size and run.keep[k][-1].total == A.y_test.size


def test_each_method_alone_gives_the_side_by_side_result(run):
    lora_train._FINISHED.clear()
    for k in lora_train.KINDS:
        acc, keep, m = lora_train.final(k, CFG)
        assert (acc, keep) == (run.acc[k][-1], run.keep[k][-1])
        assert all(np.array_equal(m.trainable[n], run.methods[k].trainable[n]) for n in m.trainable)


def test_head_only_leaves_the_body_untouched(run):
    w, base = run.methods["head"].weights(), lora_base.load()
    assert all(np.array_equal(w[k], base[k]) for k in ("W1", "b1", "W2", "b2"))
    assert not np.array_equal(w["W3"], base["W3"])


def test_lora_update_has_rank_at_most_r(run):
    for layer in ("W1", "W2"):
        s = np.linalg.svd(run.methods["lora"].delta(layer), compute_uv=False)
        assert np.sum(s > 1e-10 * s[0]) <= CFG.r


def test_full_rank_lora_reaches_full_fine_tunings_training_loss():
    full_rank = lora_train.Config(64, 8.0, "rslora", ("W1", "W2"), 0.004)  # s = α/√r = 1
    full = lora_train.train_loss(lora_train.final("full", full_rank)[2])
    lora = lora_train.train_loss(lora_train.final("lora", full_rank)[2])
    rank1 = lora_train.train_loss(lora_train.final("lora", lora_train.Config(1, 1.0, "standard", ("W1", "W2"), 0.004))[2])
    base = lora_train.train_loss(mlp.head(lora_base.load()))
    assert lora <= full + LOSS_TOL
    assert full < 0.5 * base and rank1 > lora  # both learned; rank 1 cannot follow


def test_spectrum_matches_lapack_and_is_recomputed_only_every_k_steps(monkeypatch):
    calls = []
    real = lora_train.jacobi_svd
    monkeypatch.setattr(lora_train, "jacobi_svd", lambda M: calls.append(1) or real(M))
    r = lora_train.new_run(CFG)
    for _ in range(60):
        lora_train.advance(r, 1)
        lora_train.spectrum(r, "W2")
    assert len(calls) == 3  # at steps 1, 25 and 50
    at, svd = lora_train.spectrum(r, "W2")
    assert at == 50
    lora_train.advance(r, 10)
    dW = r.methods["full"].delta("W2")
    lora_train.advance(r, 0)
    at, svd = lora_train.spectrum(r, "W2")  # step 60 → still the one from step 50
    assert at == 50 and len(calls) == 3
    r2 = lora_train.new_run(CFG)
    lora_train.advance(r2, 50)
    ref = np.linalg.svd(r2.methods["full"].delta("W2"), compute_uv=False)
    assert np.allclose(svd.s, ref, rtol=0, atol=1e-12 * ref[0])
    assert not np.array_equal(dW, r2.methods["full"].delta("W2"))


def test_warm_started_svd_reconstructs_the_matrix():
    rng = np.random.default_rng(1)
    M = rng.standard_normal((64, 64))
    V0, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    svd = lora_train.warm_svd(M, V0)
    assert np.allclose((svd.U * svd.s) @ svd.V.T, M, atol=1e-12)
    assert np.allclose(svd.s, np.linalg.svd(M, compute_uv=False), atol=1e-12)
    assert np.allclose(svd.V.T @ svd.V, np.eye(64), atol=1e-12)
