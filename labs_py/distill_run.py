"""The Distillation Lab's experiment: two identical students on one transfer set, hard labels against soft targets.

Why: Hinton, Vinyals & Dean (2015) show that a small model learns more from a teacher's softened
probabilities than from the labels alone (§3, §6), and that it can even recognise a class that its
transfer set never contained (§3). This module runs that experiment on the digits: the transfer set
is the first n images of a seeded shuffle of the training split (minus the omitted digit, if any);
the "hard" student is trained with α = 0, the "soft" one with the reader's T and α; both start at
zero and take the same full-batch Adam steps; both are scored on the held-out split at T = 1.

The omitted digit c: the soft student has only seen the teacher's small probabilities for c on
other digits, and its bias for c ends up too low. Its bias is raised using transfer data only:
by the shift δ at which the student's mean p^T(c) over the transfer images equals the teacher's
(`kd_student.bias_shift`). The same rule is applied to the hard student.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from labs_py import digit_teacher, digits, kd_student
from labs_py.kd import log_softmax
from labs_py.kd_student import Students

SCHEDULE = 100  # full-batch Adam steps in one run
STEPS_PER_FRAME = 2  # steps per Play frame; the history keeps one point per frame
LR = 0.2  # Adam step size for both students
SEED = 150302531  # arXiv 1503.02531: orders the training split into transfer sets
CONVERGED = 1e-6  # a run has converged when neither loss moved by this share over one frame


@dataclass(frozen=True)
class Data:
    """Images, labels, the fixed split and the teacher's logits on every image."""

    X: np.ndarray  # (1797, 64) pixels scaled to 0–1
    y: np.ndarray  # (1797,) digits
    train: np.ndarray  # indices of the training split
    test: np.ndarray  # indices of the held-out split
    V: np.ndarray  # (1797, 10) teacher logits


@lru_cache(maxsize=1)
def data() -> Data:
    """The digits with the build-trained teacher's logits (loaded once)."""
    X, y = digits.load()
    train, test = digits.split(y)
    return Data(X, y, train, test, digit_teacher.forward(digit_teacher.load().P, X))


@lru_cache(maxsize=256)
def transfer(n: int, omit: int | None, seed: int = SEED) -> np.ndarray:
    """Indices of the transfer set: the first n of a seeded shuffle of the training split, digit `omit` removed."""
    d = data()
    idx = np.random.default_rng(seed).permutation(d.train)[:n]
    return idx if omit is None else idx[d.y[idx] != omit]


@dataclass(frozen=True)
class Scores:
    """What the lab shows about both students at one moment (accuracies on the held-out split)."""

    t: int
    acc_hard: float
    acc_soft: float
    omitted_hard: float | None  # share of held-out images of the omitted digit recognised, after the bias shift
    omitted_soft: float | None
    raw_omitted_hard: float | None  # the same before the shift
    raw_omitted_soft: float | None
    shift_hard: float | None  # δ added to the omitted digit's bias
    shift_soft: float | None
    losses: kd_student.Losses  # on the transfer set: [hard (α = 0), soft (the reader's T and α)]


@dataclass
class Run:
    """Both students in training on one setting (index 0: hard labels, 1: soft targets), with their scores after every frame."""

    key: tuple  # (T, alpha, n, omit, seed): a change starts a new run
    students: Students
    history: list[Scores] = field(default_factory=list)
    stopped: str | None = None  # "schedule" or "converged" once the run is over

    @property
    def t(self) -> int:
        return self.students.t

    @property
    def done(self) -> bool:
        return self.stopped is not None

    @property
    def alphas(self) -> np.ndarray:
        return np.array([0.0, self.key[1]])  # (2,) the hard student is the soft one at α = 0


def new_run(key: tuple) -> Run:
    """Both students at zero, scored at step 0."""
    run = Run(key, Students.zeros(2))
    run.history.append(score(run))
    return run


def _targets(key: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, tempered teacher probabilities, labels) of the transfer set."""
    T, _, n, omit, seed = key
    d, idx = data(), transfer(n, omit, seed)
    return d.X[idx], np.exp(log_softmax(d.V[idx], T)), d.y[idx]


def advance(run: Run, steps: int) -> None:
    """Up to `steps` Adam steps for both students, scored after every frame; ends the run at the schedule or on convergence."""
    X, pt, y = _targets(run.key)
    for _ in range(min(steps, SCHEDULE - run.t)):
        kd_student.adam_step(run.students, X, pt, y, run.key[0], run.alphas, LR)
        if run.t % STEPS_PER_FRAME == 0 or run.t == SCHEDULE:
            run.history.append(score(run))
            if run.t == SCHEDULE:
                run.stopped = "schedule"
            elif converged(run.history[-2], run.history[-1]):
                run.stopped = "converged"
            if run.done:
                return


def converged(before: Scores, after: Scores) -> bool:
    """Neither student's loss moved by more than CONVERGED of its value over the last frame."""
    return bool(np.all(np.abs(after.losses.total - before.losses.total) <= CONVERGED * np.abs(before.losses.total)))


@lru_cache(maxsize=64)
def complete(key: tuple) -> Run:
    """A run trained to the end (cached: callers never advance it, they start a new one)."""
    run = new_run(key)
    advance(run, SCHEDULE)
    return run


def score(run: Run) -> Scores:
    """Held-out accuracies (with the omitted digit's bias shift) and transfer-set losses of both students."""
    T, _, n, omit, seed = run.key
    d, idx, s = data(), transfer(n, omit, seed), run.students
    log_pt = log_softmax(d.V[idx], T)
    z_tr = kd_student.logits(s.W, s.b, d.X[idx])  # (2, n, 10)
    z_te = kd_student.logits(s.W, s.b, d.X[d.test])  # (2, n_test, 10)
    losses = kd_student.losses(z_tr, log_pt, d.y[idx], T, run.alphas)
    y_te = d.y[d.test]
    if omit is None:
        acc = kd_student.accuracy(z_te, y_te)
        return Scores(run.t, float(acc[0]), float(acc[1]), None, None, None, None, None, None, losses)
    mask = y_te == omit
    raw = kd_student.accuracy(z_te[:, mask], y_te[mask])
    target = float(np.mean(np.exp(log_pt[:, omit])))
    shift = [kd_student.bias_shift(z_tr[i], target, omit, T) for i in range(2)]
    z_te[:, :, omit] += np.array(shift)[:, None]
    acc, om = kd_student.accuracy(z_te, y_te), kd_student.accuracy(z_te[:, mask], y_te[mask])
    return Scores(run.t, float(acc[0]), float(acc[1]), float(om[0]), float(om[1]), float(raw[0]), float(raw[1]),
                  shift[0], shift[1], losses)


@lru_cache(maxsize=1)
def teacher_accuracy() -> float:
    """The teacher's held-out accuracy."""
    d = data()
    return kd_student.accuracy(d.V[d.test], d.y[d.test])


def held_out_count(omit: int | None) -> int:
    """Images in the held-out split (of the omitted digit only, when one is omitted)."""
    d = data()
    return int(d.test.size if omit is None else np.sum(d.y[d.test] == omit))
