"""The strict build: every lab page carries its snapshot; nothing loads from another host."""

import re
from pathlib import Path

import mkdocs_hooks
import pytest

from labs_py import runtime
from labs_py.lab import LABS
from labs_py.runtime import lab_module

RESOURCE = re.compile(r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=["']([^"']+)|<link\b[^>]*\bhref=["']([^"']+)""", re.I)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")


def test_every_lab_page_has_its_snapshot(site):
    out, _ = site
    for lab in LABS:
        html = (out / "labs" / lab / "index.html").read_text()
        assert f'data-lab="{lab}"' in html and 'data-state="static"' in html
        assert "data-metric=" in html and "<svg" in html
        assert "interactive with JavaScript" in html


def test_every_lab_has_a_code_page_named_by_its_title(site):
    out, _ = site
    for lab in LABS:
        html = (out / "code" / lab / "index.html").read_text()
        title = f"Code: the {lab_module(lab).TITLE}"
        assert f"<title>{title} - " in html and re.search(rf"<h1[^>]*>{re.escape(title)}<", html), lab


def external(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url)) and not url.startswith(("http://127.0.0.1", "//127.0.0.1"))


def test_site_loads_nothing_from_other_hosts(site):
    out, _ = site
    offenders = []
    for path in Path(out).rglob("*"):
        if path.suffix == ".html":
            for m in RESOURCE.finditer(path.read_text()):
                url = m.group(1) or m.group(2)
                if external(url):
                    offenders.append(f"{path.relative_to(out)}: {url}")
        elif path.suffix == ".css":
            offenders += [f"{path.relative_to(out)}: {u}" for u in CSS_URL.findall(path.read_text()) if external(u)]
    assert offenders == []


def test_runtime_is_self_hosted_under_a_versioned_path(site):
    out, _ = site
    for name in ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json",
                 "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"):
        assert (out / "pyodide" / "0.27.7" / name).is_file()
    assert list((out / "assets" / "labs" / "wheels").glob("*/labs_py-*-py3-none-any.whl"))


def test_numbers_quoted_from_a_lab_are_computed_by_the_lab():
    text = mkdocs_hooks.on_page_markdown("{{lab quantization.zero_share method=absmax}} of weights", None, None, None)
    assert text == runtime.metrics("quantization", {"method": "absmax"})["zero_share"].text + " of weights"
    for bad, why in (("{{lab quantization.nope}}", "no metric"), ("{{lab quantization.rmse bits=99}}", "outside")):
        with pytest.raises(ValueError, match=why):
            mkdocs_hooks.on_page_markdown(bad, None, None, None)


def test_no_placeholder_survives_the_build(site):
    out, _ = site
    left = [p for p in out.rglob("*.html") if "{{lab " in p.read_text()]
    assert left == []


def test_every_formula_is_rendered_by_the_build(site):
    """Pages carry KaTeX's output, not TeX, and load no KaTeX script (scripts/katex_prerender.py)."""
    out, _ = site
    raw = [p for p in out.rglob("*.html") if re.search(r'class="arithmatex">\s*\\[(\[]', p.read_text())]
    assert raw == []
    assert any('class="arithmatex"><span><span class="katex' in p.read_text() for p in out.rglob("*.html"))
    assert [p for p in out.rglob("*.html") if "katex.min.js" in p.read_text() or "auto-render" in p.read_text()] == []
