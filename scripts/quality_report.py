"""Run the site-wide quality gates and print a one-screen summary.

Why: the gates are pytest tests (tests/test_site_crawl.py, test_site_a11y.py, test_lab_faults.py,
test_csp.py) whose measurements come from tests/sitecheck.py; this command runs them once, with
each gate writing what it measured to a scratch folder ($SITECHECK_OUT), and summarises that
together with the JUnit results, so the report counts exactly what the tests assert.
Usage: python scripts/quality_report.py [extra pytest arguments]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import sitecheck  # noqa: E402

GATE_FILES = ("tests/test_site_crawl.py", "tests/test_site_a11y.py", "tests/test_lab_faults.py", "tests/test_csp.py")


def load(folder: Path, name: str) -> dict | None:
    """A gate's measurements, or None when its test did not get far enough to record them."""
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def problems(data: dict | None, key: str = "problems") -> list[sitecheck.Problem]:
    return [sitecheck.Problem(**p) for p in (data or {}).get(key, [])]


def count(found: list[sitecheck.Problem], gate: str, rules: tuple[str, ...] | None = None) -> int:
    """How many of a gate's problems were found (the target of every gate is zero)."""
    return len(sitecheck.select(found, gate, rules))


def junit(path: Path) -> dict[str, Counter]:
    """Outcome counts per test file from pytest's JUnit XML."""
    out: dict[str, Counter] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")[-1]
        outcome = next((tag for tag in ("failure", "error", "skipped") if case.find(tag) is not None), "passed")
        out.setdefault(module, Counter())[outcome] += 1
    return out


def summary(folder: Path, results: dict[str, Counter], seconds: float) -> list[str]:
    """The report's lines."""
    crawl, nojs = load(folder, "crawl"), load(folder, "nojs")
    found = problems(crawl)
    lines = ["Site quality gates"]
    if crawl:
        lines += [
            f"  pages crawled        {crawl['pages']} from sitemap.xml; labs live: {', '.join(crawl['labs']) or 'none'}",
            f"  requests             {crawl['requests']}; failed {count(found, 'crawl', ('failed-request',))}; "
            f"to other hosts {count(found, 'crawl', ('foreign-request',))}",
            f"  console errors       {count(found, 'crawl', ('console-error',))}",
            f"  broken links/anchors {count(found, 'links')} of {crawl['links']} links (distinct per page)",
            f"  images without alt   {count(found, 'alt')}; formulas/diagrams wider than the column "
            f"{count(found, 'crawl', ('wider-than-column',))}",
        ]
    else:
        lines.append("  crawl                not measured (the crawl test failed before recording)")
    if nojs:
        lines.append(f"  JavaScript off       {nojs['pages']} pages, {nojs['labs']} lab snapshots; "
                     f"problems {count(problems(nojs), 'nojs')}")
    for palette in sitecheck.PALETTES:
        data = load(folder, f"axe-{palette}")
        if not data:
            lines.append(f"  axe ({palette})          not measured")
            continue
        impacts = " · ".join(f"{k} {data['by_impact'].get(k, 0)}" for k in ("critical", "serious", "moderate", "minor"))
        lines.append(f"  axe {palette:<5}            {impacts} nodes on {data['pages']} pages")
    keyboard, mobile, csp = load(folder, "keyboard"), load(folder, "mobile"), load(folder, "csp")
    if keyboard:
        changed = sum(len(v["controls"]) for v in keyboard["labs"].values())
        lines.append(f"  keyboard             {changed} controls in {len(keyboard['labs'])} labs tabbed to and changed; "
                     f"problems {count(problems(keyboard), 'keyboard')}")
    if mobile:
        lines.append(f"  phone 375×740        {mobile['pages']} pages; sideways scroll or unusable controls "
                     f"{count(problems(mobile), 'mobile')}")
    if csp:
        live = sum(state == "live" for state in csp["labs"].values())
        lines.append(f"  strict CSP           {csp['pages']} pages, {live}/{len(csp['labs'])} labs live; "
                     f"violations {count(problems(csp), 'csp')}")
    for name, label, where in (("hostile-python", "hostile params", "CPython"), ("hostile-browser", "hostile URLs", "Chromium")):
        hostile = load(folder, name)
        if hostile:
            per_lab = ", ".join(f"{k} {v}" for k, v in hostile["cases"].items())
            lines.append(f"  {label:<20} {sum(hostile['cases'].values())} cases in {where} ({per_lab}); "
                         f"problems {len(hostile['problems'])}")
    for module, title in (("test_lab_faults", "fault tests"), ("test_csp", "CSP test")):
        c = results.get(module, Counter())
        lines.append(f"  {title:<20} {c['passed']}/{sum(c.values())} passed"
                     + "".join(f", {c[k]} {k}" for k in ("failure", "error", "skipped") if c[k]))
    total = sum(results.values(), Counter())
    lines.append(f"  all gate tests       {total['passed']} passed, {total['failure'] + total['error']} failed, "
                 f"{total['skipped']} skipped in {seconds:.0f} s")
    return lines


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sitecheck-") as tmp:
        folder = Path(tmp)
        xml = folder / "junit.xml"
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", *GATE_FILES, "-q", "-p", "no:cacheprovider",
                               f"--junitxml={xml}", *sys.argv[1:]], cwd=ROOT, env={**os.environ, "SITECHECK_OUT": tmp, "COLUMNS": "240"},
                              capture_output=True, text=True)
        seconds = time.monotonic() - started
        if not xml.exists():
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
            return proc.returncode or 1
        print("\n".join(summary(folder, junit(xml), seconds)))
        if proc.returncode:
            failed = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
            print("\n".join(["  failing:"] + [f"    {ln}" for ln in failed]))
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
