"""Shared fixtures: one strict build of the site per session, served on 127.0.0.1, and Chromium.

The site is built with SITE_URL pointing at the test server's own port, as in production, so
Material's instant navigation behaves exactly as readers see it.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import serve_site  # noqa: E402
import sitecheck  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str:
    """An installed Chromium: $CHROMIUM, then Debian's, then whatever is on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("no Chromium found: install Debian's `chromium` package or set $CHROMIUM")


class Answering(serve_site.Handler):
    """The session server's handler: a path ending in a key of `answers` gets those bytes or that HTTP status."""

    answers: ClassVar[dict[str, bytes | int]] = {}

    def send_head(self):
        for suffix, answer in self.answers.items():
            if self.path.split("?")[0].endswith(suffix):
                if isinstance(answer, int):
                    self.send_error(answer)
                    return None
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                return io.BytesIO(answer)
        return super().send_head()


@pytest.fixture
def answer_with(site):
    """Make the session's server answer some files differently for one test: `answer_with({suffix: bytes | status})`.
    The site keeps its address, so Material's instant navigation (which needs the built site_url) still works."""
    yield Answering.answers.update
    Answering.answers.clear()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """(site_dir, base_url): a strict build served on a free local port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "SITE_URL": base, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "heap_snapshot.py"), str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, f"memory image (as `make site` makes it) failed:\n{proc.stdout}\n{proc.stderr}"
    server = serve_site.start(out, port, handler=Answering)
    yield out, base
    server.shutdown()


@pytest.fixture(scope="session")
def pages(site):
    """Every page URL of the built site, from its sitemap.xml (nothing listed by hand)."""
    out, base = site
    return sitecheck.sitemap_urls(out, base)


@pytest.fixture(scope="session")
def labs(site, pages):
    """{lab name: URL of the first page carrying it}, for every lab on the built site."""
    out, base = site
    found = sitecheck.lab_pages(out, base, pages)
    assert found, "no lab on the built site"
    return found


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Console errors, page errors, failed requests and requests that leave 127.0.0.1."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("request", lambda r: (not r.url.startswith(("http://127.0.0.1", "data:", "blob:")))
                and self.foreign.append(r.url))

    def assert_clean(self):
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.foreign == [], f"requests left 127.0.0.1: {self.foreign}"
        assert self.failed == [], f"failed requests: {self.failed}"


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A page plus its watcher at `page.watch`."""
    pg = context.new_page()
    pg.watch = PageWatch(pg)
    return pg


@contextmanager
def live_page(browser, site, lab: str, **context):
    """A 1280×900 page with `lab` live and a watcher at `page.watch`, for a test module to share (one
    runtime start for the module instead of one per test); `context` goes to `browser.new_context`."""
    _, base = site
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
    page = ctx.new_page()
    page.watch = PageWatch(page)
    page.goto(f"{base}labs/{lab}/")
    wait_live(page, lab)
    try:
        yield page
    finally:
        ctx.close()


def wait_live(page, lab: str, timeout_ms: int = 90_000) -> None:
    """Wait until the lab is live (fails fast with the status text if it errors)."""
    settled = page.wait_for_function(SETTLED_JS, arg=lab, timeout=timeout_ms)
    state, status = settled.json_value()
    assert state == "live", status


# The lab's state and status text, read together once it is live or has failed (false until then).
SETTLED_JS = """lab => {
  const root = document.querySelector(`[data-lab="${lab}"]`), state = root && root.dataset.state;
  return (state === 'live' || state === 'error') && [state, root.querySelector('[data-lab-status]').textContent];
}"""


def metric(page, name: str) -> float:
    """The raw value of a metric (its `data-value`)."""
    return float(page.get_attribute(f'[data-metric="{name}"]', "data-value"))
