"""Planner memory: items against hand computations, and the bill against published measured peaks.

Fixtures from /shared/research/planner.md §3 that the lab's inputs can express. Not expressible, so not
tested: torchtune's full fine-tuning with optimizer-in-backward (gradients freed during the backward),
its FSDP multi-GPU runs, the Alpaca runs of unknown sequence length (torchtune LoRA tutorials, Lit-GPT),
and Unsloth's maximum-context table, measured with a transformers release that upcast logits to fp32 in
the forward (about 16 bytes per logit, against the 10 of the current loss path the lab models).
"""

import pytest

from labs_py.planner_memory import GIB, NF4_DQ_BITS, Setup, bill, layer_bytes_per_token
from labs_py.planner_models import MODELS, params_total

PEFT_TOL = 0.05  # uncompiled Hugging Face + PEFT runs: the formulas' calibration target
COMPILED_TOL = 0.15  # torch.compile'd torchtune runs save fewer activations than eager PyTorch

# PEFT method comparison, MetaMathQA, Llama-3.2-3B, bf16 weights, AdamW, batch 4, max length 768, no
# checkpointing, SDPA, L40S: accelerator_memory_max in GiB (huggingface/peft method_comparison results).
METAMATHQA = Setup(model="llama-3.2-3b", batch=4, seq=768, gpu="l40s")
PEFT_FIXTURES = [
    ("full fine-tuning", {"method": "full"}, 36.20),
    ("LoRA q,v r=32", {"r": 32, "targets": ("q", "v")}, 20.76),
    ("LoRA q,v r=64", {"r": 64, "targets": ("q", "v")}, 21.00),
    ("LoRA gate,up,down r=10", {"r": 10, "targets": ("gate", "up", "down")}, 23.00),
]


@pytest.mark.parametrize(("name", "changes", "measured"), PEFT_FIXTURES, ids=[f[0] for f in PEFT_FIXTURES])
def test_peft_metamathqa_peaks(name, changes, measured):
    assert bill(METAMATHQA.but(**changes)).total / GIB == pytest.approx(measured, rel=PEFT_TOL)


# torchtune README, "peak memory active" (PyTorch allocator only: no CUDA context): compare without overhead.
TORCHTUNE_LORA = Setup(model="llama-3.1-8b", r=8, targets=("q", "v", "o", "gate", "up", "down"), batch=2, seq=2048,
                       ckpt=True, loss="fused")
TORCHTUNE_FIXTURES = [
    ("Llama-3.1-8B LoRA, RTX 4090", TORCHTUNE_LORA, 16.2),
    ("Llama-3.1-8B QLoRA, RTX 4090", TORCHTUNE_LORA.but(method="qlora"), 7.4),
    ("Llama-3.2-3B full, packed 2 x 4096, no compile", Setup(model="llama-3.2-3b", method="full", batch=2, seq=4096,
                                                           gpu="a100-80"), 60.0),
]


@pytest.mark.parametrize(("name", "setup", "measured"), TORCHTUNE_FIXTURES, ids=[f[0] for f in TORCHTUNE_FIXTURES])
def test_torchtune_active_peaks(name, setup, measured):
    b = bill(setup)
    assert (b.resident - b.get("overhead")) / GIB == pytest.approx(measured, rel=COMPILED_TOL)


def test_qlora_paper_4bit_llama_7b_base():
    """QLoRA §3: LLaMA-7B's 4-bit base 'consumes 5,048 MB' (process memory, so with the CUDA context).
    Llama-2-7B has LLaMA-7B's shapes."""
    b = bill(Setup(model="llama-2-7b", method="qlora"))
    assert (b.get("weights") + b.get("overhead")) / 1e6 == pytest.approx(5048, rel=COMPILED_TOL)


def test_qlora_65b_fits_one_48gb_gpu():
    """QLoRA's abstract; the guanaco-65b script: r 64, alpha 16, all linear, batch 4, 16 + 512 tokens,
    checkpointing, paged optimizer (the paper's was 32-bit paged: either way it may page out)."""
    s = Setup(model="llama-1-65b", method="qlora", r=64, alpha=16, batch=4, seq=528, ckpt=True,
              optim="paged_adamw8bit", gpu="l40s")
    assert bill(s).fits
    assert not bill(s.but(method="lora")).fits


@pytest.mark.parametrize("gpu", ["rtx4090", "l4"])
def test_llama_8b_full_adamw_does_not_fit_24gb(gpu):
    b = bill(Setup(method="full", optim="adamw", batch=1, seq=512, gpu=gpu))
    assert not b.fits
    assert b.get("weights") + b.get("grads") + b.get("optim") == 8 * params_total(MODELS["llama-3.1-8b"])


def test_items_match_hand_computations_llama_8b_lora():
    s = Setup(batch=2, seq=1024)  # LoRA r=16 on all seven projections, fp32 adapters, upcast loss, SDPA
    b = bill(s)
    h, i, L, V, T = 4096, 14336, 32, 128256, 2048
    n = 41_943_040
    assert b.get("weights") == 2 * 8_030_261_248
    assert b.get("adapters") == b.get("grads") == 4 * n and b.get("optim") == 8 * n
    e = 2 * (4 * h + 2 * 4096 + 2 * 1024 + 4 * i) + 4 * (5 * h + 4096 + i)  # + fp32 inputs of q,k,v,gate,up; o; down
    assert b.get("activations") == L * e * T
    assert b.get("logits") == T * V * 10
    assert b.get("overhead") == 0.75 * GIB


def test_checkpointing_keeps_layer_inputs_and_one_layer():
    s = Setup(batch=1, seq=4096)
    e, _ = layer_bytes_per_token(s)
    assert bill(s.but(ckpt=True)).get("activations") == 32 * 2 * 4096 * 4096 + e * 4096


def test_eager_attention_adds_the_score_matrices():
    s = Setup(batch=1, seq=2048)
    extra = bill(s.but(attn="eager")).get("activations") - bill(s).get("activations")
    assert extra == 32 * 8 * 32 * 2048 * 2048  # L · 8 bytes · a · s per token, × T = s tokens


def test_qlora_weights_nf4_with_double_quantization():
    m = MODELS["llama-3.1-8b"]
    linear = 32 * (4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336)
    rest = 2 * 128256 * 4096 + 65 * 4096
    assert pytest.approx(4 + 8 / 64 + 32 / (64 * 256), abs=5e-4) == NF4_DQ_BITS
    assert bill(Setup(method="qlora")).get("weights") == pytest.approx(linear * NF4_DQ_BITS / 8 + rest * 2)
    assert linear + rest == params_total(m)


def test_regimes_bytes_per_parameter():
    """Pure bf16 AdamW: 2 + 2 + 4 bytes; AMP: 4 + 2 (autocast copy) + 4 + 8; 8-bit: states 2; SGD: 0."""
    P = params_total(MODELS["llama-3.2-3b"])
    base = Setup(model="llama-3.2-3b", method="full")

    def state(s):
        b = bill(s)
        return (b.get("weights") + b.get("grads") + b.get("optim")) / P

    assert state(base) == 8 and state(base.but(precision="amp")) == 18
    assert state(base.but(optim="adamw8bit")) == 6 and state(base.but(optim="sgd")) == 4


def test_paged_state_is_not_counted_against_the_gpu():
    b = bill(Setup(method="full", optim="paged_adamw8bit"))
    assert b.total - b.resident == b.get("optim") > 0


def test_dpo_doubles_tokens_and_adds_a_reference_copy_only_for_full():
    sft, dpo = bill(Setup(method="full")), bill(Setup(method="full", task="dpo"))
    assert dpo.get("logits") == 2 * sft.get("logits")
    assert dpo.get("weights") == 2 * sft.get("weights")
    assert bill(Setup(task="dpo")).get("weights") == bill(Setup()).get("weights")
