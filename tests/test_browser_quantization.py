"""The Quantization Lab in headless Chromium: snapshot, live, slider → CPython's numbers, URL state, faults."""

import json

import pytest
from conftest import metric, wait_live

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 1e-6  # Pyodide's numpy 2.0.2 vs the host's numpy: same algorithm, float32 sums may differ in the last bits


def expected(params: dict, name: str) -> float:
    html = json.loads(runtime.handle(json.dumps({"lab": "quantization", "params": params})))["html"]
    return float(html.split(f'data-metric="{name}" data-value="')[1].split('"')[0])


def test_snapshot_is_readable_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/quantization/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert "interactive with JavaScript" in page.text_content("[data-lab-status]")
    assert metric(page, "rmse") == pytest.approx(expected({}, "rmse"), rel=1e-12)
    assert page.locator("[data-lab] svg").count() >= 2
    ctx.close()


def test_slider_drives_the_numbers_python_computes(page, site):
    _, base = site
    page.goto(f"{base}labs/quantization/")
    wait_live(page, "quantization")
    before = metric(page, "rmse")
    page.focus('[data-control="bits"]')
    page.keyboard.press("ArrowLeft")  # 4 → 3 bits
    page.wait_for_function("b => Number(document.querySelector('[data-metric=rmse]').dataset.value) !== b", arg=before)
    assert metric(page, "rmse") == pytest.approx(expected({"bits": 3}, "rmse"), rel=TOL)
    assert metric(page, "memory_7b") == pytest.approx(expected({"bits": 3}, "memory_7b"), rel=1e-12)
    assert "bits=3" in page.url
    page.select_option('[data-control="method"]', "nf4")
    page.wait_for_function("() => location.search.includes('method=nf4')")
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")
    assert metric(page, "bits_per_param") == pytest.approx(4.5)
    page.watch.assert_clean()


def test_url_state_round_trips(page, site):
    _, base = site
    page.goto(f"{base}labs/quantization/?bits=4&method=nf4&dq=1")
    wait_live(page, "quantization")
    assert page.input_value('[data-control="method"]') == "nf4"
    assert page.is_checked('[data-control="dq"]')
    assert metric(page, "bits_per_param") == pytest.approx(4.127, abs=5e-4)
    assert metric(page, "rmse") == pytest.approx(expected({"method": "nf4", "dq": 1}, "rmse"), rel=TOL)
    page.watch.assert_clean()


def test_out_of_range_url_is_clamped_with_a_notice(page, site):
    _, base = site
    page.goto(f"{base}labs/quantization/?bits=99")
    wait_live(page, "quantization")
    assert "outside" in page.text_content("[data-lab-notices]")
    assert page.input_value('[data-control="bits"]') == "16"
    assert metric(page, "bits_per_param") == 16.0

