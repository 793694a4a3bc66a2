"""The RLHF Lab in headless Chromium, on one shared live page: picks train what CPython trains, labels are never lost."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import live_page, metric, wait_live

from labs_py import runtime

pytestmark = pytest.mark.browser
TOL = 1e-6  # Pyodide's numpy 2.0.2 vs the host's: same algorithms, sums may differ in the last bits
KEY = "lab:rlhf"
RUNS = itertools.count()
COMPARED = ("p_a", "loss", "optimum", "heldout_acc", "proxy_gain", "true_gain", "kl")
OLD_STORE = json.dumps({"lab": "rlhf", "version": 1, "labels": [{"a": "egg.1", "b": "egg.2", "pick": "A", "by": "you"}] * 4})


def expected(actions: list[str], stored: str | None = None, params: dict | None = None) -> dict[str, float | None]:
    """Every metric CPython shows after init (with `stored`) and then `actions`, on a fresh instance."""
    instance = f"expected-{next(RUNS)}"
    reply = None
    for action in ["init", *actions]:
        reply = json.loads(runtime.handle(json.dumps({"lab": "rlhf", "instance": instance, "params": params or {},
                                                      "action": action, "payload": {"stored": stored}})))
    html = reply["slots"]["headline"] + reply["slots"]["numbers"]
    out = {}
    for part in html.split('data-metric="')[1:]:
        name, rest = part.split('"', 1)
        raw = rest.split('data-value="')[1].split('"')[0]
        out[name] = float(raw) if raw else None
    return out


@pytest.fixture(scope="module")
def lab(browser, site):
    """One live RLHF page for the whole module (dialogs accepted); each test starts from no stored labels."""
    with live_page(browser, site, "rlhf", accept_downloads=True) as page:
        page.on("dialog", lambda d: d.accept())
        page.base = site[1]
        yield page


def fresh(page):
    """No labels: the lab's own Reset (confirmed), which also empties the stored labels."""
    page.click('.lab-actions [data-action="reset"]')
    wait_labels(page, 0)


def reload_with(page, stored: str):
    """Put `stored` in localStorage and load the lab again."""
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [KEY, stored])
    page.reload()
    wait_live(page, "rlhf")
    wait_idle(page)


def wait_idle(page):
    page.wait_for_function("() => { const l = document.querySelector('[data-lab]').__lab; return l && !l.busy && !l.queued; }")


def wait_labels(page, n: int):
    page.wait_for_function("n => Number(document.querySelector('[data-metric=labels]').dataset.value) === n", arg=n)
    wait_idle(page)


def stored(page) -> str | None:
    return page.evaluate("k => localStorage.getItem(k)", KEY)


def assert_matches(page, want: dict):
    for name in COMPARED:
        raw = page.get_attribute(f'[data-metric="{name}"]', "data-value")
        if want[name] is None:
            assert raw == "", name
        else:
            assert float(raw) == pytest.approx(want[name], rel=TOL, abs=1e-12), name


def test_snapshot_is_readable_without_javascript(browser, site):
    _, base = site
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base}labs/rlhf/")
    assert page.get_attribute("[data-lab]", "data-state") == "static"
    assert metric(page, "labels") == 0 and page.text_content('[data-metric="heldout_acc"]') == "—"
    assert page.locator(".rlhf-cand").count() == 2 and page.locator(".rlhf-picks [data-action]:disabled").count() == 3
    assert page.locator('[data-lab] svg[aria-label="Reward of best-of-n\'s pick"]').count() == 2  # wide and phone drawings
    ctx.close()


def test_picks_and_keys_train_what_python_trains(lab):
    fresh(lab)
    lab.click('.rlhf-picks [data-action="a"]')
    wait_labels(lab, 1)
    assert "Previous pair: you picked A" in lab.text_content("[data-feedback]")
    lab.focus('.rlhf-picks [data-action="b"]')
    lab.keyboard.press("b")
    wait_labels(lab, 2)
    lab.keyboard.press("a")  # focus stayed on the redrawn button, inside the lab
    wait_labels(lab, 3)
    lab.keyboard.press("s")
    lab.wait_for_function("() => document.querySelector('[data-feedback]').textContent.includes('skipped')")
    assert lab.evaluate("() => location.pathname.endsWith('/labs/rlhf/')")  # no site hotkey (search, next page) fired
    assert [x["pick"] for x in json.loads(stored(lab))["labels"]] == ["A", "B", "A"]
    assert_matches(lab, expected(["a", "b", "a", "skip"]))
    lab.watch.assert_clean()


def test_ten_clicks_in_one_task_store_ten_labels(lab):
    fresh(lab)
    lab.evaluate("() => { for (let i = 0; i < 10; i++) document.querySelector('.rlhf-picks [data-action=a]').click(); }")
    wait_labels(lab, 10)
    assert len(json.loads(stored(lab))["labels"]) == 10
    assert_matches(lab, expected(["a"] * 10))
    lab.watch.assert_clean()


def test_longer_annotator_overoptimises_live(lab):
    fresh(lab)
    lab.select_option('[data-control="annotator"]', "longer")
    lab.wait_for_function("() => location.search.includes('annotator=longer')")
    wait_idle(lab)
    lab.click('[data-action="simulate"]')
    wait_labels(lab, 50)
    assert metric(lab, "proxy_gain") > 0 > metric(lab, "true_gain")
    assert_matches(lab, expected(["simulate"], params={"annotator": "longer"}))
    lab.select_option('[data-control="annotator"]', "careful")
    wait_idle(lab)
    lab.watch.assert_clean()


def test_labels_survive_reload_and_export_import(lab, tmp_path):
    fresh(lab)
    for k, n in (("a", 1), ("b", 2), ("b", 3)):
        lab.click(f'.rlhf-picks [data-action="{k}"]')
        wait_labels(lab, n)
    saved = stored(lab)
    lab.reload()
    wait_live(lab, "rlhf")
    wait_labels(lab, 3)
    assert "Restored 3 labels" in lab.text_content("[data-lab-view]") and stored(lab) == saved
    assert_matches(lab, expected([], stored=saved))
    with lab.expect_download() as dl:
        lab.click('.lab-actions [data-action="export"]')
    exported = tmp_path / "rlhf-lab.json"
    dl.value.save_as(exported)
    assert json.loads(exported.read_text()) == json.loads(saved)
    fresh(lab)
    bad = tmp_path / "<b>bad.json"
    bad.write_text(OLD_STORE)
    with lab.expect_file_chooser() as fc:
        lab.click('[data-action="import"]')
    fc.value.set_files(str(bad))
    lab.wait_for_function("() => document.querySelector('.rlhf-message')?.textContent.includes('Import failed')")
    assert lab.locator(".rlhf-message b").count() == 0 and "earlier version" in lab.text_content(".rlhf-message")
    with lab.expect_file_chooser() as fc:
        lab.click('[data-action="import"]')
    fc.value.set_files(str(exported))
    wait_labels(lab, 3)
    assert json.loads(stored(lab)) == json.loads(saved)
    lab.watch.assert_clean()


def test_earlier_version_labels_are_kept_exportable_until_reset(lab, tmp_path):
    reload_with(lab, OLD_STORE)
    lab.wait_for_selector('.rlhf-problem [data-action="reset_store"]')
    assert "4 labels from the lab's earlier version" in lab.text_content(".rlhf-problem")
    lab.click('.rlhf-picks [data-action="a"]')
    wait_idle(lab)
    assert stored(lab) == OLD_STORE and metric(lab, "labels") == 0
    with lab.expect_download() as dl:
        lab.click('.rlhf-problem [data-action="export"]')
    dl.value.save_as(tmp_path / "old.json")
    assert (tmp_path / "old.json").read_text() == OLD_STORE
    lab.click('.rlhf-problem [data-action="reset_store"]')
    lab.wait_for_function("([k, v]) => localStorage.getItem(k) !== v", arg=[KEY, OLD_STORE])
    wait_idle(lab)
    assert json.loads(stored(lab)) == {"lab": "rlhf", "version": 2, "labels": []}
    assert lab.locator(".rlhf-problem").count() == 0
    lab.watch.assert_clean()
