"""The Planner Lab in headless Chromium, one live page for the module: snapshot without JavaScript, live
numbers equal CPython's after a control change, the stage page's preset round-trips, a step checks."""

import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from conftest import live_page, metric, wait_live
from sitecheck import wait_idle

from labs_py import runtime

pytestmark = pytest.mark.browser
LAB = "planner"
REL = 1e-9  # pure float arithmetic: Pyodide's CPython gives the same numbers
PRESET = re.search(r"labs/planner\.md\?([^)]+)\)", (Path(__file__).resolve().parent.parent / "docs" / "index.md")
                   .read_text()).group(1)


def expected(params: dict, name: str) -> float:
    return runtime.metrics(LAB, params)[name].value


@pytest.fixture(scope="module")
def live(browser, site):
    with live_page(browser, site, LAB) as page:
        yield page
        page.watch.assert_clean()


def test_snapshot_is_readable_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/{LAB}/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert metric(page, "mem_total_gib") == pytest.approx(expected({}, "mem_total_gib"), rel=REL)
    assert page.get_attribute('[data-metric="fits"]', "data-value") == "0.0"
    assert "Cheapest change that fits" in page.text_content("[data-planner-verdict]")
    assert page.locator("[data-lab-steps] [data-step]").count() == 5
    ctx.close()


def test_a_control_change_gives_the_numbers_python_computes(live):
    before = metric(live, "mem_total_gib")
    live.select_option('[data-control="method"]', "qlora")
    live.wait_for_function("b => Number(document.querySelector('[data-metric=mem_total_gib]').dataset.value) !== b",
                           arg=before)
    wait_idle(live, LAB)
    assert "method=qlora" in live.url
    for name in ("mem_total_gib", "mem_weights_gib", "mem_logits_gib", "params_trainable"):
        assert metric(live, name) == pytest.approx(expected({"method": "qlora"}, name), rel=REL)
    assert live.is_disabled('[data-control="precision"]')


def test_the_stage_page_preset_round_trips(live, site):
    _, base = site
    live.goto(f"{base}labs/{LAB}/?{PRESET}")
    wait_live(live, LAB)
    raw = dict(parse_qsl(PRESET))
    assert live.input_value('[data-control="model"]') == "llama-2-7b"
    assert live.input_value('[data-control="seq"]') == "512" and live.is_checked('[data-control="ckpt"]')
    assert not live.is_checked('[data-control="targets"][value="gate"]')
    assert live.locator("[data-lab-notices] .lab-notice").count() == 0
    for name in ("mem_total_gib", "params_trainable", "gpu_hours", "cost_usd"):
        assert metric(live, name) == pytest.approx(expected(raw, name), rel=REL)
    live.evaluate("() => { document.querySelector('[data-lab-advanced]').open = true; }")
    live.select_option('[data-control="gpu"]', "l4")
    live.wait_for_function("() => location.search.includes('gpu=l4')")
    wait_idle(live, LAB)
    query = dict(parse_qsl(live.evaluate("() => location.search.slice(1)")))
    defaults = {c.name: str(c.default) for c in runtime.lab_module(LAB).CONTROLS}
    assert query == {k: v for k, v in {**raw, "gpu": "l4"}.items() if defaults[k] != v}  # defaults leave the URL
    assert metric(live, "gpu_hours") == pytest.approx(expected(query, "gpu_hours"), rel=REL)


def test_a_step_checks_with_the_labs_code(live):
    """Set it up applies the step's params over the defaults, whatever the page showed before."""
    step = live.locator('[data-step="qlora-65b"]')
    step.locator("[data-step-setup]").click()
    live.wait_for_function("() => location.search.includes('model=llama-1-65b')")
    wait_idle(live, LAB)
    assert metric(live, "fits") == 1
    step.locator('[data-step-predict][value="yes"]').check()
    step.locator("[data-step-check]").click()
    live.wait_for_function("() => document.querySelector('[data-step=qlora-65b]').dataset.stepState === 'done'")
    assert step.locator("[data-step-reveal]").text_content().startswith("Right.")
