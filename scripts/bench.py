"""Benchmark, in headless Chromium against the built site (with its memory image): the naive Pyodide path versus our labs.

Measures in one run, candidates interleaved (order shuffled per round), medians over --runs rounds, and
prints a table (every ratio ours / naive) plus JSON (bench-results/latest.json):
(a) naive: a bare page loads Pyodide, then loadPackage('numpy'), then imports numpy;
(b) our Quantization Lab: time to `live`; first contentful paint of the snapshot;
    cold (new profile), warm (second visit, same saved profile: HTTP and wasm code caches) and after a
    browser relaunch on that profile; cold again on a simulated 20 Mbit/s, 40 ms RTT link;
(c) click → live on a second lab page reached by instant navigation;
(d) input → updated DOM latency p50/p95 per lab interaction (≥ 50 moves each);
(e) bytes sent on a cold visit, raw and as a gzip-compressing host would send them;
(f) memory (PSS of the page's renderer processes) after start-up and over 60 s of LoRA's Play;
plus training throughput (drawn steps per second while Play runs).
Usage: python scripts/bench.py [--runs 3] [--quick]   (--quick: start-up only, a few minutes per round)
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import heap_snapshot  # noqa: E402
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
# name: (download Mbit/s, round-trip ms), simulated by the bench's server for every request
NETWORKS = {"broadband": (20, 40)}
PLAY = [("lora: training", "lora"), ("distillation: training", "distillation")]

LATENCY_JS = """async ([lab, what, values, n]) => {
  const root = document.querySelector(`[data-lab="${lab}"]`);
  const [kind, name] = what.split(":");
  const times = [];
  for (let i = 0; i < n; i++) {
    const changed = new Promise(res => {  // a reply swaps the lab's slots (not the controls' own echo)
      const o = new MutationObserver(() => { o.disconnect(); res(performance.now()); });
      root.querySelectorAll("[data-lab-slot]").forEach(slot => o.observe(slot, { childList: true }));
    });
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
  let swaps = 0, longest = 0, last = performance.now();
  const obs = new MutationObserver(() => { swaps++; });  // one reply swaps the chart once
  obs.observe(root.querySelector('[data-lab-slot="chart"]'), { childList: true });
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


def pss_kb(profile: Path) -> int:
    """Proportional set size of the renderer processes of the browser using `profile` (page and workers)."""
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
            if str(profile).encode() in cmd and b"--type=renderer" in cmd:
                rollup = (proc / "smaps_rollup").read_text()
                total += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total


class Bench:
    """One built site (with its memory image), one server that counts bytes per file, one browser."""

    def __init__(self, runs: int):
        from playwright.sync_api import sync_playwright

        self.runs = runs
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.out = Path(tempfile.mkdtemp(prefix="bench-site-"))
        env = {**os.environ, "SITE_URL": self.base, "NO_MKDOCS_2_WARNING": "1"}
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(self.out)], cwd=ROOT, env=env, check=True)
        heap_snapshot.make(self.out)
        (self.out / "naive.html").write_text(NAIVE_HTML)
        self.sent: list[tuple[str, int]] = []
        self.gz: dict[str, int] = {}
        bench = self

        self.link: tuple[float, float] | None = None  # (bytes per second, round trip s) while simulating a link
        self.link_free_at = 0.0
        self.link_lock = threading.Lock()

        class Counting(serve_site.Handler):
            def copyfile(self, source, outputfile):
                try:
                    bench.send(self.path.split("?")[0], source.read(), outputfile)
                except (BrokenPipeError, ConnectionResetError):  # the browser dropped the body (e.g. a probed image)
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), functools.partial(Counting, directory=str(self.out)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)

    def persistent(self, profile: Path):
        """A browser on a saved profile (its HTTP cache and wasm code cache survive a relaunch)."""
        ctx = self.pw.chromium.launch_persistent_context(str(profile), executable_path=chromium_path(), args=CHROMIUM_ARGS)
        return ctx, ctx.pages[0] if ctx.pages else ctx.new_page()

    def send(self, path: str, data: bytes, out) -> None:
        """Write a response body, counting the bytes written; on a simulated link, after one round trip and
        sharing the bandwidth with every other response (done in the server, so the page, its worker and
        nested workers all see it). A body the browser drops stops at the next chunk."""
        if not self.link:
            out.write(data)
            self.sent.append((path, len(data)))
            return
        rate, rtt = self.link
        time.sleep(rtt)
        for i in range(0, len(data), 16384):
            chunk = data[i:i + 16384]
            with self.link_lock:
                self.link_free_at = max(time.monotonic(), self.link_free_at) + len(chunk) / rate
                until = self.link_free_at
            time.sleep(max(0.0, until - time.monotonic()))
            out.write(chunk)
            out.flush()
            self.sent.append((path, len(chunk)))

    def bytes_sent(self) -> tuple[int, int]:
        """(raw, gzip) bytes of the responses since the last reset; gzip as a host compressing at level 6 would send."""
        per_path: dict[str, int] = {}
        for path, n in self.sent:
            per_path[path] = per_path.get(path, 0) + n
        raw = gz = 0
        for path, n in per_path.items():
            raw += n
            if path not in self.gz:
                file = self.out / path.lstrip("/")
                file = file / "index.html" if file.is_dir() else file
                self.gz[path] = len(gzip.compress(file.read_bytes(), 6)) if file.is_file() else n
            gz += min(n, self.gz[path])
        return raw, gz

    def visit(self, page, candidate: str) -> float:
        """Navigate and return ms from navigation start until Python is ready (naive) or the lab is live (ours)."""
        if candidate == "naive":
            page.goto(self.base + "naive.html")
            page.wait_for_function("window.naiveMs !== undefined", timeout=120_000)
            return page.evaluate("window.naiveMs")
        page.goto(self.base + "labs/quantization/", wait_until="commit")
        return page.evaluate(LIVE_JS, "quantization")

    def startup_round(self, candidate: str) -> dict:
        """Cold, warm and relaunched visits on one new saved profile."""
        profile = Path(tempfile.mkdtemp(prefix="bench-profile-"))
        row: dict = {}
        try:
            ctx, page = self.persistent(profile)
            self.sent.clear()
            row["cold"] = self.visit(page, candidate)
            row["bytes"], row["bytes_gzip"] = self.bytes_sent()
            if candidate == "ours":
                row["path"] = page.evaluate("window.__labs.bootPath")
                row["fcp"] = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
                time.sleep(1)
                row["pss_kb"] = pss_kb(profile)
            row["warm"] = self.visit(page, candidate)
            if candidate == "ours":
                row["warm_path"] = page.evaluate("window.__labs.bootPath")
                row.update(self.second_labs(page))
            ctx.close()
            ctx, page = self.persistent(profile)
            row["relaunch"] = self.visit(page, candidate)
            ctx.close()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        return row

    def slow_round(self, candidate: str, network: str) -> dict:
        """One cold visit in a fresh private context over the simulated link."""
        down_mbps, rtt_ms = NETWORKS[network]
        ctx = self.browser.new_context()
        page = ctx.new_page()
        self.sent.clear()
        self.link = (down_mbps * 1e6 / 8, rtt_ms / 1e3)
        try:
            row = {"cold": self.visit(page, candidate)}
        finally:
            self.link = None
        row["bytes"], row["bytes_gzip"] = self.bytes_sent()
        if candidate == "ours":
            row["path"] = page.evaluate("window.__labs.bootPath")
        ctx.close()
        return row

    def startup(self) -> dict:
        """Every round runs each candidate once, in shuffled order; returns {condition: {candidate: [rows]}}."""
        rows: dict = {"localhost": {"naive": [], "ours": []}, **{net: {"naive": [], "ours": []} for net in NETWORKS}}
        for _ in range(self.runs):
            for candidate in random.sample(["naive", "ours"], 2):
                rows["localhost"][candidate].append(self.startup_round(candidate))
            for net in NETWORKS:
                for candidate in random.sample(["naive", "ours"], 2):
                    rows[net][candidate].append(self.slow_round(candidate, net))
        return rows

    def memory_during_play(self, seconds: int = 60) -> dict:
        """PSS of the LoRA page's renderer after start-up, then every 10 s while Play runs."""
        profile = Path(tempfile.mkdtemp(prefix="bench-profile-"))
        try:
            ctx, page = self.persistent(profile)
            page.goto(self.base + "labs/lora/")
            page.evaluate(LIVE_JS, "lora")
            time.sleep(1)
            samples = [pss_kb(profile)]
            page.click('[data-lab="lora"] [data-action="play"]')
            for _ in range(seconds // 10):
                time.sleep(10)
                samples.append(pss_kb(profile))
            page.click('[data-lab="lora"] [data-action="play"]')
            ctx.close()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        return {"start_kb": samples[0], "max_kb": max(samples), "end_kb": samples[-1], "samples_kb": samples}

    def instant_nav(self, page, lab: str) -> float:
        """Click the nav link to another lab page; time from click to that lab being live."""
        return page.evaluate("""lab => new Promise(resolve => {  // timed in the page: no polling in the figure
          const a = [...document.querySelectorAll("nav.md-nav a")].find(a => a.href.endsWith(`/labs/${lab}/`));
          const t0 = performance.now();
          new MutationObserver((_, o) => {
            if (document.querySelector(`[data-lab="${lab}"][data-state="live"]`)) { o.disconnect(); resolve(performance.now() - t0); }
          }).observe(document, { attributes: true, childList: true, subtree: true, attributeFilter: ["data-state"] });
          a.click();
        })""", lab)

    def second_labs(self, page) -> dict:
        """From the live Quantization Lab: instant navigation to a second lab, whose first input comes at
        once (the worst case), then to a third, whose first input comes 1 s after live (a reader's pace)."""
        labs = [lab for lab in ("lora", "distillation", "rlhf")
                if f'data-lab="{lab}"' in (self.out / "labs" / lab / "index.html").read_text()]
        row: dict = {}
        if labs:
            row["nav"] = self.instant_nav(page, labs[0])
            first = self.first_interaction(page, labs[0])
            row["first_ms"], row["usual_ms"] = first.get("first_ms"), first.get("usual_ms")
        if len(labs) > 1:
            row["nav_late"] = self.instant_nav(page, labs[1])
            time.sleep(1)
            first = self.first_interaction(page, labs[1])
            row["first_late_ms"], row["usual_late_ms"] = first.get("first_ms"), first.get("usual_ms")
        return row

    def first_interaction(self, page, lab: str) -> dict:
        """On a live lab: the first change of its first key slider, then 10 more (the usual latency), each
        to a value not asked for before and not a neighbour of the default (which the worker's warm-up
        computes), so no lab's cache answers one and not another; each timed from the input event to the
        lab's slots being swapped."""
        control = page.evaluate("""lab => {
          const el = document.querySelector(`[data-lab="${lab}"] .lab-side input[type=range][data-control]`);
          return el && [el.dataset.control, el.min, el.max, el.step || "1", el.value];
        }""", lab)
        if not control:
            return {}
        name, lo, hi, step, now = (control[0], *map(float, control[1:]))
        grid = [lo + k * step for k in range(round((hi - lo) / step) + 1)]
        fresh = [v for v in grid if abs(v - now) > 1.5 * step]
        values = [f"{fresh[round(i * (len(fresh) - 1) / 10)]:g}" for i in range(11)]
        first, *usual = page.evaluate(LATENCY_JS, [lab, f"control:{name}", values, 11])
        return {"first_ms": first, "usual_ms": statistics.median(usual), "control": name}

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


def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="start-up only (localhost and the simulated link): no memory and no interaction parts")
    args = parser.parse_args()
    b = Bench(args.runs)
    try:
        rows = b.startup()
        memory = None if args.quick else b.memory_during_play()
        inter = [] if args.quick else b.interactions()
    finally:
        b.close()
    keys = ("cold", "warm", "relaunch", "fcp", "nav", "first_ms", "usual_ms", "nav_late", "first_late_ms", "usual_late_ms",
            "bytes", "bytes_gzip", "pss_kb")
    local = {c: {k: median(rows["localhost"][c], k) for k in keys} for c in ("naive", "ours")}
    print(f"{'measure':52} {'naive':>9} {'ours':>9} {'ratio':>6} {'target':>8}")
    for key, target in (("cold", "≤ 0.5"), ("warm", "≤ 0.5"), ("relaunch", "≤ 0.6")):
        n, o = local["naive"][key], local["ours"][key]
        print(f"{f'(a/b) Quantization Lab live, localhost, {key} (ms)':52} {n:>9.0f} {o:>9.0f} {o / n:>6.2f} {target:>8}")
    for net in NETWORKS:
        mbps, rtt = NETWORKS[net]
        n, o = median(rows[net]["naive"], "cold"), median(rows[net]["ours"], "cold")
        print(f"{f'(a/b) live, {mbps} Mbit/s {rtt} ms RTT, cold (ms)':52} {n:>9.0f} {o:>9.0f} {o / n:>6.2f} {'≤ 1.0':>8}")
        paths = [r["path"] for r in rows[net]["ours"]]
        print(f"{'      boot path chosen on that link':52} {'':>9} {', '.join(paths):>9}")
    print(f"{'      boot path chosen, localhost cold / warm':52} {'':>9} "
          f"{', '.join(r['path'] for r in rows['localhost']['ours'])} / {', '.join(r['warm_path'] for r in rows['localhost']['ours'])}")
    print(f"{'(b) snapshot first contentful paint (ms)':52} {'':>9} {local['ours']['fcp']:>9.0f}")
    print(f"{'(c) second lab, click → live after instant nav (ms)':52} {'':>9} {local['ours']['nav']:>9.0f} {'':>6} {'≤ 150':>8}")
    for first, usual, label in (("first_ms", "usual_ms", "at live"), ("first_late_ms", "usual_late_ms", "1 s after live")):
        if local["ours"][first] is not None:
            f, u = local["ours"][first], local["ours"][usual]
            print(f"{f'(c) usual input / first input {label} (ms)':52} {u:>9.0f} {f:>9.0f} {f - u:>+6.0f} {'+≤ 17':>8}")
    if local["ours"]["nav_late"] is not None:
        print(f"{'(c) third lab, click → live after instant nav (ms)':52} {'':>9} {local['ours']['nav_late']:>9.0f} {'':>6} {'≤ 150':>8}")
    for key, label in (("bytes", "raw"), ("bytes_gzip", "gzip")):
        n, o = local["naive"][key], local["ours"][key]
        print(f"{f'(e) bytes sent, cold, {label} (MB)':52} {n / 1e6:>9.1f} {o / 1e6:>9.1f} {o / n:>6.2f}")
    for net in NETWORKS:
        n, o = median(rows[net]["naive"], "bytes"), median(rows[net]["ours"], "bytes")
        print(f"{f'(e) bytes sent, cold, {net}, raw (MB)':52} {n / 1e6:>9.1f} {o / 1e6:>9.1f} {o / n:>6.2f}")
    print(f"{'(f) memory after start-up, Quantization (MB PSS)':52} {'':>9} {local['ours']['pss_kb'] / 1024:>9.0f}")
    if memory:
        print(f"{'(f) memory over 60 s of LoRA Play: start / max / end (MB)':52} {'':>9} "
              f"{memory['start_kb'] / 1024:.0f} / {memory['max_kb'] / 1024:.0f} / {memory['end_kb'] / 1024:.0f}")
    for row in inter:
        if "p95_ms" in row:
            print(f"{'(d) ' + row['name'] + ' p50 / p95 (ms)':52} {row['p50_ms']:>5.1f}/{row['p95_ms']:>4.1f} "
                  f"{'≤ ' + str(row['target_p95_ms']):>12}  ratio {row['p95_ms'] / row['target_p95_ms']:.2f}")
        else:
            print(f"{'    ' + row['name'] + ' steps drawn/s':52} {row['perSecond']:>9.1f} {'≥ 30':>12}"
                  f"  (longest frame {row['longestFrameMs']:.0f}ms)")
    result = {"localhost": local, "rows": rows, "memory": memory, "interactions": inter}
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "latest.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
