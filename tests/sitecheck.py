"""Site-wide checks shared by the gate tests and `scripts/quality_report.py`.

Why: the crawl, the link check, axe and the phone-width check live in one place, so the tests
assert exactly what the quality report counts. Every check works on the
built site served on 127.0.0.1 and discovers pages (sitemap.xml) and labs (`[data-lab]`) itself.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from axe_playwright_python.base import AXE_SCRIPT  # axe-core bundled with the PyPI package: no CDN
from playwright.sync_api import TimeoutError as PlaywrightTimeout

LAB_PENDING = '[data-lab]:not([data-state="live"]):not([data-state="error"])'


@dataclass
class Problem:
    """One finding of a gate: which gate, where, which rule, on what, and why."""

    gate: str  # crawl | links | alt | axe | mobile | csp | nojs | keyboard | python
    page: str  # site-relative path, e.g. "labs/lora/"
    rule: str  # axe rule id, CSP directive, request failure, ...
    target: str = ""  # selector, URL or element excerpt
    detail: str = ""
    context: str = ""  # e.g. the palette ("light" / "dark") an axe run used
    impact: str = ""

    def __str__(self) -> str:
        ctx = f" [{self.context}]" if self.context else ""
        return f"{self.gate}{ctx} /{self.page} {self.rule} {self.impact} {self.target} — {self.detail}".rstrip(" —")


PALETTES = ("light", "dark")


def select(problems: list[Problem], gate: str, rules: tuple[str, ...] | None = None,
           contexts: tuple[str, ...] | None = None) -> list[Problem]:
    """This gate's problems, narrowed to the rules and contexts a test checked."""
    return [p for p in problems if p.gate == gate and (rules is None or p.rule in rules)
            and (contexts is None or p.context in contexts)]


def assert_gate(problems: list[Problem], gate: str, rules: tuple[str, ...] | None = None,
                contexts: tuple[str, ...] | None = None) -> None:
    """Fail on any problem of this gate (every gate's target is zero)."""
    found = select(problems, gate, rules, contexts)
    assert not found, gate_message(found)


def gate_message(found: list[Problem], limit: int = 40) -> str:
    """A readable assertion message listing the problems (up to `limit`)."""
    lines = [f"{len(found)} problem(s):"] + [f"  {p}" for p in found[:limit]]
    if len(found) > limit:
        lines.append(f"  … and {len(found) - limit} more")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the built site


def sitemap_urls(site_dir: Path, base: str) -> list[str]:
    """Every page URL the sitemap lists (the crawl's page list: nothing typed by hand)."""
    urls = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", (Path(site_dir) / "sitemap.xml").read_text())
    assert urls and all(u.startswith(base) for u in urls), f"sitemap.xml does not list pages under {base}"
    return urls


def built_page_urls(site_dir: Path, base: str) -> list[str]:
    """URLs of every HTML page the build wrote (except 404.html and vendored asset folders)."""
    out = []
    for path in sorted(Path(site_dir).rglob("index.html")):
        folder = path.parent.relative_to(site_dir).as_posix()
        if not folder.startswith(("assets/", "pyodide/", "search")):
            out.append(base if folder == "." else f"{base}{folder}/")
    return out


def rel(url: str, base: str) -> str:
    """The site-relative path of a URL ("" for the home page)."""
    return url[len(base):] if url.startswith(base) else url


def url_to_file(site_dir: Path, base: str, url: str) -> Path | None:
    """The built file a same-site URL serves, or None when the site has none."""
    path = unquote(urlsplit(url).path)
    base_path = urlsplit(base).path
    if not path.startswith(base_path):
        return None
    target = Path(site_dir) / path[len(base_path):]
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def lab_pages(site_dir: Path, base: str, urls: list[str]) -> dict[str, str]:
    """{lab name: URL of the first page carrying it}, from the built pages' `data-lab` roots."""
    labs: dict[str, str] = {}
    for url in urls:
        html = url_to_file(site_dir, base, url).read_text()
        for name in re.findall(r'<div class="lab" data-lab="([^"]+)"', html):
            labs.setdefault(name, url)
    return labs


def static_ids(path: Path) -> set[str]:
    """Anchor targets (id and a[name]) in a built HTML file."""
    html = path.read_text()
    return set(re.findall(r'\sid="([^"]+)"', html)) | set(re.findall(r'<a\s[^>]*\bname="([^"]+)"', html))


# ----------------------------------------------------------------------------- the browser


@dataclass
class PageLog:
    """What one page did on the network and in the console."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # network failures and HTTP status >= 400
    foreign: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)  # page fetches Material cancelled for a newer navigation


class Recorder:
    """Listens to one Playwright page and files requests and console errors under the URL being checked."""

    def __init__(self, page, origin: str):
        self.origin = origin.rstrip("/") + "/"
        self.logs: dict[str, PageLog] = {}
        self.key = ""
        self.inflight: set = set()
        page.on("console", lambda m: m.type == "error" and self._log().errors.append(m.text))
        page.on("pageerror", lambda e: self._log().errors.append(f"pageerror: {e}"))
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfinished", lambda r: self.inflight.discard(r))
        page.on("requestfailed", self._failed)

    def start(self, key: str) -> PageLog:
        self.key = key
        return self.logs.setdefault(key, PageLog())

    def _log(self) -> PageLog:
        return self.logs.setdefault(self.key, PageLog())

    def _request(self, request) -> None:
        log = self._log()
        log.requests += 1
        self.inflight.add(request)
        if not request.url.startswith((self.origin, "data:", "blob:")):
            log.foreign.append(request.url)

    def _response(self, response) -> None:
        if response.status >= 400:
            self._log().failed.append(f"{response.url} HTTP {response.status}")

    def _failed(self, request) -> None:
        self.inflight.discard(request)
        text = f"{request.url} ({request.resource_type}) {request.failure}"
        superseded = (request.failure == "net::ERR_ABORTED" and request.resource_type in ("fetch", "xhr")
                      and urlsplit(request.url).path.endswith("/"))
        (self._log().aborted if superseded else self._log().failed).append(text)

    def settle(self, page, quiet_ms: int = 250, timeout_ms: int = 15_000) -> None:
        """Wait until no request has been in flight for `quiet_ms` (or give up after `timeout_ms`)."""
        quiet = waited = 0
        while quiet < quiet_ms and waited < timeout_ms:
            page.wait_for_timeout(50)
            waited += 50
            quiet = quiet + 50 if not self.inflight else 0


def wait_labs(page, timeout_ms: int = 90_000) -> dict[str, str]:
    """Wait until every lab on the page is live or has failed; {lab: state}."""
    if page.locator("[data-lab]").count():
        page.wait_for_function(f"() => !document.querySelector('{LAB_PENDING}')", timeout=timeout_ms)
    return page.eval_on_selector_all("[data-lab]", "els => Object.fromEntries(els.map(e => [e.dataset.lab, e.dataset.state]))")


def wait_idle(page, lab: str, timeout_ms: int = 60_000) -> None:
    """Wait until a live lab has no computation in flight or queued."""
    page.wait_for_function("name => { const c = document.querySelector(`[data-lab=\"${name}\"]`).__lab;"
                           " return c && !c.busy && !c.queued; }", arg=lab, timeout=timeout_ms)


# True once the lab has answered for the control's current value: the URL mirrors it (absent = default).
REPLIED_JS = """([lab, name]) => {
  const root = document.querySelector(`[data-lab="${lab}"]`), c = root.__lab;
  const els = [...root.querySelectorAll(`[data-control="${name}"]`)], el = els[0];
  const value = el.dataset.multi !== undefined ? els.filter(e => e.checked).map(e => e.value).join(',')
    : el.type === 'checkbox' ? (el.checked ? '1' : '0') : el.value;
  const query = new URL(location.href).searchParams.get(name);
  const same = (a, b) => a === b || (a.trim() !== '' && b.trim() !== '' && Number(a) === Number(b));
  return root.dataset.state === 'live' && !c.busy && !c.queued
    && same(query === null ? String(c.defaults[name]) : query, value);
}"""

FOCUS_JS = """() => {
  const el = document.activeElement, root = el && el.closest('[data-lab]');
  return {inLab: root ? root.dataset.lab : null, control: el.dataset.control || null,
          action: el.dataset.action || null, type: el.type || el.tagName.toLowerCase(),
          value: el.type === 'checkbox' ? String(el.checked) : el.value || ''};
}"""


def wait_replied(page, lab: str, name: str, timeout_ms: int = 30_000) -> None:
    """Wait until the lab is live, idle, and has answered for the current value of control `name`."""
    page.wait_for_function(REPLIED_JS, arg=[lab, name], timeout=timeout_ms)


def focused(page) -> dict:
    """The focused element: its lab, control or action, input type and value."""
    return page.evaluate(FOCUS_JS)


def focus_control(page, lab: str, name: str):
    """Focus a lab's control as a reader reaches it: a closed "Advanced" around it is opened first. The locator."""
    control = page.locator(f'[data-lab="{lab}"] [data-control="{name}"]').first
    control.evaluate("e => { const d = e.closest('details'); if (d) d.open = true; }")
    control.focus()
    return control


def press_to_change(page, kind: str) -> str | None:
    """Change the focused control from the keyboard; what went wrong, or None.

    Range: ArrowRight (ArrowLeft at the top); select: ArrowDown (ArrowUp at the end); checkbox: Space.
    """
    keys = {"range": ("ArrowRight", "ArrowLeft"), "select-one": ("ArrowDown", "ArrowUp"), "checkbox": ("Space",)}[kind]
    before = focused(page)["value"]
    for key in keys:
        page.keyboard.press(key)
        if focused(page)["value"] != before:
            return None
    return f"{' / '.join(keys)} did not change it"


def change_with_keys(page, lab: str, name: str, kind: str, timeout_ms: int = 30_000) -> str | None:
    """Change the focused control from the keyboard and wait for the lab's answer; what went wrong, or None."""
    trouble = press_to_change(page, kind)
    if trouble is None:
        wait_replied(page, lab, name, timeout_ms)
    return trouble


PAGE_FACTS_JS = """() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name')),
  noAlt: [...document.querySelectorAll('img')].filter(i => !(i.getAttribute('alt') || '').trim())
           .map(i => i.outerHTML.slice(0, 160)),
  wide: [...document.querySelectorAll('.md-typeset div.arithmatex, .md-typeset figure.diagram')]
          .filter(e => e.scrollWidth > e.clientWidth + 1)
          .map(e => `${e.scrollWidth} px in ${e.clientWidth} px: ${(e.querySelector('annotation') || e).textContent.trim().slice(0, 100)}`),
})"""


def page_facts(page) -> dict:
    """Links, anchor targets, images without alt text and formulas/diagrams wider than the column, from the live DOM."""
    return page.evaluate(PAGE_FACTS_JS)


@dataclass
class Crawl:
    """What loading every page once (a real page load each) recorded."""

    logs: dict[str, PageLog]
    facts: dict[str, dict]
    labs: dict[str, dict[str, str]]

    def problems(self, site_dir: Path, base: str) -> list[Problem]:
        """Every crawl finding: console errors, failed and foreign requests, broken links, missing alt, formulas or
        diagrams that scroll on a desktop screen, dead labs."""
        out: list[Problem] = []
        for url, log in self.logs.items():
            page = rel(url, base)
            out += [Problem("crawl", page, "console-error", detail=e[:300]) for e in log.errors]
            out += [Problem("crawl", page, "failed-request", target=f) for f in log.failed]
            out += [Problem("crawl", page, "foreign-request", target=f) for f in log.foreign]
        for url, facts in self.facts.items():
            out += [Problem("alt", rel(url, base), "img-without-alt", target=t) for t in facts["noAlt"]]
            out += [Problem("crawl", rel(url, base), "wider-than-column", target=t) for t in facts["wide"]]
        for url, states in self.labs.items():
            out += [Problem("crawl", rel(url, base), "lab-not-live", target=lab, detail=state)
                    for lab, state in states.items() if state != "live"]
        return out + broken_links(site_dir, base, self.facts)


def crawl(page, urls: list[str], base: str) -> Crawl:
    """Load every URL (a real page load each), let labs go live and the network settle, and record it all."""
    recorder = Recorder(page, base)
    facts: dict[str, dict] = {}
    labs: dict[str, dict[str, str]] = {}
    for url in urls:
        recorder.start(url)
        page.goto(url)
        states = wait_labs(page)
        if states:
            labs[url] = states
        recorder.settle(page)
        facts[url] = page_facts(page)
    return Crawl(recorder.logs, facts, labs)


def broken_links(site_dir: Path, base: str, facts: dict[str, dict]) -> list[Problem]:
    """Same-site links whose page/file does not exist, or whose #fragment names no element there."""
    ids_by_file = {url_to_file(site_dir, base, url): set(f["ids"]) for url, f in facts.items()}
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(base))
    out = []
    for url, f in facts.items():
        for href in sorted(set(f["links"])):
            if not href.startswith(origin):
                continue
            target, fragment = urldefrag(href)
            path = url_to_file(site_dir, base, target)
            if path is None:
                out.append(Problem("links", rel(url, base), "missing-target", target=href))
            elif fragment and path.suffix == ".html":
                ids = ids_by_file.get(path)
                if ids is None:
                    ids = ids_by_file[path] = static_ids(path)
                if unquote(fragment) not in ids:
                    out.append(Problem("links", rel(url, base), "missing-anchor", target=href))
    return out


# Click a link to `url`, marking the content it should replace; true when Material's instant navigation took
# the click at once (it prevents the default). A click before Material has read sitemap.xml is not taken at once:
# its default is cancelled here (no full page load) and Material acts on it when the sitemap arrives.
INSTANT_CLICK_JS = """url => {
  let taken = false;
  const seen = e => { taken = e.defaultPrevented; if (!taken) e.preventDefault(); };
  window.addEventListener('click', seen, {once: true});
  window.__sitecheckWindow = window.__sitecheckWindow || String(Math.random());
  document.querySelector('.md-content').setAttribute('data-sitecheck-stale', '');
  const a = document.createElement('a');
  a.href = url;
  document.body.append(a);
  a.click();
  a.remove();
  return taken;
}"""


def instant_goto(page, url: str, timeout_ms: int = 60_000) -> None:
    """Follow a link to `url` the way a reader does, through Material's instant navigation.

    The link is clicked once. Material keeps a click that arrives before its sitemap (its click stream
    is combined with the sitemap's) and navigates when the sitemap arrives; a second click would then
    be a second navigation to the same page, which Material drops (it fetches only when the pathname
    changes), so the content would already be swapped when the second click marks it as stale.

    The window (and with it the lab worker) must survive; a full reload means instant navigation is
    broken (e.g. site_url does not match the host) and fails loudly.
    """
    taken = page.evaluate(INSTANT_CLICK_JS, url)
    try:
        page.wait_for_function("() => document.querySelector('.md-content') && !document.querySelector('[data-sitecheck-stale]')",
                               timeout=timeout_ms)
    except PlaywrightTimeout as err:
        when = "took the click" if taken else "did not take the click at once (no sitemap yet, or the URL is not in it)"
        raise AssertionError(f"Material {when}, but the content never changed to {url}; the page is {page.url}") from err
    assert page.evaluate("() => Boolean(window.__sitecheckWindow)"), f"instant navigation to {url} reloaded the page"


def set_palette(page, scheme: str) -> None:
    """Switch Material's palette with its header toggle (as a reader does; the choice is stored)."""
    want = {"light": "default", "dark": "slate"}[scheme]
    page.emulate_media(color_scheme=scheme)
    for _ in range(3):
        if page.evaluate("document.body.dataset.mdColorScheme") == want:
            return
        page.locator('form[data-md-component="palette"] label:visible').first.click()
        page.wait_for_timeout(100)
    assert page.evaluate("document.body.dataset.mdColorScheme") == want, f"could not switch to the {scheme} palette"


# The axe rules whose outcome depends on the colours, the only thing a palette changes.
COLOUR_RULES = ("color-contrast", "link-in-text-block")


# A syntax-highlighted listing holds thousands of token elements in a handful of styles, and axe's colour verdict on
# a text element follows from its computed colour, font and what lies beneath it (the backgrounds, opacity and
# filters of it and its ancestors). Mark one element of each distinct style, preferring two or more letters or
# digits (axe skips symbols alone and leaves a single character "incomplete"), then one its listing does not clip
# sideways (a clipped one is "incomplete" too); how many listings the page has.
LISTING_STYLES_JS = """() => {
  const chains = new Map(), boxes = new Map(), picked = new Map();
  const under = (el) => {
    if (!el) return '';
    if (!chains.has(el)) {
      const s = getComputedStyle(el);
      chains.set(el, [s.backgroundColor, s.backgroundImage, s.opacity, s.filter, s.mixBlendMode, s.visibility].join(';')
        + '>' + under(el.parentElement));
    }
    return chains.get(el);
  };
  const score = (el, text) => {
    const pre = el.closest('pre');
    if (!boxes.has(pre)) boxes.set(pre, pre.getBoundingClientRect());
    const box = boxes.get(pre), r = el.getBoundingClientRect();
    const words = (text.match(/[\\p{L}\\p{N}]/gu) || []).length;
    return 4 * (words > 1) + 2 * (words > 0) + (r.left >= box.left && r.right <= box.right);
  };
  for (const el of document.querySelectorAll('.highlight pre *')) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join('');
    if (!text.trim()) continue;
    const s = getComputedStyle(el);
    const key = [s.color, s.fontSize, s.fontWeight, s.fontStyle, s.textShadow, s.webkitTextStrokeColor,
                 s.webkitTextStrokeWidth, under(el)].join('|');
    const seen = picked.get(key);
    if (!seen || seen.score < 7) {
      const now = score(el, text);
      if (!seen || now > seen.score) picked.set(key, {el, score: now});
    }
  }
  picked.forEach(({el}) => el.setAttribute('data-sitecheck-style', ''));
  return document.querySelectorAll('.highlight pre').length;
}"""
# Colour rules on the page outside the listings, and on each listing's marked elements (with their contents).
LISTING_CONTEXT = {"include": [["html"], ["[data-sitecheck-style]"]], "exclude": [[".highlight pre"]]}


def _only(rules) -> dict:
    """axe options that run only these rules."""
    return {"runOnly": {"type": "rule", "values": list(rules)}}


def axe(page, page_path: str, context: str, rules: tuple[str, ...] | None = None) -> list[Problem]:
    """axe-core's violations on the current page (only `rules`, if given), one Problem per offending node (all impacts).

    In a code listing the colour rules judge one element per distinct style (LISTING_STYLES_JS); every other rule,
    and the colour rules everywhere else, see the whole page."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    listings = page.evaluate(LISTING_STYLES_JS)
    colour = [r for r in COLOUR_RULES if rules is None or r in rules]
    runs = [(None, _only(rules) if rules else {})]
    if listings and colour:
        runs = [(LISTING_CONTEXT, _only(colour))]
        if rules is None:
            runs.append((None, {"rules": {r: {"enabled": False} for r in COLOUR_RULES}}))
        elif rest := [r for r in rules if r not in COLOUR_RULES]:
            runs.append((None, _only(rest)))
    out = []
    for where, options in runs:
        result = page.evaluate("([where, options]) => axe.run(where || document, options)",
                               [where, {"resultTypes": ["violations"], **options}])
        for v in result["violations"]:
            for node in v["nodes"]:
                summary = " ".join(node.get("failureSummary", "").split())
                target = re.sub(r'\[?data-sitecheck-style(="")?\]? ?', "", f"{' '.join(map(str, node['target']))} {node['html'][:200]}")
                out.append(Problem("axe", page_path, v["id"], target=target, detail=summary[:400], context=context,
                                   impact=v["impact"] or ""))
    page.evaluate("() => document.querySelectorAll('[data-sitecheck-style]').forEach((el) => el.removeAttribute('data-sitecheck-style'))")
    return out


# Which blocks make the page wider than the viewport: hide each in turn and see the width shrink.
OVERFLOW_JS = """() => {
  const root = document.documentElement, width = root.clientWidth, full = root.scrollWidth;
  if (full <= width) return {scrollWidth: full, width, offenders: []};
  const blocks = [...document.querySelectorAll('.md-content__inner > *, .md-header, .md-tabs, .md-sidebar, .md-footer')];
  const offenders = [];
  for (const el of blocks) {
    const display = el.style.display;
    el.style.display = 'none';
    const gain = full - root.scrollWidth;
    el.style.display = display;
    if (gain > 0) offenders.push({gain, html: el.outerHTML.slice(0, 160)});
  }
  offenders.sort((a, b) => b.gain - a.gain);
  return {scrollWidth: full, width, offenders: offenders.slice(0, 3).map(o => `${o.gain} px: ${o.html}`)};
}"""


def overflow(page, page_path: str) -> list[Problem]:
    """A Problem when the document is wider than the viewport (the page would scroll sideways)."""
    m = page.evaluate(OVERFLOW_JS)
    if m["scrollWidth"] <= m["width"]:
        return []
    return [Problem("mobile", page_path, "horizontal-scroll", target=" | ".join(m["offenders"]),
                    detail=f"document {m['scrollWidth']} px wide in a {m['width']} px viewport")]


# ----------------------------------------------------------------------------- untrusted input

INJECTIONS = (
    "<img src=x onerror=window.__pwned=1>",
    '"><script>window.__pwned=1</script>',
    "'><svg onload=window.__pwned=1>",
    "</output><img src=x onerror=window.__pwned=1>",
    '" autofocus onfocus="window.__pwned=1',
    "javascript:window.__pwned=1",
)


class _MarkupAudit(HTMLParser):
    """Collects markup that could run script: <script>/<iframe>/<object>/<embed>, on* attributes, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (name in ("href", "src", "xlink:href", "action")
                                         and (value or "").strip().lower().startswith("javascript:")):
                self.found.append(f"<{tag} {name}={value!r}>")


def dangerous_markup(html: str) -> list[str]:
    """Elements or attributes in `html` that would execute script (a lab never emits any)."""
    audit = _MarkupAudit()
    audit.feed(html)
    audit.close()
    return audit.found


# ----------------------------------------------------------------------------- report hand-off


def record(name: str, data: object) -> None:
    """Write a gate's measurements for scripts/quality_report.py when it asks for them ($SITECHECK_OUT)."""
    out = os.environ.get("SITECHECK_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"{name}.json").write_text(json.dumps(data, indent=1, default=_jsonable))


def _jsonable(obj: object) -> object:
    if isinstance(obj, (Problem, PageLog)):
        return asdict(obj)
    raise TypeError(f"cannot record {type(obj).__name__}")
