"""The built site under a strict Content-Security-Policy (scripts/serve_site.py's STRICT_CSP): every page
loads, every lab goes live, and the browser reports no violation, console error or failed request."""

import re

import pytest
import serve_site
import sitecheck
from conftest import free_port
from sitecheck import Problem, assert_gate, rel

pytestmark = pytest.mark.browser

CSP_EVENTS_JS = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  {directive: e.violatedDirective, blocked: e.blockedURI, line: e.lineNumber, source: e.sourceFile}));"""


def inline_script_at(html: str, line: int) -> str:
    """The text of the inline <script> that starts on `line` of the served HTML ("" if none)."""
    for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S):
        if html.count("\n", 0, m.start()) + 1 == line:
            return m.group(1)
    return ""


@pytest.fixture(scope="module")
def csp_base(site):
    out, _ = site
    server = serve_site.start(out, free_port(), serve_site.STRICT_CSP)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_site_and_labs_work_under_the_strict_csp(browser, site, csp_base):
    out, base = site
    urls = [csp_base + rel(u, base) for u in sitecheck.sitemap_urls(out, base)]
    ctx = browser.new_context()
    ctx.add_init_script(CSP_EVENTS_JS)
    page = ctx.new_page()
    recorder = sitecheck.Recorder(page, csp_base)
    problems, live = [], {}
    for url in urls:
        log = recorder.start(url)
        response = page.goto(url)
        assert "default-src 'self'" in response.headers.get("content-security-policy", ""), "the CSP header is missing"
        live.update(sitecheck.wait_labs(page))
        recorder.settle(page)
        html = sitecheck.url_to_file(out, csp_base, url).read_text()
        for v in page.evaluate("() => window.__csp"):
            script = inline_script_at(html, v["line"]) if v["blocked"] == "inline" else ""
            problems.append(Problem("csp", rel(url, csp_base), v["directive"], target=v["blocked"],
                                    detail=f"{v['source']} line {v['line']}: {script[:80]}"))
        problems += [Problem("csp", rel(url, csp_base), "pageerror" if e.startswith("pageerror:") else "console-error",
                             detail=e[:300]) for e in log.errors]
        problems += [Problem("csp", rel(url, csp_base), "failed-request", target=f) for f in log.failed]
        problems += [Problem("csp", rel(url, csp_base), "foreign-request", target=f) for f in log.foreign]
    ctx.close()
    sitecheck.record("csp", {"pages": len(urls), "labs": live, "problems": problems})
    assert live and all(state == "live" for state in live.values()), f"labs under the CSP: {live}"
    assert set(live) == set(sitecheck.lab_pages(out, base, sitecheck.sitemap_urls(out, base)))
    assert_gate(problems, "csp")
