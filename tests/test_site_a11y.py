"""Accessibility and phones, on every page of the built site: axe-core in the light and the dark palette
(no violation of any impact, not only serious and critical ones; in code listings the colour rules judge one
element per distinct style, sitecheck.LISTING_STYLES_JS), every lab control reached with Tab and
changed with the keyboard, and at 375×740 no page scrolls sideways while lab controls stay on screen and
usable.

One tab for the whole module: pages are visited through Material's instant navigation, as a reader
clicking links does, so the lab runtime starts once."""

from collections import Counter

import pytest
import sitecheck
from sitecheck import Problem, assert_gate, rel

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def tab(browser, site):
    """One page for the module, opened on the home page."""
    _, base = site
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.watch = sitecheck.Recorder(page, base)
    page.goto(base)
    yield page
    ctx.close()


def visit(page, url: str) -> dict[str, str]:
    """Go to `url` by instant navigation (unless already there) and wait for its labs."""
    if page.url.split("?")[0] != url:
        sitecheck.instant_goto(page, url)
    states = sitecheck.wait_labs(page)
    assert all(s == "live" for s in states.values()), f"{url}: labs not live: {states}"
    return states


@pytest.mark.parametrize("palette", sitecheck.PALETTES)
def test_axe_finds_no_serious_violations(tab, site, pages, palette):
    _, base = site
    sitecheck.set_palette(tab, palette)
    scheme = tab.evaluate("document.body.dataset.mdColorScheme")
    problems = []
    for url in pages:
        visit(tab, url)
        assert tab.evaluate("document.body.dataset.mdColorScheme") == scheme, f"{url} lost the {palette} palette"
        # every rule in the first palette; in the others only the rules colours decide (the DOM is the same)
        rules = None if palette == sitecheck.PALETTES[0] else sitecheck.COLOUR_RULES
        problems += sitecheck.axe(tab, rel(url, base), palette, rules)
    sitecheck.record(f"axe-{palette}", {"pages": len(pages), "by_impact": Counter(p.impact for p in problems)})
    assert_gate(problems, "axe", contexts=(palette,))


# Ways to give part of a code listing too little contrast: one token class, the first listing's last word
# alone, a background beneath every token of the last listing. Each returns what it spoiled and sets the undo.
SPOILS = {
    "token class": """() => {
      const style = Object.assign(document.createElement('style'), {textContent: '.highlight .kn { color: #d8d8d8 !important; }'});
      document.head.append(style);
      window.__unspoil = () => style.remove();
      return 'class="kn"';
    }""",
    "one word": """() => {
      const spans = document.querySelector('.highlight pre code').querySelectorAll('span');
      const token = [...spans].filter((el) => /\\w\\w/.test(el.textContent)).at(-1);
      token.style.color = '#d9d9d9';
      window.__unspoil = () => { token.style.color = ''; };
      return 'style="color: rgb(217, 217, 217);"';
    }""",
    "a background": """() => {
      const code = [...document.querySelectorAll('.highlight pre code')].at(-1);
      code.style.setProperty('transition', 'none', 'important');  // Material fades code backgrounds in
      code.style.setProperty('background-color', '#8a8a8a', 'important');
      window.__unspoil = () => code.removeAttribute('style');
      return '';
    }""",
}


def test_axe_judges_every_style_of_a_code_listing(tab, site, pages):
    """In a listing the colour rules judge one element per style (sitecheck.LISTING_STYLES_JS), yet a token class,
    a single token and a background beneath a whole listing, each given too little contrast, are found."""
    out, base = site
    url = min((u for u in pages if "/code/" in u), key=lambda u: sitecheck.url_to_file(out, base, u).stat().st_size)
    visit(tab, url)
    sitecheck.set_palette(tab, "light")
    assert tab.evaluate("() => document.querySelectorAll('.highlight pre code').length") >= 2
    assert sitecheck.axe(tab, rel(url, base), "light", sitecheck.COLOUR_RULES) == []
    for spoil, js in SPOILS.items():
        mark = tab.evaluate(js)
        try:
            found = [p.target for p in sitecheck.axe(tab, rel(url, base), "light", sitecheck.COLOUR_RULES)]
        finally:
            tab.evaluate("() => window.__unspoil()")
        assert any(mark in t for t in found), f"{spoil}: {found}"


def test_lab_controls_work_by_keyboard_alone(tab, site, labs):
    _, base = site
    tab.set_viewport_size(DESKTOP)
    problems, walked = [], {}
    for lab, url in labs.items():
        visit(tab, url)
        controls = tab.eval_on_selector_all(f'[data-lab="{lab}"] [data-control]:not(:disabled)', "els => els.map(e => e.dataset.control)")
        unexplained = tab.eval_on_selector_all(
            f'[data-lab="{lab}"] [data-control]:disabled',
            "els => els.filter(e => !e.closest('.lab-control').querySelector('[data-disabled-reason]').textContent.trim())"
            ".map(e => e.dataset.control)")
        problems += [Problem("keyboard", rel(url, base), "disabled-without-reason", target=n) for n in unexplained]
        actions = tab.eval_on_selector_all(f'[data-lab="{lab}"] [data-action]:not([disabled])',
                                           "els => els.map(e => e.dataset.action)")
        tab.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
        reached, pressed, inside = [], [], False
        for _ in range(400):
            tab.keyboard.press("Tab")
            focus = sitecheck.focused(tab)
            if focus["inLab"] != lab:
                if inside:
                    break
                continue
            inside = True
            if tab.evaluate(OPEN_DETAILS_JS):  # a closed "Advanced" summary: Enter opens it, as a reader would
                tab.keyboard.press("Enter")
            if focus["action"]:
                pressed.append(focus["action"])
            if focus["control"] and focus["control"] not in reached:
                reached.append(focus["control"])
                trouble = sitecheck.change_with_keys(tab, lab, focus["control"], focus["type"])
                if trouble:
                    problems.append(Problem("keyboard", rel(url, base), "not-operable", target=focus["control"], detail=trouble))
        for name in set(controls) - set(reached):
            problems.append(Problem("keyboard", rel(url, base), "not-reachable", target=name, detail="Tab never focused it"))
        for name in set(actions) - set(pressed):
            problems.append(Problem("keyboard", rel(url, base), "not-reachable", target=f"button {name}",
                                    detail="Tab never focused it"))
        walked[lab] = {"controls": reached, "buttons": pressed}
    sitecheck.record("keyboard", {"labs": walked, "problems": problems})
    assert labs, "no lab on the site"
    assert_gate(problems, "keyboard")


NARROW_PARTS_JS = """lab => {
  const main = document.querySelector(`[data-lab="${lab}"] .lab-main`);
  if (!main) return [];
  const full = main.getBoundingClientRect().width;
  return [...main.children].map(el => ({cls: el.className, width: el.getBoundingClientRect().width, full}))
    .filter(p => p.width < 0.9 * p.full);
}"""

OPEN_DETAILS_JS = "() => { const el = document.activeElement; return el.tagName === 'SUMMARY' && !el.parentElement.open; }"

CONTROL_BOXES_JS = """lab => {
  const width = document.documentElement.clientWidth;
  document.querySelectorAll(`[data-lab="${lab}"] details[data-lab-advanced]`).forEach(d => { d.open = true; });
  return [...document.querySelectorAll(`[data-lab="${lab}"] [data-control]:not(:disabled)`)].map(el => {
    el.scrollIntoView({block: 'center'});
    const r = el.getBoundingClientRect(), hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    // A checkbox is operated through its label too: the target is the union of both boxes.
    const group = el.dataset.multi !== undefined ? el.closest('fieldset').getBoundingClientRect() : null;
    const boxes = group ? [group] : [r, ...(el.type === 'checkbox' ? [...el.labels].map(l => l.getBoundingClientRect()) : [])];
    const left = Math.min(...boxes.map(b => b.left)), right = Math.max(...boxes.map(b => b.right));
    const top = Math.min(...boxes.map(b => b.top)), bottom = Math.max(...boxes.map(b => b.bottom));
    return {name: el.dataset.control, type: el.type, left, right, width: right - left, height: bottom - top,
            viewport: width, onTop: Boolean(hit) && (hit === el || el.contains(hit))};
  });
}"""


def test_phone_width_no_sideways_scroll_and_usable_labs(tab, site, pages, labs):
    _, base = site
    tab.set_viewport_size(PHONE)
    problems = []
    try:
        for url in pages:
            visit(tab, url)
            problems += sitecheck.overflow(tab, rel(url, base))
        for lab, url in labs.items():
            visit(tab, url)
            for box in tab.evaluate(CONTROL_BOXES_JS, lab):
                cramped = box["width"] < 120 or box["height"] < 16
                if box["left"] < 0 or box["right"] > box["viewport"] or cramped or not box["onTop"]:
                    problems.append(Problem("mobile", rel(url, base), "control-unusable", target=box["name"], detail=str(box)))
            for part in tab.evaluate(NARROW_PARTS_JS, lab):  # on a phone every part of the lab takes the full column
                problems.append(Problem("mobile", rel(url, base), "squeezed-column", target=part["cls"], detail=str(part)))
            sliders = tab.locator(f'[data-lab="{lab}"] input[type="range"][data-control]')
            if sliders.count():  # a tap-like click on the track must move the slider and reach Python
                slider = sliders.first
                name, before = slider.get_attribute("data-control"), slider.input_value()
                at = 0.1 if slider.evaluate("e => (e.value - e.min) / (e.max - e.min)") > 0.5 else 0.9
                slider.evaluate("e => e.scrollIntoView({block: 'center'})")
                box = slider.bounding_box()
                tab.mouse.click(box["x"] + box["width"] * at, box["y"] + box["height"] / 2)
                if slider.input_value() == before:
                    problems.append(Problem("mobile", rel(url, base), "control-unusable", target=name,
                                            detail="a click on the slider track did not move it"))
                else:
                    sitecheck.wait_replied(tab, lab, name)
    finally:
        tab.set_viewport_size(DESKTOP)
    sitecheck.record("mobile", {"pages": len(pages), "problems": problems})
    assert_gate(problems, "mobile")


def test_the_tab_stayed_clean(tab):
    """Everything above ran without a console error, a failed request or a request to another host."""
    logs = tab.watch.logs.values()
    trouble = [x for log in logs for x in log.errors + log.failed + log.foreign]
    assert trouble == [], f"console errors, failed or foreign requests: {trouble}"
