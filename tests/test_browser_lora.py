"""The LoRA Lab in headless Chromium, on one shared live page: snapshot without JavaScript, Train runs the
schedule in Pyodide and Play stops at its end, the numbers match CPython's, URL state round-trips."""

import json

import pytest
from conftest import live_page, metric, wait_live

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 0.01  # accuracies: Pyodide's numpy (no BLAS) sums in another order; 200 Adam steps may flip ≤ 1 % of ~300 images


def expected(params: dict, action: str | None = None) -> dict[str, float]:
    """CPython's metrics for these params on a fresh lab after `action`."""
    reply = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "expected", "params": params,
                                                  "action": action or "reset"})))
    if action:
        reply = json.loads(runtime.handle(json.dumps({"lab": "lora", "instance": "expected2", "params": params,
                                                      "action": action})))
    out = {}
    html = "".join(reply["slots"].values())
    for part in html.split('data-metric="')[1:]:
        name, rest = part.split('"', 1)
        raw = rest.split('data-value="')[1].split('"')[0]
        if raw:
            out[name] = float(raw)
    return out


@pytest.fixture(scope="module")
def live(browser, site):
    """One live LoRA page for the whole module; each test starts from Reset."""
    with live_page(browser, site, "lora") as pg:
        yield pg


def idle(page):
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")


def test_snapshot_shows_the_base_model_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/lora/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert page.locator('svg[aria-label="Held-out accuracy"] circle').count() >= 6  # step 0: one dot per curve
    want = expected({})
    for name in ("acc_lora", "acc_full", "keep_lora", "keep_full", "trainable_lora", "llama_params"):
        assert metric(page, name) == pytest.approx(want[name], rel=1e-12)
    assert page.get_attribute('[data-metric="energy_at_r"]', "data-value") == ""  # ΔW = 0 at step 0
    ctx.close()


def test_train_runs_the_schedule_in_the_browser_and_play_then_stops(live):
    live.click('[data-action="reset"]')
    idle(live)
    live.click('[data-action="train"]')
    live.wait_for_function("() => Number(document.querySelector('[data-metric=step]').dataset.value) === 200", timeout=60_000)
    idle(live)
    want = expected({}, "train")
    for name in ("acc_lora", "acc_full", "acc_head", "keep_lora", "keep_full", "keep_head"):
        assert metric(live, name) == pytest.approx(want[name], abs=TOL), name
    assert metric(live, "energy_at_r") == pytest.approx(want["energy_at_r"], abs=TOL)
    assert live.locator("[data-lab-done]").count() == 1
    live.click('[data-action="play"]')  # at the end of the schedule Play stops at once
    live.wait_for_function("() => !document.querySelector('[data-lab]').__lab.playing", timeout=10_000)
    assert metric(live, "step") == 200
    live.watch.assert_clean()


def test_url_state_round_trips(live, site):
    _, base = site
    live.goto(f"{base}labs/lora/?r=4&scaling=rslora&layers=W2")
    wait_live(live, "lora")
    assert live.input_value('[data-control="r"]') == "4"
    assert live.input_value('[data-control="scaling"]') == "rslora"
    want = expected({"r": 4, "scaling": "rslora", "layers": "W2"})
    assert metric(live, "trainable_lora") == want["trainable_lora"] == 4 * 128 + 650
    live.watch.assert_clean()
