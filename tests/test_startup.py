"""Start-up from the build-time memory image: same answers as the normal boot, a stale, corrupt or missing
image falls back to the normal boot without the reader noticing, and the image path works under the
strict CSP. The session's site is built like `make site` (tests/conftest.py makes the image)."""

from __future__ import annotations

import functools
import json
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
import serve_site
import sitecheck
from conftest import PageWatch, free_port, wait_live

from labs_py import runtime
from labs_py.controls import Choice, Multi, Slider, Toggle
from labs_py.lab import LABS

pytestmark = pytest.mark.browser

# Starts one worker per message in the page, waits for each to settle, then sends every request to each
# (one at a time) and returns [[settle reply, [outputs…]] per worker].
WORKERS_JS = """async ([inits, requests]) => {
  const run = async (init) => {
    const worker = new Worker(new URL("assets/labs/worker.mjs", init.base), { type: "module" });
    const next = () => new Promise((resolve) => {
      worker.onmessage = ({ data }) => { if (!["progress", "stage", "verified"].includes(data.type)) resolve(data); };
    });
    let settled = next();
    worker.postMessage(init);
    settled = await settled;
    const outputs = [];
    if (settled.type === "ready") {
      for (const [id, request] of requests.entries()) {
        const reply = next();
        worker.postMessage({ type: "call", id, request });
        const { out, error } = await reply;
        outputs.push(out ?? `error: ${error}`);
      }
    }
    worker.terminate();
    return [settled, outputs];
  };
  return Promise.all(inits.map(run));
}"""


CLICK_NAV_JS = """path => [...document.querySelectorAll("nav.md-nav a")].find(a => a.href.endsWith(path)).click()"""


def other_value(control) -> object:
    """A valid value of the control that is not its default."""
    if isinstance(control, Slider):
        return control.hi if control.default != control.hi else control.lo
    if isinstance(control, Choice):
        return next(v for v, _ in control.options if v != control.default)
    if isinstance(control, Multi):
        return control.options[0][0] if control.default != control.options[0][0] else control.options[-1][0]
    assert isinstance(control, Toggle)
    return 0 if control.default else 1


def requests() -> list[str]:
    """Per lab: the first render, each control moved off its default, then every action but file I/O."""
    out = []
    for lab in LABS:
        mod = runtime.lab_module(lab)
        params: dict = {}
        base = {"lab": lab, "instance": "startup-test"}
        out.append({**base, "params": params, "action": "init", "payload": {"stored": None}})
        for control in mod.CONTROLS:
            params = {**params, control.name: other_value(control)}
            out.append({**base, "params": params})
        out += [{**base, "params": params, "action": name} for name, *_ in mod.ACTIONS if name not in ("export", "import")]
    return [json.dumps(r) for r in out]


def heap_config(out) -> dict:
    cfg = json.loads((out / "assets" / "labs" / "runtime.json").read_text())
    assert cfg.get("heap"), "the test build made no memory image"
    return cfg


def test_heap_and_normal_boot_give_byte_identical_answers(browser, site):
    out, base = site
    heap_config(out)
    page = browser.new_page()
    page.goto(base + "assets/labs/runtime.json")
    reqs = requests()
    (heap, heap_out), (normal, normal_out) = page.evaluate(
        WORKERS_JS, [[{"type": "init", "base": base, "path": "heap"}, {"type": "init", "base": base, "path": "normal"}], reqs])
    page.close()
    assert heap["type"] == "ready" and heap["path"] == "heap", heap
    assert normal["type"] == "ready" and normal["path"] == "normal", normal
    assert len(heap_out) == len(reqs) and not any(o.startswith("error") for o in heap_out), heap_out[:3]
    for request, a, b in zip(reqs, heap_out, normal_out, strict=True):
        assert a == b, f"answers differ for {request}"


def runtime_with(out, section: str, key: str, value: str) -> dict[str, bytes]:
    """An `answer_with` entry: runtime.json with `section`[`key`] = value."""
    cfg = heap_config(out)
    return {"assets/labs/runtime.json": json.dumps({**cfg, section: {**cfg[section], key: value}}).encode()}


def test_image_for_another_build_is_rejected(browser, site, answer_with):
    out, base = site
    answer_with(runtime_with(out, "hashes", "labs", "0" * 64))
    page = browser.new_page()
    page.goto(base + "assets/labs/runtime.json")
    [(settled, _)] = page.evaluate(WORKERS_JS, [[{"type": "init", "base": base, "path": "heap"}], []])
    page.close()
    assert settled == {"type": "fallback", "reason": "the memory image was made for another labs build"}


@pytest.mark.parametrize("fault", ["corrupt", "missing"])
def test_corrupt_or_missing_image_still_brings_every_lab_live(browser, site, labs, answer_with, fault):
    out, base = site
    image = out / heap_config(out)["heap"]["image"]
    data = bytearray(image.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = bytes(4096)  # gzip's CRC no longer matches
    answer_with({image.name: bytes(data) if fault == "corrupt" else 404})
    ctx = browser.new_context()
    ctx.add_init_script("window.__labsBootPath = 'heap'")  # the image is tried however busy the machine is
    page = ctx.new_page()
    watch = PageWatch(page)
    names = list(labs)
    page.goto(labs[names[0]])
    wait_live(page, names[0])
    page.evaluate("() => { window.__sameWindow = true; }")
    for name in names[1:]:  # instant navigation keeps the worker that replaced the failed one
        page.evaluate(CLICK_NAV_JS, labs[name].removeprefix(base))
        wait_live(page, name)
    boot = page.evaluate("() => [window.__labs.bootPath, window.__labs.fallback, window.__sameWindow]")
    ctx.close()
    assert boot[0] == "normal" and boot[1], boot
    assert boot[2], "a lab page was loaded afresh instead of by instant navigation"
    noise = "Failed to load resource: the server responded with a status of 404"
    assert [e for e in watch.errors if not e.startswith(noise)] == []


def test_image_boot_under_the_strict_csp(browser, site, labs):
    out, _ = site
    server = serve_site.start(out, free_port(), serve_site.STRICT_CSP)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    ctx = browser.new_context()
    ctx.add_init_script("window.__labsBootPath = 'heap'; window.__csp = [];"
                        "document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective));")
    page = ctx.new_page()
    watch = PageWatch(page)
    name = next(iter(labs))
    page.goto(base + labs[name].split("/", 3)[3])
    wait_live(page, name)
    boot = page.evaluate("() => [window.__labs.bootPath, window.__labs.fallback, window.__csp]")
    ctx.close()
    server.shutdown()
    assert boot == ["heap", None, []]
    watch.assert_clean()


# When the first lab on the page went live (page clock).
LIVE_AT_JS = """new MutationObserver((_, o) => {
  if (document.querySelector("[data-lab][data-state=live]")) { window.__liveAt = performance.now(); o.disconnect(); }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-state"] });"""
# A reader working a lab: the control set to each value in turn, 400 ms apart; when the last change was made.
WORK_THE_LAB_JS = """async ([lab, name, values]) => {
  const el = document.querySelector(`[data-lab="${lab}"] [data-control="${name}"]`);
  let at = 0;
  for (const value of values) {
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    at = performance.now();
    await new Promise((done) => setTimeout(done, 400));
  }
  return at;
}"""
KEPT_JS = """async () => (await (await caches.open("labs-memory-image")).keys()).map((r) => r.url)"""


def test_search_index_waits_while_the_reader_works_the_lab_and_a_returning_reader_boots_from_the_kept_image(browser, site, labs):
    out, base = site
    image = base + heap_config(out)["heap"]["image"]
    ctx = browser.new_context()
    ctx.add_init_script("window.__labsBootPath = 'heap'")  # the image is tried however busy the machine is
    ctx.add_init_script(LIVE_AT_JS)
    page = ctx.new_page()
    watch = PageWatch(page)
    fetched = []
    page.on("request", lambda r: r.url == image and fetched.append(r.url))
    name = next(iter(labs))
    page.goto(labs[name])
    wait_live(page, name)
    control = next(c for c in runtime.lab_module(name).CONTROLS if c.name == runtime.lab_module(name).KEY[0])
    last_change = page.evaluate(WORK_THE_LAB_JS, [name, control.name, [str(other_value(control)), str(control.default)] * 3])
    index_url = json.dumps(base + "search/search_index.json")
    early = page.evaluate(f"() => performance.getEntriesByName({index_url})[0]?.startTime ?? null")
    index = page.wait_for_function(f"() => performance.getEntriesByName({index_url})[0]?.startTime").json_value()
    live_at = page.evaluate("window.__liveAt")
    page.fill("[data-md-component=search-query]", "LoRA")
    page.wait_for_selector(".md-search-result__item")  # the index, released, still serves the search box
    page.keyboard.press("Escape")
    page.wait_for_function(f"async () => ({KEPT_JS})().then((urls) => urls.includes({json.dumps(image)}))")
    page.reload()
    wait_live(page, name)
    returning = page.evaluate("() => [window.__labs.bootPath, window.__labs.fallback]")
    page.evaluate("async (url) => (await caches.open('labs-memory-image')).put(url, new Response(new Uint8Array(64)))", image)
    page.reload()
    wait_live(page, name)
    bad = page.evaluate("() => [window.__labs.bootPath, window.__labs.fallback]")
    kept = page.evaluate(KEPT_JS)
    ctx.close()
    assert index >= live_at, "the search index was requested before the lab was live"
    assert early is None, "the search index was requested while the reader was working the lab"
    assert index >= last_change + 1900, f"the search index came {index - last_change:.0f} ms after the reader's last change"
    assert fetched == [image], "the returning visit fetched the image again"
    assert returning == ["heap", None]
    assert bad == ["normal", "not a lab memory image"]
    assert kept == []
    watch.assert_clean()


def test_a_failed_self_test_after_ready_hands_the_labs_to_a_normal_worker(browser, site, labs, answer_with):
    out, _ = site
    answer_with(runtime_with(out, "heap", "selftest", "0" * 64))
    ctx = browser.new_context()
    ctx.add_init_script("window.__labsBootPath = 'heap'")
    page = ctx.new_page()
    watch = PageWatch(page)
    name = next(iter(labs))
    page.goto(labs[name])
    wait_live(page, name)
    page.wait_for_function("() => window.__labs.bootPath === 'normal'", timeout=90_000)
    control = runtime.lab_module(name).CONTROLS[0]
    sitecheck.focus_control(page, name, control.name)
    trouble = sitecheck.change_with_keys(page, name, control.name, page.evaluate(
        f"() => document.querySelector('[data-lab={name}] [data-control={control.name}]').type"), timeout_ms=60_000)
    fallback = page.evaluate("() => window.__labs.fallback")
    ctx.close()
    assert trouble is None, trouble
    assert fallback == "the restored runtime failed its self-test"
    watch.assert_clean()


def test_a_slow_image_is_dropped_and_the_normal_boot_chosen(browser, site, labs):
    """The boot path is chosen per visit: an image whose first 1 MB takes longer than 300 ms (here
    200 kB/s, everything else at full speed) is dropped, and the lab boots normally."""
    out, base = site
    image = heap_config(out)["heap"]["image"]

    class Slow(serve_site.Handler):
        def copyfile(self, source, outputfile):
            if not self.path.split("?")[0].endswith(image):
                return super().copyfile(source, outputfile)
            try:
                while chunk := source.read(20_000):
                    outputfile.write(chunk)
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):  # the worker stopped reading it
                return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(Slow, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port_base = f"http://127.0.0.1:{server.server_address[1]}/"
    ctx = browser.new_context()
    page = ctx.new_page()
    watch = PageWatch(page)
    name = next(iter(labs))
    page.goto(labs[name].replace(base, port_base))
    wait_live(page, name)
    boot = page.evaluate("() => [window.__labs.bootPath, window.__labs.fallback]")
    ctx.close()
    server.shutdown()
    assert boot == ["normal", None]
    watch.assert_clean()


def test_the_worker_warms_the_pages_lab_up_first_then_every_other_and_the_numbers_stay_right(browser, site, labs):
    """While the reader is idle the worker runs each lab's WARM requests on a throwaway instance (the
    page's lab first); the reader's own instance still answers as CPython does, and what is not one of
    the site's labs, in a "warm" message, is ignored."""
    name = "distillation" if "distillation" in labs else next(iter(labs))
    ctx = browser.new_context()
    page = ctx.new_page()
    watch = PageWatch(page)
    page.goto(labs[name])
    wait_live(page, name)
    page.evaluate("name => window.__labs.worker.postMessage({ type: 'warm', labs: ['nope', 7, null, name] })", name)
    page.wait_for_function(f"() => window.__labs.warmed.length === {len(LABS)}", timeout=90_000)
    warmed = page.evaluate("() => window.__labs.warmed")
    control = next(c for c in runtime.lab_module(name).CONTROLS if c.name == runtime.lab_module(name).KEY[0])
    value = other_value(control)
    page.evaluate("""([lab, name, value]) => {
      const el = document.querySelector(`[data-lab="${lab}"] [data-control="${name}"]`);
      el.value = String(value);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }""", [name, control.name, value])
    sitecheck.wait_replied(page, name, control.name)
    shown = page.eval_on_selector_all(f'[data-lab="{name}"] [data-metric][data-value]:not([data-undefined])',
                                      "els => Object.fromEntries(els.map(e => [e.dataset.metric, Number(e.dataset.value)]))")
    ctx.close()
    assert warmed[0] == name and sorted(warmed) == sorted(LABS)
    want = {k: m.value for k, m in runtime.metrics(name, {control.name: value}).items() if m.value is not None}
    assert shown and set(shown) <= set(want)
    for key, got in shown.items():
        assert got == pytest.approx(want[key], rel=1e-6, abs=1 / 500), key  # no-BLAS rounding: one borderline image
    watch.assert_clean()


# The reader changes a control of `lab` every 100 ms; after 600 ms a "warm" message for the first lab not yet
# warmed arrives (as a new page's mount sends it). [that lab, ms until the worker says it is warmed or null after 10 s].
KEEP_WORKING_JS = """async ([lab, name, values, all]) => {
  const el = document.querySelector(`[data-lab="${lab}"] [data-control="${name}"]`);
  const t0 = performance.now();
  let next = null, asked = 0;
  for (let i = 0; performance.now() - t0 < 10600; i++) {
    if (!next && performance.now() - t0 >= 600) {
      next = all.find((other) => !window.__labs.warmed.includes(other));
      asked = performance.now();
      window.__labs.worker.postMessage({ type: "warm", labs: [next] });
    }
    if (next && window.__labs.warmed.includes(next)) return [next, performance.now() - asked];
    el.value = values[i % values.length];
    el.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((done) => setTimeout(done, 100));
  }
  return [next, null];
}"""


def test_a_new_pages_lab_is_warmed_at_once_while_the_reader_keeps_working(browser, site, labs):
    """The worker warms the other labs only while the reader is idle, but a lab that a new page shows is warmed at
    once, even when another lab's idle warm-up is waiting for a pause the reader never makes."""
    name = next(iter(labs))
    ctx = browser.new_context()
    page = ctx.new_page()
    watch = PageWatch(page)
    page.goto(labs[name])
    wait_live(page, name)
    page.wait_for_function(f"() => window.__labs.warmed.includes({json.dumps(name)})", timeout=30_000)
    control = next(c for c in runtime.lab_module(name).CONTROLS if c.name == runtime.lab_module(name).KEY[0])
    later, took = page.evaluate(KEEP_WORKING_JS, [name, control.name, [str(other_value(control)), str(control.default)],
                                                  [lab for lab in LABS if lab != name]])
    ctx.close()
    assert took is not None, f"{later} was not warmed in 10 s while the reader kept working {name}"
    watch.assert_clean()
