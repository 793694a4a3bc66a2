"""The Quantization Lab in headless Chromium, one live page for the module: snapshot, slider → CPython's
numbers, disabled controls, guided steps (set up, predict, check, progress kept), URL state, ordered actions."""

import json

import pytest
from conftest import live_page, metric, wait_live
from sitecheck import wait_idle

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 1e-6  # Pyodide's numpy 2.0.2 vs the host's numpy: same algorithm, float32 sums may differ in the last bits
LAB = "quantization"


def expected(params: dict, name: str) -> float:
    return runtime.metrics(LAB, params)[name].value


@pytest.fixture(scope="module")
def live(browser, site):
    """One page with the lab live, shared by the module; each test starts from the defaults."""
    with live_page(browser, site, LAB) as page:
        yield page
        page.watch.assert_clean()


RESET_JS = """() => {
  const c = document.querySelector('[data-lab]').__lab;
  c.steps.reset();
  c.applyParams(c.defaults);
  c.send(null);
}"""


@pytest.fixture
def lab(live, site):
    """The shared page back at the lab's defaults with no step progress (a reload only when the URL changed)."""
    _, base = site
    live.evaluate("() => localStorage.clear()")
    if live.url.split("?")[0] != f"{base}labs/{LAB}/" or live.locator("[data-lab-steps-store] [role=alert]").count():
        live.goto(f"{base}labs/{LAB}/")
        wait_live(live, LAB)
    live.evaluate(RESET_JS)
    wait_idle(live, LAB)
    live.wait_for_function("() => location.search === ''")
    return live


def test_snapshot_is_readable_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/{LAB}/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert page.text_content("[data-lab-question]").startswith("What does storing weights in 4 bits cost")
    assert metric(page, "rmse") == pytest.approx(expected({}, "rmse"), rel=1e-12)
    assert page.locator("[data-lab-steps] [data-step]").count() == 5
    assert "Per-block absmax" in page.text_content("[data-lab-steps]")
    ctx.close()


def test_the_chart_sits_beside_the_key_control_and_moves_with_it(lab):
    slider, chart = lab.locator('[data-control="bits"]').bounding_box(), lab.locator("[data-lab-slot=chart]").bounding_box()
    assert chart["x"] > slider["x"] + slider["width"] - 1 and chart["y"] < 900 and slider["y"] < 900
    before = lab.inner_html("[data-lab-slot=chart]")
    lab.focus('[data-control="bits"]')
    lab.keyboard.press("ArrowLeft")  # 4 → 3 bits
    lab.wait_for_function("() => location.search.includes('bits=3')")
    wait_idle(lab, LAB)
    assert metric(lab, "rmse") == pytest.approx(expected({"bits": 3}, "rmse"), rel=TOL)
    assert metric(lab, "zero_share") == pytest.approx(expected({"bits": 3}, "zero_share"), abs=1e-6)
    assert lab.inner_html("[data-lab-slot=chart]") != before


def test_controls_that_do_not_apply_are_disabled_with_the_reason(lab):
    lab.select_option('[data-control="method"]', "nf4")
    lab.wait_for_function("() => document.querySelector('[data-control=bits]').disabled")
    assert "4-bit code" in lab.text_content('[data-disabled-reason="bits"]')
    assert metric(lab, "bits_per_param") == pytest.approx(4.5)
    lab.select_option('[data-control="method"]', "absmax")
    lab.wait_for_function("() => document.querySelector('[data-control=dq]').disabled"
                          " && !document.querySelector('[data-control=bits]').disabled")
    assert "one scale" in lab.text_content('[data-disabled-reason="block"]').lower()


def test_a_step_sets_up_takes_a_prediction_checks_and_remembers(lab, site):
    step = lab.locator('[data-step="zeros"]')
    step.locator("[data-step-setup]").click()
    lab.wait_for_function("() => location.search.includes('method=absmax')")
    wait_idle(lab, LAB)
    assert step.locator("[data-step-check]").is_disabled()  # no prediction yet
    step.locator('[data-step-predict][value="60"]').check()
    step.locator("[data-step-check]").click()
    lab.wait_for_function("() => document.querySelector('[data-step=zeros]').dataset.stepState === 'done'")
    reveal = step.locator("[data-step-reveal]").text_content()
    assert reveal.startswith("Right.") and runtime.metrics(LAB, {"method": "absmax"})["zero_share"].text in reveal
    assert metric(lab, "zero_share") == pytest.approx(expected({"method": "absmax"}, "zero_share"), abs=1e-6)
    stored = json.loads(lab.evaluate("() => localStorage.getItem('lab-steps:quantization')"))
    assert stored == {"v": 1, "steps": {"zeros": {"prediction": "60", "right": True}}}
    assert "1 of 5 steps done" in lab.text_content("[data-lab-steps-progress]")
    lab.click(f'.md-sidebar--primary a.md-nav__link[href="{site[1]}"]')  # the stage page, by instant navigation
    lab.wait_for_selector('[data-steps-done="quantization"]')
    assert lab.text_content('[data-steps-done="quantization"]') == "1 of 5 steps done"
    lab.click(f'.md-sidebar--primary a.md-nav__link[href="{site[1]}labs/{LAB}/"]')  # back, by instant navigation
    lab.wait_for_selector(f'[data-lab="{LAB}"]')
    wait_live(lab, LAB)
    assert lab.get_attribute('[data-step="zeros"]', "data-step-state") == "done"
    assert lab.is_checked('[data-step="zeros"] [data-step-predict][value="60"]')


def test_a_numeric_guess_is_checked_against_the_computed_value(lab):
    step = lab.locator('[data-step="nf4-bits"]')
    step.locator("[data-step-setup]").click()
    wait_idle(lab, LAB)
    step.locator("[data-step-predict]").fill("4.625")
    step.locator("[data-step-check]").click()
    lab.wait_for_function("() => document.querySelector('[data-step=nf4-bits]').dataset.stepState === 'done'")
    assert step.locator("[data-step-reveal]").text_content().startswith("Not quite.")
    assert "4.127" in step.locator("[data-step-reveal]").text_content()


def test_corrupt_step_progress_is_explained_and_never_overwritten(lab):
    corrupt = '{"v": 1, "steps": [1, 2'
    lab.evaluate("v => localStorage.setItem('lab-steps:quantization', v)", corrupt)
    lab.reload()
    wait_live(lab, LAB)
    assert "could not be read" in lab.text_content("[data-lab-steps-store]")
    step = lab.locator('[data-step="fewer-bits"]')
    step.locator('[data-step-predict][value="2"]').check()
    step.locator("[data-step-check]").click()
    lab.wait_for_function("() => document.querySelector('[data-step=fewer-bits]').dataset.stepState === 'done'")
    assert lab.evaluate("() => localStorage.getItem('lab-steps:quantization')") == corrupt
    lab.click("[data-steps-reset]")
    assert lab.evaluate("() => localStorage.getItem('lab-steps:quantization')") is None
    assert "0 of 5" in lab.text_content("[data-lab-steps-progress]")


def test_actions_sent_in_one_task_all_reach_python_in_order(lab):
    """Param changes coalesce; actions never do (10 sends in one JS task → 10 calls, in order)."""
    calls = lab.evaluate("""async () => {
      const c = document.querySelector('[data-lab]').__lab, rt = window.__labs, seen = [], call = rt.call;
      rt.call = (req) => { seen.push(req.action === undefined ? null : req.action); return call(req); };
      for (let i = 0; i < 10; i++) { c.send(`probe-${i}`); c.send(null); }
      while (c.busy || c.queued) await new Promise((r) => setTimeout(r, 5));
      rt.call = call;
      return seen;
    }""")
    assert [c for c in calls if c] == [f"probe-{i}" for i in range(10)]
    assert calls.count(None) <= 1  # ten param changes became at most one call


def test_url_state_round_trips_and_bad_values_get_a_notice(lab, site):
    _, base = site
    lab.goto(f"{base}labs/{LAB}/?bits=4&method=nf4&dq=1")
    wait_live(lab, LAB)
    assert lab.input_value('[data-control="method"]') == "nf4" and lab.is_checked('[data-control="dq"]')
    assert metric(lab, "bits_per_param") == pytest.approx(4.127, abs=5e-4)
    lab.goto(f"{base}labs/{LAB}/?bits=99")
    wait_live(lab, LAB)
    assert "outside" in lab.text_content("[data-lab-notices]")
    assert metric(lab, "bits_per_param") == 16.0
