/**
 * Lab shim: finds every `[data-lab]` root on Material's `document$`, starts one module worker per
 * window (it survives instant navigation), and moves params → worker → HTML fragments.
 * All state and math live in Python (labs_py); this file only moves messages and DOM. The worker
 * protocol is written down once, in worker.mjs's header.
 */
(() => {
  const STALL_MS = 20000; // no download progress or start-up stage (worker.mjs) for this long = failure
  const CALL_TIMEOUT_MS = 10000; // a live worker answers in milliseconds; silence means it died
  const LIVE_DEBOUNCE_MS = 900; // aria-live announcements wait until the reader stops dragging
  const SEARCH_QUIET_MS = 2000; // the site search index loads once the labs have had no call or new page this long
  const rt = { worker: null, ready: null, generation: 0, ids: 0, pending: new Map(), labs: new Set(), progress: null, warmed: [],
    busyAt: 0 };
  window.__labs = rt; // inspection hook for tests and the benchmark

  // This file is <site>/assets/labs/shim.js. Material's #__config keeps the base of the first page
  // loaded, which is wrong relative to `location` after an instant navigation to a deeper page.
  const SITE_BASE = new URL("../../", document.currentScript.src).href;

  /** Absolute URL of the site root. */
  function siteBase() {
    return SITE_BASE;
  }

  /** Tell every lab still starting how far the download is. */
  function broadcastProgress(loaded, total) {
    rt.progress = { loaded, total };
    for (const lab of rt.labs) lab.showProgress(loaded, total);
  }

  /** A new worker, told to boot (on `path` if given, else the worker chooses). */
  function startWorker(path) {
    const worker = new Worker(new URL("assets/labs/worker.mjs", siteBase()), { type: "module" });
    worker.postMessage({ type: "init", base: siteBase(), path });
    return worker;
  }

  /**
   * Start the worker once (or adopt the one early.js started); resolves when Python is ready. A worker
   * whose memory-image boot failed says "fallback" and is replaced by a fresh one on the normal path;
   * after "ready" (its self-test failed) the labs' next calls go to that fresh worker.
   */
  function ensureRuntime() {
    if (rt.ready) return rt.ready;
    const early = window.__labsEarly;
    window.__labsEarly = null;
    rt.ready = new Promise((resolve, reject) => {
      let worker = null;
      let stall = null;
      let ready = false;
      const fail = (why) => {
        clearTimeout(stall);
        worker.terminate();
        if (rt.worker === worker) { rt.worker = null; rt.ready = null; }
        reject(new Error(why));
      };
      const alive = () => {
        clearTimeout(stall);
        stall = setTimeout(() => fail("the runtime stopped downloading or starting (timed out)"), STALL_MS);
      };
      const receive = (data) => {
        if (data.type === "progress" || data.type === "stage") {
          alive();
          if (data.type === "progress") broadcastProgress(data.loaded, data.total);
        } else if (data.type === "ready") {
          clearTimeout(stall);
          rt.startMs = data.ms;
          rt.bootPath = data.path;
          ready = true;
          resolve(worker);
        } else if (data.type === "fallback") {
          rt.fallback = data.reason; // silent for the reader; kept for tests and the benchmark
          if (ready) {
            // its self-test failed after "ready": calls (and any in flight) go to a fresh worker
            rt.nextPath = "normal";
            dropWorker();
            ensureRuntime().catch(() => {});
            return;
          }
          worker.terminate();
          adopt(startWorker("normal"));
        } else if (data.type === "fatal") {
          fail(data.message);
        } else if (data.type === "warmed") {
          rt.warmed.push(data.lab);
        } else if (data.type === "result") {
          const call = rt.pending.get(data.id);
          if (call) { rt.pending.delete(data.id); clearTimeout(call.timer); call.done(data); }
        }
      };
      const adopt = (w) => {
        worker = rt.worker = w;
        rt.generation += 1; // a fresh worker holds no lab state: controllers re-send their stored data
        alive();
        w.onmessage = ({ data }) => { if (w === worker) receive(data); };
        w.onerror = (e) => { e.preventDefault(); if (w === worker) fail(e.message || "the lab worker failed to load"); };
      };
      adopt(early ? early.worker : startWorker(rt.nextPath));
      // Replay after `rt.ready` is assigned: a buffered "fatal" must leave rt.ready null, or Retry reuses the rejection.
      if (early) queueMicrotask(() => early.inbox.splice(0).forEach((data) => worker === early.worker && receive(data)));
    });
    if (early) { // the search index (its parsing and indexing) waits for a quiet moment: not while the reader works a lab
      const release = () => {
        const wait = rt.busyAt + SEARCH_QUIET_MS - performance.now();
        if (wait <= 0) early.releaseSearch();
        else setTimeout(release, wait);
      };
      const start = () => { rt.busyAt = Math.max(rt.busyAt, performance.now()); release(); };
      rt.ready.then(start, start);
    }
    return rt.ready;
  }

  /** Forget a dead worker so the next call starts a fresh one. */
  function dropWorker() {
    if (rt.worker) rt.worker.terminate();
    rt.worker = null;
    rt.ready = null;
    for (const [id, call] of rt.pending) { clearTimeout(call.timer); call.done({ id, lost: true }); }
    rt.pending.clear();
  }

  /**
   * Send one request and resolve with the parsed reply. A worker that does not answer is dropped
   * and the call rejects with `err.lost`; the controller then re-sends its stored data to the
   * fresh worker (rt.generation tells it a new one started) and repeats the request.
   */
  async function call(request) {
    rt.busyAt = performance.now();
    const worker = await ensureRuntime();
    const reply = await new Promise((done) => {
      const id = ++rt.ids;
      const timer = setTimeout(() => { rt.pending.delete(id); done({ id, lost: true }); }, CALL_TIMEOUT_MS);
      rt.pending.set(id, { done, timer });
      worker.postMessage({ type: "call", id, request: JSON.stringify(request) });
    });
    if (reply.lost) {
      dropWorker();
      throw Object.assign(new Error("the lab worker stopped answering"), { lost: true });
    }
    if (reply.error) throw new Error(reply.error);
    return JSON.parse(reply.out);
  }

  rt.call = call;
  rt.ensureRuntime = ensureRuntime;
  rt.terminate = () => { if (rt.worker) rt.worker.terminate(); }; // simulates a crashed worker

  /** Mount every lab root on the current page. */
  function mountAll() {
    rt.path = location.pathname;
    rt.busyAt = performance.now();
    for (const lab of rt.labs) if (!document.body.contains(lab.root)) rt.labs.delete(lab);
    const fresh = [...document.querySelectorAll("[data-lab]")].filter((root) => !root.__lab && window.LabController);
    fresh.forEach((root) => rt.labs.add((root.__lab = new window.LabController(root, rt))));
    if (fresh.length && rt.worker) { // the worker warms these labs' code up before any other's (worker.mjs, warmUp)
      rt.worker.postMessage({ type: "warm", labs: fresh.map((root) => root.dataset.lab) });
    }
  }

  /** Every lab on the page takes the URL's params, its defaults for the rest, and recomputes. */
  function followUrl() {
    const query = new URLSearchParams(location.search);
    for (const lab of rt.labs) {
      const values = { ...lab.defaults };
      for (const [name, value] of query) if (name in values) values[name] = value;
      lab.applyParams(values);
      if (lab.root.dataset.state === "live") lab.send(null);
    }
  }

  /**
   * A link to this page with another query (a lab preset such as `?alpha=0`) is applied here.
   * Material fetches a page only when the pathname changes (distinctUntilKeyChanged("pathname")),
   * so after an instant navigation it would push the URL, fetch nothing and step back.
   */
  function samePagePreset(e) {
    const a = e.target instanceof Element ? e.target.closest("a[href]") : null;
    if (!a || !rt.labs.size || a.target || a.hasAttribute("download") || e.button !== 0
        || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.href);
    if (url.origin !== location.origin || url.pathname !== location.pathname || url.hash
        || url.search === location.search) return;
    e.preventDefault();
    e.stopPropagation();
    history.pushState(null, "", url.href);
    followUrl();
  }

  document.addEventListener("click", samePagePreset, true);
  // Back and Forward between presets of this page: Material fetches nothing for these either.
  window.addEventListener("popstate", () => { if (location.pathname === rt.path) followUrl(); });

  /**
   * After an instant navigation Material swaps the new page's container in and emits `document$`
   * only after its own set-up of the page (tens of milliseconds later): mount a lab as soon as its
   * root is in the document (the URL has already changed by then).
   */
  function mountOnSwap() {
    const container = document.querySelector("[data-md-component=container]");
    if (!container || !container.parentNode) return;
    new MutationObserver(() => {
      if ([...document.querySelectorAll("[data-lab]")].some((root) => !root.__lab)) mountAll();
    }).observe(container.parentNode, { childList: true });
  }

  // Adopt the worker early.js started in <head>, before Material's page events fire.
  if (window.__labsEarly) ensureRuntime().catch(() => {});
  if (window.document$) window.document$.subscribe(mountAll);
  else document.addEventListener("DOMContentLoaded", mountAll);
  mountOnSwap();
})();
