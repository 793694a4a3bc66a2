"""Planner compute: FLOPs per token against Kaplan's 6N and the LoRA/checkpointing/DPO refinements, time
and cost by hand, and the cheapest fix found by search (checked against brute force)."""

from itertools import combinations, product

import pytest

from labs_py.planner_compute import QLORA_SLOWDOWN, attention_fwd, candidates, cheapest_fix, flops_per_token, run_time
from labs_py.planner_gpus import GPUS
from labs_py.planner_memory import Setup, bill
from labs_py.planner_models import MODELS, params_total

N8 = params_total(MODELS["llama-3.1-8b"]) - 128256 * 4096  # untied: the input embedding lookup costs nothing


def test_full_is_six_n_plus_attention():
    s = Setup(method="full", seq=2048)
    att = 4 * 32 * 2048 * 32 * 128 / 2  # QKᵀ and PV, causal half
    assert attention_fwd(s) == att
    assert flops_per_token(s).model == pytest.approx(6 * N8 + 3 * att)


def test_lora_skips_weight_gradients_and_checkpointing_adds_a_forward():
    s = Setup(seq=2048)
    n = 41_943_040
    att = attention_fwd(s)
    f = flops_per_token(s)
    assert f.model == f.hardware == pytest.approx(4 * N8 + 6 * n + 3 * att)
    g = flops_per_token(s.but(ckpt=True))
    assert g.model == f.model and g.hardware - g.model == pytest.approx(2 * N8 + 2 * n + att)


def test_dpo_adds_the_reference_forward():
    s = Setup(seq=1024)
    assert flops_per_token(s.but(task="dpo")).model - flops_per_token(s).model == pytest.approx(2 * N8 + attention_fwd(s))


def test_run_time_and_cost_by_hand():
    s = Setup(model="llama-2-7b", targets=("q", "k", "v", "o"), batch=8, seq=512, ckpt=True, tokens_m=0.28,
              epochs=3, mfu=0.61, gpu="rtx4090")
    g = GPUS["rtx4090"]
    tokens = 0.28e6 * 3
    compute = tokens * flops_per_token(s).hardware / (0.61 * g.peak_tflops * 1e12)
    steps = tokens / (8 * 512)
    optimizer = steps * 16_777_216 * (4 + 4 + 4 + 2 * 8) / (g.bandwidth_gbs * 1e9)
    t = run_time(s)
    assert t.seconds == pytest.approx(compute + optimizer)
    assert t.cost == pytest.approx(t.seconds / 3600 * g.price)
    assert run_time(s.but(price=3.0)).cost == pytest.approx(t.seconds / 3600 * 3.0)
    assert run_time(s.but(gpu="t4")).cost is None  # no listed price, none set


def test_stage_page_exercise_time():
    """docs/index.md assumes 100 TFLOP/s of useful work: 3.53 × 10¹⁶ FLOPs, about 6 minutes."""
    s = Setup(model="llama-2-7b", targets=("q", "k", "v", "o"), batch=8, seq=512, ckpt=True, tokens_m=0.28,
              mfu=0.61, gpu="rtx4090")
    assert run_time(s).compute_s / 60 == pytest.approx(6, rel=0.15)


def test_qlora_pays_for_dequantization():
    s = Setup(batch=1, seq=1024, ckpt=True)
    assert run_time(s.but(method="qlora")).compute_s == pytest.approx(QLORA_SLOWDOWN * run_time(s).compute_s)


def brute_force(s: Setup):
    """Every combination of up to three candidates (one per control), ranked like cheapest_fix."""
    pool = candidates(s)
    groups = {}
    for c in pool:
        groups.setdefault(next(iter(c.changes)), []).append(c)
    best = None
    for size in (1, 2, 3):
        for chosen in combinations(groups.values(), size):
            for combo in product(*chosen):
                trial = s.but(**{k: v for c in combo for k, v in c.changes.items()})
                if bill(trial).fits:
                    t = run_time(trial)
                    key = (max(c.tier for c in combo), size, t.cost if t.cost is not None else t.gpu_hours * 1e6)
                    best = min(best, (key, trial), key=lambda x: x[0]) if best else (key, trial)
    return best


@pytest.mark.parametrize("s", [Setup(), Setup(method="full", batch=1, seq=512), Setup(model="qwen2.5-14b", task="dpo"),
                               Setup(model="llama-3.1-70b", method="full", gpu="l40s")],
                         ids=["8b-lora", "8b-full", "qwen14-dpo", "70b-full"])
def test_cheapest_fix_matches_brute_force(s):
    fix, best = cheapest_fix(s), brute_force(s)
    assert bill(fix.setup).fits and fix.setup == best[1]


def test_fix_is_computed_not_fixed():
    assert cheapest_fix(Setup()).changes[0].changes == {"ckpt": True}  # logits + activations dominate at 4 × 2048
    full = cheapest_fix(Setup(method="full", batch=1, seq=512))
    assert [c.changes for c in full.changes] == [{"method": "lora"}]
    ok = Setup(batch=1, seq=512)
    assert cheapest_fix(ok).changes == () and cheapest_fix(ok).setup == ok
