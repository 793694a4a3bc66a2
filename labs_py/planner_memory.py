"""Peak GPU memory of one fine-tuning step, item by item, each with its formula and source.

Why: calculators that print one number hide which term is wrong. Here every byte belongs to an
item — weights, adapters, gradients, optimizer states, activations, the logits/loss buffer,
framework overhead — and each item says how it was computed, so a reader can check it against a
paper or a measured run. The default regime is an uncompiled Hugging Face + PEFT run: bf16 base
weights, fp32 LoRA adapters (PEFT's autocast_adapter_dtype), fp32-upcast loss, SDPA attention.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from labs_py.planner_gpus import GPUS
from labs_py.planner_models import MODELS, TARGETS, Model, adapted, lora_params, params_linear, params_total

GIB = 2**30
NF4_DQ_BITS = 4.127  # NF4 code + double-quantized block constants (QLoRA §3): 4 + 8/64 + 32/(64·256)
LOSS_BYTES = {"upcast": 10.0, "chunked": 2.5, "fused": 0.5}  # bytes per (token × vocabulary entry)
SOFTCAP_BYTES = 4.0  # Gemma-2 final-logit soft-capping keeps more vocabulary-sized temporaries
CONTEXT_GIB = (0.5, 0.75, 1.0)  # CUDA context + cuBLAS workspaces outside PyTorch's allocator: low, mid, high
FRAGMENTATION = 0.10  # the allocator's reserved-but-unused share, at most (added to the high end)
EAGER_BYTES = 8  # per token, head and key: bf16 scores + fp32 softmax + bf16 probabilities


@dataclass(frozen=True)
class Setup:
    """One planned run (clean lab params, typed)."""

    model: str = "llama-3.1-8b"
    method: str = "lora"  # full | lora | qlora
    task: str = "sft"  # sft | dpo (chosen + rejected per example)
    precision: str = "bf16"  # bf16: pure bf16 weights/grads/states; amp: fp32 master + bf16 autocast
    optim: str = "adamw"  # adamw | adamw8bit | paged_adamw8bit | sgd
    loss: str = "upcast"  # upcast | chunked | fused
    attn: str = "sdpa"  # sdpa (flash / memory-efficient kernels) | eager
    r: int = 16
    alpha: float = 32
    targets: tuple[str, ...] = TARGETS
    batch: int = 4
    seq: int = 2048
    ckpt: bool = False
    gpu: str = "rtx4090"
    tokens_m: float = 10.0  # dataset size, million tokens
    epochs: int = 3
    mfu: float = 0.35
    price: float = 0.0  # $/GPU-hour; 0 = the GPU's listed price

    @property
    def m(self) -> Model:
        return MODELS[self.model]

    @property
    def peft(self) -> bool:
        return self.method in ("lora", "qlora")

    @property
    def tokens_per_step(self) -> int:
        """T: tokens in one micro-batch (DPO feeds chosen and rejected together)."""
        return self.batch * self.seq * (2 if self.task == "dpo" else 1)

    def but(self, **changes) -> Setup:
        return replace(self, **changes)


def from_params(p: dict) -> Setup:
    """A Setup from the lab's clean params."""
    return Setup(p["model"], p["method"], p["task"], p["precision"], p["optim"], p["loss"], p["attn"], int(p["r"]),
                 float(p["alpha"]), tuple(p["targets"].split(",")), int(p["batch"]), int(p["seq"]), bool(p["ckpt"]),
                 p["gpu"], float(p["tokens"]), int(p["epochs"]), float(p["mfu"]), float(p["price"]))


@dataclass(frozen=True)
class Item:
    """One line of the memory bill."""

    key: str
    label: str
    bytes: float
    how: str  # formula with the numbers and its source
    paged: bool = False  # may page out to CPU memory (bitsandbytes paged optimizer): not counted against the GPU


@dataclass(frozen=True)
class Bill:
    """The itemised memory of one step and the verdict against one GPU."""

    items: tuple[Item, ...]
    overhead_range: tuple[float, float]  # bytes: low, high (the Item holds the middle)
    usable: float  # bytes PyTorch can use on the chosen GPU

    def get(self, key: str) -> float:
        return sum(it.bytes for it in self.items if it.key == key)

    @property
    def total(self) -> float:
        return sum(it.bytes for it in self.items)

    @property
    def resident(self) -> float:
        """What must sit in GPU memory (paged optimizer state can spill to CPU memory)."""
        return sum(it.bytes for it in self.items if not it.paged)

    @property
    def high(self) -> float:
        return self.resident - self.get("overhead") + self.overhead_range[1]

    @property
    def fits(self) -> bool:
        return self.resident <= self.usable


def trainable(s: Setup) -> int:
    return params_total(s.m) if s.method == "full" else lora_params(s.m, s.r, s.targets)


def _gib(x: float) -> str:
    return f"{x / GIB:.2f} GiB"


def _weight_kind(s: Setup) -> str:
    return "qlora" if s.method == "qlora" else "amp" if (s.method == "full" and s.precision == "amp") else "bf16"


def weights(s: Setup, explain: bool = True) -> Item:
    """Model weights (and the DPO reference copy for full fine-tuning)."""
    m, P = s.m, params_total(s.m)
    lin = params_linear(m)
    b = {"qlora": lin * NF4_DQ_BITS / 8 + (P - lin) * 2, "amp": P * 6, "bf16": P * 2}[_weight_kind(s)]
    ref = s.task == "dpo" and s.method == "full"
    b += P * 2 if ref else 0
    if not explain:
        return Item("weights", "Weights", b, "")
    how = {"qlora": f"{lin:,} projection weights × {NF4_DQ_BITS} bits (NF4 + double quantization, QLoRA §3) + "
                    f"{P - lin:,} embedding, norm and bias weights × 2 B (not quantized)",
           "amp": f"{P:,} × (4 B fp32 master + 2 B bf16 copy autocast keeps for the backward)",
           "bf16": f"{P:,} × 2 B (bf16)"}[_weight_kind(s)]
    if ref:
        how += f" + a frozen bf16 reference copy for DPO ({P:,} × 2 B)"
    elif s.task == "dpo":
        how += "; DPO's reference is the same base with adapters switched off: no copy"
    return Item("weights", "Weights", b, f"{how} = {_gib(b)}")


def adapters(s: Setup, explain: bool = True) -> Item:
    """LoRA A and B matrices, fp32 as PEFT keeps them by default."""
    if not s.peft:
        return Item("adapters", "Adapters", 0, "full fine-tuning: no adapters")
    n = trainable(s)
    if not explain:
        return Item("adapters", "Adapters", n * 4, "")
    mods = ", ".join(lin.name for lin in adapted(s.m, s.targets))
    return Item("adapters", "Adapters", n * 4, f"{n:,} LoRA parameters = {s.m.L} layers × Σ r·(d_in + d_out) over "
                f"{mods} (Hu et al. 2021 §4.1) × 4 B (fp32, PEFT's default) = {_gib(n * 4)}")


def gradients(s: Setup, explain: bool = True) -> Item:
    """One gradient per trainable parameter, in the trainable parameter's dtype."""
    n = trainable(s)
    per = 4 if (s.peft or s.precision == "amp") else 2
    if not explain:
        return Item("grads", "Gradients", n * per, "")
    kind = "fp32" if per == 4 else "bf16"
    return Item("grads", "Gradients", n * per, f"{n:,} trainable × {per} B ({kind}) = {_gib(n * per)}")


def optimizer(s: Setup, explain: bool = True) -> Item:
    """AdamW keeps m and v per trainable parameter (in the parameter's dtype in PyTorch)."""
    n = trainable(s)
    if s.optim == "sgd":
        return Item("optim", "Optimizer", 0, "SGD without momentum keeps no state")
    if s.optim in ("adamw8bit", "paged_adamw8bit"):
        paged = s.optim.startswith("paged")
        if not explain:
            return Item("optim", "Optimizer", n * 2, "", paged)
        note = "; paged: bitsandbytes moves it to CPU memory when the GPU runs short (QLoRA §3)" if paged else ""
        return Item("optim", "Optimizer", n * 2, f"{n:,} × 2 B (m and v in 8 bits, block-wise; Dettmers et al. "
                    f"2021){note} = {_gib(n * 2)}", paged)
    per = 8 if (s.peft or s.precision == "amp") else 4
    if not explain:
        return Item("optim", "Optimizer", n * per, "")
    src = "ZeRO §3.1 counts 12 B with the fp32 master" if per == 8 and not s.peft else "torch AdamW"
    return Item("optim", "Optimizer", n * per, f"{n:,} × {per} B (m and v in {'fp32' if per == 8 else 'bf16'}, "
                f"{src}) = {_gib(n * per)}")


def layer_bytes_per_token(s: Setup) -> tuple[float, str]:
    """Bytes one decoder layer keeps per token for the backward, and the formula."""
    m = s.m
    base = 2 * (4 * m.h + 2 * m.a * m.hd + 2 * m.kv * m.hd + 4 * m.i) + 2 * (m.norms - 2) * m.h
    parts = [f"2·(4h + 2·a·hd + 2·kv·hd + 4i) = {base:,}"]
    if s.peft:
        extra = 4 * sum(lin.d_in for lin in adapted(m, s.targets))
        base += extra
        parts.append(f"fp32 copies of adapted inputs 4·Σd_in = {extra:,}")
    if s.attn == "eager":
        extra = EAGER_BYTES * m.a * s.seq
        base += extra
        parts.append(f"eager attention 8·a·s = {extra:,}")
    return base, " + ".join(parts)


def activations(s: Setup, explain: bool = True) -> Item:
    """Saved activations: Korthikanti et al. 2022's accounting redone for Llama-style blocks."""
    m, T = s.m, s.tokens_per_step
    e, formula = layer_bytes_per_token(s)
    b = (m.L * 2 * m.h * T + e * T) if s.ckpt else m.L * e * T
    if not explain:
        return Item("activations", "Activations", b, "")
    if s.ckpt:
        how = (f"checkpointing keeps each layer's input, L·2h·T = {m.L}·2·{m.h}·{T:,}, and one layer is recomputed "
               f"at a time: e·T with e = {formula} B per token")
    else:
        how = f"L·e·T = {m.L} layers × e × {T:,} tokens, e = {formula} B per token and layer"
    return Item("activations", "Activations", b, f"{how} (Korthikanti et al. 2022) = {_gib(b)}")


def logits(s: Setup, explain: bool = True) -> Item:
    """The logits and loss buffer: tokens × vocabulary × bytes per entry of the loss implementation."""
    m, T = s.m, s.tokens_per_step
    c = LOSS_BYTES[s.loss] + (SOFTCAP_BYTES if m.softcap and s.loss == "upcast" else 0)
    what = {"upcast": "bf16 logits + fp32 upcast + fp32 gradient", "chunked": "cross-entropy in chunks",
            "fused": "fused linear + cross-entropy keeps one chunk"}[s.loss]
    b = T * m.V * c
    if not explain:
        return Item("logits", "Logits & loss", b, "")
    cap = " incl. soft-capping temporaries" if c != LOSS_BYTES[s.loss] else ""
    return Item("logits", "Logits & loss", b, f"T·V·c = {T:,} × {m.V:,} × {c:g} B ({what}{cap}) = {_gib(b)}")


def bill(s: Setup, explain: bool = True) -> Bill:
    """Every item of one step's peak memory, and the chosen GPU's usable memory (explain=False skips
    the "how" texts: the search for a fix calls this hundreds of times)."""
    items = [f(s, explain) for f in (weights, adapters, gradients, optimizer, activations, logits)]
    allocated = sum(it.bytes for it in items if not it.paged)
    lo, mid, hi = (g * GIB for g in CONTEXT_GIB)
    items.append(Item("overhead", "Overhead", mid, f"CUDA context and library workspaces, {CONTEXT_GIB[0]}–"
                      f"{CONTEXT_GIB[2]} GiB, plus up to {FRAGMENTATION:.0%} allocator fragmentation at the high end"))
    return Bill(tuple(items), (lo, hi + FRAGMENTATION * allocated), GPUS[s.gpu].usable_gib * GIB)
