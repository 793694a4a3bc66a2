"""distill_run: the transfer set, both students against an independent per-student numpy training, the
omitted digit's bias rule, where a run stops, and the paper's effect on the default preset over seeds."""

from __future__ import annotations

import export_digits
import numpy as np
import pytest
import train_digit_teacher
from scipy import special

export_digits.ensure()
train_digit_teacher.ensure()

from labs_py import digit_teacher, digits  # noqa: E402
from labs_py import distill_run as dr  # noqa: E402

SEEDS = [dr.SEED + k for k in range(5)]
DEFAULT = (4.0, 0.9, 100)  # T, α, transfer-set size: the lab's default preset
MARGIN = 0.03  # soft targets beat hard labels by at least 3 points of held-out accuracy on every seed
OMITTED_SOFT, OMITTED_HARD = 0.6, 0.05  # with the 3s left out: soft recognises ≥ 60 % of held-out 3s, hard ≤ 5 %


def independent(key: tuple, steps: int) -> list[float]:
    """Held-out accuracy of [hard, soft] after `steps` Adam steps, one student at a time, from the formulas with scipy."""
    T, alpha, n, omit, seed = key
    X, y = digits.load()
    train, test = digits.split(y)
    idx = np.random.default_rng(seed).permutation(train)[:n]
    idx = idx if omit is None else idx[y[idx] != omit]
    V = digit_teacher.forward(digit_teacher.load().P, X)
    pt, Y = special.softmax(V[idx] / T, axis=1), np.eye(10)[y[idx]]
    out = []
    for a in (0.0, alpha):
        W, b = np.zeros((64, 10)), np.zeros(10)
        mW, vW, mb, vb = np.zeros((64, 10)), np.zeros((64, 10)), np.zeros(10), np.zeros(10)
        for t in range(1, steps + 1):
            z = X[idx] @ W + b
            g = (a * T * (special.softmax(z / T, axis=1) - pt) + (1 - a) * (special.softmax(z, axis=1) - Y)) / len(idx)
            gW, gb = X[idx].T @ g, g.sum(0)
            mW, vW = 0.9 * mW + 0.1 * gW, 0.999 * vW + 0.001 * gW**2
            mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb**2
            W = W - dr.LR * (mW / (1 - 0.9**t)) / (np.sqrt(vW / (1 - 0.999**t)) + 1e-8)
            b = b - dr.LR * (mb / (1 - 0.9**t)) / (np.sqrt(vb / (1 - 0.999**t)) + 1e-8)
        out.append(float(np.mean(np.argmax(X[test] @ W + b, axis=1) == y[test])))
    return out


def test_transfer_set_is_a_seeded_part_of_the_training_split_without_the_omitted_digit():
    d = dr.data()
    a, b = dr.transfer(100, None), dr.transfer(100, 3)
    assert a.size == 100 and set(a) <= set(d.train) and not set(a) & set(d.test)
    assert np.array_equal(b, a[d.y[a] != 3]) and not np.any(d.y[b] == 3) and b.size < 100
    assert np.array_equal(dr.transfer(100, None, SEEDS[1]), dr.transfer(100, None, SEEDS[1]))
    assert not np.array_equal(dr.transfer(100, None, SEEDS[1]), a)


@pytest.mark.parametrize("key", [(*DEFAULT, None, dr.SEED), (2.0, 0.5, 60, None, SEEDS[2])])
def test_students_equal_an_independent_training(key):
    run = dr.complete(key)
    s = run.history[-1]
    assert run.t == dr.SCHEDULE and run.stopped == "schedule"
    assert [s.acc_hard, s.acc_soft] == pytest.approx(independent(key, dr.SCHEDULE), abs=1e-12)


def test_teacher_accuracy_is_its_argmax_on_the_held_out_split():
    d = dr.data()
    assert dr.teacher_accuracy() == np.mean(np.argmax(d.V[d.test], axis=1) == d.y[d.test])
    assert dr.held_out_count(None) == d.test.size == 596 and dr.held_out_count(3) == np.sum(d.y[d.test] == 3)


def test_soft_targets_beat_hard_labels_on_held_out_digits_over_seeds():
    gains = [dr.complete((*DEFAULT, None, s)).history[-1] for s in SEEDS]
    gains = np.array([s.acc_soft - s.acc_hard for s in gains])
    assert np.all(gains >= MARGIN), gains


def test_with_a_digit_left_out_only_the_soft_student_recognises_it_over_seeds():
    for seed in SEEDS:
        s = dr.complete((*DEFAULT, 3, seed)).history[-1]
        assert s.omitted_soft >= OMITTED_SOFT and s.omitted_hard <= OMITTED_HARD, (seed, s)
        assert s.acc_soft - s.acc_hard >= MARGIN


def test_the_bias_shift_matches_the_teacher_on_transfer_data_only():
    key = (*DEFAULT, 3, dr.SEED)
    run = dr.complete(key)
    s, d, idx = run.history[-1], dr.data(), dr.transfer(100, 3)
    target = np.mean(special.softmax(d.V[idx] / 4.0, axis=1)[:, 3])
    for i, shift in enumerate((s.shift_hard, s.shift_soft)):
        z = d.X[idx] @ run.students.W[i] + run.students.b[i]
        z[:, 3] += shift
        assert np.mean(special.softmax(z / 4.0, axis=1)[:, 3]) == pytest.approx(target, rel=1e-9)
    assert s.shift_hard > 5  # the hard student's 3 was pushed far down; raising its bias is not enough
    assert s.raw_omitted_hard == 0.0 and s.omitted_hard <= OMITTED_HARD


def test_a_run_stops_at_the_schedule_or_when_it_has_converged():
    run = dr.new_run((*DEFAULT, None, dr.SEED))
    dr.advance(run, dr.STEPS_PER_FRAME)
    assert run.t == dr.STEPS_PER_FRAME and not run.done and len(run.history) == 2
    dr.advance(run, 10 * dr.SCHEDULE)
    assert run.t == dr.SCHEDULE and run.stopped == "schedule" and len(run.history) == dr.SCHEDULE // dr.STEPS_PER_FRAME + 1
    a = run.history[-1]
    assert dr.converged(a, a)
    moved = dr.Scores(**{**a.__dict__, "losses": type(a.losses)(a.losses.kl, a.losses.ce, a.losses.total * (1 + 1e-3))})
    assert not dr.converged(a, moved)


def test_a_cached_complete_run_is_never_advanced():
    key = (*DEFAULT, None, dr.SEED)
    run = dr.complete(key)
    before = (run.t, len(run.history), run.students.W.copy())
    assert dr.complete(key) is run
    assert (run.t, len(run.history)) == before[:2] and np.array_equal(run.students.W, before[2])
