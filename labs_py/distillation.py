"""Distillation Lab: a student learns GPT-2 small's next-token distribution, softened by a temperature T.

The teacher is real: GPT-2 small's (117M) logits for its top-K next tokens plus one exact
"rest of vocabulary" bucket (`teacher`). The student has one logit per bucket, the rest bucket's logit
shared by all its tokens (or, in low-rank mode, only R parameters), and Adam minimises Hinton et al.'s
loss α·T²·KL(p_t^T ‖ p_s^T) + (1 − α)·CE (`kd`). Moving T or α keeps the student and changes what it is pulled towards; a new context,
student or initialisation starts a new run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from labs_py import kd, teacher
from labs_py.controls import Choice, Slider, Toggle
from labs_py.fmt import count, pct, sig
from labs_py.html import esc, figure, metric, metrics_grid
from labs_py.lab import View
from labs_py.svg import Marks, Panel, Series, hbar_panels, line_chart

NAME = "distillation"
TITLE = "Distillation Lab"
DEFAULT_STEPS = 300  # one "Train" run; with α = 1 and free logits the KL is then below 1e-4
STEPS_PER_FRAME = 5  # Adam steps per `step` action (Play sends one per animation frame)
MAX_POINTS = 150  # loss history kept and drawn; past that, every other point is dropped and the stride doubles
MAX_MARKS = 3  # setting changes marked on the loss chart (the latest ones)
R = 3  # parameters of the low-rank student
INIT_SCALE = 2.0  # standard deviation of the random initial logits
BETA1, BETA2, EPS = 0.9, 0.99, 1e-12  # Adam; β₂ = 0.99 adapts quickly when T or α moves
LOSS_FLOOR = 1e-7  # bottom of the loss chart's log axis
LOG_FLOOR = (-12, -2)  # range of the lowest decade drawn on the log-scale bars
CLIP_RATIO = 2.0  # the linear bars cut a bucket whose probability exceeds this multiple of every token's
SEED = 150302531  # arXiv 1503.02531, Hinton et al.: seeds the random init and the low-rank features
LEARNING_RATES = ("0.03", "0.1", "0.3", "1")

QUESTION = "What does a teacher's softened distribution tell a student that the one right token does not?"
KEY = ("T", "alpha")
STEPS: tuple = ()


@lru_cache(maxsize=1)
def controls() -> tuple:
    """The lab's controls; the context menu lists the derived teacher data, so it is read on first use."""
    return (
        Choice("context", "Context", tuple((c.key, c.label) for c in teacher.load().contexts), "g4",
               help="Where the teacher predicts the next token. 'top-20 only': GLTR data, no rest-of-vocabulary bucket."),
        Slider("T", "Temperature T", teacher.T_LO, teacher.T_HI, teacher.T_STEP, 2.0,
               help="Softens teacher and student alike: p = softmax(z / T)."),
        Slider("alpha", "Weight α of the soft targets", 0.0, 1.0, 0.05, 0.9,
               help="α·T²·KL(teacher ‖ student) + (1 − α)·CE(true next token)."),
        Choice("lr", "Learning rate (Adam)", tuple((v, v) for v in LEARNING_RATES), "0.3",
               help="Adam moves each parameter by about this much per step."),
        Choice("init", "Student starts", (("uniform", "uniform (all logits 0)"), ("random", "random (seeded)")), "uniform",
               help="All logits 0 is uniform over the whole vocabulary: the rest bucket's tokens share one logit."),
        Choice("student", "Student", (("free", "free logits: one per bucket"), ("lowrank", f"low-rank: {R} parameters")),
               "free", help=f"Low-rank: logits = Φ w with a fixed random Φ of {R} columns, so it cannot match exactly."),
        Toggle("logp", "Log-scale probabilities", 0, help="Shows the ratios between small probabilities: the dark knowledge."),
    )


def __getattr__(name: str) -> object:
    """`CONTROLS` on first access (PEP 562): importing this module must not need the derived data."""
    if name == "CONTROLS":
        return controls()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ACTIONS = (("play", "Play"), ("step", f"Step ×{STEPS_PER_FRAME}"), ("train", f"Train {DEFAULT_STEPS} steps"),
           ("reset", "Reset"))


# ---- the student ----------------------------------------------------------------------------

@lru_cache(maxsize=32)
def features(n: int, student: str) -> np.ndarray:
    """Φ (n, p) with logits v = Φ w: the identity for free logits, fixed random columns for low rank."""
    if student == "free":
        return np.eye(n)
    return np.random.default_rng([SEED, n]).standard_normal((n, R))  # (n, R)


def initial_params(ctx: teacher.Context, student: str, init: str) -> np.ndarray:
    """w at step 0: zeros (a uniform student), or seeded Gaussian logits with standard deviation INIT_SCALE."""
    Phi = features(ctx.n, student)  # (n, p)
    if init == "uniform":
        return np.zeros(Phi.shape[1])
    index = [c.key for c in teacher.load().contexts].index(ctx.key)
    scale = INIT_SCALE / np.sqrt(np.mean(np.sum(Phi * Phi, axis=1)))  # so that each logit has std INIT_SCALE
    return np.random.default_rng([SEED, index]).standard_normal(Phi.shape[1]) * scale


@dataclass
class Run:
    """A student in training: parameters w, Adam's moments, the losses so far and where settings changed."""

    key: tuple  # (context, student, init): a change starts a new run
    w: np.ndarray  # (p,) parameters; logits v = Φ w
    m: np.ndarray  # (p,) Adam's first moment
    s: np.ndarray  # (p,) Adam's second moment
    settings: tuple  # (T, alpha, lr) in force now
    t: int = 0
    history: list[tuple[float, float, float]] = field(default_factory=list)  # (kl, ce, total) after 0, stride, … steps
    stride: int = 1
    marks: list[tuple[int, tuple, tuple]] = field(default_factory=list)  # (step, settings before, settings after)


def new_run(ctx: teacher.Context, student: str, init: str, settings: tuple) -> Run:
    """A fresh student, with the losses at step 0 recorded."""
    w = initial_params(ctx, student, init)
    run = Run((ctx.key, student, init), w, np.zeros_like(w), np.zeros_like(w), settings)
    run.history.append(astuple(losses_now(ctx, run, *settings[:2])))
    return run


def logits(ctx: teacher.Context, run: Run) -> np.ndarray:
    """The student's logits v = Φ w over the context's buckets, shape (n,)."""
    return features(ctx.n, run.key[1]) @ run.w


def losses_now(ctx: teacher.Context, run: Run, T: float, alpha: float) -> kd.Losses:
    """The loss terms of the student as it is, at these settings."""
    return kd.kd_losses(logits(ctx, run), teacher.teacher_log_probs(ctx, T), ctx.y, T, alpha, ctx.log_m)


def astuple(L: kd.Losses) -> tuple[float, float, float]:
    """(kl, ce, total) for the history."""
    return L.kl, L.ce, L.total


def advance(ctx: teacher.Context, run: Run, steps: int) -> None:
    """`steps` Adam steps on w at the run's current settings, recording the losses after each one."""
    T, alpha, lr = run.settings
    Phi = features(ctx.n, run.key[1])  # (n, p)
    log_pt = teacher.teacher_log_probs(ctx, T)  # (n,)
    pt = np.exp(log_pt)
    log_m = ctx.log_m  # (n,)
    for _ in range(steps):
        g = Phi.T @ kd.kd_grad(Phi @ run.w, pt, ctx.y, T, alpha, log_m)  # (p,)
        run.t += 1
        run.m = BETA1 * run.m + (1 - BETA1) * g
        run.s = BETA2 * run.s + (1 - BETA2) * g * g
        m_hat, s_hat = run.m / (1 - BETA1**run.t), run.s / (1 - BETA2**run.t)
        run.w = run.w - lr * m_hat / (np.sqrt(s_hat) + EPS)
        if run.t % run.stride == 0:
            run.history.append(astuple(kd.kd_losses(Phi @ run.w, log_pt, ctx.y, T, alpha, log_m)))
        while len(run.history) > MAX_POINTS:
            run.history = run.history[::2]
            run.stride *= 2


def retune(run: Run, settings: tuple) -> None:
    """Apply new (T, α, lr) to a running student, marking the change on the loss chart once it has trained."""
    if settings == run.settings:
        return
    if run.t > 0:
        if run.marks and run.marks[-1][0] == run.t:
            step, before, _ = run.marks.pop()
            if before != settings:
                run.marks.append((step, before, settings))
        else:
            run.marks.append((run.t, run.settings, settings))
        run.marks = run.marks[-MAX_MARKS:]
    run.settings = settings


# ---- teacher-side figures (cached: they depend on the context and T only) ------------------

@lru_cache(maxsize=256)
def teacher_view(key: str, T: float) -> tuple[np.ndarray, float, float | None, float | None]:
    """(p_t^T over the buckets, its entropy, the full-vocabulary entropy, KL(345M ‖ 117M) over the same buckets)."""
    ctx = teacher.context(key)
    log_pt = teacher.teacher_log_probs(ctx, T)
    ref = teacher.reference_log_probs(ctx, T)
    kl_ref = kd.kl(ref, log_pt) if ref is not None else None
    return np.exp(log_pt), kd.entropy(log_pt), teacher.vocab_entropy(ctx, T), kl_ref


@lru_cache(maxsize=256)
def best(key: str, student: str, T: float, alpha: float) -> kd.Losses | None:
    """The lowest loss this student can reach (Newton on the convex loss); None when α = 0 (no finite minimum)."""
    if alpha <= 0:
        return None
    ctx = teacher.context(key)
    return kd.optimum(features(ctx.n, student), teacher.teacher_log_probs(ctx, T), ctx.y, T, alpha, ctx.log_m)[1]


@lru_cache(maxsize=64)
def entropy_curve(key: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Teacher entropy as a fraction of its maximum at every grid temperature: over the buckets (log n)
    and, when known, over the full vocabulary (log 50,257)."""
    ctx = teacher.context(key)
    grid = teacher.T_GRID.tolist()
    H = np.array([kd.entropy(teacher.teacher_log_probs(ctx, T)) for T in grid]) / np.log(ctx.n)
    if ctx.tail_lse is None:
        return H, None
    return H, np.array([teacher.vocab_entropy(ctx, T) for T in grid]) / np.log(teacher.load().vocab_size)


@lru_cache(maxsize=32)
def bucket_labels(key: str) -> list[str]:
    """Row labels: each token with its whitespace visible, the true next token ticked, then the rest bucket."""
    ctx = teacher.context(key)
    rows = [teacher.shown(tok) + (" ✓" if i == ctx.y else "") for i, tok in enumerate(ctx.tokens)]
    return rows + ([f"rest ({count(ctx.tail_size)})"] if ctx.tail_size else [])


# ---- rendering ------------------------------------------------------------------------------

def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """Teacher and student side by side, the gradient, the loss curves and how T reshapes the teacher."""
    ctx = teacher.context(params["context"])
    T, alpha, lr = float(params["T"]), float(params["alpha"]), float(params["lr"])
    settings = (T, alpha, lr)
    key = (ctx.key, params["student"], params["init"])
    fresh = not isinstance(state, Run) or state.key != key or action == "reset"
    run = new_run(ctx, params["student"], params["init"], settings) if fresh else state
    retune(run, settings)
    if action == "step":
        advance(ctx, run, STEPS_PER_FRAME)
    elif action == "train":
        advance(ctx, run, DEFAULT_STEPS)
    html = context_section(ctx.key) + teacher_section(ctx.key, T) + student_section(ctx, run, T, alpha, lr, bool(params["logp"]))
    return View("", html, summary(ctx, run, T, alpha), state=run)


@lru_cache(maxsize=32)
def context_section(key: str) -> str:
    """The text the teacher has read, the true next token, and where the numbers come from (cached HTML)."""
    ctx, data = teacher.context(key), teacher.load()
    src = data.sources[ctx.source]
    if ctx.y is None:
        truth = "none: the sentence ends here"
    else:
        truth = f"<code>{esc(teacher.shown(ctx.tokens[ctx.y]))}</code>, the teacher's choice number {count(ctx.y_rank)}"
    extra = ctx.y is not None and ctx.y_rank > ctx.top_k  # the true next token was added below the top K
    if ctx.source == "gluon":
        scope = (f"Buckets: the teacher's top {ctx.top_k} tokens{', the true next token' if extra else ''} and one "
                 f"bucket for the other {count(ctx.tail_size)} of the {count(data.vocab_size)} tokens; softening is "
                 "exact over the full vocabulary.")
    else:
        scope = (f"<strong>Top-20 only</strong>: GLTR published GPT-2 small's 20 most likely tokens (here {pct(ctx.top_mass)} "
                 f"of its probability at T = 1), rounded to 5 decimals. The lab renormalises over them"
                 f"{' and the true next token' if extra else ''}, so softening is exact within this set only; there "
                 "is no rest bucket and no GPT-2 medium reference.")
    note = f" {esc(ctx.note)}" if ctx.note else ""
    commit = f" @ <code>{esc(src['commit'][:7])}</code>" if src["commit"] else ""
    return (
        f'<p class="kd-context"><span class="kd-context__label">Context</span>'
        f'<span class="kd-context__text">{esc(ctx.prefix)}</span><span class="kd-context__cursor">▮</span></p>'
        f'<p class="lab-note">True next token: {truth}. {scope}{note} Source: {esc(src["model"])}, '
        f"<code>{esc(src['project'])}</code>{commit} ({esc(src['licence'])}); token text from "
        f"{esc(data.sources['vocab']['project'])} ({esc(data.sources['vocab']['licence'])}).</p>"
    )


@lru_cache(maxsize=256)
def teacher_section(key: str, T: float) -> str:
    """Teacher metrics at T and the entropy-versus-T curve (cached HTML: it does not depend on the student)."""
    ctx = teacher.context(key)
    pt, H, Hv, kl_ref = teacher_view(ctx.key, T)
    top = int(np.argmax(pt[:len(ctx.tokens)]))  # the most likely single token (the rest bucket is many)
    tiles = [
        metric("teacher_entropy", H, f"{H:.3f} nats", "Teacher entropy at T", f"over the {ctx.n} buckets; flat = {np.log(ctx.n):.2f}"),
        metric("teacher_top", float(pt[top]), f"{pt[top]:.3g}", f"Teacher's p({teacher.shown(ctx.tokens[top])}) at T",
               "its most likely token"),
    ]
    if ctx.tail_size:
        tiles.append(metric("teacher_rest", float(pt[-1]), f"{pt[-1]:.3g}", "Teacher's rest bucket at T",
                            f"{count(ctx.tail_size)} tokens together"))
    if Hv is not None:
        tiles.append(metric("teacher_entropy_vocab", Hv, f"{Hv:.3f} nats", "Entropy, full vocabulary",
                            f"all {count(teacher.load().vocab_size)} tokens at T"))
    if kl_ref is not None:
        kl_vocab = teacher.reference_kl_vocab(ctx, T)
        tiles += [metric("kl_ref", kl_ref, sig(kl_ref), "KL(345M ‖ 117M) at T", f"GPT-2 medium vs small, over the {ctx.n} buckets"),
                  metric("kl_ref_vocab", kl_vocab, sig(kl_vocab), "KL(345M ‖ 117M), full vocabulary", "what the buckets hide")]
    H_curve, Hv_curve = entropy_curve(ctx.key)
    series = [Series(f"{ctx.n} buckets", teacher.T_GRID, H_curve, "c0")]
    points = [(T, H / np.log(ctx.n), f"T = {T:g}", "c0")]
    if Hv_curve is not None:
        series.append(Series("vocabulary", teacher.T_GRID, Hv_curve, "c3", dashed=True))
        points.append((T, Hv / np.log(teacher.load().vocab_size), "", "c3"))
    chart = line_chart(series, "How T reshapes the teacher", "temperature T", "entropy / its maximum",
                       x_range=(teacher.T_LO, teacher.T_HI), y_range=(0, 1.1),
                       marks=Marks(hlines=[(1.0, "flat", "c2")], points=points))
    caption = "T → 0 puts all mass on the top token (entropy 0); large T flattens the distribution towards uniform (1)."
    if ctx.tail_size:
        caption += (" Over the buckets the curve turns down once the many tokens of the rest bucket together outweigh "
                    "the top ones; over the vocabulary it keeps rising.")
    return metrics_grid(tiles) + figure(chart, caption)


def student_section(ctx: teacher.Context, run: Run, T: float, alpha: float, lr: float, log_scale: bool) -> str:
    """Student metrics, teacher-vs-student bars with the gradient, and the loss curves."""
    pt, _, _, kl_ref = teacher_view(ctx.key, T)
    v = logits(ctx, run)
    ps_T, ps = np.exp(kd.student_log_probs(v, T, ctx.log_m)), np.exp(kd.student_log_probs(v, 1.0, ctx.log_m))
    L = losses_now(ctx, run, T, alpha)
    g = kd.kd_grad(v, pt, ctx.y, T, alpha, ctx.log_m)  # (n,) ∂L/∂v
    p_count = features(ctx.n, run.key[1]).shape[1]
    mode = (f"free logits ({p_count} parameters, one per bucket)" if run.key[1] == "free"
            else f"low-rank ({p_count} parameters: logits = Φ w, Φ a fixed random {ctx.n}×{p_count} matrix)")
    tiles = [
        metric("step", run.t, count(run.t), "Steps", f"Adam, learning rate {lr:g}"),
        metric("loss", L.total, sig(L.total, 4), "Loss", "α·T²·KL + (1 − α)·CE"),
        metric("kl", L.kl, sig(L.kl, 3), "KL(teacher ‖ student) at T", "soft-target term, without T²"),
    ]
    if ctx.y is not None:
        tiles += [metric("ce", L.ce, sig(L.ce, 3), "CE on the true token", "hard-label term, at T = 1"),
                  metric("label_mass", float(ps[ctx.y]), f"{ps[ctx.y]:.3f}", "Student's p(true token)", "at T = 1")]
    grad_norm = float(np.sqrt(g @ g))
    tiles.append(metric("grad_norm", grad_norm, sig(grad_norm, 3), "‖∂L/∂v‖", "gradient w.r.t. the student's logits"))
    opt = best(ctx.key, run.key[1], T, alpha)
    if opt is not None:
        tiles.append(metric("best_loss", opt.total, sig(opt.total, 4), "Lowest reachable loss", "this student, these T and α"))
    bars = hbar_panels(bucket_labels(ctx.key), [probability_panel(ctx, pt, ps_T, T, log_scale),
                                                Panel("gradient ∂L/∂v", [("∂L/∂v", g, "c2")], x_range=symmetric(g))],
                       "Teacher vs student", marked=() if ctx.y is None else (ctx.y,))
    curve = loss_chart(ctx, run, kl_ref, opt, T, alpha)
    hard = "" if ctx.y is not None else " There is no true next token here, so the hard-label term is absent."
    note = (f'<p class="lab-note" data-student-mode="{esc(run.key[1])}">Student: <strong>{esc(mode)}</strong>, '
            f"started {'uniform' if run.key[2] == 'uniform' else 'at random'}. Each step Adam follows the gradient "
            f"∂L/∂v = α·T·(p_s^T − p_t^T) + (1 − α)·(p_s − y), drawn on the right.{hard}</p>")
    return (note + metrics_grid(tiles)
            + figure(bars, "Left: teacher (GPT-2 small) and student at temperature T, the teacher's value printed; ✓ marks "
                           "the true next token; a notch marks a bar cut at the panel's edge. Right: the gradient of the "
                           "loss for each logit; a step lowers the logits with a positive bar.")
            + figure(curve, "Losses after each step at the settings in force then; dashed lines mark where T, α or the "
                            "learning rate changed."))


def probability_panel(ctx: teacher.Context, pt: np.ndarray, ps_T: np.ndarray, T: float, log_scale: bool) -> Panel:
    """Teacher and student probabilities at T: log10 from a decade set by the teacher, or linear with the
    rest bucket's bar cut when it would dwarf every token's."""
    groups = [("teacher", pt, "c0"), ("student", ps_T, "c1")]
    title = f"probability at T = {T:g}"
    if log_scale:
        floor = float(np.clip(np.floor(np.log10(max(float(pt.min()), 1e-300))), *LOG_FLOOR))
        return Panel(title + " (log)", groups, value_fmt="{:.3g}", weight=1.7, log_floor=floor)
    tokens = max(float(pt[:len(ctx.tokens)].max()), float(ps_T[:len(ctx.tokens)].max()))
    hi = max(float(pt.max()), float(ps_T.max()))
    if hi > CLIP_RATIO * tokens:
        hi = tokens
    return Panel(title, groups, x_range=(0.0, hi * 1.05), value_fmt="{:.3g}", weight=1.7)


def symmetric(g: np.ndarray) -> tuple[float, float]:
    """An x-range centred on zero that holds every value of g."""
    m = max(float(np.max(np.abs(g))), 1e-12)
    return -m * 1.05, m * 1.05


def change_label(before: tuple, after: tuple) -> str:
    """Short text for a settings change, e.g. 'T 2→4'."""
    names = ("T", "α", "lr")
    parts = [f"{n} {a:g}→{b:g}" for n, a, b in zip(names, before, after, strict=True) if a != b]
    return ", ".join(parts)


def loss_chart(ctx: teacher.Context, run: Run, kl_ref: float | None, opt: kd.Losses | None, T: float, alpha: float) -> str:
    """KL, CE and total loss over the steps (log scale), with the 345M reference and the best reachable loss."""
    hist = np.array(run.history)  # (points, 3)
    xs = np.arange(len(run.history), dtype=float) * run.stride
    if xs[-1] != run.t:
        xs[-1] = run.t
    series = [Series("KL", xs, hist[:, 0], "c0"), Series("total", xs, hist[:, 2], "c2")]
    if ctx.y is not None:
        series.insert(1, Series("CE", xs, hist[:, 1], "c1"))
    marks = Marks(vlines=[(float(step), change_label(b, a), "c3") for step, b, a in run.marks])
    if kl_ref is not None:
        marks.hlines.append((kl_ref, f"KL(345M ‖ 117M) at T = {T:g}", "c3"))
    if opt is not None and opt.total > LOSS_FLOOR:
        marks.hlines.append((opt.total, "lowest reachable total", "c2"))
    values = hist[np.isfinite(hist) & (hist > 0)]
    values = np.concatenate([values, [m[0] for m in marks.hlines]])
    lo = max(float(values.min()) * 0.5 if values.size else LOSS_FLOOR, LOSS_FLOOR)
    hi = float(values.max()) * 2 if values.size else 1.0
    return line_chart(series, f"Training at α = {alpha:g}", "step", "loss (log scale)", log_y=True,
                      x_range=(0, float(max(DEFAULT_STEPS, run.t))), y_range=(lo, hi), marks=marks)


def summary(ctx: teacher.Context, run: Run, T: float, alpha: float) -> str:
    """One sentence for screen readers."""
    _, H, _, _ = teacher_view(ctx.key, T)
    L = losses_now(ctx, run, T, alpha)
    ce = f", cross-entropy {sig(L.ce, 3)}" if ctx.y is not None else ""
    return (f"Context ending '{ctx.prefix[-30:]}': teacher entropy {H:.2f} nats at T = {T:g}. Student after {run.t} steps: "
            f"KL {sig(L.kl, 3)}{ce}, loss {sig(L.total, 3)} at α = {alpha:g}.")
