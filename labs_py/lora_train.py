"""Fine-tuning the base model on digits 5–9 three ways side by side, and what each run measures.

Why: the comparison is only fair when full fine-tuning, LoRA and head-only see the same minibatches
in the same order under the same learning-rate schedule; then any difference comes from what each
may change. Held-out accuracies are measured every EVAL_EVERY steps and the spectrum of the full
fine-tune's ΔW every SPECTRUM_EVERY steps, never on every step, so Play stays smooth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from labs_py import lora_base
from labs_py import lora_mlp as mlp
from labs_py.adam import Adam
from labs_py.jacobi_svd import SVD, jacobi_svd

T = 200  # optimizer steps in the schedule (warm-up + cosine decay to 0)
BATCH = 32  # images per minibatch: one step of all three methods stays within a frame in the browser
EVAL_EVERY = 10  # held-out accuracies are measured at steps 0, 10, 20, …, T
SPECTRUM_EVERY = 25  # the full fine-tune's ΔW spectrum is recomputed at steps 25, 50, …, T
DATA_SEED = 1  # order of the minibatches
LORA_SEED = 2  # LoRA's random A
KINDS = ("full", "lora", "head")


@dataclass(frozen=True)
class Config:
    """What a run depends on: LoRA's rank r, α, scaling kind, adapted layers, and the peak learning rate."""

    r: int
    alpha: float
    scaling: str  # "standard" (α/r) or "rslora" (α/√r)
    layers: tuple[str, ...]
    lr: float

    @property
    def s(self) -> float:
        """LoRA's scaling of B A."""
        return mlp.scaling(self.alpha, self.r, self.scaling)


def method(kind: str, cfg: Config) -> mlp.Method:
    """A fresh method of this kind at step 0 (every one of them equals the base model there)."""
    base = lora_base.load()
    if kind == "full":
        return mlp.full(base)
    if kind == "head":
        return mlp.head(base)
    return mlp.lora(base, cfg.r, cfg.alpha, cfg.scaling, cfg.layers, np.random.default_rng(LORA_SEED))


@dataclass(frozen=True)
class Score:
    """Held-out accuracy as counts: `correct` of `total` images."""

    correct: int
    total: int

    @property
    def value(self) -> float:
        """The share correct."""
        return self.correct / self.total


def score(p: mlp.Params, task: lora_base.Task) -> Score:
    """Held-out accuracy of weights p on a task, choosing among the task's digits."""
    z, _ = mlp.forward(p, task.X_test)
    pred = task.classes[np.argmax(z[:, task.classes], axis=1)]
    return Score(int(np.sum(pred == task.y_test)), int(task.y_test.size))


@dataclass
class Run:
    """The three methods in training: their tensors, Adam states, minibatch losses and held-out scores."""

    cfg: Config
    methods: dict[str, mlp.Method]
    opts: dict[str, Adam]
    batches: object  # the shared minibatch generator
    t: int = 0
    losses: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})  # minibatch loss at step 1…t
    eval_steps: list[int] = field(default_factory=list)
    acc: dict[str, list[Score]] = field(default_factory=lambda: {k: [] for k in KINDS})  # on B, at eval_steps
    keep: dict[str, list[Score]] = field(default_factory=lambda: {k: [] for k in KINDS})  # on A, at eval_steps
    spectra: dict[str, tuple[int, SVD]] = field(default_factory=dict)  # layer → (step, SVD of the full ΔW)
    drawn: dict[str, tuple] = field(default_factory=dict)  # the view's figures, kept until what they show changes

    @property
    def done(self) -> bool:
        """The schedule has ended."""
        return self.t >= T


def new_run(cfg: Config) -> Run:
    """All three methods at step 0, measured once."""
    methods = {k: method(k, cfg) for k in KINDS}
    run = Run(cfg, methods, {k: Adam.like(m.trainable) for k, m in methods.items()},
              mlp.batches(lora_base.tasks()[1].y.size, BATCH, DATA_SEED))
    evaluate(run)
    return run


@lru_cache(maxsize=1)
def base_scores() -> tuple[Score, Score]:
    """The base model's held-out (accuracy on B, accuracy on A): every method's scores at step 0."""
    A, B = lora_base.tasks()
    return score(lora_base.load(), B), score(lora_base.load(), A)


def evaluate(run: Run) -> None:
    """Record every method's held-out accuracy on B and on A at the current step."""
    A, B = lora_base.tasks()
    run.eval_steps.append(run.t)
    for k, m in run.methods.items():
        acc, keep = base_scores() if run.t == 0 else (score(m.weights(), B), score(m.weights(), A))
        run.acc[k].append(acc)
        run.keep[k].append(keep)


def advance(run: Run, steps: int) -> None:
    """Up to `steps` more optimizer steps of all three methods on the same minibatches; stops at T."""
    _, B = lora_base.tasks()
    for _ in range(min(steps, T - run.t)):
        i = next(run.batches)
        run.t += 1
        lr = mlp.learning_rate(run.t, run.cfg.lr, T)
        for k, m in run.methods.items():
            loss, g = m.loss_and_grads(B.X[i], B.y[i])
            run.opts[k].update(m.trainable, g, lr)
            run.losses[k].append(loss)
        if run.t % EVAL_EVERY == 0 or run.t == T:
            evaluate(run)
    remember(run)


def spectrum_step(run: Run) -> int:
    """The step whose full ΔW the spectrum shows: the last multiple of SPECTRUM_EVERY reached (or T)."""
    return T if run.done else run.t - run.t % SPECTRUM_EVERY


def spectrum(run: Run, layer: str) -> tuple[int, SVD] | None:
    """(step, Jacobi SVD) of the full fine-tune's ΔW of `layer`; None at step 0, where ΔW = 0.

    Recomputed only when the cached one is older than spectrum_step (or missing for this layer). A
    recomputation starts from the previous right singular vectors V: ΔW V is nearly orthogonal
    already, so Jacobi needs few sweeps, and ΔW = U Σ (V V')ᵀ.
    """
    if run.t == 0:
        return None
    cached = run.spectra.get(layer)
    if cached is not None and cached[0] >= spectrum_step(run):
        return cached
    svd = warm_svd(run.methods["full"].delta(layer), cached[1].V if cached else None)
    run.spectra[layer] = (run.t, svd)
    return run.spectra[layer]


def warm_svd(M: np.ndarray, V0: np.ndarray | None) -> SVD:
    """SVD of M by the project's Jacobi, started from an orthogonal V0 (k, k) when given: M V0 = U Σ V'ᵀ."""
    if V0 is None or V0.shape != (M.shape[1], M.shape[1]):
        return jacobi_svd(M)
    s = jacobi_svd(M @ V0)
    return SVD(s.U, s.s, V0 @ s.V, s.off)


# ---- whole schedules, for the guided steps (cached: a check never trains the same thing twice) ----

_FINISHED: dict[tuple, tuple[Score, Score, mlp.Method]] = {}  # whole-schedule results, by final_key


def final_key(kind: str, cfg: Config) -> tuple:
    """What a method's result depends on: full and head only on the learning rate, LoRA on all of cfg."""
    return (kind, cfg) if kind == "lora" else (kind, cfg.lr)


def remember(run: Run) -> None:
    """Keep a finished side-by-side run's results, so a guided step's check need not train them again."""
    if run.done:
        for k, m in run.methods.items():
            _FINISHED.setdefault(final_key(k, run.cfg), (run.acc[k][-1], run.keep[k][-1], m))


def final(kind: str, cfg: Config) -> tuple[Score, Score, mlp.Method]:
    """(accuracy on B, accuracy on A, trained method) after the whole schedule (memoised).

    Trained alone on the minibatches and schedule of a side-by-side run, so the result is the same.
    """
    key = final_key(kind, cfg)
    if key not in _FINISHED:
        if len(_FINISHED) > 64:
            _FINISHED.clear()
        A, B = lora_base.tasks()
        m = method(kind, cfg)
        opt = Adam.like(m.trainable)
        batches = mlp.batches(B.y.size, BATCH, DATA_SEED)
        for t in range(1, T + 1):
            i = next(batches)
            _, g = m.loss_and_grads(B.X[i], B.y[i])
            opt.update(m.trainable, g, mlp.learning_rate(t, cfg.lr, T))
        w = m.weights()
        _FINISHED[key] = (score(w, B), score(w, A), m)
    return _FINISHED[key]


def train_loss(m: mlp.Method) -> float:
    """Cross-entropy of a method's current weights on all of task B's training images."""
    _, B = lora_base.tasks()
    return mlp.cross_entropy(mlp.forward(m.weights(), B.X)[0], B.y)
