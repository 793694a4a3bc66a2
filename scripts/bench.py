"""Benchmark, in headless Chromium against the built site: the naive Pyodide path versus our labs.

Measures in one run and prints a table plus JSON (bench-results/latest.json):
(a) naive: a bare page loads Pyodide, then loadPackage('numpy'), then imports numpy (cold, warm);
(b) our lab: first contentful paint of the snapshot, time to `live` cold and warm;
(c) time to `live` on a second lab page reached by instant navigation;
(d) input → updated DOM latency p50/p95 per lab interaction (≥ 50 moves each);
(e) bytes transferred cold (counted by the server);
plus training throughput (drawn steps per second while Play runs).
Targets: (b) cold ≤ 0.85 × (a) cold; (c) ≤ 100 ms; slider p95 ≤ 16 ms (heavier actions: their own).
Usage: python scripts/bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import serve_site  # noqa: E402
from conftest import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402

NAIVE_HTML = """<!doctype html><meta charset="utf-8"><title>naive</title><script type="module">
const { loadPyodide } = await import("./pyodide/0.27.7/pyodide.mjs");
const py = await loadPyodide({ indexURL: "./pyodide/0.27.7/" });
await py.loadPackage("numpy");
py.runPython("import numpy");
window.naiveMs = performance.now(); // since navigation start, like the lab's figure
</script>"""

LIVE_JS = """lab => new Promise(resolve => {
  const done = () => document.querySelector(`[data-lab="${lab}"][data-state="live"]`);
  if (done()) return resolve(performance.now());
  new MutationObserver((_, o) => { if (done()) { o.disconnect(); resolve(performance.now()); } })
    .observe(document, { attributes: true, subtree: true, attributeFilter: ["data-state"] });
})"""

# (name, lab, control or action, values, target p95 ms)
INTERACTIONS = [
    ("quantization: bits slider", "quantization", "control:bits", [str(b) for b in range(2, 17)], 16),
    ("lora: rank slider", "lora", "control:r", ["2", "4", "8", "16", "32", "12", "6"], 16),
    ("lora: one step of all three methods", "lora", "action:step", None, 33),
    ("rlhf: pick A with 200 labels", "rlhf", "action:a", None, 50),
    ("distillation: T slider", "distillation", "control:T", ["1", "2", "3", "4", "6", "8"], 16),
]
# name: (download Mbit/s, round-trip ms); "localhost" is unthrottled
NETWORKS = {"broadband": (20, 40)}
PLAY = [("lora: training", "lora"), ("distillation: training", "distillation")]

LATENCY_JS = """async ([lab, what, values, n]) => {
  const root = document.querySelector(`[data-lab="${lab}"]`);
  const view = root.querySelector("[data-lab-view]");
  const [kind, name] = what.split(":");
  const times = [];
  for (let i = 0; i < n; i++) {
    const changed = new Promise(res => new MutationObserver((_, o) => { o.disconnect(); res(performance.now()); })
      .observe(view, { childList: true }));
    const t0 = performance.now();
    if (kind === "control") {
      const el = root.querySelector(`[data-control="${name}"]`);
      el.value = values[i % values.length];
      el.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      root.querySelector(`[data-action="${name}"]`).click();
    }
    times.push((await changed) - t0);
    await new Promise(r => setTimeout(r, 20));
  }
  return times;
}"""

PLAY_JS = """async (lab) => {
  const root = document.querySelector(`[data-lab="${lab}"]`);
  const view = root.querySelector("[data-lab-view]");
  let swaps = 0, longest = 0, last = performance.now();
  const obs = new MutationObserver(() => { swaps++; });
  obs.observe(view, { childList: true });
  const tick = () => { const now = performance.now(); longest = Math.max(longest, now - last); last = now;
                       if (running) requestAnimationFrame(tick); };
  let running = true; requestAnimationFrame(tick);
  root.querySelector('[data-action="play"]').click();
  await new Promise(r => setTimeout(r, 3000));
  root.querySelector('[data-action="play"]').click();
  running = false; obs.disconnect();
  return { perSecond: swaps / 3, longestFrameMs: longest };
}"""


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


class Bench:
    """One built site, one server that counts bytes, one browser."""

    def __init__(self, runs: int):
        from playwright.sync_api import sync_playwright

        self.runs = runs
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.out = Path(tempfile.mkdtemp(prefix="bench-site-"))
        env = {**os.environ, "SITE_URL": self.base, "NO_MKDOCS_2_WARNING": "1"}
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(self.out)], cwd=ROOT, env=env, check=True)
        (self.out / "naive.html").write_text(NAIVE_HTML)
        self.sent = 0
        bench = self

        class Counting(serve_site.Handler):
            def copyfile(self, source, outputfile):
                data = source.read()
                bench.sent += len(data)
                outputfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), functools.partial(Counting, directory=str(self.out)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)

    def context(self, network: str):
        """A fresh browser context (cold cache), optionally with a throttled network."""
        ctx = self.browser.new_context()
        page = ctx.new_page()
        if network != "localhost":
            down_mbps, rtt_ms = NETWORKS[network]
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": rtt_ms,
                                                           "downloadThroughput": down_mbps * 1e6 / 8,
                                                           "uploadThroughput": down_mbps * 1e6 / 8})
        return ctx, page

    def _naive_once(self, page) -> float:
        page.goto(self.base + "naive.html")
        page.wait_for_function("window.naiveMs !== undefined", timeout=120_000)
        return page.evaluate("window.naiveMs")

    def naive(self, network: str = "localhost") -> dict:
        colds, warms = [], []
        for _ in range(self.runs):
            ctx, page = self.context(network)
            colds.append(self._naive_once(page))
            warms.append(self._naive_once(page))
            ctx.close()
        return {"cold_ms": statistics.median(colds), "warm_ms": statistics.median(warms)}

    def ours(self, network: str = "localhost") -> dict:
        colds, warms, fcps, nbytes = [], [], [], []
        for _ in range(self.runs):
            ctx, page = self.context(network)
            self.sent = 0
            page.goto(self.base + "labs/quantization/", wait_until="commit")
            colds.append(page.evaluate(LIVE_JS, "quantization"))
            nbytes.append(self.sent)
            fcps.append(page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime"))
            page.reload(wait_until="commit")
            warms.append(page.evaluate(LIVE_JS, "quantization"))
            nav = self.instant_nav(page)
            ctx.close()
        return {"fcp_ms": statistics.median(fcps), "cold_live_ms": statistics.median(colds),
                "warm_live_ms": statistics.median(warms), "instant_nav_live_ms": nav, "cold_bytes": statistics.median(nbytes)}

    def instant_nav(self, page) -> float | None:
        """Click the nav link to another lab page; time from click to that lab being live."""
        others = [lab for lab in ("lora", "rlhf", "distillation")
                  if f'data-lab="{lab}"' in (self.out / "labs" / lab / "index.html").read_text()]
        if not others:
            return None
        page.evaluate("""lab => {
          const a = [...document.querySelectorAll("nav.md-nav a")].find(a => a.href.endsWith(`/labs/${lab}/`));
          window.__navT0 = performance.now();
          a.click();
        }""", others[0])
        page.wait_for_selector(f'[data-lab="{others[0]}"][data-state="live"]', timeout=20_000)
        return page.evaluate("() => performance.now() - window.__navT0")

    def interactions(self) -> list[dict]:
        rows = []
        ctx = self.browser.new_context()
        page = ctx.new_page()
        for label, lab, what, values, target in INTERACTIONS:
            if not (self.out / "labs" / lab / "index.html").read_text().count(f'data-lab="{lab}"'):
                continue
            page.goto(f"{self.base}labs/{lab}/" + ("?n=200" if lab == "rlhf" else ""))
            page.evaluate(LIVE_JS, lab)
            if lab == "rlhf":  # the target is stated for 200 labels: let the simulated annotator give them
                page.evaluate("() => localStorage.removeItem('lab:rlhf')")
                page.click('[data-lab="rlhf"] [data-action="simulate"]')
                page.wait_for_function("() => Number(document.querySelector('[data-metric=labels]').dataset.value) >= 200")
            page.evaluate(LATENCY_JS, [lab, what, values or [], 10])  # warm caches
            times = page.evaluate(LATENCY_JS, [lab, what, values or [], 60])
            rows.append({"name": label, "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95), "target_p95_ms": target})
        for label, lab in PLAY:
            if page.goto(f"{self.base}labs/{lab}/") and page.locator('[data-action="play"]').count():
                page.evaluate(LIVE_JS, lab)
                rows.append({"name": label, **page.evaluate(PLAY_JS, lab), "target_per_second": 30})
        ctx.close()
        return rows

    def close(self):
        self.browser.close()
        self.pw.stop()
        self.server.shutdown()
        shutil.rmtree(self.out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    b = Bench(args.runs)
    try:
        naive, ours, inter = b.naive(), b.ours(), b.interactions()
        slow = {net: (b.naive(net), b.ours(net)) for net in NETWORKS}
    finally:
        b.close()
    ratio = ours["cold_live_ms"] / naive["cold_ms"]
    print(f"{'measure':44} {'value':>12} {'target':>12}")
    print(f"{'(a) naive Pyodide+numpy, cold':44} {naive['cold_ms']:>10.0f}ms")
    print(f"{'(a) naive Pyodide+numpy, warm':44} {naive['warm_ms']:>10.0f}ms")
    print(f"{'(b) snapshot first contentful paint':44} {ours['fcp_ms']:>10.0f}ms")
    print(f"{'(b) Quantization Lab live, cold':44} {ours['cold_live_ms']:>10.0f}ms")
    print(f"{'(b) Quantization Lab live, warm':44} {ours['warm_live_ms']:>10.0f}ms")
    print(f"{'(b) cold ratio ours / naive':44} {ratio:>12.2f} {'≤ 0.85':>12}")
    if ours["instant_nav_live_ms"] is not None:
        print(f"{'(c) second lab live after instant nav':44} {ours['instant_nav_live_ms']:>10.0f}ms {'≤ 100ms':>12}")
    for net, (n, o) in slow.items():
        mbps, rtt = NETWORKS[net]
        print(f"{f'(a) naive, cold, {net} {mbps} Mbit/s {rtt} ms':44} {n['cold_ms']:>10.0f}ms")
        print(f"{f'(b) ours live, cold, {net}':44} {o['cold_live_ms']:>10.0f}ms")
        print(f"{f'(b) cold ratio ours / naive, {net}':44} {o['cold_live_ms'] / n['cold_ms']:>12.2f} {'≤ 0.85':>12}")
    print(f"{'(e) bytes transferred, cold':44} {ours['cold_bytes'] / 1e6:>10.1f}MB")
    for row in inter:
        if "p95_ms" in row:
            print(f"{'(d) ' + row['name'] + ' p50 / p95':44} {row['p50_ms']:>5.1f}/{row['p95_ms']:>4.1f}ms "
                  f"{'≤ ' + str(row['target_p95_ms']) + 'ms':>12}  ratio {row['p95_ms'] / row['target_p95_ms']:.2f}")
        else:
            print(f"{'    ' + row['name'] + ' steps drawn/s':44} {row['perSecond']:>12.1f} {'≥ 30':>12}"
                  f"  (longest frame {row['longestFrameMs']:.0f}ms)")
    result = {"naive": naive, "ours": ours, "cold_ratio": ratio, "interactions": inter,
              "networks": {net: {"naive": n, "ours": o, "cold_ratio": o["cold_live_ms"] / n["cold_ms"]}
                           for net, (n, o) in slow.items()}}
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "latest.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
