"""The LoRA Lab in headless Chromium: snapshot, rank slider → CPython's numbers, Play trains, URL state."""

import json

import pytest
from conftest import metric, wait_live

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 1e-6  # Pyodide's numpy (no BLAS) vs the host's: same algorithms, sums may differ in the last bits


def expected(params: dict) -> dict[str, float]:
    """Every metric CPython computes for these params on a fresh view."""
    html = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "expected", "params": params,
                                                 "action": "reset"})))["html"]
    out = {}
    for part in html.split('data-metric="')[1:]:
        name, rest = part.split('"', 1)
        out[name] = float(rest.split('data-value="')[1].split('"')[0])
    return out


def wait_idle(page):
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")


def test_snapshot_shows_spectrum_and_metrics_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/lora/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert page.locator('svg[aria-label="Singular values of ΔW"] polyline').count() >= 2
    assert page.locator('svg[aria-label="How Jacobi found them"]').count() == 1
    assert page.locator(".lab-heatmap").count() == 3
    want = expected({})
    for name in ("energy", "rel_error", "params_lora", "optimum", "llama_params"):
        assert metric(page, name) == pytest.approx(want[name], rel=1e-12)
    assert metric(page, "step") == 0
    ctx.close()


def test_rank_slider_drives_the_numbers_python_computes(page, site):
    _, base = site
    page.goto(f"{base}labs/lora/")
    wait_live(page, "lora")
    page.focus('[data-control="r"]')
    page.keyboard.press("ArrowRight")  # r 8 → 9
    page.wait_for_function("() => document.querySelector('[data-metric=params_lora]').dataset.value === '1152.0'")
    wait_idle(page)
    want = expected({"r": 9})
    for name in ("energy", "rel_error", "optimum"):
        assert metric(page, name) == pytest.approx(want[name], rel=TOL)
    for name in ("params_lora", "params_ratio", "llama_params", "llama_share", "llama_bf16"):
        assert metric(page, name) == want[name]
    assert "r=9" in page.url
    page.keyboard.press("Home")  # r = 1
    page.wait_for_function("() => document.querySelector('[data-metric=params_lora]').dataset.value === '128.0'")
    wait_idle(page)
    assert metric(page, "energy") == pytest.approx(expected({"r": 1})["energy"], rel=TOL)
    page.watch.assert_clean()


def test_play_trains_and_the_loss_decreases_towards_the_optimum(page, site):
    _, base = site
    page.goto(f"{base}labs/lora/")
    wait_live(page, "lora")
    assert metric(page, "loss") == pytest.approx(1.0)
    page.click('[data-action="play"]')
    page.wait_for_function("() => Number(document.querySelector('[data-metric=step]').dataset.value) >= 120",
                           timeout=30_000)
    page.click('[data-action="play"]')  # pause
    wait_idle(page)
    loss, best = metric(page, "loss"), metric(page, "optimum")
    assert best * (1 - 1e-9) <= loss < 0.5
    steps = metric(page, "step")
    page.wait_for_timeout(300)
    assert metric(page, "step") == steps  # paused means paused
    page.click('[data-action="train"]')
    page.wait_for_function("s => Number(document.querySelector('[data-metric=step]').dataset.value) > s", arg=steps)
    assert best * (1 - 1e-9) <= metric(page, "loss") < loss
    page.click('[data-action="reset"]')
    page.wait_for_function("() => document.querySelector('[data-metric=step]').dataset.value === '0.0'")
    page.watch.assert_clean()


def test_url_state_round_trips(page, site):
    _, base = site
    page.goto(f"{base}labs/lora/?r=12&noise=0.1&log=1")
    wait_live(page, "lora")
    assert page.input_value('[data-control="r"]') == "12"
    assert page.is_checked('[data-control="log"]')
    want = expected({"r": 12, "noise": 0.1, "log": 1})
    assert metric(page, "params_lora") == 12 * 128
    assert metric(page, "energy") == pytest.approx(want["energy"], rel=TOL)
    assert metric(page, "rel_error") == pytest.approx(want["rel_error"], rel=TOL)
    page.focus('[data-control="r"]')
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => location.search.includes('r=11')")
    assert "noise=0.1" in page.url and "log=1" in page.url
    page.watch.assert_clean()
