"""The generated code pages at desktop width: listed under Labs › Code; no line cut off, the copy button on no code."""

import codepages
import pytest
from conftest import ROOT

from labs_py.lab import LABS
from labs_py.runtime import lab_module

pytestmark = pytest.mark.browser

# Per code block: how far its text overflows sideways, and how many of its text boxes reach into the column of
# the copy button (the strip is kept along the whole block, so no line of any length can run under the button).
LAYOUT_JS = """() => [...document.querySelectorAll('.md-content pre')].map(pre => {
  const code = pre.querySelector('code'), btn = pre.querySelector('.md-code__nav').getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(code);
  const into = [...range.getClientRects()].filter(r => r.width > 0 && r.right > btn.left);
  return {overflow: code.scrollWidth - code.clientWidth, into_button_column: into.length};
})"""
# The nav link to a code page: its text and the sections around it, innermost first.
NAV_JS = """lab => {
  const a = document.querySelector(`nav.md-nav--primary a[href$="code/${lab}/"]`), sections = [];
  for (let li = a && a.closest('li').parentElement.closest('li'); li; li = li.parentElement.closest('li')) {
    const label = li.querySelector(':scope > label');
    if (label) sections.push(label.textContent.trim());
  }
  return a && [a.textContent.trim(), sections];
}"""


def widest_lab() -> str:
    """The lab whose own modules hold the longest line: its code page is the hardest to fit."""
    own, _ = codepages.split(ROOT / "labs_py", LABS)
    return max(LABS, key=lambda lab: max(len(line) for m in own[lab]
                                         for line in codepages.module_file(ROOT / "labs_py", m).read_text().splitlines()))


def test_code_pages_are_in_the_nav_and_show_every_line_clear_of_the_copy_button(page, site):
    _, base = site
    page.goto(f"{base}code/{widest_lab()}/")
    for lab in LABS:
        assert page.evaluate(NAV_JS, lab) == [f"Code: the {lab_module(lab).TITLE}", ["Code", "Labs"]]
    blocks = page.evaluate(LAYOUT_JS)
    assert len(blocks) >= 2
    assert blocks == [{"overflow": 0, "into_button_column": 0}] * len(blocks)
    page.watch.assert_clean()
