"""The Distillation Lab in headless Chromium, on one live page shared by the module: the no-JS snapshot,
sliders → the numbers CPython computes, Play runs the schedule and stops saying so, a guided step, URL state."""

import json

import pytest
from conftest import live_page, metric

from labs_py import digits, distill_run, runtime

pytestmark = pytest.mark.browser
ONE_IMAGE = 1 / 596 + 1e-12  # Pyodide's numpy (no BLAS) may round differently: at most one borderline held-out image flips


def expected(params: dict) -> dict[str, float | None]:
    """Every metric CPython computes for a fresh view at these params."""
    return {k: m.value for k, m in runtime.metrics("distillation", params).items()}


@pytest.fixture(scope="module")
def live(browser, site):
    """One page with the lab live, for the whole module; each test puts the defaults back first."""
    with live_page(browser, site, "distillation") as page:
        yield page


def reset(page) -> None:
    """Defaults back in the controls, Play off, and the lab idle."""
    page.evaluate("""() => { const lab = document.querySelector('[data-lab]').__lab;
                             if (lab.playing) lab.togglePlay(false);
                             lab.applyParams(lab.defaults); lab.send(null); }""")
    idle(page)


def idle(page) -> None:
    page.wait_for_function("() => { const l = document.querySelector('[data-lab]').__lab; return !l.busy && !l.queued; }")


def test_snapshot_without_javascript_shows_both_students_and_the_data_provenance(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/distillation/")
    root = page.locator('[data-lab="distillation"]')
    assert root.get_attribute("data-state") == "static"
    want = expected({})
    for name in ("acc_hard", "acc_soft", "acc_teacher"):
        assert metric(page, name) == want[name]
    assert root.locator('svg[aria-label="Held-out accuracy"] polyline').count() == 4  # hard and soft, wide and narrow
    text = root.inner_text()
    assert digits.SHA256 in text and "CC BY 4.0" in text and "Schedule ended" in text
    assert "␣as ✓" in root.locator('svg[aria-label="GPT-2 small\'s 20 listed tokens"]').first.text_content()
    ctx.close()


def test_sliders_drive_the_numbers_python_computes(live):
    reset(live)
    live.focus('[data-control="alpha"]')
    live.keyboard.press("Home")  # α = 0: the soft student is the hard one
    live.wait_for_function("() => location.search.includes('alpha=0')")
    idle(live)
    assert metric(live, "acc_soft") == metric(live, "acc_hard")
    live.focus('[data-control="T"]')
    live.keyboard.press("ArrowLeft")  # T 4 → 3.9
    live.wait_for_function("() => location.search.includes('T=3.9')")
    idle(live)
    want = expected({"T": 3.9, "alpha": 0})
    assert metric(live, "acc_hard") == pytest.approx(want["acc_hard"], abs=ONE_IMAGE)
    assert metric(live, "teacher_entropy_vocab") == pytest.approx(want["teacher_entropy_vocab"], rel=1e-9)
    live.watch.assert_clean()


def test_play_runs_the_schedule_then_stops_and_says_why(live):
    reset(live)
    live.click('[data-action="play"]')
    live.wait_for_function("() => document.querySelector('[data-run-status]').dataset.runStatus === 'running'")
    live.wait_for_function("() => document.querySelector('[data-run-status]').dataset.runStatus === 'schedule'", timeout=60_000)
    idle(live)
    assert live.get_attribute('[data-action="play"]', "aria-pressed") == "false"
    assert "Schedule ended" in live.text_content("[data-run-status]")
    assert metric(live, "step") == distill_run.SCHEDULE
    assert metric(live, "acc_soft") == pytest.approx(expected({})["acc_soft"], abs=ONE_IMAGE)
    live.watch.assert_clean()


def test_the_omitted_digit_step_sets_up_and_reveals_pythons_answer(live):
    reset(live)
    step = live.locator('[data-step="omitted"]')
    step.locator("[data-step-setup]").click()
    live.wait_for_function("() => location.search.includes('omit=3')")
    idle(live)
    want = expected({"omit": "3"})
    assert metric(live, "acc_omitted_soft") == pytest.approx(want["acc_omitted_soft"], abs=1 / 61 + 1e-12)
    assert metric(live, "acc_omitted_hard") <= 0.05
    step.locator("[data-step-predict]").fill("80")
    step.locator("[data-step-check]").click()
    reveal = step.locator("[data-step-reveal]")
    reveal.wait_for(state="visible")
    answer = json.loads(runtime.handle(json.dumps({"lab": "distillation", "check": "omitted", "prediction": "80"})))
    assert answer["text"].split(":")[0] in reveal.inner_text()
    live.watch.assert_clean()


def test_url_state_and_old_links(live):
    """A query string (here an old link's `student`, which this lab does not have, among its own params) read as at
    mount, without reloading the runtime."""
    reset(live)
    live.evaluate("""() => { history.replaceState(null, '', '?omit=7&transfer=200&student=lowrank');
                             const lab = document.querySelector('[data-lab]').__lab; lab.readUrl(); lab.send(null); }""")
    idle(live)
    assert live.input_value('[data-control="omit"]') == "7" and live.input_value('[data-control="transfer"]') == "200"
    want = expected({"omit": "7", "transfer": 200})
    assert metric(live, "transfer_size") == want["transfer_size"]
    assert metric(live, "acc_omitted_soft") == pytest.approx(want["acc_omitted_soft"], abs=1 / distill_run.held_out_count(7) + 1e-12)
    assert "student=lowrank" in live.url and "omit=7" in live.url  # the lab rewrites only its own params
    live.watch.assert_clean()
