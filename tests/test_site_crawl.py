"""Every page of the built site, from sitemap.xml, in headless Chromium: no console errors, no failed or
foreign requests, no broken links or #anchors, alt text on every image, no formula or diagram wider than
the 1280 px layout's column, every lab live; and with JavaScript off, every page still reads and every lab
shows its snapshot and the notice."""

import pytest
import sitecheck
from sitecheck import assert_gate, rel

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def crawled(browser, site, pages):
    """One real page load per page (labs left to go live), shared by the tests below."""
    out, base = site
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    result = sitecheck.crawl(ctx.new_page(), pages, base)
    ctx.close()
    problems = result.problems(out, base)
    sitecheck.record("crawl", {
        "pages": len(pages),
        "requests": sum(log.requests for log in result.logs.values()),
        "labs": sorted({lab for states in result.labs.values() for lab in states}),
        "links": sum(len(set(f["links"])) for f in result.facts.values()),
        "problems": problems,
    })
    return result, problems


def test_sitemap_lists_every_built_page(site, pages):
    out, base = site
    missing = sorted(set(sitecheck.built_page_urls(out, base)) - set(pages))
    assert missing == [], f"built pages the sitemap (and so the crawl) misses: {missing}"
    assert all(sitecheck.url_to_file(out, base, url) for url in pages)


def test_no_console_errors_on_any_page(crawled):
    assert_gate(crawled[1], "crawl", ("console-error",))


def test_no_failed_requests(crawled):
    assert_gate(crawled[1], "crawl", ("failed-request",))


def test_no_request_leaves_the_site(crawled):
    assert_gate(crawled[1], "crawl", ("foreign-request",))


def test_every_request_was_seen(crawled, pages):
    result, _ = crawled
    assert set(result.logs) == set(pages)
    assert all(log.requests >= 1 for log in result.logs.values())


def test_internal_links_and_anchors_resolve(crawled):
    result, problems = crawled
    assert sum(len(f["links"]) for f in result.facts.values()) > 0
    assert_gate(problems, "links")


def test_every_image_has_alt_text(crawled):
    assert_gate(crawled[1], "alt")


def test_formulas_and_diagrams_fit_a_desktop_column(crawled):
    assert_gate(crawled[1], "crawl", ("wider-than-column",))


def test_every_lab_on_the_site_goes_live(crawled, site, pages):
    out, base = site
    result, problems = crawled
    expected = sitecheck.lab_pages(out, base, pages)
    seen = {lab for states in result.labs.values() for lab in states}
    assert seen == set(expected), f"labs in the built pages {sorted(expected)}, seen live or failed {sorted(seen)}"
    assert_gate(problems, "crawl", ("lab-not-live",))


NOJS_JS = """() => ({
  h1: Boolean(document.querySelector('.md-content h1')) && document.querySelector('.md-content h1').offsetHeight > 0,
  text: document.querySelector('.md-content') ? document.querySelector('.md-content').innerText.trim().length : 0,
  labs: [...document.querySelectorAll('[data-lab]')].map(root => ({
    name: root.dataset.lab,
    state: root.dataset.state,
    notice: (root.querySelector('[data-lab-status-text]') || {}).innerText || '',
    noticeShown: Boolean(root.querySelector('[data-lab-status-text]')) &&
                 root.querySelector('[data-lab-status-text]').offsetHeight > 0,
    snapshot: root.querySelectorAll('[data-lab-view] svg, [data-lab-view] [data-metric]').length,
    viewHeight: (root.querySelector('[data-lab-view]') || {offsetHeight: 0}).offsetHeight,
  })),
})"""


def test_pages_read_without_javascript(browser, site, pages):
    out, base = site
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    problems, lab_count = [], 0
    for url in pages:
        page.goto(url)
        facts = page.evaluate(NOJS_JS)
        where = rel(url, base)
        if not facts["h1"] or facts["text"] < 20:
            problems.append(sitecheck.Problem("nojs", where, "blank-page", detail=f"h1 shown: {facts['h1']}, "
                                              f"{facts['text']} characters of text"))
        for lab in facts["labs"]:
            lab_count += 1
            if lab["state"] != "static" or "interactive with JavaScript" not in lab["notice"] or not lab["noticeShown"]:
                problems.append(sitecheck.Problem("nojs", where, "lab-notice", target=lab["name"], detail=str(lab)))
            if lab["snapshot"] == 0 or lab["viewHeight"] < 50:
                problems.append(sitecheck.Problem("nojs", where, "lab-snapshot", target=lab["name"], detail=str(lab)))
    ctx.close()
    sitecheck.record("nojs", {"pages": len(pages), "labs": lab_count, "problems": problems})
    assert lab_count == len(sitecheck.lab_pages(out, base, pages))
    assert_gate(problems, "nojs")
