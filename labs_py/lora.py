"""LoRA Lab: slide the rank r, watch the singular values of a weight update say why low rank works,
then train a rank-r adapter B A live and watch it approach the Eckart–Young optimum.

The update ΔW (64×64) is synthetic and seeded, shaped like fine-tuning updates: a few strong
directions, a geometrically decaying tail, plus Gaussian noise. Its SVD comes from our one-sided
Jacobi (`jacobi_svd`), computed once per (seed, strong directions, decay, noise) and cached, so
moving r only slices it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from labs_py import lora_fit as fit
from labs_py.controls import Choice, Slider, Toggle
from labs_py.fmt import count, nbytes, pct, sig
from labs_py.html import esc, figure, metric, metrics_grid
from labs_py.jacobi_svd import SVD, jacobi_svd
from labs_py.lab import View
from labs_py.svg import Marks, Series, heatmap, line_chart

NAME = "lora"
TITLE = "LoRA Lab"
D, K = 64, 64  # ΔW is (d, k), as W0 in the LoRA paper
DEFAULT_STEPS = 400  # one "Train" run: the length of the warm-up + cosine learning-rate schedule
STEPS_PER_FRAME = 4  # optimizer steps per `step` action (Play sends one per animation frame)
POOL = 2  # heatmaps show 2×2 block means (32×32 cells): a small DOM to swap on every frame
MAX_POINTS = 400  # loss history kept (and drawn); past that, every other point is dropped and the stride doubles
STRONG_TOP, STRONG_BOTTOM, TAIL_START = 1.0, 0.5, 0.3  # σ of the strong directions fall 1 → 0.5; the tail starts at 0.3
SMOOTH_MODES = 3  # singular vector j of the signal mixes cosine modes 0 … j + 2 (for the heatmaps' sake)
BF16_BYTES = 2
LOSS_FLOOR = 1e-6  # bottom of the loss chart's log axis (at r = min(d, k) the optimum is 0)
LEARNING_RATES = ("0.005", "0.01", "0.02", "0.05", "0.1")

QUESTION = "What rank does a LoRA adapter need to capture a weight update, and what does it save?"
KEY = ("r",)
STEPS: tuple = ()
CONTROLS = (
    Slider("r", "Rank r", 1, min(D, K), 1, 8, help="Rank of the cut ΔWᵣ and of the adapter BA.", integer=True),
    Slider("intrinsic", "Strong directions", 1, 16, 1, 4, help="How many large singular values the update has.", integer=True),
    Slider("decay", "Tail decay", 0.05, 1.0, 0.05, 0.3, help="Each tail singular value is e^(−decay) times the one before."),
    Slider("noise", "Noise", 0.01, 0.2, 0.01, 0.05, help="Gaussian noise on every entry, standard deviation noise/√k."),
    Slider("seed", "Seed", 1, 50, 1, 1, help="Draws the directions and the noise.", integer=True),
    Choice("lr", "Peak learning rate", tuple((v, v) for v in LEARNING_RATES), "0.05",
           help=f"Adam: warm-up, then cosine decay over {DEFAULT_STEPS} steps."),
    Toggle("log", "Log scale for the spectrum", 0, help="Shows the tail and the noise floor."),
)
ACTIONS = (("play", "Play"), ("step", f"Step ×{STEPS_PER_FRAME}"), ("train", f"Train {DEFAULT_STEPS} steps"),
           ("reset", "Reset"))


# ---- the synthetic update and its SVD ---------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """ΔW = S + N: the low-rank-plus-tail signal S, the noise N, their designed σ and ΔW's Jacobi SVD."""

    dW: np.ndarray  # noqa: N815 (ΔW, the paper's symbol) (d, k)
    S: np.ndarray  # (d, k)
    N: np.ndarray  # (d, k)
    sigma_signal: np.ndarray  # (p,) singular values of S, by construction
    svd: SVD


def signal_spectrum(p: int, intrinsic: int, decay: float) -> np.ndarray:
    """σ of the signal: `intrinsic` strong values falling linearly from 1 to 0.5, then a tail 0.3·e^(−decay·j)."""
    i = np.arange(p)
    strong = STRONG_TOP - (STRONG_TOP - STRONG_BOTTOM) * i / intrinsic
    tail = TAIL_START * np.exp(-decay * (i - intrinsic))
    return np.where(i < intrinsic, strong, tail)


def smooth_basis(n: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """p orthonormal columns (n, p); column j mixes only the first j + 3 cosine modes, so the leading ones are smooth.

    Gram–Schmidt keeps column j inside its band, so the strong directions of ΔW come out as smooth
    bumps the heatmaps can show; later columns reach every frequency.
    """
    x, f = np.arange(n)[:, None], np.arange(n)
    C = np.cos(np.pi * (x + 0.5) * f / n)  # (n, n): cosine modes, lowest frequency first
    band = f[:, None] < np.arange(p) + SMOOTH_MODES  # (n, p): mode f may appear in column j
    R = rng.standard_normal((n, p)) * band  # (n, p): a random mix within each band
    return fit.orthonormal_basis(C @ R)


def synthetic_update(d: int, k: int, intrinsic: int, decay: float, noise: float, seed: int) -> tuple[np.ndarray, ...]:
    """(ΔW, S, N, σ_signal): S = U diag(σ) Vᵀ with random orthonormal U, V; N has i.i.d. N(0, noise²/k) entries."""
    rng = np.random.default_rng(seed)
    p = min(d, k)
    U = smooth_basis(d, p, rng)  # (d, p)
    V = smooth_basis(k, p, rng)  # (k, p)
    sigma = signal_spectrum(p, intrinsic, decay)
    S = (U * sigma) @ V.T  # (d, k)
    N = noise / np.sqrt(k) * rng.standard_normal((d, k))  # (d, k)
    return S + N, S, N, sigma


@lru_cache(maxsize=8)
def target(intrinsic: int, decay: float, noise: float, seed: int) -> Target:
    """The lab's ΔW for these settings with its Jacobi SVD (cached: a rank change never recomputes it)."""
    dW, S, N, sigma = synthetic_update(D, K, intrinsic, decay, noise, seed)
    return Target(dW, S, N, sigma, jacobi_svd(dW))


def pooled(M: np.ndarray) -> np.ndarray:
    """POOL×POOL block means: what the heatmaps draw."""
    d, k = M.shape
    return M.reshape(d // POOL, POOL, k // POOL, POOL).mean(axis=(1, 3))


@lru_cache(maxsize=256)
def rank_cut(key: tuple, r: int) -> tuple[float, float]:
    """(energy in the top r, relative error ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F) from the cached SVD."""
    t = target(*key)
    E = t.dW - fit.truncate(t.svd.U, t.svd.s, t.svd.V, r)  # (d, k)
    return fit.energy(t.svd.s, r), float(np.sqrt(np.sum(E * E) / np.sum(t.dW * t.dW)))


# ---- the adapter being trained -------------------------------------------------------------

@dataclass
class Run:
    """A LoRA adapter in training: B, A, Adam's state and the losses so far."""

    key: tuple  # (intrinsic, decay, noise, seed, r): a change starts a new run
    B: np.ndarray  # (d, r)
    A: np.ndarray  # (r, k)
    opt: fit.Adam
    history: list[float] = field(default_factory=list)  # loss after 0, stride, 2·stride, … steps
    stride: int = 1


def new_run(key: tuple) -> Run:
    """LoRA's initialisation for this ΔW and r (A drawn from the seed and r, B = 0)."""
    *_, seed, r = key
    B, A = fit.init_adapter(D, K, r, np.random.default_rng([seed, r]))
    return Run(key, B, A, fit.Adam.zeros(B, A))


def advance(run: Run, dW: np.ndarray, lr: float, steps: int) -> None:
    """Train the run for `steps` more Adam steps, keeping at most MAX_POINTS evenly spaced losses."""
    start, r = run.opt.t, run.key[-1]
    losses = fit.train(dW, run.B, run.A, fit.scale(r), run.opt, lr, DEFAULT_STEPS, steps)  # loss after start + i steps
    run.history.extend(v for t, v in enumerate(losses.tolist(), start) if t % run.stride == 0)
    while len(run.history) > MAX_POINTS:
        run.history = run.history[::2]
        run.stride *= 2


# ---- rendering ----------------------------------------------------------------------------

def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """The spectrum and rank-r metrics, the live adapter, and the bridge to Llama-3-8B."""
    key = (params["intrinsic"], float(params["decay"]), float(params["noise"]), params["seed"])
    r = params["r"]
    lr = float(params["lr"])
    t = target(*key)
    run = state if isinstance(state, Run) and state.key == (*key, r) and action != "reset" else new_run((*key, r))
    if action == "step":
        advance(run, t.dW, lr, STEPS_PER_FRAME)
    elif action == "train":
        advance(run, t.dW, lr, DEFAULT_STEPS)
    html = rank_section(key, r, bool(params["log"])) + training_section(t, run, r, lr) + scale_section(r)
    return View("", html, summary(t, key, run, r), state=run)


@lru_cache(maxsize=8)
def _update_figures(key: tuple) -> tuple[str, str, float]:
    """Rank-independent parts: Jacobi's convergence figure, the ΔW heatmap and its colour scale."""
    t = target(*key)
    off = np.maximum(t.svd.off, 1e-17)
    conv = line_chart([Series("off-diagonal norm", np.arange(off.size, dtype=float), off, "c3")],
                      "How Jacobi found them", "sweep", "‖offdiag(WᵀW)‖ / ‖W‖² (log)", log_y=True,
                      marks=Marks(hlines=[(1e-15, "machine precision", "c1")]))
    rounds = (K + K % 2) - 1
    conv_fig = figure(conv, f"One-sided Jacobi: {t.svd.sweeps} sweeps, each of {rounds} rounds that rotate {K // 2} "
                            "disjoint column pairs at once, until every pair of columns is orthogonal.")
    P = pooled(t.dW)
    vmax = float(np.max(np.abs(P)))
    return conv_fig, heatmap(P, "ΔW", vmax, size=192), vmax


@lru_cache(maxsize=64)
def rank_section(key: tuple, r: int, log: bool) -> str:
    """Metrics of the rank-r cut, the spectrum with the cut, the heatmaps and Jacobi's convergence (cached HTML)."""
    t = target(*key)
    energy, rel = rank_cut(key, r)
    n_lora, n_full = fit.adapter_params(D, K, r), D * K
    tiles = [
        metric("energy", energy, pct(energy, 2), "Energy in the top r", "(σ₁² + … + σᵣ²) / Σ σᵢ²"),
        metric("rel_error", rel, sig(rel, 4), "Relative error of ΔWᵣ", "‖ΔW − ΔWᵣ‖ / ‖ΔW‖, Frobenius"),
        metric("params_lora", n_lora, count(n_lora), "Trainable parameters", f"r(d + k); full ΔW: {count(n_full)}"),
        metric("params_ratio", n_lora / n_full, pct(n_lora / n_full), "Adapter / full update", "r(d + k) / (d k)"),
    ]
    s = t.svd.s
    i = np.arange(1, s.size + 1, dtype=float)
    floor = max(float(s[-1]), 1e-6 * float(s[0])) if log else 0.0
    spectrum = line_chart(
        [Series("σᵢ of ΔW (Jacobi)", i, np.maximum(s, floor), "c0"),
         Series("signal only", i, np.maximum(t.sigma_signal, floor), "c2", dashed=True)],
        "Singular values of ΔW", "index i", "σᵢ (log scale)" if log else "σᵢ", log_y=log,
        x_range=(1, s.size), marks=Marks(vlines=[(r + 0.5, f"r = {r}", "c1")]))
    conv_fig, first_map, vmax = _update_figures(key)
    dW_r = fit.truncate(t.svd.U, s, t.svd.V, r)  # (d, k)
    maps = (first_map + heatmap(pooled(dW_r), f"ΔWᵣ (rank {r})", vmax, size=192)
            + heatmap(pooled(t.dW - dW_r), "Residual ΔW − ΔWᵣ", vmax, size=192))
    return (
        '<h2 class="lab-lora__h">Cut ΔW at rank r</h2>' + metrics_grid(tiles)
        + figure(spectrum, "Everything right of the cut is what rank r throws away. The dashed line is the update "
                           "before noise: past the strong directions and the tail, the noise sets a floor.")
        + f'<figure class="lab-figure"><div class="lab-heatmaps">{maps}</div><figcaption>Same colour scale; red positive, '
          f"blue negative; each cell is the mean of a {POOL}×{POOL} block of the {D}×{K} matrix.</figcaption></figure>"
        + conv_fig
    )


def training_section(t: Target, run: Run, r: int, lr: float) -> str:
    """Live metrics of the adapter, its loss curve against the optimum, and what it has learned."""
    s_r = fit.scale(r)
    M = s_r * (run.B @ run.A)  # (d, k): the adapter's update (α/r)·B A
    loss_now = fit.loss(t.dW, run.B, run.A, s_r)
    best = fit.eckart_young(t.svd.s, r)
    steps = run.opt.t
    overlap = fit.subspace_overlap(t.svd.U[:, :r], run.B)
    signal, noise = fit.captured(M, t.S), fit.captured(M, t.N)
    lr_now = fit.learning_rate(steps + 1, lr, DEFAULT_STEPS)
    if best > 0:
        gap = metric("gap", (loss_now - best) / best, pct((loss_now - best) / best, 2), "Above the optimum",
                     "(loss − optimum) / optimum")
    else:
        gap = metric("gap", loss_now - best, sig(loss_now - best), "Above the optimum", "loss − optimum")
    tiles = [
        metric("step", steps, count(steps), "Steps", f"learning rate now {sig(lr_now, 2)}"),
        metric("loss", loss_now, sig(loss_now, 4), "Loss", "‖ΔW − (α/r)BA‖² / ‖ΔW‖²"),
        metric("optimum", best, sig(best, 4), "Eckart–Young optimum", "(σᵣ₊₁² + … ) / Σ σᵢ²"),
        gap,
        metric("overlap", overlap, sig(overlap, 3), "Subspace overlap", "mean cos² of the principal angles between col(B) and u₁ … uᵣ"),
        metric("signal_captured", signal, pct(signal), "Signal captured", "⟨(α/r)BA, S⟩ / ‖S‖²"),
        metric("noise_captured", noise, pct(noise), "Noise captured", "⟨(α/r)BA, N⟩ / ‖N‖²"),
    ]
    hist = np.array([*run.history, loss_now])
    xs = np.append(np.arange(len(run.history), dtype=float) * run.stride, steps)
    x_hi = float(max(DEFAULT_STEPS, steps))
    curve = line_chart([Series("training loss", xs, hist, "c1")], "Training the adapter",
                       "step", "loss (log scale)", log_y=True, x_range=(0, x_hi),
                       y_range=(max(min(best, float(hist.min())) * 0.8, LOSS_FLOOR), 1.0),
                       marks=Marks(hlines=[(best, f"Eckart–Young optimum, rank {r}", "c0")]))
    p = t.svd.s.size
    i = np.arange(1, p + 1, dtype=float)
    gains = fit.direction_gains(t.svd.U, t.svd.s, t.svd.V, M)
    gain_chart = line_chart(
        [Series("best rank r", i, (i <= r).astype(float), "c0", dashed=True), Series("adapter", i, gains, "c1")],
        "Which directions the adapter has learned", "singular direction i of ΔW", "uᵢᵀ (α/r)BA vᵢ / σᵢ",
        x_range=(1, p), y_range=(-0.1, 1.2), marks=Marks(vlines=[(r + 0.5, f"r = {r}", "c1")]))
    return (
        f'<h2 class="lab-lora__h">Train a rank-{r} adapter</h2>'
        f'<p class="lab-note">B ({D}×{r}) starts at zero and A ({r}×{K}) at random, as in LoRA; the update is '
        f"(α/r)·B A with α = {fit.ALPHA:g}, so α/r = {sig(s_r, 3)}. Adam fits it to ΔW.</p>"
        + metrics_grid(tiles)
        + figure(curve, "No rank-r matrix can go below the dashed line (Eckart–Young); training approaches it.")
        + figure(gain_chart, "Gradient descent picks up the largest singular directions first; past r there is no room.")
    )


def scale_section(r: int) -> str:
    """Trainable parameters and bf16 memory of rank-r adapters on q, k, v, o of every Llama-3-8B layer."""
    arch = fit.LLAMA3_8B
    n = fit.lora_params(arch, r)
    total = fit.model_params(arch)
    tiles = [
        metric("llama_params", n, count(n), "Trainable parameters", f"q, k, v, o of all {arch.layers} layers"),
        metric("llama_share", n / total, pct(n / total, 3), "Share of the model", f"of {count(total)}"),
        metric("llama_bf16", n * BF16_BYTES, nbytes(n * BF16_BYTES), "Adapter in bf16", "2 bytes per parameter"),
    ]
    rows = "".join(
        f"<tr><td>{name}</td><td>{d_out:,} × {d_in:,}</td><td>{count(fit.adapter_params(d_out, d_in, r))}</td></tr>"
        for name, (d_out, d_in) in fit.projections(arch).items())
    table = ('<div class="lab-lora__table"><table><thead><tr><th>projection</th><th>weight (out × in)</th>'
             f"<th>r(d + k) per layer</th></tr></thead><tbody>{rows}</tbody></table></div>")
    return (
        f'<h2 class="lab-lora__h">The same rank on {esc(arch.name)}</h2>' + metrics_grid(tiles) + table
        + f'<p class="lab-note">Shapes from the model\'s config.json (hidden size {arch.hidden:,}, {arch.layers} layers, '
          f"{arch.heads} query heads and {arch.kv_heads} key/value heads of dimension {arch.head_dim}, MLP width "
          f"{arch.intermediate:,}, vocabulary {arch.vocab:,}); the same architecture as Table 3 of the Llama 3 paper "
          "(arXiv 2407.21783). Grouped-query attention makes k and v 4,096 → 1,024.</p>"
    )


def summary(t: Target, key: tuple, run: Run, r: int) -> str:
    """One sentence for screen readers."""
    energy, rel = rank_cut(key, r)
    loss_now = fit.loss(t.dW, run.B, run.A, fit.scale(r))
    return (f"Rank {r}: {pct(energy, 2)} of the energy, relative error {sig(rel, 3)}, "
            f"{count(fit.adapter_params(D, K, r))} trainable parameters. Adapter after {run.opt.t} steps: loss "
            f"{sig(loss_now, 3)}, optimum {sig(fit.eckart_young(t.svd.s, r), 3)}.")
