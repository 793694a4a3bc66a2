"""LoRA Lab: fine-tune a digit classifier on new digits three ways side by side — full, LoRA, head only —
and see how much a rank-r adapter learns, what each method forgets, and why low rank can be enough.

The network, the tasks and the training live in labs_py.lora_mlp, lora_base and lora_train; this
module declares the lab and draws it: held-out accuracy over training (the main chart), the
spectrum of the full fine-tune's actual ΔW with the rank cut, and the same r on Llama-3-8B.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from labs_py import digits, lora_base
from labs_py import lora_fit as fit
from labs_py import lora_train as lt
from labs_py.controls import Choice, Multi, Slider
from labs_py.fmt import count, nbytes, pct, share
from labs_py.html import esc, figure
from labs_py.lab import Guess, Metric, Options, Reveal, Step, View, undefined
from labs_py.svg import Marks, Series, line_chart, responsive

NAME = "lora"
TITLE = "LoRA Lab"
QUESTION = ("A network that reads digits 0–4 is fine-tuned on 5–9: how close does a rank-r LoRA adapter get to "
            "full fine-tuning, and which method forgets the old digits?")
STEPS_PER_FRAME = 2  # optimizer steps per `step` action (Play sends one per animation frame)
BF16_BYTES = 2
METHOD_NAMES = {"full": "Full", "lora": "LoRA", "head": "Head only"}
COLOURS = {"full": "c0", "lora": "c1", "head": "c2"}
LAYER_NAMES = {"W1": "layer 1 (64 → 64)", "W2": "layer 2 (64 → 64)"}

CONTROLS = (
    Slider("r", "Rank r", 1, 64, 1, 8, help="B is d×r and A is r×k on each adapted layer.", integer=True),
    Slider("alpha", "α (alpha)", 1, 64, 1, 8, help="The adapter's update B A is scaled by α/r (or α/√r).", integer=True),
    Choice("scaling", "Scaling", (("standard", "α/r (LoRA)"), ("rslora", "α/√r (rsLoRA)")), "standard"),
    Multi("layers", "LoRA on", tuple(LAYER_NAMES.items()), "W1,W2",
          help="Hidden layers that get an adapter; the 10-way head is trained in every method."),
    Choice("lr", "Peak learning rate", tuple((v, v) for v in ("0.001", "0.002", "0.004", "0.008")), "0.004",
           help=f"Adam, the same for all three methods: warm-up, then cosine decay to 0 at step {lt.T}."),
    Choice("layer", "Spectrum of", tuple(LAYER_NAMES.items()), "W2", help="Which layer's full-fine-tune ΔW is decomposed."),
)
KEY = ("r", "alpha")
ACTIONS = (("play", "Play", "p"), ("step", "Step", "s"), ("train", f"Train {lt.T} steps", "t"), ("reset", "Reset"))


def config(params: dict) -> lt.Config:
    """The run a set of (clean) params asks for."""
    return lt.Config(int(params["r"]), float(params["alpha"]), params["scaling"], tuple(params["layers"].split(",")),
                     float(params["lr"]))


# ---- numbers -----------------------------------------------------------------------------------------

def _acc_metric(score: lt.Score, label: str, what: str, step: int, headline: bool) -> Metric:
    return Metric(score.value, label, share(score.value),
                  f"{score.correct} of {score.total} held-out images of {what}, at step {step}", headline)


def trainable(run: lt.Run) -> dict[str, int]:
    """Trained numbers per method (the network has 8,970 in all)."""
    return {k: m.n_trainable() for k, m in run.methods.items()}


def measure(run: lt.Run, params: dict) -> dict[str, Metric]:
    """Every number the lab shows for this run at its current step."""
    cfg, step = run.cfg, run.eval_steps[-1]
    total = sum(v.size for v in lora_base.load().values())
    m: dict[str, Metric] = {}
    for k in ("lora", "full"):
        m[f"acc_{k}"] = _acc_metric(run.acc[k][-1], f"{METHOD_NAMES[k]}: accuracy on 5–9", "5–9", step, True)
    for k in ("lora", "full"):
        m[f"keep_{k}"] = _acc_metric(run.keep[k][-1], f"{METHOD_NAMES[k]}: still right on 0–4", "0–4", step, True)
    m["acc_head"] = _acc_metric(run.acc["head"][-1], "Head only: accuracy on 5–9", "5–9", step, False)
    m["keep_head"] = _acc_metric(run.keep["head"][-1], "Head only: still right on 0–4", "0–4", step, False)
    for k, n in trainable(run).items():
        m[f"trainable_{k}"] = Metric(n, f"{METHOD_NAMES[k]}: trained numbers", count(n), f"{share(n / total, 1)} of the "
                                     f"network's {count(total)}")
    spec = lt.spectrum(run, params["layer"])
    layer = LAYER_NAMES[params["layer"]]
    if spec is None:
        m["energy_at_r"] = undefined("Full ΔW's energy in its top r directions", "no update yet: ΔW = 0 at step 0")
    else:
        at, svd = spec
        e = fit.energy(svd.s, cfg.r) if cfg.r < svd.s.size else 1.0
        m["energy_at_r"] = Metric(e, "Full ΔW's energy in its top r directions", share(e, 1),
                                  f"(σ₁² + … + σᵣ²) / Σ σᵢ², r = {cfg.r}, {layer}, step {at}")
    m["step"] = Metric(run.t, "Steps", f"{run.t} of {lt.T}", f"minibatches of {lt.BATCH} images of 5–9")
    m["scale"] = Metric(cfg.s, "LoRA's scale s", f"{cfg.s:.3g}", "α/√r (rsLoRA)" if cfg.scaling == "rslora" else "α/r")
    arch = fit.LLAMA3_8B
    n = fit.lora_params(arch, cfg.r)
    m["llama_params"] = Metric(n, "Llama-3-8B adapter at this r", count(n), f"q, k, v, o of all {arch.layers} layers")
    m["llama_share"] = Metric(n / fit.model_params(arch), "Share of Llama-3-8B", pct(n / fit.model_params(arch), 3),
                              f"of {count(fit.model_params(arch))} parameters")
    m["llama_bf16"] = Metric(n * BF16_BYTES, "That adapter in bf16", nbytes(n * BF16_BYTES), "2 bytes per parameter")
    return m


# ---- pictures ----------------------------------------------------------------------------------------

def accuracy_chart(run: lt.Run, width: int) -> str:
    """Held-out accuracy over the schedule: solid on the new digits 5–9, dashed on the old digits 0–4."""
    xs = np.array(run.eval_steps, float)
    series = [Series(f"{METHOD_NAMES[k]}, 5–9", xs, 100 * np.array([s.value for s in run.acc[k]]), COLOURS[k])
              for k in lt.KINDS]
    series += [Series(f"{METHOD_NAMES[k]}, 0–4", xs, 100 * np.array([s.value for s in run.keep[k]]), COLOURS[k], True)
               for k in lt.KINDS]
    start = Marks(points=[(0.0, float(x.y[0]), "", x.cls) for x in series]) if xs.size == 1 else None  # step 0: dots
    return line_chart(series, "Held-out accuracy", "step", "accuracy (%)",
                      x_range=(0, lt.T), y_range=(0, 100), marks=start, width=width)


def spectrum_chart(svd, r: int, layer: str, width: int) -> str:
    """σᵢ/σ₁ and the cumulative energy share of the full ΔW, with the rank cut at r."""
    s = svd.s
    i = np.arange(1, s.size + 1, dtype=float)
    cum = np.cumsum(s**2) / np.sum(s**2)
    return line_chart([Series("σᵢ / σ₁", i, s / s[0], "c0"), Series("energy in the top i", i, cum, "c1")],
                      f"Full fine-tune's ΔW, {layer}", "singular direction i", "share", x_range=(1, s.size),
                      y_range=(0, 1), marks=Marks(vlines=[(r + 0.5, f"r = {r}", "c1")], hlines=[(0.9, "90 %", "c3")]),
                      width=width)


def spectrum_section(run: lt.Run, params: dict, metrics: dict[str, Metric]) -> str:
    """Why low rank can be enough: the spectrum of the update full fine-tuning actually made."""
    layer = LAYER_NAMES[params["layer"]]
    head = '<h2 class="lab-lora__h">Why a low rank can be enough</h2>'
    spec = lt.spectrum(run, params["layer"])
    if spec is None:
        return head + ('<p class="lab-note">At step 0 every method is still the base model, so the full update ΔW is 0 and '
                       "has no spectrum. Press Play or Train to fine-tune.</p>")
    at, svd = spec
    key = (at, params["layer"], run.cfg.r)
    if run.drawn.get("spectrum", (None,))[0] != key:
        run.drawn["spectrum"] = (key, _spectrum_figure(svd, at, run.cfg.r, layer, metrics["energy_at_r"].text))
    return head + run.drawn["spectrum"][1]


def _spectrum_figure(svd, at: int, r: int, layer: str, energy_text: str) -> str:
    """The spectrum chart with its caption (drawn only when the spectrum, r or the layer changes)."""
    n90 = directions_for(svd.s, 0.9)
    cut = fit.eckart_young(svd.s, r) if r < svd.s.size else 0.0
    d, k = svd.U.shape[0], svd.V.shape[0]
    text = (f"Full fine-tuning changed all {d * k:,} numbers of {esc(layer)}, yet {n90} of the {svd.s.size} singular "
            "directions of "
            f"its update ΔW = W − W0 hold 90 % of the energy (step {at}). The best rank-{r} matrix (Eckart–Young) keeps "
            f"{esc(energy_text)} of it and leaves out {esc(share(cut, 1))}. Singular values from the "
            "project's Jacobi SVD, recomputed every "
            f"{lt.SPECTRUM_EVERY} steps.")
    return figure(responsive(lambda w: spectrum_chart(svd, r, layer, w)), text)


@lru_cache(maxsize=8)
def bridge_section(r: int) -> str:
    """The same rank on Llama-3-8B: adapter parameters per projection of one layer."""
    arch = fit.LLAMA3_8B
    rows = "".join(
        f"<tr><td>{name}</td><td>{d_out:,} × {d_in:,}</td><td>{count(fit.adapter_params(d_out, d_in, r))}</td></tr>"
        for name, (d_out, d_in) in fit.projections(arch).items())
    return (f'<h2 class="lab-lora__h">The same r on {esc(arch.name)}</h2>'
            '<div class="lab-lora__table"><table><thead><tr><th>projection</th><th>weight (out × in)</th>'
            f"<th>r(d + k) per layer</th></tr></thead><tbody>{rows}</tbody></table></div>"
            f'<p class="lab-note">Shapes from the model\'s config.json (hidden size {arch.hidden:,}, {arch.layers} layers, '
            f"{arch.heads} query heads and {arch.kv_heads} key/value heads of dimension {arch.head_dim}); the same "
            "architecture as Table 3 of the Llama 3 paper (arXiv 2407.21783). Totals are under All numbers.</p>")


@lru_cache(maxsize=1)
def provenance_note() -> str:
    """Where the data and the base model come from."""
    p = digits.provenance()
    A, B = lora_base.tasks()
    return (f'<p class="lab-note">Data: {esc(p["origin"]["title"])} ({esc(p["origin"]["creators"])}, '
            f'{esc(p["origin"]["repository"])}, {p["origin"]["year"]}), 1,797 8×8 images as shipped by scikit-learn '
            f'{esc(p["version"])}. Every third image of each digit is held out: {A.y_test.size} of 0–4 and '
            f"{B.y_test.size} of 5–9; training uses the other {B.y.size} images of 5–9. Accuracy on a task is a choice "
            f"among its five digits. Base model: an MLP 64-64-64-10 trained on 0–4 at build time "
            f"(sha256 {esc(lora_base.sha256()[:12])}…).</p>")


def _status(run: lt.Run) -> str:
    if run.done:
        return (f'<p class="lab-note" data-lab-done>Schedule finished at step {lt.T}: Play stops here. Reset, or change a '
                "setting, to fine-tune again.</p>")
    return (f'<p class="lab-note">Step {run.t} of {lt.T}. All three methods see the same minibatches; held-out accuracy '
            f"is measured every {lt.EVAL_EVERY} steps. Changing a setting starts again from the base model.</p>")


def missing_view(reason: str) -> View:
    """What the lab shows when the build-time data is absent (a source checkout before the first build)."""
    names = ("acc_full", "acc_lora", "keep_full", "keep_lora")
    metrics = {n: undefined(n, "the digits data is not built yet", True) for n in names}
    return View("", f'<p class="lab-note" role="alert">{esc(reason)}</p>', "LoRA Lab: data missing.", metrics)


def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """Train (on `step`/`train`), then draw the accuracy chart, the headline tiles, the spectrum and the bridge."""
    try:
        lora_base.load()
    except lora_base.BaseMissingError as exc:
        return missing_view(str(exc))
    cfg = config(params)
    run = state if isinstance(state, lt.Run) and state.cfg == cfg and action != "reset" else lt.new_run(cfg)
    if action == "step":
        lt.advance(run, STEPS_PER_FRAME)
    elif action == "train":
        lt.advance(run, lt.T)
    metrics = measure(run, params)
    if run.drawn.get("chart", (None,))[0] != len(run.eval_steps):
        run.drawn["chart"] = (len(run.eval_steps), _chart_figure(run))
    chart = run.drawn["chart"][1]
    html = _status(run) + spectrum_section(run, params, metrics) + bridge_section(cfg.r) + provenance_note()
    m = metrics
    summary = (f"Step {run.t} of {lt.T}. On 5–9: LoRA {m['acc_lora'].text}, full {m['acc_full'].text}, head only "
               f"{m['acc_head'].text}. Still right on 0–4: LoRA {m['keep_lora'].text}, full {m['keep_full'].text}, "
               f"head only {m['keep_head'].text}.")
    return View(chart, html, summary, metrics, state=run, stop=run.done)


def _chart_figure(run: lt.Run) -> str:
    """The main chart with its caption (redrawn only after a new evaluation)."""
    return figure(responsive(lambda w: accuracy_chart(run, w)),
                   "Solid: held-out accuracy on the new digits 5–9. Dashed: on the old digits 0–4, which the fine-tuning "
                   "data never shows. Colours: full fine-tuning, LoRA, head only.")


# ---- guided steps: each answer is trained and measured when the reader checks ----------------------

DEFAULT = config({c.name: c.default for c in CONTROLS})
CLOSE = 0.02  # two accuracies closer than this (about 6 of ~300 images) count as "about the same"


def _cfg(**changes) -> lt.Config:
    return lt.Config(**{**DEFAULT.__dict__, **changes})


def _check_rank(prediction: str) -> Reveal:
    r1 = lt.final("lora", _cfg(r=1))[0].value
    r8 = lt.final("lora", _cfg(r=8))[0].value
    full = lt.final("full", DEFAULT)[0].value
    answer = ("r1<r8<full" if r1 < r8 - CLOSE and r8 < full - CLOSE else "r1<r8=full" if r1 < r8 - CLOSE
              else "r1=r8<full" if r8 < full - CLOSE else "all")
    return Reveal(prediction == answer,
                  f"On the held-out 5–9 images: LoRA r = 1 {share(r1)}, r = 8 {share(r8)}, full fine-tuning {share(full)} "
                  f"(gaps under {share(CLOSE)} count as equal). Rank 1 gives each layer one direction to change; "
                  "full fine-tuning may change all 64, and the same 200 steps get it further.")


def _check_alpha(prediction: str) -> Reveal:
    a8_acc, a8_keep, _ = lt.final("lora", _cfg(alpha=8.0))
    a16_acc, a16_keep, _ = lt.final("lora", _cfg(alpha=16.0))
    learns = "faster" if a16_acc.value > a8_acc.value + CLOSE / 2 else "same"
    forgets = "more" if a16_keep.value < a8_keep.value - CLOSE / 2 else "same"
    answer = "faster-more" if (learns, forgets) == ("faster", "more") else "faster-same" if learns == "faster" else "same"
    return Reveal(prediction == answer,
                  f"α 8 → 16 at r = 8: accuracy on 5–9 {share(a8_acc.value)} → {share(a16_acc.value)}, still right on 0–4 "
                  f"{share(a8_keep.value)} → {share(a16_keep.value)}. Adam moves B and A by about the learning rate per "
                  "step whatever the gradient's size, so doubling s = α/r doubles how fast W0 + s·B A moves: like a "
                  "larger learning rate for the adapter alone.")


def _check_rslora(prediction: str) -> Reveal:
    std, rs = _cfg(r=64), _cfg(r=64, scaling="rslora")
    std_acc, std_keep, _ = lt.final("lora", std)
    rs_acc, rs_keep, _ = lt.final("lora", rs)
    answer = "more" if rs_acc.value > std_acc.value + CLOSE else "less" if rs_acc.value < std_acc.value - CLOSE else "same"
    return Reveal(prediction == answer,
                  f"At r = 64, α = 8: α/r = {std.s:.3g} gives {share(std_acc.value)} on 5–9 and {share(std_keep.value)} on "
                  f"0–4; α/√r = {rs.s:.3g} gives {share(rs_acc.value)} and {share(rs_keep.value)}. With α/r, raising r "
                  f"shrinks the scale s; rsLoRA's α/√r shrinks it only by √r (Kalajdzievski 2023), so at r = 64 s is "
                  f"{rs.s / std.s:.0f}× larger: a larger step for the adapter, as in the α step.")


def _check_forgets(prediction: str) -> Reveal:
    keep = {k: lt.final(k, DEFAULT)[1].value for k in lt.KINDS}
    worst = min(keep, key=keep.get)
    return Reveal(prediction == worst,
                  f"Still right on the old digits 0–4 after 200 steps on 5–9: full {share(keep['full'])}, LoRA "
                  f"{share(keep['lora'])}, head only {share(keep['head'])} (the base: "
                  f"{share(lt.score(lora_base.load(), lora_base.tasks()[0]).value)}). Full fine-tuning may move every "
                  "feature the old digits rely on; LoRA moves each layer in r directions; head only leaves the features "
                  f"alone. {_biderman(keep)}")


def _biderman(keep: dict[str, float]) -> str:
    """How this run compares with Biderman et al. (2024), said from the computed order."""
    if keep["full"] < keep["lora"] < keep["head"]:
        return "Biderman et al. (2024) found the same for LLMs: LoRA forgets less than full fine-tuning."
    return ("Biderman et al. (2024) found that LoRA forgets less than full fine-tuning for LLMs; at these settings this "
            "small network does not show that order.")


def directions_for(s: np.ndarray, share_: float) -> int:
    """How many of the largest singular values s (descending) hold `share_` of the energy Σ σᵢ²."""
    return int(np.searchsorted(np.cumsum(s**2) / np.sum(s**2), share_) + 1)


def n90(layer: str = "W2") -> int:
    """Singular values of the full fine-tune's final ΔW (at the default settings) holding 90 % of its energy."""
    return directions_for(lt.warm_svd(lt.final("full", DEFAULT)[2].delta(layer), None).s, 0.9)


def n90_random() -> int:
    """The same count for a seeded random Gaussian 64×64 matrix: what an update with no structure needs."""
    return directions_for(lt.warm_svd(np.random.default_rng(0).standard_normal((64, 64)), None).s, 0.9)


def _check_energy(prediction: str) -> Reveal:
    n = n90()
    guess = float(prediction)
    return Reveal(abs(guess - n) <= max(1.0, 0.25 * n),
                  f"{n} of the 64 singular values hold 90 % of the energy of the full update of layer 2 after 200 steps; "
                  f"a random 64×64 matrix needs {n90_random()}. The real update is concentrated in a few directions, "
                  "which is why a small rank loses little here. Biderman et al. (2024, §4.5) find the opposite at "
                  "LLM scale for code and math: full fine-tuning's updates need a rank 10–100× larger than typical LoRA ranks.")


STEPS = (
    Step("rank", "Fine-tune for 200 steps. How do LoRA at r = 1, LoRA at r = 8 and full fine-tuning rank on the "
                 "held-out new digits 5–9?", {"r": 8},
         Options((("all", "all about the same"), ("r1=r8<full", "r = 1 ≈ r = 8, full better"),
                  ("r1<r8=full", "r = 1 worse, r = 8 ≈ full"), ("r1<r8<full", "r = 1 < r = 8 < full"))),
         _check_rank, "train"),
    Step("alpha", "Same learning rate, r = 8: what does doubling α from 8 to 16 do to LoRA?", {"alpha": 16},
         Options((("same", "little: Adam normalises the step"), ("faster-same", "learns faster, forgets no more"),
                  ("faster-more", "learns faster and forgets more"))), _check_alpha, "train"),
    Step("rslora", "r = 64, α = 8: switch the scaling from α/r to rsLoRA's α/√r. LoRA's accuracy on 5–9…",
         {"r": 64, "scaling": "rslora"},
         Options((("more", "rises clearly"), ("same", "barely changes"), ("less", "drops"))), _check_rslora, "train"),
    Step("forgets", "Default settings, 200 steps on 5–9: which method ends up worst on the old digits 0–4?", {},
         Options((("full", "full fine-tuning"), ("lora", "LoRA, r = 8"), ("head", "head only"))), _check_forgets,
         "train"),
    Step("energy", "How many of the 64 singular values of full fine-tuning's update to layer 2 hold 90 % of its energy?",
         {"layer": "W2"}, Guess("singular values", 1, 64, 1, 16), _check_energy, "train"),
)
