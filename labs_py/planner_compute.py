"""Training FLOPs, time and cost of a planned run, and the cheapest change that makes it fit.

Why: memory says whether a run can start, compute says what it costs. FLOPs follow Kaplan et al.
2020 (§2.1: C ≈ 6N per training token) with the refinements a fine-tune needs: frozen weights
skip their weight gradients (≈ 4N for LoRA), checkpointing recomputes the forward (+2N), DPO
adds a reference forward. The cheapest fix is found by trying candidate changes with the same
memory code, never from a table of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product

from labs_py.planner_gpus import GPUS
from labs_py.planner_memory import Setup, bill, trainable
from labs_py.planner_models import compute_params, lora_params

QLORA_SLOWDOWN = 1.3  # dequantizing NF4 weights in every matmul: measured +28 % (torchtune) to +39 % (Lit-GPT)


@dataclass(frozen=True)
class Flops:
    """FLOPs per training token: what the model needs, and what the GPU runs (with recomputation)."""

    model: float
    hardware: float
    how: str


def attention_fwd(s: Setup) -> float:
    """Forward FLOPs per token of QKᵀ and PV in all layers: 4·s·a·hd per layer, halved when causal
    blocks are skipped (flash/SDPA kernels); eager attention computes the masked half too."""
    m = s.m
    full = 4 * m.L * s.seq * m.a * m.hd
    return full / 2 if s.attn == "sdpa" else full


def flops_per_token(s: Setup) -> Flops:
    """Kaplan's 6N for full fine-tuning; 4N + 6·N_lora when the base is frozen (no weight gradients)."""
    N = compute_params(s.m)
    n_lora = lora_params(s.m, s.r, s.targets) if s.peft else 0
    att = attention_fwd(s)
    if s.peft:
        model = 4 * N + 6 * n_lora + 3 * att
        how = f"4N + 6·N_lora + 3·attention = 4·{N:.3g} + 6·{n_lora:.3g} + 3·{att:.3g}"
    else:
        model = 6 * N + 3 * att
        how = f"6N + 3·attention = 6·{N:.3g} + 3·{att:.3g} (Kaplan et al. 2020 §2.1)"
    hardware = model
    if s.ckpt:
        hardware += 2 * N + 2 * n_lora + att
        how += " + recomputed forward 2N"
    if s.task == "dpo":
        hardware += 2 * N + att
        model += 2 * N + att
        how += " + reference forward 2N (DPO)"
    return Flops(model, hardware, how + " FLOPs per token")


def price(s: Setup) -> float | None:
    """$/GPU-hour: the reader's, or the GPU's listed price (None when neither is known)."""
    return s.price if s.price > 0 else GPUS[s.gpu].price


@dataclass(frozen=True)
class Time:
    """How long the run takes on one GPU, and what it costs."""

    tokens: float  # tokens processed: dataset × epochs
    seconds: float
    compute_s: float
    optimizer_s: float
    steps: float
    cost: float | None

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds

    @property
    def gpu_hours(self) -> float:
        return self.seconds / 3600


def step_bytes_per_param(s: Setup) -> int:
    """Bytes the optimizer step reads and writes per trainable parameter: weight (read + write),
    gradient (read), states (read + write)."""
    w = 4 if (s.peft or s.precision == "amp") else 2
    state = {"adamw": 2 * w, "adamw8bit": 2, "paged_adamw8bit": 2, "sgd": 0}[s.optim]
    return 2 * w + w + 2 * state


def run_time(s: Setup) -> Time:
    """Compute time at the assumed utilisation, plus the bandwidth-bound optimizer step per micro-batch."""
    g = GPUS[s.gpu]
    tokens = s.tokens_m * 1e6 * s.epochs
    compute = tokens * flops_per_token(s).hardware / (s.mfu * g.peak_tflops * 1e12)
    if s.method == "qlora":
        compute *= QLORA_SLOWDOWN
    steps = tokens / s.tokens_per_step
    opt = steps * trainable(s) * step_bytes_per_param(s) / (g.bandwidth_gbs * 1e9)
    seconds = compute + opt
    p = price(s)
    return Time(tokens, seconds, compute, opt, steps, None if p is None else seconds / 3600 * p)


@dataclass(frozen=True)
class Change:
    """One candidate change: params to set, what it costs the reader, and its rank group."""

    label: str
    changes: dict
    tier: int  # 1: same training, more time; 2: trains something else; 3: different data or hardware


def candidates(s: Setup) -> list[Change]:
    """Every single change the lab may propose for this setup."""
    out: list[Change] = []
    if not s.ckpt:
        out.append(Change("turn on gradient checkpointing", {"ckpt": True}, 1))
    for loss, what in (("chunked", "compute the loss in chunks"), ("fused", "use a fused linear + cross-entropy loss")):
        if s.loss != loss and not (s.loss == "fused" and loss == "chunked"):
            out.append(Change(what, {"loss": loss}, 1))
    if s.attn == "eager":
        out.append(Change("use SDPA / flash attention", {"attn": "sdpa"}, 1))
    if s.optim in ("adamw", "sgd") and s.optim != "sgd":
        out.append(Change("use 8-bit AdamW", {"optim": "adamw8bit"}, 1))
    if s.optim != "paged_adamw8bit" and s.optim != "sgd":
        out.append(Change("use paged 8-bit AdamW", {"optim": "paged_adamw8bit"}, 1))
    if s.method == "full" and s.precision == "amp":
        out.append(Change("train in pure bf16", {"precision": "bf16"}, 1))
    b = s.batch // 2
    while b >= 1:
        out.append(Change(f"use micro-batch {b} (accumulate gradients)", {"batch": b}, 1))
        b //= 2
    if s.method == "full":
        out.append(Change("switch to LoRA", {"method": "lora"}, 2))
    if s.method != "qlora":
        out.append(Change("switch to QLoRA", {"method": "qlora"}, 2))
    n = s.seq // 2
    while n >= 256:
        out.append(Change(f"cut sequences to {n:,} tokens", {"seq": n}, 3))
        n //= 2
    here = GPUS[s.gpu].usable_gib
    out += [Change(f"move to an {g.label}", {"gpu": k}, 3) for k, g in GPUS.items() if g.usable_gib > here]
    return out


@dataclass(frozen=True)
class Fix:
    """The cheapest combination of changes that fits, with the setup it produces."""

    changes: tuple[Change, ...]
    setup: Setup

    @property
    def label(self) -> str:
        return " and ".join(c.label for c in self.changes)


def _key(s: Setup) -> float:
    t = run_time(s)
    return t.cost if t.cost is not None else t.gpu_hours * 1e6  # unknown price ranks after any priced option


def _groups(pool: list[Change], tier: int) -> list[list[Change]]:
    """Candidates of at most this tier, grouped by the control they change (one pick per control)."""
    groups: dict[str, list[Change]] = {}
    for c in pool:
        if c.tier <= tier:
            groups.setdefault(next(iter(c.changes)), []).append(c)
    return list(groups.values())


def cheapest_fix(s: Setup, most: int = 3) -> Fix | None:
    """The fitting combination of up to `most` changes (one per control) that ranks first by
    (worst tier, number of changes, cost or GPU-hours): same-training changes before changing what
    is trained, before changing the data or the GPU. The input itself when it fits; None when
    nothing tried fits."""
    if bill(s, False).fits:
        return Fix((), s)
    pool = candidates(s)
    for tier in (1, 2, 3):
        groups = _groups(pool, tier)
        for size in range(1, most + 1):
            found = []
            for chosen in combinations(groups, size):
                for combo in product(*chosen):
                    trial = s.but(**{k: v for c in combo for k, v in c.changes.items()})
                    if bill(trial, False).fits:
                        found.append((max(c.tier for c in combo), _key(trial), combo, trial))
            if found:
                _, _, combo, trial = min(found, key=lambda f: (f[0], f[1]))
                return Fix(combo, trial)
    return None
