"""Model shapes for the Planner Lab, vendored from the models' config.json, and what they imply.

Why: every memory and FLOP figure starts from the shapes. Parameter counts are derived from them
(grouped-query attention, head_dim ≠ hidden/heads, tied embeddings, QKV biases, fused projections)
and tests require them to equal the published totals exactly, so a wrong shape cannot hide.
Each model records where its values were read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

TARGETS = ("q", "k", "v", "o", "gate", "up", "down")  # LoRA target modules by name


@dataclass(frozen=True)
class Model:
    """The config.json shape of a decoder-only transformer (names as in Hugging Face configs)."""

    label: str
    h: int  # hidden_size
    i: int  # intermediate_size (SwiGLU / GeGLU width)
    L: int  # num_hidden_layers
    a: int  # num_attention_heads
    kv: int  # num_key_value_heads (GQA when < a)
    hd: int  # head_dim
    V: int  # vocab_size
    tied: bool  # tie_word_embeddings: lm_head shares the embedding matrix
    published: int  # total parameters as published
    shapes_from: str  # where the shape values were read
    total_from: str  # where the published total was read
    qkv_bias: bool = False  # Qwen2: q, k, v projections carry biases
    fused: bool = False  # Phi-3: one qkv_proj and one gate_up_proj module
    norms: int = 2  # RMSNorms per layer (Gemma-2 has 4)
    softcap: bool = False  # Gemma-2: final logit soft-capping (more vocabulary-sized temporaries)


_DOTNET = "dotnet/machinelearning, src/Microsoft.ML.GenAI.{}/Resource/Config/{}"
MODELS: dict[str, Model] = {
    "llama-3.1-8b": Model(
        "Llama-3.1-8B", 4096, 14336, 32, 32, 8, 128, 128256, False, 8_030_261_248,
        _DOTNET.format("LLaMA", "meta-llama-3.1-8B-Instruct.json") + " (head_dim = 4096/32)",
        "PEFT print_trainable_parameters outputs; safetensors metadata"),
    "llama-3.1-70b": Model(
        "Llama-3.1-70B", 8192, 28672, 80, 64, 8, 128, 128256, False, 70_553_706_496,
        _DOTNET.format("LLaMA", "meta-llama-3.1-70B-Instruct.json") + " (head_dim = 8192/64)",
        "safetensors metadata of meta-llama/Llama-3.1-70B"),
    "llama-3.2-3b": Model(
        "Llama-3.2-3B", 3072, 8192, 28, 24, 8, 128, 128256, True, 3_212_749_824,
        _DOTNET.format("LLaMA", "meta-llama-3.2-3B-Instruct.json"),
        "safetensors metadata of meta-llama/Llama-3.2-3B"),
    "llama-2-7b": Model(
        "Llama-2-7B", 4096, 11008, 32, 32, 32, 128, 32000, False, 6_738_415_616,
        "meta-llama/Llama-2-7b-hf config.json (as copied in public model-config tables; head_dim = 4096/32)",
        "safetensors metadata; PEFT print_trainable_parameters 'all params: 6,738,415,616'"),
    "llama-1-65b": Model(
        "LLaMA-65B", 8192, 22016, 80, 64, 64, 128, 32000, False, 65_285_660_672,
        "LLaMA paper (arXiv:2302.13971) Table 2: dim 8192, 64 heads, 80 layers; vocabulary 32,000 (§2); "
        "FFN = 2/3·4d rounded up to a multiple of 256 = 22,016 (facebookresearch/llama model.py)",
        "derived from the paper's shapes (the paper rounds it to 65.2B)"),
    "mistral-7b-v0.3": Model(
        "Mistral-7B-v0.3", 4096, 14336, 32, 32, 8, 128, 32768, False, 7_248_023_552,
        _DOTNET.format("Mistral", "mistral-7B-instruct-v0.3.json"),
        "safetensors metadata of mistralai/Mistral-7B-v0.3"),
    "qwen2.5-7b": Model(
        "Qwen2.5-7B", 3584, 18944, 28, 28, 4, 128, 152064, False, 7_615_616_512,
        "Qwen/Qwen2.5-7B config.json (copied in citsjtu2020/LLM-Prof sglang/Model_Config.md)",
        "safetensors metadata of Qwen/Qwen2.5-7B-Instruct", qkv_bias=True),
    "qwen2.5-14b": Model(
        "Qwen2.5-14B", 5120, 13824, 48, 40, 8, 128, 152064, False, 14_770_033_664,
        "Qwen/Qwen2.5-14B config.json (copied in citsjtu2020/LLM-Prof sglang/Model_Config.md)",
        "PEFT print 'all params: 14,770,033,664'; safetensors metadata", qkv_bias=True),
    "qwen2.5-72b": Model(
        "Qwen2.5-72B", 8192, 29568, 80, 64, 8, 128, 152064, False, 72_706_203_648,
        "Qwen/Qwen2.5-72B-Instruct config.json (copied in public model reports)",
        "safetensors metadata of Qwen/Qwen2.5-72B-Instruct (37 files, 135.43 GB)", qkv_bias=True),
    "phi-3-mini-4k": Model(
        "Phi-3-mini-4k", 3072, 8192, 32, 32, 32, 96, 32064, False, 3_821_079_552,
        _DOTNET.format("Phi", "phi-3-mini-4k-instruct-config.json") + "; fused qkv_proj and gate_up_proj "
        "(transformers Phi3 modelling)", "safetensors metadata of microsoft/Phi-3-mini-4k-instruct", fused=True),
    "gemma-2-9b": Model(
        "Gemma-2-9B", 3584, 14336, 42, 16, 8, 256, 256000, True, 9_241_705_984,
        "google/gemma-2-9b-it config.json (quoted in vllm-project/vllm#10548); head_dim 256 ≠ 3584/16; "
        "tie_word_embeddings absent → Gemma2Config default True", "safetensors metadata of google/gemma-2-9b",
        norms=4, softcap=True),
}


@dataclass(frozen=True)
class Linear:
    """One projection of a decoder layer: y = x W^T with W of shape (d_out, d_in)."""

    name: str
    d_in: int
    d_out: int
    targets: frozenset[str]  # LoRA target names that adapt this module


@lru_cache(maxsize=256)
def linears(m: Model) -> tuple[Linear, ...]:
    """The projections of one decoder layer (Phi-3 fuses q,k,v and gate,up into one module each)."""
    q, kv = m.a * m.hd, m.kv * m.hd
    if m.fused:
        return (Linear("qkv_proj", m.h, q + 2 * kv, frozenset("qkv")), Linear("o_proj", q, m.h, frozenset({"o"})),
                Linear("gate_up_proj", m.h, 2 * m.i, frozenset({"gate", "up"})),
                Linear("down_proj", m.i, m.h, frozenset({"down"})))
    return (Linear("q_proj", m.h, q, frozenset({"q"})), Linear("k_proj", m.h, kv, frozenset({"k"})),
            Linear("v_proj", m.h, kv, frozenset({"v"})), Linear("o_proj", q, m.h, frozenset({"o"})),
            Linear("gate_proj", m.h, m.i, frozenset({"gate"})), Linear("up_proj", m.h, m.i, frozenset({"up"})),
            Linear("down_proj", m.i, m.h, frozenset({"down"})))


@lru_cache(maxsize=256)
def params_linear(m: Model) -> int:
    """Weights of every projection in every layer (what QLoRA stores in 4 bits)."""
    return m.L * sum(lin.d_in * lin.d_out for lin in linears(m))


def params_embedding(m: Model) -> int:
    """Token embedding plus a separate lm_head unless the two are tied."""
    return m.V * m.h * (1 if m.tied else 2)


def params_small(m: Model) -> int:
    """Norm scales (per layer and the final one) and QKV biases: kept in 16 bits by QLoRA."""
    bias = (m.a + 2 * m.kv) * m.hd if m.qkv_bias else 0
    return m.L * (m.norms * m.h + bias) + m.h


@lru_cache(maxsize=256)
def params_total(m: Model) -> int:
    """All parameters, each shared tensor counted once."""
    return params_linear(m) + params_embedding(m) + params_small(m)


@lru_cache(maxsize=256)
def adapted(m: Model, targets: tuple[str, ...]) -> tuple[Linear, ...]:
    """The modules of one layer that LoRA adapts for these target names (a fused module once)."""
    chosen = set(targets)
    return tuple(lin for lin in linears(m) if lin.targets & chosen)


@lru_cache(maxsize=256)
def lora_params(m: Model, r: int, targets: tuple[str, ...]) -> int:
    """Trainable LoRA parameters: r·(d_in + d_out) per adapted module (A: r×d_in, B: d_out×r; Hu et al. §4.1)."""
    return m.L * sum(r * (lin.d_in + lin.d_out) for lin in adapted(m, targets))


@lru_cache(maxsize=256)
def compute_params(m: Model) -> int:
    """N for FLOP counting: every parameter used in a matrix multiply (the embedding lookup is free)."""
    return params_total(m) - (0 if m.tied else m.V * m.h)
