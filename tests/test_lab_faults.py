"""Every lab on the built site under faults: blocked runtime, wasm with the wrong MIME type, a killed
worker, hostile URL values and corrupt stored data.

Hostile input is tested in bulk in CPython against `labs_py.runtime` (the code the browser runs),
and with a few real page loads in Chromium for what only a browser can show: no script runs, the
notice is visible, the lab keeps working. Labs are discovered from the built pages' `[data-lab]`.
"""

from __future__ import annotations

import json
import math
import re
import time
from urllib.parse import urlencode

import pytest
import sitecheck
from conftest import PageWatch, wait_live
from sitecheck import INJECTIONS, Problem, assert_gate, dangerous_markup

from labs_py import runtime
from labs_py.controls import Choice, Multi, Slider, Toggle, clean, non_default

STORE_PREFIX = "lab:"
MVU_KEY = "mvu:stage-10"
EXPLAINS = re.compile(r"could not|couldn't|cannot|can't|unreadable|corrupt|damaged|invalid|not valid", re.I)
RESET = re.compile(r"reset|clear|start over", re.I)


def keeps_reader_data(lab: str) -> bool:
    """Labs whose reader data the page persists announce it with Export/Import buttons."""
    return bool({"export", "import"} & {name for name, *_ in runtime.lab_module(lab).ACTIONS})


# ----------------------------------------------------------------------------- hostile values, in CPython

JUNK = (float("nan"), float("inf"), -float("inf"), "NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1e309",
        "", " ", None, True, [], [4], {}, {"value": 4}, "0x10", "1,5", "4 4", "--1", "null", "undefined", "4\x00",
        "9" * 65, "9" * 100_000, "١٢٣abc", "𝟜", "\u202e4", *INJECTIONS)


def valid(control, raw: object) -> bool:
    """Independent statement of what a control accepts as is (anything else must produce a notice)."""
    if isinstance(control, Toggle):
        return raw in (0, 1, True, False, "0", "1", "true", "false")
    if isinstance(control, Choice):
        return isinstance(raw, (str, int, float)) and not isinstance(raw, bool) and str(raw) in {v for v, _ in control.options}
    if isinstance(control, Multi):  # a comma list of known options, each once, in declaration order
        names = [v for v, _ in control.options]
        parts = raw.split(",") if isinstance(raw, str) else [None]
        return bool(parts) and all(p in names for p in parts) and parts == sorted(set(parts), key=names.index)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)) or (isinstance(raw, str) and len(raw) > 64):
        return False
    try:
        x = float(raw)
    except ValueError:
        return False
    return math.isfinite(x) and control.lo <= x <= control.hi and (not control.integer or x == round(x))


def bad_values(control) -> list:
    """Values a URL, a preset or a JSON request could carry that this control must not take as they are."""
    values = list(JUNK)
    if isinstance(control, Slider):
        span = control.hi - control.lo
        values += [control.lo - control.step, control.hi + control.step, control.lo - 1e9, control.hi + 1e9, -1e308,
                   1e308, str(control.hi + span), str(control.lo - span), f"{control.hi}e3", -0.0 if control.lo > 0 else -1]
        if control.integer:
            values += [control.lo + 0.5, str(control.hi - 0.5)]
    elif isinstance(control, Choice):
        values += [f"{v} " for v, _ in control.options] + [v.upper() + "x" for v, _ in control.options]
        values += [label + "?" for _, label in control.options]
    elif isinstance(control, Multi):
        names = [v for v, _ in control.options]
        values += [",".join(reversed(names)), names[0] + ",", "," + names[0], f"{names[0]},{names[0]}", names[0].upper(),
                   ",".join(names) + ",zz", "zz", ",", ",,", f"{names[0]};{names[-1]}", [names[0]], {names[0]: 1}, 1, 0]
    else:
        values += [2, -1, 0.5, "yes", "on", "TRUE", "2"]
    return [v for v in values if not valid(control, v)]


def cases(lab: str) -> list[object]:
    """At least 100 hostile `params` objects for one lab: every bad value per control, unknown keys, junk shapes."""
    controls = runtime.lab_module(lab).CONTROLS
    out: list[object] = [{c.name: v} for c in controls for v in bad_values(c)]
    out += [{"zzz": 1}, {INJECTIONS[0]: 1}, {"__proto__": {"x": 1}}, {"constructor": "x"}, {"": ""},
            {f"{c.name}[]": c.default for c in controls}, {c.name: INJECTIONS[i % len(INJECTIONS)] for i, c in enumerate(controls)},
            {**{c.name: "NaN" for c in controls}, **{f"k{i}": i for i in range(20)}},
            "bits=99", ["r", 8], 42, INJECTIONS[1]]
    return out


def strict_json(text: str) -> dict:
    """Parse as the browser's JSON.parse would: NaN and Infinity are errors."""
    def reject(name):
        raise ValueError(f"{name} in a reply: JSON.parse would fail")
    return json.loads(text, parse_constant=reject)


def check_params(controls, params: dict) -> list[str]:
    """What is wrong with cleaned params (empty when every value is one the control accepts)."""
    wrong = [f"{c.name}={params.get(c.name)!r}" for c in controls if not valid(c, params.get(c.name))]
    extra = set(params) - {c.name for c in controls}
    return wrong + [f"unexpected key {k!r}" for k in sorted(extra)]


def test_hostile_params_are_clamped_escaped_and_never_raise(labs):
    problems, counts = [], {}
    for lab in labs:
        controls = runtime.lab_module(lab).CONTROLS
        lab_cases = cases(lab)
        counts[lab] = len(lab_cases)
        for raw in lab_cases:
            label = repr(raw)[:80]
            try:
                html = runtime.snapshot(lab, raw)
                reply = strict_json(runtime.handle(json.dumps({"lab": lab, "instance": "faults", "params": raw})))
            except Exception as err:  # any exception is the finding
                problems.append(Problem("python", lab, type(err).__name__, target=label, detail=str(err)[:200]))
                continue
            for where, text in (("snapshot", html), ("reply", "".join(reply["slots"].values()) + reply["notices"])):
                problems += [Problem("python", lab, "script-in-output", target=label, detail=f"{where}: {d}")
                             for d in dangerous_markup(text)]
            wrong = check_params(controls, reply["params"])
            if wrong:
                problems.append(Problem("python", lab, "not-clamped", target=label, detail=", ".join(wrong)))
            if not reply["notices"] or 'class="lab-notice"' not in html:
                problems.append(Problem("python", lab, "no-notice", target=label))
            if reply["query"] != non_default(controls, reply["params"]):
                problems.append(Problem("python", lab, "query", target=label, detail=str(reply["query"])))
    sitecheck.record("hostile-python", {"cases": counts, "problems": problems})
    assert min(counts.values()) >= 100, counts
    assert_gate(problems, "python")


HOSTILE_PREDICTIONS = (*JUNK[:26], "-0", "1e-400", "99999", "0.5e1", *INJECTIONS)


def test_hostile_step_checks_are_refused_with_a_message(labs):
    """A step check takes one of the step's own choices or a finite number in range; anything else is a message."""
    problems, count = [], 0
    for lab in labs:
        steps = runtime.lab_module(lab).STEPS
        for step_id in [s.id for s in steps] + ["nope", INJECTIONS[0], None, 7]:
            for raw in HOSTILE_PREDICTIONS:
                count += 1
                try:
                    out = strict_json(runtime.handle(json.dumps({"lab": lab, "check": step_id, "prediction": raw})))
                except Exception as err:  # any exception is the finding
                    problems.append(Problem("python", lab, type(err).__name__, target=f"{step_id} {raw!r}"[:80], detail=str(err)[:200]))
                    continue
                problems += [Problem("python", lab, "script-in-output", target=str(step_id), detail=d)
                             for d in dangerous_markup(json.dumps(out))]
    sitecheck.record("hostile-checks", {"cases": count, "problems": problems})
    assert_gate(problems, "python")


def test_huge_json_integers_do_not_raise(labs):
    """A JSON request can carry an integer no float holds; it must be a notice like any other bad value."""
    problems = []
    for lab in labs:
        for c in runtime.lab_module(lab).CONTROLS:
            request = json.dumps({"lab": lab, "instance": "faults", "params": {c.name: 10**400}})
            try:
                reply = strict_json(runtime.handle(request))
                assert reply["notices"] and not check_params(runtime.lab_module(lab).CONTROLS, reply["params"])
            except Exception as err:  # any exception is the finding
                problems.append(Problem("python", lab, type(err).__name__, target=c.name, detail=str(err)[:200]))
    assert_gate(problems, "python")


CORRUPT_STORES = ("{", "not json", '{"labels": [1, 2', '"a string"', "42", "true", "NaN", '{"x": NaN}', "[" * 50_000,
                  "\ufffd\x00\x01", "x" * 2_000_000, *INJECTIONS)


def test_corrupt_stored_data_never_raises_or_overwrites(labs):
    """`init` with an unreadable stored value (and `import` with an unreadable file) returns no store."""
    problems = []
    for lab in labs:
        loads = [("init", {"stored": s}) for s in CORRUPT_STORES]
        if keeps_reader_data(lab):
            loads += [("import", {"text": s, "name": INJECTIONS[0] + ".json"}) for s in CORRUPT_STORES]
        for action, payload in loads:
            label = f"{action} {next(iter(payload.values()))[:40]!r}"
            try:
                reply = strict_json(runtime.handle(json.dumps({"lab": lab, "instance": "stored", "params": {},
                                                               "action": action, "payload": payload})))
            except Exception as err:  # any exception is the finding
                problems.append(Problem("python", lab, type(err).__name__, target=label, detail=str(err)[:200]))
                continue
            if reply["store"] is not None:
                problems.append(Problem("python", lab, "overwrites-store", target=label, detail=repr(reply["store"])[:120]))
            problems += [Problem("python", lab, "script-in-output", target=label, detail=d)
                         for d in dangerous_markup("".join(reply["slots"].values()) + reply["notices"])]
    assert_gate(problems, "python")


# ----------------------------------------------------------------------------- the browser

def preset(lab: str) -> dict[str, str]:
    """One valid non-default value for the lab's first control, as a URL would carry it."""
    c = runtime.lab_module(lab).CONTROLS[0]
    if isinstance(c, Slider):
        value = c.default + c.step if c.default + c.step <= c.hi else c.default - c.step
        return {c.name: f"{value:g}"}
    if isinstance(c, Choice):
        return {c.name: next(v for v, _ in c.options if v != c.default)}
    return {c.name: str(1 - c.default)}


def query_of(page) -> dict[str, str]:
    """The page URL's query string as a dict."""
    return page.evaluate("() => Object.fromEntries(new URL(location.href).searchParams)")


def same_query(query: dict[str, str], params: dict) -> bool:
    """The URL's query carries exactly these params (numbers compared as numbers: JS writes 16, Python 16.0)."""
    def same(a: str, b: object) -> bool:
        if a == str(b):
            return True
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return query.keys() == params.keys() and all(same(query[k], v) for k, v in params.items())


@pytest.mark.browser
def test_blocked_runtime_shows_error_then_retry_goes_live(browser, labs):
    ctx = browser.new_context()
    page = ctx.new_page()
    for lab, url in labs.items():
        page.route("**/pyodide/**", lambda route: route.abort())
        started = time.monotonic()
        page.goto(url)
        page.wait_for_selector(f'[data-lab="{lab}"][data-state="error"]', timeout=20_000)
        assert time.monotonic() - started <= 20
        root = page.locator(f'[data-lab="{lab}"]')
        assert "could not start" in root.locator("[data-lab-status]").inner_text()
        assert root.locator("[data-lab-progress]").is_hidden()
        assert root.locator("[data-lab-view] [data-metric]").count() > 0, f"{lab}: the snapshot must stay"
        retry = root.locator("[data-lab-retry]")
        assert retry.is_visible() and retry.inner_text() == "Retry"
        page.unroute("**/pyodide/**")
        retry.click()
        wait_live(page, lab)
        assert root.locator("[data-lab-retry]").count() == 0
    ctx.close()


@pytest.mark.browser
def test_wasm_with_the_wrong_mime_type_errors_instead_of_spinning(browser, site, labs):
    out, _ = site
    wasm = next(out.glob("pyodide/*/pyodide.asm.wasm")).read_bytes()
    ctx = browser.new_context()
    ctx.route("**/*.wasm", lambda route: route.fulfill(status=200, body=wasm, content_type="text/plain"))
    tabs = {}
    for lab, url in labs.items():  # one tab per lab, side by side
        tabs[lab] = ctx.new_page()
        tabs[lab].goto(url)
    started = time.monotonic()
    for lab, page in tabs.items():
        page.wait_for_selector(f'[data-lab="{lab}"][data-state="error"]', timeout=20_000)
        root = page.locator(f'[data-lab="{lab}"]')
        status = root.locator("[data-lab-status]").inner_text()
        assert "could not start" in status and "application/wasm" in status, status
        assert root.locator("[data-lab-progress]").is_hidden()
        assert root.locator("[data-lab-retry]").is_visible()
    assert time.monotonic() - started < 20
    ctx.close()


@pytest.mark.browser
def test_killed_worker_restarts_on_next_input_with_the_same_params(page, labs):
    """Every lab in a tab of its own, all workers killed before any input, so the call timeout that
    detects a dead worker (shim.js, 10 s) is waited for once, not once per lab."""
    tabs = {}
    for lab, url in labs.items():
        tab = page if not tabs else page.context.new_page()
        if tab is not page:
            tab.watch = PageWatch(tab)
        first = preset(lab)
        tab.goto(f"{url}?{urlencode(first)}")  # a shared link opened fresh: the preset arrives with the page
        wait_live(tab, lab)
        sitecheck.wait_idle(tab, lab)
        assert same_query(query_of(tab), first)
        tabs[lab] = (tab, first)
    changed = {}
    for lab, (tab, _) in tabs.items():
        controls = runtime.lab_module(lab).CONTROLS
        tab.evaluate("() => { window.__oldWorker = window.__labs.worker; window.__labs.terminate(); }")
        other = controls[1] if len(controls) > 1 else controls[0]
        control = sitecheck.focus_control(tab, lab, other.name)
        trouble = sitecheck.press_to_change(tab, control.evaluate("e => e.type"))
        assert trouble is None, f"{lab}: {trouble}"
        changed[lab] = other
    for lab, (tab, first) in tabs.items():
        controls, other = runtime.lab_module(lab).CONTROLS, changed[lab]
        sitecheck.wait_replied(tab, lab, other.name, 60_000)
        assert tab.evaluate("() => Boolean(window.__labs.worker) && window.__labs.worker !== window.__oldWorker")
        raw = tab.evaluate("lab => document.querySelector(`[data-lab='${lab}']`).__lab.params()", lab)  # what the controls show
        expected = non_default(controls, clean(controls, raw)[0])
        assert same_query(query_of(tab), expected), f"{query_of(tab)} != {expected}"
        if other is not controls[0]:
            assert first.items() <= query_of(tab).items(), "the restarted lab lost the preset"
        assert "failed" not in tab.locator(f'[data-lab="{lab}"] [data-lab-notices]').inner_text()
        assert tab.watch.errors == [], f"{lab}: {tab.watch.errors}"


NO_HANDLERS_JS = """() => [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
  .filter(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value)).map(a => `${el.tagName} ${a.name}`))"""


def hostile_queries(lab: str) -> list[dict[str, str]]:
    """A handful of hostile query strings for real page loads (the bulk runs in CPython above)."""
    names = [c.name for c in runtime.lab_module(lab).CONTROLS]
    return [
        {names[0]: INJECTIONS[0], names[-1]: "NaN", INJECTIONS[1]: "1"},
        {n: INJECTIONS[(i + 1) % len(INJECTIONS)] for i, n in enumerate(names)},
        {names[0]: "1e309", names[-1]: "9" * 3000},
        {names[0]: INJECTIONS[4], names[-1]: INJECTIONS[3]},
    ]


@pytest.mark.browser
def test_hostile_urls_run_no_script_show_a_notice_and_keep_the_lab_working(page, site, labs):
    _, base = site
    loaded = False
    for lab, url in labs.items():
        controls = runtime.lab_module(lab).CONTROLS
        for query in hostile_queries(lab):
            target = f"{url}?{urlencode(query)}"
            if loaded:
                sitecheck.instant_goto(page, base)
                sitecheck.instant_goto(page, target)
            else:  # the first one is a full page load, the rest arrive as a reader following links
                page.goto(target)
                loaded = True
            wait_live(page, lab)
            sitecheck.wait_idle(page, lab)
            assert page.evaluate("() => typeof window.__pwned") == "undefined", f"script ran for {query}"
            assert page.evaluate(NO_HANDLERS_JS) == []
            assert page.locator(f'[data-lab="{lab}"] [data-lab-notices] .lab-notice').is_visible(), query
            want, _ = clean(controls, {k: v for k, v in query.items() if k in {c.name for c in controls}})
            assert same_query({k: v for k, v in query_of(page).items() if k in want}, non_default(controls, want))
        other = controls[-1]
        control = sitecheck.focus_control(page, lab, other.name)
        assert sitecheck.change_with_keys(page, lab, other.name, control.evaluate("e => e.type")) is None
    assert page.watch.errors == []


URL_CASES_PER_LAB = 100  # each costs a real render in Pyodide; every control keeps its share of them


def round_robin(groups: list[list], n: int) -> list:
    """Up to n items taken from the groups in turn (the first of each, then the second …), order kept."""
    out, depth = [], 0
    while len(out) < n and any(depth < len(g) for g in groups):
        out += [g[depth] for g in groups if depth < len(g)][: n - len(out)]
        depth += 1
    return out


def url_cases(lab: str) -> list[tuple[str, bool]]:
    """At least 100 hostile query strings for one lab, as a shared link could carry them, each with whether
    it names one of the lab's params with a bad value (then a notice must show; unknown keys are ignored)."""
    controls = runtime.lab_module(lab).CONTROLS
    names = [c.name for c in controls]
    per_control = [[(urlencode({c.name: text}), True) for text in dict.fromkeys(
        str(v) for v in bad_values(c) if isinstance(v, str | int | float) and not isinstance(v, bool))
        if not valid(c, text)] for c in controls]
    out = round_robin(per_control, URL_CASES_PER_LAB)
    out += [(urlencode({n: INJECTIONS[i % len(INJECTIONS)] for i, n in enumerate(names)}), True),
            (urlencode({INJECTIONS[0]: "1", "zzz": INJECTIONS[1]}), False),
            (f"{names[0]}=%ZZ&{names[-1]}=%E0%A4%A", True), (f"{names[0]}=%00", True), ("&&=&=x&", False)]
    return out


# Replay each query as the page URL through the controller's own URL path, wait for Python's answer, and
# collect what went wrong: a state other than live, an on* attribute or javascript: URL anywhere in the
# lab, a failed update, or no visible notice when one is due.
REPLAY_URLS_JS = """async ([lab, cases]) => {
  const root = document.querySelector(`[data-lab="${lab}"]`), c = root.__lab, bad = [];
  const idle = () => new Promise((done) => { const poll = () => (c.busy || c.queued ? setTimeout(poll, 5) : done()); poll(); });
  for (const [query, noticeDue] of cases) {
    history.replaceState(history.state, '', `${location.pathname}?${query}`);
    c.readUrl();
    await c.send(null);
    await idle();
    const handlers = [...root.querySelectorAll('*')].flatMap((el) => [...el.attributes]
      .filter((a) => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value)).map((a) => `${el.tagName} ${a.name}`));
    const notices = root.querySelector('[data-lab-notices]'), notice = notices.querySelector('.lab-notice');
    const shown = Boolean(notice) && notice.offsetHeight > 0;
    if (root.dataset.state !== 'live' || handlers.length || /failed/.test(notices.textContent) || (noticeDue && !shown)) {
      bad.push({query: query.slice(0, 120), state: root.dataset.state, handlers, notice: notices.textContent.slice(0, 120)});
    }
  }
  await new Promise((done) => setTimeout(done, 300));  // an <img onerror> would have fired by now
  return {bad, pwned: typeof window.__pwned !== 'undefined'};
}"""


@pytest.mark.browser
def test_a_hundred_hostile_urls_per_lab_in_the_browser(page, site, labs):
    """Every hostile query string of `url_cases` goes through the real URL → controller → Pyodide → DOM path."""
    page.goto(site[1])
    problems, counts = [], {}
    for lab, url in labs.items():
        cases = url_cases(lab)
        counts[lab] = len(cases)
        sitecheck.instant_goto(page, url)
        wait_live(page, lab)
        sitecheck.wait_idle(page, lab)
        result = page.evaluate(REPLAY_URLS_JS, [lab, cases])
        problems += [Problem("hostile-url", lab, "misbehaved", target=b["query"], detail=str(b)) for b in result["bad"]]
        if result["pwned"]:
            problems.append(Problem("hostile-url", lab, "script-ran"))
        control = page.locator(f'[data-lab="{lab}"] [data-control]').first
        control.focus()
        assert sitecheck.change_with_keys(page, lab, control.get_attribute("data-control"), control.evaluate("e => e.type")) is None
    sitecheck.record("hostile-browser", {"cases": counts, "problems": problems})
    assert min(counts.values()) >= 100, counts
    assert_gate(problems, "hostile-url")
    assert page.watch.errors == []


@pytest.mark.browser
def test_corrupt_lab_store_is_explained_and_left_untouched(page, site, labs):
    _, base = site
    page.goto(base)
    problems = []
    for lab, url in labs.items():
        key = STORE_PREFIX + lab
        root = page.locator(f'[data-lab="{lab}"]')
        page.evaluate("k => localStorage.removeItem(k)", key)
        sitecheck.instant_goto(page, url)
        wait_live(page, lab)
        sitecheck.wait_idle(page, lab)
        plain = len(EXPLAINS.findall(root.inner_text()))  # what the lab says with nothing stored
        sitecheck.instant_goto(page, base)
        for stored in ("{", '{"labels": [1, 2', "42", INJECTIONS[0]):
            page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, stored])
            sitecheck.instant_goto(page, url)
            wait_live(page, lab)
            sitecheck.wait_idle(page, lab)
            if keeps_reader_data(lab):
                resets = root.locator("button:visible:not([disabled])").filter(has_text=RESET)
                if len(EXPLAINS.findall(root.inner_text())) <= plain or resets.count() == 0:
                    problems.append(Problem("stored", lab, "not-explained", target=stored[:40],
                                            detail="no explanation and enabled Reset button in the lab"))
                # the reader carries on: an ordinary action must not overwrite what could not be read
                plain_actions = root.locator("button[data-action]:not([data-confirm]):not([disabled])")
                names = [n for n in plain_actions.evaluate_all("els => els.map(e => e.dataset.action)")
                         if n not in ("play", "export", "import")]
                if names:
                    root.locator(f'button[data-action="{names[0]}"]').click()
                    sitecheck.wait_idle(page, lab)
            control = root.locator("[data-control]").first
            control.focus()
            sitecheck.change_with_keys(page, lab, control.get_attribute("data-control"), control.evaluate("e => e.type"))
            if page.evaluate("k => localStorage.getItem(k)", key) != stored:
                problems.append(Problem("stored", lab, "overwritten", target=stored[:40]))
            assert page.evaluate("() => typeof window.__pwned") == "undefined"
            sitecheck.instant_goto(page, base)
        page.evaluate("k => localStorage.removeItem(k)", key)
    assert page.watch.errors == []
    assert_gate(problems, "stored")


@pytest.mark.browser
def test_corrupt_mvu_checklist_is_explained_and_left_untouched(page, site):
    out, base = site
    assert "data-mvu" in (out / "index.html").read_text(), "the stage page lost its MVU checklist"
    page.goto(base)
    box = page.locator("[data-mvu]")
    for stored in ("{", "not json", "null", '{"a": true}', "[1, 0]", '["true"]', INJECTIONS[0]):
        page.evaluate("([k, v]) => localStorage.setItem(k, v)", [MVU_KEY, stored])
        page.reload()
        note = box.locator(".mvu-error")
        assert note.is_visible() and "could not be read" in note.inner_text()
        assert note.get_by_role("button", name=RESET).is_visible()
        box.locator('input[type="checkbox"]').first.check(force=True)
        assert page.evaluate("k => localStorage.getItem(k)", MVU_KEY) == stored, "a failed load overwrote the checklist"
    note.get_by_role("button", name=RESET).click()
    assert page.evaluate("k => localStorage.getItem(k)", MVU_KEY) is None
    box.locator('input[type="checkbox"]').first.check(force=True)
    saved = json.loads(page.evaluate("k => localStorage.getItem(k)", MVU_KEY))
    assert saved[0] is True and all(isinstance(v, bool) for v in saved)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert page.watch.errors == []
