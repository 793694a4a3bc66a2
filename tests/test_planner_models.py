"""Planner shapes: parameter totals equal the published ones; LoRA counts equal PEFT's printouts."""

import pytest

from labs_py.planner_models import MODELS, TARGETS, compute_params, linears, lora_params, params_total


@pytest.mark.parametrize("key", list(MODELS))
def test_parameter_total_equals_the_published_one(key):
    m = MODELS[key]
    assert params_total(m) == m.published


def test_llama_3_2_3b_by_hand():
    """The issue's figure, from the shapes by a separate formula: tied embeddings, GQA, head_dim 128."""
    h, i, L, a, kv, hd, V = 3072, 8192, 28, 24, 8, 128, 128256
    per_layer = h * a * hd + 2 * h * kv * hd + a * hd * h + 3 * h * i + 2 * h
    assert V * h + L * per_layer + h == 3_212_749_824 == params_total(MODELS["llama-3.2-3b"])


def test_llama_65b_ffn_is_two_thirds_of_4d_rounded_up_to_256():
    d = 8192
    hidden = int(2 * 4 * d / 3)
    assert 256 * ((hidden + 255) // 256) == MODELS["llama-1-65b"].i == 22016
    assert params_total(MODELS["llama-1-65b"]) == 65_285_660_672


def test_lora_counts_equal_peft_printouts():
    m = MODELS["llama-3.1-8b"]
    assert lora_params(m, 16, TARGETS) == 41_943_040  # PEFT: "trainable params: 41,943,040"
    assert lora_params(m, 8, ("q", "v")) == 32 * 8 * ((4096 + 4096) + (4096 + 1024)) == 3_407_872


def test_exercise_lora_count_matches_the_stage_page():
    """docs/index.md: 4 · 32 · 16 · (4096 + 4096) = 16,777,216 for r = 16 on q, k, v, o of a Llama-2-7B."""
    assert lora_params(MODELS["llama-2-7b"], 16, ("q", "k", "v", "o")) == 4 * 32 * 16 * 8192 == 16_777_216


def test_phi3_fused_modules_are_adapted_once():
    m = MODELS["phi-3-mini-4k"]
    assert [lin.name for lin in linears(m)] == ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
    fused = lora_params(m, 1, TARGETS)
    separate = 32 * ((3072 + 3072) * 3 + (3072 + 3072) + (3072 + 8192) * 2 + (8192 + 3072))
    assert fused == 1_572_864 and separate == 1_867_776
    assert lora_params(m, 1, ("q",)) == lora_params(m, 1, ("q", "k", "v")) == 32 * (3072 + 3 * 3072)


def test_compute_params_drop_only_the_untied_input_embedding():
    untied, tied = MODELS["llama-3.1-8b"], MODELS["llama-3.2-3b"]
    assert compute_params(untied) == params_total(untied) - 128256 * 4096
    assert compute_params(tied) == params_total(tied)
