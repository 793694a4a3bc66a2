"""Instant navigation to lab URLs with a query: right after a page load, and between presets of one lab page.

The Python worker and the search index are replaced by empty stand-ins here: these tests check which
page and params are shown, and twenty runtimes starting and search indexes being built would only cost time.
"""

import json
import math

import pytest
import sitecheck

from labs_py import runtime

pytestmark = pytest.mark.browser
ROUNDS = 20
SOURCE = "further-reading/"  # the smallest page without a lab
EMPTY_SEARCH_INDEX = json.dumps({"config": {"lang": ["en"], "separator": r"[\s\-]+", "pipeline": []}, "docs": []})

# With sessionStorage.sitemapLate set, a page's sitemap request is sent only after the first click: Material
# then gets the click before it can tell an internal link, as it does on a busy machine right after a load.
LATE_SITEMAP_JS = """(() => {
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) { this.__url = String(url); return open.apply(this, arguments); };
  XMLHttpRequest.prototype.send = function (...args) {
    if (!this.__url.endsWith('sitemap.xml') || !sessionStorage.getItem('sitemapLate')) return send.apply(this, args);
    addEventListener('click', () => setTimeout(() => send.apply(this, args)), {once: true, capture: true});
  };
})()"""
MOUNTED_JS = "lab => Boolean(document.querySelector(`[data-lab=\"${lab}\"]`)?.__lab)"  # its controller has read the URL
CONTROL_VALUE_JS = "name => { const el = document.querySelector(`[data-control=\"${name}\"]`); return el && el.value; }"


def preset(lab: str) -> tuple[str, float]:
    """A slider of the lab and a value other than its default (its top or bottom end)."""
    slider = next(c for c in runtime.lab_module(lab).CONTROLS if hasattr(c, "hi"))
    return slider.name, slider.lo if math.isclose(slider.default, slider.hi) else slider.hi


@pytest.fixture
def quiet_page(browser):
    """A desktop page whose lab worker never starts and whose search index is empty, with the late-sitemap hook."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(LATE_SITEMAP_JS)
    ctx.route("**/assets/labs/worker.mjs", lambda route: route.fulfill(body="", content_type="text/javascript"))
    ctx.route("**/search/search_index.json", lambda route: route.fulfill(body=EMPTY_SEARCH_INDEX, content_type="application/json"))
    yield ctx.new_page()
    ctx.close()


def test_a_lab_link_followed_within_a_second_of_a_load_swaps_the_content_every_time(quiet_page, site, labs):
    _, base = site
    page, targets = quiet_page, sorted(labs.items())
    page.goto(base + SOURCE)
    for i in range(ROUNDS):
        lab, url = targets[i % len(targets)]
        name, value = preset(lab)
        page.evaluate("late => late ? sessionStorage.setItem('sitemapLate', '1') : sessionStorage.clear()", i % 2)
        page.goto(base + SOURCE, wait_until="domcontentloaded")
        assert page.evaluate("performance.now() - performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd") < 1000
        sitecheck.instant_goto(page, f"{url}?{name}={value:g}", timeout_ms=10_000)
        assert page.url == f"{url}?{name}={value:g}", i
        page.wait_for_function(MOUNTED_JS, arg=lab, timeout=10_000)
        assert float(page.evaluate(CONTROL_VALUE_JS, name)) == pytest.approx(value), i


def test_a_preset_link_to_the_page_shown_is_applied_and_back_restores_the_previous_one(quiet_page, site, labs):
    _, base = site
    page = quiet_page
    lab, url = sorted(labs.items())[0]
    name, value = preset(lab)
    default = next(c for c in runtime.lab_module(lab).CONTROLS if c.name == name).default
    page.goto(base + SOURCE)
    sitecheck.instant_goto(page, url)  # after an instant navigation Material fetches no page with the same pathname
    page.wait_for_function(MOUNTED_JS, arg=lab)
    page.evaluate("""url => { const a = document.createElement('a');
        a.href = url; a.textContent = 'preset'; document.querySelector('.md-content article').append(a); a.click(); }""",
                  f"{url}?{name}={value:g}")
    assert page.url == f"{url}?{name}={value:g}"
    assert float(page.evaluate(CONTROL_VALUE_JS, name)) == pytest.approx(value)
    page.go_back()
    page.wait_for_function("url => location.href === url", arg=url)
    assert float(page.evaluate(CONTROL_VALUE_JS, name)) == pytest.approx(default)
    assert page.evaluate("() => Boolean(window.__sitecheckWindow)"), "the preset link reloaded the page"
