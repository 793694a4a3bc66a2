"""Build-time KaTeX: every arithmatex element gets KaTeX's HTML for its own TeX, the page around it is left
as it was, and a formula KaTeX cannot parse fails the build naming the page."""

import re

import katex_prerender
import mkdocs_hooks
import pytest

PAGE = ('<p>Rank <span class="arithmatex">\\(r \\ll \\min(d, k)\\)</span> and '
        '<span class="arithmatex">\\(a &lt; b\\)</span>.</p>\n'
        '<div class="arithmatex">\\[\n\\frac{\\alpha}{r} B A\n\\]</div>\n<p>tail &amp; end</p>')


@pytest.fixture(scope="module")
def katex_js():
    path = mkdocs_hooks._artifact("katex") / "dist" / "katex.min.js"
    assert path.is_file(), "run `make assets` first"
    return path


def test_formulas_reads_arithmatex_output_unescaped():
    assert katex_prerender.formulas(PAGE) == [("r \\ll \\min(d, k)", False), ("a < b", False), ("\\frac{\\alpha}{r} B A", True)]
    with pytest.raises(katex_prerender.FormulaError, match="generic output"):
        katex_prerender.formulas('<span class="arithmatex">$x$</span>')


def test_each_formula_gets_katex_html_for_its_own_tex(tmp_path, katex_js):
    page, plain = tmp_path / "a.html", tmp_path / "b.html"
    page.write_text(PAGE)
    plain.write_text("<p>no math</p>")
    assert katex_prerender.prerender([page, plain], katex_js) == 3
    out = page.read_text()
    annotations = re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', out, re.S)
    assert annotations == ["r \\ll \\min(d, k)", "a &lt; b", "\\frac{\\alpha}{r} B A"]
    elements = re.findall(r'<(span|div) class="arithmatex"><span>(<span class="katex(?:-display)?">)', out)
    assert elements == [("span", '<span class="katex">'), ("span", '<span class="katex">'), ("div", '<span class="katex-display">')]
    assert out.startswith("<p>Rank ") and out.endswith("</div>\n<p>tail &amp; end</p>") and "\\(" not in out
    assert plain.read_text() == "<p>no math</p>"


def test_a_formula_katex_cannot_parse_fails_naming_the_page(tmp_path, katex_js):
    good, bad = tmp_path / "good.html", tmp_path / "bad.html"
    good.write_text(PAGE)
    bad.write_text('<span class="arithmatex">\\(\\frac{1}{\\)</span>')
    with pytest.raises(katex_prerender.FormulaError, match=r"bad\.html: KaTeX cannot render '\\\\frac\{1\}\{'"):
        katex_prerender.prerender([good, bad], katex_js)
    assert good.read_text() == PAGE, "a failed build leaves every page as it was"
