"""Reading statistics of rendered pages: the words a reader reads, at a stated pace.

Why: the stage page's "minutes to read" must be computed from the pages, never typed in.
Counted: visible prose of the page content, and each formula once, as the TeX it is written in (the
hook counts before the build renders the math); not counted: code blocks, SVG drawings, scripts,
styles and lab widgets (they are read differently, or not at all).
"""

from __future__ import annotations

import re
from html import unescape

WORDS_PER_MINUTE = 230
_SKIP = re.compile(r"<(pre|svg|script|style)\b.*?</\1>", re.S | re.I)
_LAB = re.compile(r'<div class="lab" data-lab=.*?<div class="sr-only lab-live"[^>]*>.*?</div></div>', re.S)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[A-Za-z0-9À-ÿ]+(?:['’.-][A-Za-z0-9À-ÿ]+)*")


def visible_text(html: str) -> str:
    """Page-content HTML without code, drawings, scripts, styles and labs, as plain text."""
    html = _LAB.sub(" ", html)
    html = _SKIP.sub(" ", html)
    return unescape(_TAG.sub(" ", html))


def count_words(html: str) -> int:
    """Number of words in the visible prose of an HTML fragment."""
    return len(_WORD.findall(visible_text(html)))
