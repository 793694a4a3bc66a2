"""The RLHF Lab's feature table on a 375 px phone: every column inside its box, none cut off."""

import pytest

pytestmark = pytest.mark.browser

# Open the feature table; for each cell of its header row, how many pixels it reaches past the box of the
# feature section (0: inside).
CELLS_PAST_BOX_JS = """() => {
  const details = document.querySelector('[data-lab="rlhf"] details.rlhf-features');
  details.open = true;
  const box = details.getBoundingClientRect();
  return [...details.querySelectorAll('thead th')].map(c => {
    const r = c.getBoundingClientRect();
    return [c.textContent, Math.max(Math.round(r.right - box.right), Math.round(box.left - r.left), 0)];
  });
}"""
# The live lab swaps in Python's HTML, where the table is not wrapped by Material's scroll wrappers.
UNWRAP_JS = """() => document.querySelectorAll('[data-lab="rlhf"] .md-typeset__scrollwrap')
  .forEach(w => w.replaceWith(w.querySelector('table')))"""


def test_feature_table_fits_a_phone_as_snapshot_and_as_live_markup(browser, site):
    _, base = site
    ctx = browser.new_context(viewport={"width": 375, "height": 740})
    ctx.route("**/assets/labs/worker.mjs", lambda route: route.fulfill(body="", content_type="text/javascript"))
    page = ctx.new_page()
    page.goto(f"{base}labs/rlhf/")
    for markup in ("snapshot", "live"):
        if markup == "live":
            page.evaluate(UNWRAP_JS)
        cells = page.evaluate(CELLS_PAST_BOX_JS)
        assert [name for name, _ in cells] == ["φ", "A", "B", "w"], markup
        assert [c for c in cells if c[1] > 0] == [], markup
    ctx.close()
