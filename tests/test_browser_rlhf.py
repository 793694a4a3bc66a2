"""The RLHF Lab in headless Chromium: picks train the models CPython trains, labels persist, export/import, faults."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import metric, wait_live

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 1e-6  # Pyodide's numpy 2.0.2 vs the host's: same algorithms, sums may differ in the last bits
KEY = "lab:rlhf"
RUNS = itertools.count()
COMPARED = ("p_a", "loss", "optimum", "train_acc", "heldout_acc", "dpo_loss", "dpo_heldout_acc", "kl", "cosine")


def expected(actions: list[str], stored: str | None = None, params: dict | None = None) -> dict[str, float]:
    """Every metric CPython shows after init (with `stored`) and then `actions`, on a fresh instance."""
    instance = f"expected-{next(RUNS)}"
    reply = None
    for action in ["init", *actions]:
        payload = {"stored": stored} if action == "init" else None
        reply = json.loads(runtime.handle(json.dumps({"lab": "rlhf", "instance": instance, "params": params or {},
                                                      "action": action, "payload": payload})))
    out = {}
    for part in reply["html"].split('data-metric="')[1:]:
        name, rest = part.split('"', 1)
        out[name] = float(rest.split('data-value="')[1].split('"')[0])
    return out


def wait_idle(page):
    page.wait_for_function("() => !document.querySelector('[data-lab]').__lab.busy")


def wait_labels(page, n: int):
    page.wait_for_function("n => Number(document.querySelector('[data-metric=labels]').dataset.value) === n", arg=n)
    wait_idle(page)


def stored(page) -> str | None:
    return page.evaluate("k => localStorage.getItem(k)", KEY)


def assert_matches(page, want: dict[str, float]):
    for name in COMPARED:
        got = metric(page, name)
        if want[name] != want[name]:  # NaN: no labels yet
            assert got != got, name
        else:
            assert got == pytest.approx(want[name], rel=TOL, abs=1e-12), name


def pick(page, key: str, n_after: int):
    page.click(f'[data-action="{key}"]')
    wait_labels(page, n_after)


def open_live(page, site, query: str = ""):
    _, base = site
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{base}labs/rlhf/{query}")
    wait_live(page, "rlhf")
    wait_idle(page)


def test_snapshot_is_readable_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/rlhf/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert metric(page, "p_a") == 0.5 and metric(page, "labels") == 0
    assert metric(page, "heldout_acc") == pytest.approx(expected([])["heldout_acc"])
    assert page.locator('[data-lab] svg[aria-label="Reward weights"]').count() == 1
    assert page.locator('[data-lab] svg[aria-label="Loss over gradient steps"]').count() == 1
    assert page.locator(".rlhf-cand").count() == 2 and page.locator("details.rlhf-features").count() == 1
    ctx.close()


def test_picks_update_weights_and_loss_as_python_computes(page, site):
    open_live(page, site)
    bars_before = page.inner_html('svg[aria-label="Reward weights"]')
    pick(page, "a", 1)
    assert page.inner_html('svg[aria-label="Reward weights"]') != bars_before
    assert_matches(page, expected(["a"]))
    assert "Previous pair: you picked A" in page.text_content("[data-feedback]")
    pick(page, "b", 2)
    pick(page, "a", 3)
    want = expected(["a", "b", "a"])
    assert_matches(page, want)
    assert metric(page, "steps") == 3 * 20
    assert page.locator('svg[aria-label="Loss over gradient steps"] polyline.lab-line').count() >= 2
    labels = json.loads(stored(page))["labels"]
    assert [x["pick"] for x in labels] == ["A", "B", "A"] and {x["by"] for x in labels} == {"you"}
    page.watch.assert_clean()


def test_simulated_annotator_labels_a_batch(page, site):
    open_live(page, site, "?n=40&noise=1&annotator=verbose")
    page.click('[data-action="simulate"]')
    wait_labels(page, 40)
    want = expected(["simulate"], params={"n": "40", "noise": "1", "annotator": "verbose"})
    assert_matches(page, want)
    assert metric(page, "annotator_labels") == 40
    page.watch.assert_clean()


def test_labels_survive_reload(page, site):
    open_live(page, site)
    for k, n in (("a", 1), ("b", 2), ("b", 3)):
        pick(page, k, n)
    saved = stored(page)
    page.reload()
    wait_live(page, "rlhf")
    wait_labels(page, 3)
    assert "Restored 3 labels" in page.text_content("[data-lab-view]")
    assert stored(page) == saved
    assert_matches(page, expected([], stored=saved))
    page.watch.assert_clean()


def test_labels_and_training_survive_instant_navigation(page, site):
    open_live(page, site)
    pick(page, "a", 1)
    pick(page, "b", 2)
    steps = metric(page, "steps")
    page.evaluate("() => { window.__sameDocument = true; }")
    nav = "lab => [...document.querySelectorAll('nav.md-nav a')].find(a => a.href.endsWith(`/labs/${lab}/`)).click()"
    page.evaluate(nav, "lora")
    page.wait_for_url("**/labs/lora/")
    page.wait_for_selector('[data-lab="lora"]')  # the new page's content, not only its URL
    page.evaluate(nav, "rlhf")
    page.wait_for_url("**/labs/rlhf/")
    page.wait_for_selector('[data-lab="rlhf"]')
    wait_live(page, "rlhf")
    wait_labels(page, 2)
    assert metric(page, "steps") == steps  # the worker kept the session: same labels, so nothing was refit
    assert page.evaluate("() => window.__sameDocument === true")  # instant navigation: no page load in between
    page.watch.assert_clean()


def test_keyboard_picks(page, site):
    open_live(page, site)
    page.focus('[data-action="skip"]')
    page.keyboard.press("a")
    wait_labels(page, 1)
    page.keyboard.press("b")
    wait_labels(page, 2)
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('[data-feedback]').textContent.includes('skipped')")
    assert [x["pick"] for x in json.loads(stored(page))["labels"]] == ["A", "B"]
    assert_matches(page, expected(["a", "b", "skip"]))
    page.watch.assert_clean()


def test_export_then_import_round_trips(page, site, tmp_path):
    open_live(page, site)
    for k, n in (("a", 1), ("a", 2), ("b", 3)):
        pick(page, k, n)
    with page.expect_download() as dl:
        page.click('[data-action="export"]')
    exported = tmp_path / "rlhf-lab.json"
    dl.value.save_as(exported)
    assert dl.value.suggested_filename == "rlhf-lab.json"
    assert json.loads(exported.read_text()) == json.loads(stored(page))
    page.click('[data-action="reset"]')  # confirmed by the dialog handler
    wait_labels(page, 0)
    assert json.loads(stored(page))["labels"] == []
    with page.expect_file_chooser() as fc:
        page.click('[data-action="import"]')
    fc.value.set_files(str(exported))
    wait_labels(page, 3)
    assert "Imported 3 labels" in page.text_content("[data-lab-view]")
    assert json.loads(stored(page)) == json.loads(exported.read_text())
    assert_matches(page, expected([], stored=exported.read_text()))
    page.watch.assert_clean()


@pytest.mark.parametrize("content", ["{not json", "null", '{"lab": "lora", "version": 1, "labels": []}',
                                     '{"lab": "rlhf", "version": 1, "labels": [{"a": "x", "b": "y", "pick": "A", "by": "you"}]}'])
def test_a_malformed_import_is_rejected_with_the_labels_intact(page, site, tmp_path, content):
    open_live(page, site)
    pick(page, "a", 1)
    pick(page, "b", 2)
    before, loss = stored(page), metric(page, "loss")
    bad = tmp_path / "<b>bad.json"
    bad.write_text(content)
    with page.expect_file_chooser() as fc:
        page.click('[data-action="import"]')
    fc.value.set_files(str(bad))
    page.wait_for_function("() => document.querySelector('.rlhf-message')?.textContent.includes('Import failed')")
    assert "Your 2 labels are unchanged" in page.text_content(".rlhf-message")
    assert page.locator(".rlhf-message b").count() == 0  # the file name is shown as text, not markup
    assert stored(page) == before and metric(page, "labels") == 2 and metric(page, "loss") == loss
    page.watch.assert_clean()


def test_corrupt_storage_is_explained_and_left_untouched_until_reset(page, site):
    open_live(page, site)
    page.evaluate("k => localStorage.setItem(k, '{\"lab\": \"rlhf\", \"version\": 7')", KEY)
    corrupt = stored(page)
    page.reload()
    wait_live(page, "rlhf")
    page.wait_for_selector('.rlhf-problem [data-action="reset_store"]')
    assert "could not be read" in page.text_content(".rlhf-problem")
    assert page.get_attribute('[data-action="reset_store"]', "data-confirm")
    page.click('[data-action="a"]')
    wait_idle(page)
    assert stored(page) == corrupt and metric(page, "labels") == 0
    page.click('[data-action="reset_store"]')
    page.wait_for_function("([k, v]) => localStorage.getItem(k) !== v", arg=[KEY, corrupt])
    wait_idle(page)
    assert json.loads(stored(page)) == {"lab": "rlhf", "version": 1, "labels": []}
    assert page.locator(".rlhf-problem").count() == 0
    pick(page, "a", 1)
    assert len(json.loads(stored(page))["labels"]) == 1
    page.watch.assert_clean()


@pytest.mark.parametrize(("query", "beta"), [("?beta=0.1", 0.1), ("?beta=0.5", 0.5)])
def test_beta_preset_in_the_url(page, site, query, beta):
    open_live(page, site, query)
    assert float(page.input_value('[data-control="beta"]')) == beta
    assert page.text_content("[data-lab-notices]").strip() == ""
    pick(page, "b", 1)
    assert_matches(page, expected(["b"], params={"beta": str(beta)}))
    page.watch.assert_clean()
