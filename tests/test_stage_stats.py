"""The stage page's statistics equal what a reader would count on the built pages."""

import math
import re

from bs4 import BeautifulSoup

WORD = re.compile(r"[A-Za-z0-9À-ÿ]+(?:['’.-][A-Za-z0-9À-ÿ]+)*")  # the documented notion of a word
ARTICLE_DIRS = ("articles", "field-reports")


def words_on(page_html: str) -> int:
    article = BeautifulSoup(page_html, "html.parser").select_one("article.md-content__inner")
    for tag in article.select("pre, svg, script, style, [data-lab], .katex-html"):
        tag.decompose()
    for mathml in article.select(".katex-mathml"):  # a formula counts once, as the TeX it is written in
        mathml.replace_with(mathml.select_one('annotation[encoding="application/x-tex"]').get_text())
    return len(WORD.findall(article.get_text(" ")))


def test_stats_strip_and_reading_times_are_computed_from_the_pages(site):
    out, _ = site
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    minutes = {}
    for folder in ARTICLE_DIRS:
        for page in sorted((out / folder).glob("*/index.html")):
            uri = f"{folder}/{page.parent.name}.md"
            minutes[uri] = max(1, math.ceil(words_on(page.read_text()) / 230))
    stat = {el["data-stat"]: int(el.get_text()) for el in index.select("[data-stat]")}
    assert stat["articles"] == len(minutes) == 9
    assert stat["minutes"] == sum(minutes.values())
    labs = [p for p in (out / "labs").glob("*/index.html") if 'data-lab="' in p.read_text()]
    assert stat["demos"] == len(labs)
    books = BeautifulSoup((out / "further-reading" / "index.html").read_text(), "html.parser").select("[data-book]")
    assert stat["books"] == len(books) == 5
    shown = {el["data-reading-time"]: int(el.get_text().split()[0]) for el in index.select("[data-reading-time]")}
    assert shown and all(shown[uri] == minutes[uri] for uri in shown)


def test_each_lab_shows_how_many_guided_steps_it_has(site):
    out, _ = site
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    shown = {el["data-steps-done"]: int(el["data-steps-total"]) for el in index.select("[data-steps-done]")}
    for lab, total in shown.items():
        page = BeautifulSoup((out / "labs" / lab / "index.html").read_text(), "html.parser")
        assert total == len(page.select("[data-lab-steps] [data-step]")), lab
    assert set(shown) >= {"quantization"}
