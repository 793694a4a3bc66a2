"""Planner Lab: will this fine-tune fit on this GPU, how long will it take, and what will it cost?

The memory bill comes from labs_py.planner_memory (every item with its formula and source), time
and cost and the cheapest change that makes a run fit from labs_py.planner_compute, the shapes
from labs_py.planner_models and the GPUs from labs_py.planner_gpus. This module declares the
controls, lays out the view (a stacked memory bar against the GPU's usable memory) and the steps.
"""

from __future__ import annotations

import math

import numpy as np

from labs_py.controls import Choice, Multi, Slider, Toggle, clean
from labs_py.fmt import count, pct
from labs_py.html import esc, figure
from labs_py.lab import Guess, Metric, Options, Reveal, Step, View, nearest, undefined
from labs_py.planner_compute import Fix, cheapest_fix, flops_per_token, price, run_time
from labs_py.planner_gpus import GPUS, PRICES_FROM
from labs_py.planner_memory import GIB, Bill, Setup, bill, from_params, trainable
from labs_py.planner_models import MODELS, TARGETS, params_total
from labs_py.svg import Marks, Segment, Series, line_chart, responsive, stacked_bar

NAME = "planner"
TITLE = "Planner Lab"
QUESTION = "Will this fine-tune fit on this GPU, how long will it take, and what will it cost?"

CONTROLS = (
    Choice("model", "Model", tuple((k, m.label) for k, m in MODELS.items()), "llama-3.1-8b"),
    Choice("method", "Method", (("full", "Full fine-tuning"), ("lora", "LoRA"),
                                ("qlora", "QLoRA (NF4 + double quantization)")), "lora"),
    Choice("gpu", "GPU", tuple((k, f"{g.label} ({g.usable_gib:g} GiB usable)") for k, g in GPUS.items()), "rtx4090"),
    Choice("task", "Objective", (("sft", "SFT"), ("dpo", "DPO (chosen + rejected per example)")), "sft"),
    Choice("precision", "Precision (full fine-tuning)", (("bf16", "pure bf16"),
                                                         ("amp", "AMP: fp32 master weights, bf16 compute")), "bf16"),
    Choice("optim", "Optimizer", (("adamw", "AdamW"), ("adamw8bit", "8-bit AdamW"),
                                  ("paged_adamw8bit", "paged 8-bit AdamW"), ("sgd", "SGD")), "adamw"),
    Slider("batch", "Micro-batch", 1, 64, 1, 4, " sequences", integer=True),
    Slider("seq", "Sequence length", 64, 131072, 1, 2048, " tokens", integer=True),
    Toggle("ckpt", "Gradient checkpointing", 0, help="Keep each layer's input; recompute the rest in the backward."),
    Choice("attn", "Attention kernel", (("sdpa", "SDPA / FlashAttention"), ("eager", "eager (stores s × s scores)")),
           "sdpa"),
    Choice("loss", "Loss implementation", (("upcast", "fp32-upcast logits (Hugging Face)"),
                                           ("chunked", "chunked cross-entropy"),
                                           ("fused", "fused linear + cross-entropy")), "upcast"),
    Slider("r", "LoRA rank r", 1, 256, 1, 16, integer=True),
    Slider("alpha", "LoRA α", 1, 512, 1, 32, integer=True, help="α/r scales the update: no effect on memory or time."),
    Multi("targets", "LoRA target modules", tuple((t, t) for t in TARGETS), ",".join(TARGETS)),
    Slider("tokens", "Dataset size", 0.01, 10000, 0.01, 10, " M tokens"),
    Slider("epochs", "Epochs", 1, 20, 1, 3, integer=True),
    Slider("mfu", "Share of peak FLOP/s sustained (MFU)", 0.05, 0.8, 0.01, 0.35,
           help="An assumption: 0.3–0.45 is typical for single-GPU fine-tuning. Time a short run to replace it."),
    Slider("price", "Price per GPU-hour", 0, 20, 0.01, 0, " $", help=f"0 = the GPU's listed price: {PRICES_FROM}."),
)
KEY = ("model", "method")
ACTIONS: tuple[tuple[str, ...], ...] = ()
SEGMENTS = (("weights", "weights", "pl0"), ("adapters", "adapters", "pl1"), ("grads", "gradients", "pl2"),
            ("optim", "optimizer", "pl3"), ("activations", "activations", "pl4"), ("logits", "logits", "pl5"),
            ("overhead", "overhead", "pl6"))
SEQ_AXIS = tuple(2**k for k in range(8, 18))  # 256 … 131,072 tokens


def gib(x: float) -> str:
    """Bytes as GiB with the precision an estimate has."""
    return "0" if x == 0 else f"{x / GIB:.1f} GiB"


def approx(x: float, digits: int = 2) -> str:
    """A positive estimate to `digits` significant figures, with thousands separators."""
    if x <= 0:
        return "0"
    rounded = round(x, digits - 1 - math.floor(math.log10(x)))
    return f"{rounded:,.0f}" if rounded >= 10 ** (digits - 1) else f"{rounded:g}"


def disabled(s: Setup) -> dict[str, str]:
    """Controls that do not apply to this setup, with why."""
    off: dict[str, str] = {}
    if s.method == "full":
        why = "Full fine-tuning trains every weight: no adapters."
        off.update(r=why, alpha=why, targets=why)
    else:
        off["precision"] = "LoRA/QLoRA: the frozen base stays bf16 (QLoRA: NF4) and PEFT keeps adapters in fp32."
    return off


def largest(s: Setup, field: str, lo: int, hi: int) -> int | None:
    """The largest value of an integer field in [lo, hi] at which the run fits (memory grows with it)."""
    if not bill(s.but(**{field: lo}), False).fits:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if bill(s.but(**{field: mid}), False).fits else (lo, mid - 1)
    return lo


def measure(s: Setup, b: Bill, fix: Fix | None) -> dict[str, Metric]:
    """Every number the lab shows for this setup."""
    g = GPUS[s.gpu]
    spare = b.usable - b.resident
    verdict = (f"Yes, {gib(spare)} spare" if spare >= 0 else f"No, {gib(-spare)} over")
    metrics = {
        "mem_total_gib": Metric(b.total / GIB, "Peak memory of one step", gib(b.total),
                                f"of {g.usable_gib:g} GiB PyTorch can use on the {g.label}", True),
        "fits": Metric(float(b.fits), f"Fits on the {g.label}?", verdict,
                       "paged optimizer state may spill to CPU memory" if b.total > b.resident else
                       f"overhead range up to {gib(b.high)}", True),
    }
    if b.fits:
        t = run_time(s)
        metrics["gpu_hours"] = Metric(t.gpu_hours, "GPU-hours", f"{approx(t.gpu_hours)} h",
                                      f"{approx(t.tokens / 1e6)} M tokens at MFU {s.mfu:g}", True)
        p = price(s)
        metrics["cost_usd"] = (Metric(t.cost, "Cost", f"${approx(t.cost)}", f"at ${p:g} per GPU-hour", True)
                               if t.cost is not None and p is not None else
                               undefined("Cost", f"no listed price for the {g.label}: set the price", True))
        metrics["tokens_per_s"] = Metric(t.tokens_per_s, "Tokens per second", approx(t.tokens_per_s),
                                         "training throughput on one GPU")
    else:
        why = "no run to time: it does not fit (see the cheapest change below)" if fix else "no run to time: it does not fit"
        metrics["gpu_hours"] = undefined("GPU-hours", why, True)
        metrics["cost_usd"] = undefined("Cost", why, True)
        metrics["tokens_per_s"] = undefined("Tokens per second", why)
    n = trainable(s)
    P = params_total(s.m)
    metrics["params_total"] = Metric(P, "Parameters", count(P), f"{s.m.label}, from its config.json shapes")
    metrics["params_trainable"] = Metric(n, "Trainable parameters", count(n), f"{pct(n / P, 2)} of all parameters")
    for key, label, _ in SEGMENTS:
        metrics[f"mem_{key}_gib"] = Metric(b.get(key) / GIB, label.capitalize(), gib(b.get(key)),
                                           "GiB = 2³⁰ bytes")
    f = flops_per_token(s)
    metrics["flops_per_token"] = Metric(f.hardware, "FLOPs per token", f"{f.hardware:.2e}", "including recomputation")
    return metrics


def memory_chart(s: Setup, b: Bill, width: int) -> str:
    """The stacked bar of one step's memory against the chosen GPU's usable memory."""
    g = GPUS[s.gpu]
    segs = []
    for key, label, cls in SEGMENTS:
        value = b.get(key) / GIB
        paged = any(it.paged for it in b.items if it.key == key)
        upto = b.overhead_range[1] / GIB if key == "overhead" else None
        segs.append(Segment(label + (" (pageable)" if paged else ""), value, cls, upto, paged))
    return stacked_bar(segs, f"One training step: {s.m.label}, {dict(CONTROLS[1].options)[s.method]}",
                       "GiB", limit=(g.usable_gib, f"{g.label}: {g.usable_gib:g} GiB"), width=width)


def seq_chart(s: Setup, width: int) -> str:
    """Peak memory against sequence length at this micro-batch, with the GPU's usable memory."""
    xs = np.log2(np.array(SEQ_AXIS, float))
    ys = np.array([bill(s.but(seq=n), False).resident / GIB for n in SEQ_AXIS])
    g = GPUS[s.gpu]
    here = bill(s, False).resident / GIB
    step = 1 if width >= 500 else 2
    ticks = [(math.log2(n), f"{n // 1024}k" if n >= 1024 else str(n)) for k, n in enumerate(SEQ_AXIS) if k % step == 0]
    return line_chart([Series("peak memory", xs, ys, "c0")], "Peak memory against sequence length",
                      "sequence length, tokens (log scale)", "GiB (log scale)", log_y=True,
                      marks=Marks(hlines=[(g.usable_gib, f"{g.label} usable", "c1")],
                                  points=[(math.log2(s.seq), here, "you", "c1")]),
                      x_ticks=ticks, x_range=(math.log2(SEQ_AXIS[0]), math.log2(SEQ_AXIS[-1])), width=width)


def table(s: Setup, b: Bill) -> str:
    """Every item with its value and how it was computed."""
    rows = [f"<tr><th scope=\"row\">{esc(it.label)}</th><td>{gib(it.bytes)}</td><td>{esc(it.how)}</td></tr>"
            for it in b.items]
    rows.append(f"<tr><th scope=\"row\">Total</th><td>{gib(b.total)}</td><td>sum of the items; fits when "
                f"everything but pageable optimizer state ≤ the {esc(GPUS[s.gpu].label)}'s "
                f"{GPUS[s.gpu].usable_gib:g} GiB ({esc(GPUS[s.gpu].usable_from)})</td></tr>")
    f = flops_per_token(s)
    rows.append(f"<tr><th scope=\"row\">FLOPs per token</th><td>{f.hardware:.2e}</td><td>{esc(f.how)}</td></tr>")
    if b.fits:
        t, g = run_time(s), GPUS[s.gpu]
        slow = " × 1.3 for NF4 dequantization (measured +28 % torchtune, +39 % Lit-GPT)" if s.method == "qlora" else ""
        rows.append(f"<tr><th scope=\"row\">Time</th><td>{approx(t.gpu_hours)} h</td><td>{approx(t.tokens / 1e6)} M "
                    f"tokens × FLOPs per token ÷ ({s.mfu:g} × {g.peak_tflops:g} TFLOP/s peak){slow} + "
                    f"{approx(t.steps)} optimizer steps, bandwidth-bound at {g.bandwidth_gbs:g} GB/s "
                    f"({approx(t.optimizer_s / 60)} min)</td></tr>")
    return ('<div class="lab-planner__table"><table><caption>How each number is computed</caption>'
            '<thead><tr><th scope="col">Item</th><th scope="col">Value</th><th scope="col">How</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def verdict_html(s: Setup, b: Bill, fix: Fix | None) -> str:
    """What changes the verdict: the cheapest fix when it does not fit, the limits when it does."""
    g = GPUS[s.gpu]
    if b.fits:
        seq = largest(s, "seq", 64, 131072)
        batch = largest(s, "batch", 1, 64)
        return (f'<p class="lab-note" data-planner-verdict>Fits on the {esc(g.label)} with {gib(b.usable - b.resident)} '
                f"to spare. At this micro-batch the longest sequence that fits is {count(seq)} tokens; at this "
                f"length the largest micro-batch is {batch}.</p>")
    if fix is None:
        return (f'<p class="lab-note" data-planner-verdict>Does not fit, and no combination of up to three changes '
                f"the lab tries makes it fit on one {esc(g.label)}.</p>")
    fb, t = bill(fix.setup, False), run_time(fix.setup)
    cost = f", ${approx(t.cost)}" if t.cost is not None else ""
    return (f'<p class="lab-note" data-planner-verdict>Does not fit: {gib(b.resident - b.usable)} over. '
            f"<strong>Cheapest change that fits: {esc(fix.label)}</strong> → {gib(fb.resident)}, "
            f"{approx(t.gpu_hours)} GPU-hours{cost}. Changes that keep the training the same (they cost time) "
            "rank before changes to what is trained, which rank before shorter sequences or another GPU; "
            "within a rank, the cheaper run wins.</p>")


def render(params: dict, state: object = None, action: str | None = None, payload: object = None) -> View:
    """The memory bar beside the key controls; the verdict, the itemised table and the length sweep below."""
    s = from_params(params)
    b = bill(s)
    fix = None if b.fits else cheapest_fix(s)
    metrics = measure(s, b, fix)
    chart = figure(responsive(lambda w: memory_chart(s, b, w)),
                   "One step's peak memory, item by item, against what PyTorch can use on the GPU. Faint: the "
                   "high end of the overhead range, and optimizer state that can page out to CPU memory.")
    sweep = figure(responsive(lambda w: seq_chart(s, w)), "Everything else fixed; the line crosses the GPU's "
                   "usable memory at the longest sequence that fits.")
    gpu_note = ("<p class=\"lab-note\">The T4 has no bf16: 16-bit training runs in fp16 (same bytes, loss scaling), "
                "at its fp16 tensor peak.</p>") if not GPUS[s.gpu].bf16 else ""
    gemma_note = ("<p class=\"lab-note\">transformers recommends eager attention for training Gemma-2 (its attention "
                  "logits are soft-capped).</p>") if s.model == "gemma-2-9b" and s.attn == "sdpa" else ""
    m = metrics
    summary = (f"{s.m.label}, {s.method}, on the {GPUS[s.gpu].label}: {m['mem_total_gib'].text} peak, "
               f"{m['fits'].text}; {m['gpu_hours'].text} GPU-hours.")
    body = verdict_html(s, b, fix) + gpu_note + gemma_note + table(s, b) + sweep
    return View(chart, body, summary, metrics, disabled(s))


# ---- guided steps: each answer is computed by the lab's own code when the reader checks --------------

def _setup(step_params: dict) -> Setup:
    return from_params(clean(CONTROLS, step_params)[0])


FULL_24 = {"model": "llama-3.1-8b", "method": "full", "gpu": "rtx4090", "batch": 1, "seq": 512}
CKPT_4096 = {"model": "llama-3.1-8b", "method": "lora", "gpu": "a100-80", "batch": 1, "seq": 4096}
LOGITS_8192 = {"model": "llama-3.1-8b", "method": "qlora", "gpu": "a100-80", "batch": 1, "seq": 8192, "ckpt": 1}
QLORA_65B = {"model": "llama-1-65b", "method": "qlora", "r": 64, "alpha": 16, "batch": 4, "seq": 528, "ckpt": 1,
             "optim": "paged_adamw8bit", "gpu": "l40s"}
FLOPS = {"model": "llama-3.1-8b", "method": "lora", "gpu": "a100-80"}


def _check_full_24(prediction: str) -> Reveal:
    s = _setup(FULL_24)
    b = bill(s)
    ratio = b.resident / b.usable
    answer = "fits" if ratio <= 1 else nearest({"1.5": 1.5, "3": 3.0, "10": 10.0}, ratio)
    fix = cheapest_fix(s)
    fix_text = f" The cheapest change that fits: {fix.label}." if fix else ""
    return Reveal(prediction == answer,
                  f"{gib(b.resident)}, {ratio:.1f}× the card's {GPUS[s.gpu].usable_gib:g} GiB: weights "
                  f"{gib(b.get('weights'))}, gradients {gib(b.get('grads'))}, AdamW states {gib(b.get('optim'))} — "
                  f"8 bytes per parameter before any activation (16 with an fp32 master, ZeRO §3.1).{fix_text}")


def _check_ckpt(prediction: str) -> Reveal:
    s = _setup(CKPT_4096)
    off, on = bill(s).get("activations"), bill(s.but(ckpt=True)).get("activations")
    saved = (off - on) / GIB
    right = abs(float(prediction) - saved) <= max(1.0, 0.2 * saved)
    return Reveal(right, f"Activations fall from {gib(off)} to {gib(on)}: {saved:.1f} GiB saved. Checkpointing keeps "
                         f"only each layer's input (2h bytes per token) and recomputes one layer at a time, at the "
                         f"cost of a second forward pass (+2N FLOPs per token).")


def _check_logits(prediction: str) -> Reveal:
    s = _setup(LOGITS_8192)
    b = bill(s)
    share = b.get("logits") / b.total
    right = prediction == nearest({"10": 0.1, "25": 0.25, "50": 0.5, "75": 0.75}, share)
    return Reveal(right, f"{gib(b.get('logits'))} of {gib(b.total)}: {pct(share, 0)} of the step's memory is the "
                         f"logits buffer — more than the 4-bit weights ({gib(b.get('weights'))}). 8,192 tokens × "
                         f"{s.m.V:,} vocabulary entries × 10 bytes (bf16 logits, their fp32 upcast and gradient). A "
                         f"fused loss keeps one chunk: {gib(bill(s.but(loss='fused')).get('logits'))}.")


def _check_65b(prediction: str) -> Reveal:
    s = _setup(QLORA_65B)
    b = bill(s)
    answer = "yes" if b.fits else "no"
    full = bill(s.but(method="lora"))
    return Reveal(prediction == answer,
                  f"{gib(b.resident)} must stay on the GPU against {GPUS[s.gpu].usable_gib:g} GiB usable: it "
                  f"{'fits' if b.fits else 'does not fit'}. The 4-bit weights are {gib(b.get('weights'))}; in bf16 "
                  f"they would be {gib(full.get('weights'))}. QLoRA's abstract: a 65B model on a single 48 GB GPU.")


def _check_flops(prediction: str) -> Reveal:
    s = _setup(FLOPS)
    lora, full = flops_per_token(s).model, flops_per_token(s.but(method="full")).model
    ratio = full / lora
    right = prediction == nearest({"1": 1.0, "1.5": 1.5, "3": 3.0, "100": 100.0}, ratio)
    return Reveal(right, f"Full: {full:.2e} FLOPs per token; LoRA: {lora:.2e} — {ratio:.2f}× less, not 100×. LoRA "
                         "still runs the forward (2N) and back-propagates through every frozen layer (2N); it only "
                         "skips the weight gradients (2N). It saves memory far more than compute.")


STEPS = (
    Step("full-24", "Llama-3.1-8B, full fine-tuning with AdamW in pure bf16, one 512-token sequence, on a 24 GB "
                    "RTX 4090: how does one step's memory compare with the card?", FULL_24,
         Options((("fits", "it fits"), ("1.5", "about 1.5× the card"), ("3", "about 3× the card"),
                  ("10", "about 10× the card"))), _check_full_24),
    Step("ckpt", "LoRA on Llama-3.1-8B, one 4,096-token sequence: how many GiB does gradient checkpointing save?",
         CKPT_4096, Guess("GiB saved", 0, 40, 0.5, 5, " GiB"), _check_ckpt),
    Step("logits", "QLoRA on Llama-3.1-8B (vocabulary 128,256), one 8,192-token sequence, checkpointing on: what "
                   "share of the step's memory is the logits buffer?", LOGITS_8192,
         Options((("10", "about 10 %"), ("25", "about a quarter"), ("50", "about half"), ("75", "about three quarters"))),
         _check_logits),
    Step("qlora-65b", "QLoRA's headline: LLaMA-65B, NF4 + double quantization, r = 64 on all linear layers, "
                      "micro-batch 4 × 528 tokens, checkpointing, paged optimizer, on a 48 GB L40S. Does it fit?",
         QLORA_65B, Options((("yes", "yes"), ("no", "no"))), _check_65b),
    Step("flops", "Per training token, how much less compute does LoRA need than full fine-tuning of Llama-3.1-8B?",
         FLOPS, Options((("1", "about the same"), ("1.5", "about 1.5× less"), ("3", "about 3× less"),
                         ("100", "about 100× less"))), _check_flops),
)
