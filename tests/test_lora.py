"""The LoRA Lab's view: the synthetic update, cached SVD, metrics vs LAPACK, training actions, runtime."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from labs_py import lora, runtime
from labs_py import lora_fit as fit
from labs_py.controls import defaults

DEFAULTS = defaults(lora.CONTROLS)


def metrics(html: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', html)}


def params(**changes) -> dict:
    return {**DEFAULTS, **changes}


def key(p: dict) -> tuple:
    return (p["intrinsic"], float(p["decay"]), float(p["noise"]), p["seed"])


def test_synthetic_update_has_the_designed_structure():
    dW, S, N, sigma = lora.synthetic_update(64, 64, 4, 0.3, 0.05, 3)
    assert np.allclose(dW, S + N)
    assert np.allclose(np.linalg.svd(S, compute_uv=False), sigma, atol=1e-12)  # S = U diag(σ) Vᵀ exactly
    assert sigma[0] == 1.0 and sigma[3] == pytest.approx(0.625) and sigma[4] == pytest.approx(0.3)
    assert sigma[5] / sigma[4] == pytest.approx(math.exp(-0.3))
    assert np.std(N) == pytest.approx(0.05 / 8, rel=0.05)  # noise/√k
    again = lora.synthetic_update(64, 64, 4, 0.3, 0.05, 3)[0]
    assert np.array_equal(dW, again)  # seeded: identical every time
    assert not np.array_equal(dW, lora.synthetic_update(64, 64, 4, 0.3, 0.05, 4)[0])


def test_rank_change_does_not_recompute_the_svd(monkeypatch):
    calls = []
    real = lora.jacobi_svd
    monkeypatch.setattr(lora, "jacobi_svd", lambda A: calls.append(1) or real(A))
    lora.target.cache_clear()
    lora.rank_cut.cache_clear()
    lora.rank_section.cache_clear()
    lora._update_figures.cache_clear()
    state = None
    for r in (8, 1, 2, 17, 64, 8):
        state = lora.render(params(r=r, seed=33), state, None, None).state
    assert len(calls) == 1
    lora.render(params(seed=34), state, None, None)
    assert len(calls) == 2  # a new ΔW does


@pytest.mark.parametrize("r", [1, 4, 8, 12, 33, 64])
def test_rank_metrics_match_lapack(r):
    p = params(r=r)
    m = metrics(lora.render(p).html)
    t = lora.target(*key(p))
    s = np.linalg.svd(t.dW, compute_uv=False)
    tail = float(np.sum(s[r:] ** 2) / np.sum(s**2))
    assert m["energy"] == pytest.approx(1 - tail, rel=1e-10, abs=1e-12)
    assert m["rel_error"] == pytest.approx(math.sqrt(tail), rel=1e-10, abs=1e-10)  # Eckart–Young
    assert m["optimum"] == pytest.approx(tail, rel=1e-10, abs=1e-12)
    assert m["params_lora"] == r * 128
    assert m["params_ratio"] == pytest.approx(r * 128 / 4096)
    assert m["llama_params"] == r * 851_968
    assert m["llama_bf16"] == 2 * r * 851_968
    assert m["llama_share"] == pytest.approx(r * 851_968 / 8_030_261_248)


def test_fresh_adapter_is_untrained():
    m = metrics(lora.render(params()).html)
    assert m["step"] == 0
    assert m["loss"] == pytest.approx(1.0)  # B = 0
    assert m["overlap"] == 0.0 and m["signal_captured"] == 0.0


def test_default_training_run_reaches_the_optimum():
    """Exactly DEFAULT_STEPS steps at the lab's defaults: within 1 % of Eckart–Young, never below it."""
    view = lora.render(params(), None, "train", None)
    m = metrics(view.html)
    assert m["step"] == lora.DEFAULT_STEPS
    best = m["optimum"]
    assert best - 1e-12 <= m["loss"] <= 1.01 * best
    assert min(view.state.history) >= best - 1e-12
    assert m["overlap"] > 0.99
    assert m["signal_captured"] > 0.95 > 0.5 > m["noise_captured"]


def test_step_play_and_reset():
    view = lora.render(params(), None, "init", {"stored": None})
    losses = []
    for _ in range(30):
        view = lora.render(params(), view.state, "step", None)
        losses.append(metrics(view.html)["loss"])
    assert metrics(view.html)["step"] == 30 * lora.STEPS_PER_FRAME
    assert losses[-1] < 0.5 * losses[0]
    view = lora.render(params(lr="0.01"), view.state, None, None)  # a new learning rate keeps the run
    assert metrics(view.html)["step"] == 30 * lora.STEPS_PER_FRAME
    assert metrics(lora.render(params(), view.state, "reset", None).html)["step"] == 0
    assert metrics(lora.render(params(r=9), view.state, None, None).html)["step"] == 0  # new r, new adapter
    assert metrics(lora.render(params(seed=2), view.state, None, None).html)["step"] == 0  # new ΔW too


def test_long_runs_keep_a_bounded_evenly_spaced_history():
    view = lora.render(params(), None, "train", None)
    first = list(view.state.history)
    for _ in range(4):
        view = lora.render(params(), view.state, "train", None)
    run = view.state
    assert run.opt.t == 5 * lora.DEFAULT_STEPS
    assert len(run.history) <= lora.MAX_POINTS and run.stride == 8
    assert run.history[: len(first[::8])] == first[::8]  # loss after 0, 8, 16, … steps, exactly as recorded
    assert len(run.history) == 5 * lora.DEFAULT_STEPS // 8
    assert len(view.html) < 120_000


def test_training_metrics_match_the_adapter():
    view = lora.render(params(r=6), None, "train", None)
    run, m = view.state, metrics(view.html)
    t = lora.target(*key(params()))
    M = fit.scale(6) * run.B @ run.A
    assert m["loss"] == pytest.approx(np.sum((t.dW - M) ** 2) / np.sum(t.dW**2), rel=1e-12)
    assert m["gap"] == pytest.approx((m["loss"] - m["optimum"]) / m["optimum"], rel=1e-9, abs=1e-15)
    assert m["signal_captured"] == pytest.approx(np.sum(M * t.S) / np.sum(t.S**2), rel=1e-12)
    assert m["noise_captured"] == pytest.approx(np.sum(M * t.N) / np.sum(t.N**2), rel=1e-12)


def test_full_rank_optimum_is_zero_and_chart_stays_finite():
    view = lora.render(params(r=64), None, "train", None)
    m = metrics(view.html)
    assert m["optimum"] == 0.0
    assert m["gap"] == pytest.approx(m["loss"]) and m["loss"] < 1e-3
    assert all(math.isfinite(v) for v in m.values())
    assert "nan" not in view.html


def test_log_toggle_changes_only_the_spectrum_axis():
    lin, log = lora.render(params()).html, lora.render(params(log=1)).html
    assert "σᵢ (log scale)" in log and "σᵢ (log scale)" not in lin
    assert metrics(lin) == metrics(log)


def test_view_stays_small_enough_to_swap_every_frame():
    html = lora.render(params(), None, "train", None).html
    assert len(html) < 120_000
    assert html.count("<path") <= 3 * 12 + 2  # heatmaps: at most one path per colour bucket


def test_runtime_round_trip_and_url_clamping():
    reply = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "t", "params": {"r": "12"}, "action": "init"})))
    assert reply["params"]["r"] == 12 and reply["query"] == {"r": 12}
    assert metrics(reply["html"])["params_lora"] == 12 * 128
    reply = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "t", "params": {"r": "12"}, "action": "step"})))
    assert metrics(reply["html"])["step"] == lora.STEPS_PER_FRAME
    reply = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "t", "params": {"r": "500"}})))
    assert reply["params"]["r"] == 64 and "outside" in reply["notices"]


def test_snapshot_is_the_initial_view():
    html = runtime.snapshot("lora", {"r": "5"})
    assert 'data-lab="lora"' in html and 'data-action="play"' in html
    assert "Singular values of ΔW" in html and "How Jacobi found them" in html
    assert metrics(html)["params_lora"] == 5 * 128
