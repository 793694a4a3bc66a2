"""Render every formula of the built site with KaTeX at build time, so pages carry finished math.

Why: rendering in the browser ran KaTeX (≈ 270 kB of JavaScript) on every page view, after Material's
own set-up; until then a reader saw raw TeX, the page reflowed when the formulas arrived, and on an
instant navigation it added ≈ 10 ms to the task a lab's first answer waits behind. The build runs the
same pinned KaTeX under Node (a prerequisite already: npm fetches the runtime), with the options the
browser used (`displayMode` from the delimiters, KaTeX's default HTML + MathML output), and a formula
KaTeX cannot parse fails the build instead of showing red text. Input is pymdownx.arithmatex's generic
output: `<span class="arithmatex">\\(…\\)</span>` and `<div class="arithmatex">\\[…\\]</div>`; the output
keeps the `<span>` that KaTeX's auto-render put around each formula, so the theme's rules (Material's
`div.arithmatex > *`) apply to the same element as before.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

FORMULA = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
DELIMITERS = {"span": ("\\(", "\\)"), "div": ("\\[", "\\]")}

RENDER_JS = """
const katex = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; }).on("end", () => {
  const out = JSON.parse(input).map(([tex, displayMode]) => {
    try { return [katex.renderToString(tex, { displayMode, throwOnError: true }), null]; }
    catch (err) { return [null, String(err.message)]; }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


class FormulaError(ValueError):
    """A formula KaTeX cannot render, with the page it is on."""


def formulas(page: str) -> list[tuple[str, bool]]:
    """(TeX, display?) of every arithmatex element in a page's HTML, in order."""
    out = []
    for m in FORMULA.finditer(page):
        left, right = DELIMITERS[m.group(1)]
        tex = html.unescape(m.group(2)).strip()
        if not (tex.startswith(left) and tex.endswith(right)):
            raise FormulaError(f"not arithmatex's generic output: {m.group(0)[:120]}")
        out.append((tex[len(left):-len(right)].strip(), m.group(1) == "div"))
    return out


def render(items: list[tuple[str, bool]], katex_js: Path) -> list[tuple[str | None, str | None]]:
    """(KaTeX's HTML, None) or (None, KaTeX's error) for each (TeX, display?), from one Node process."""
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("Node.js is required to render the site's formulas (Debian/Ubuntu: apt-get install nodejs)")
    proc = subprocess.run([node, "-e", RENDER_JS, str(Path(katex_js).resolve())], input=json.dumps(items), capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"KaTeX under Node failed: {proc.stderr.strip()[-500:]}")
    return [tuple(pair) for pair in json.loads(proc.stdout)]


def prerender(pages: list[Path], katex_js: Path) -> int:
    """Replace the TeX in every page's arithmatex elements by KaTeX's HTML (in place); how many formulas."""
    found = [(path, item) for path in pages for item in formulas(path.read_text())]
    if not found:
        return 0
    rendered = render([item for _, item in found], katex_js)
    for (path, (tex, _)), (_, error) in zip(found, rendered, strict=True):
        if error is not None:
            raise FormulaError(f"{path}: KaTeX cannot render {tex!r}: {error}")
    out = iter(out_html for out_html, _ in rendered)
    for path in dict.fromkeys(path for path, _ in found):
        path.write_text(FORMULA.sub(lambda m: f'<{m.group(1)} class="arithmatex"><span>{next(out)}</span></{m.group(1)}>',
                                    path.read_text()))
    return len(found)
