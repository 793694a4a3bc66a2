/**
 * Lab pages load this from <head>: the Python worker starts downloading before the body is parsed
 * and before Material's scripts run. shim.js adopts the worker and replays what it said meanwhile.
 * `window.__labsBootPath` ("heap" | "normal"), when a test or the benchmark sets it, forces the boot path.
 *
 * The site's search index (Material requests it at start-up) waits until the lab is live or has failed
 * and the labs have then had no call or new page for a moment (`early.releaseSearch()`, called by
 * shim.js), or until the reader focuses the search box: on a slow link it would share the bandwidth
 * with the runtime, and its parsing and indexing would share the CPU with start-up and the reader's
 * first interactions.
 */
(() => {
  const base = new URL("../../", document.currentScript.src).href; // this file is <base>/assets/labs/early.js
  const worker = new Worker(new URL("assets/labs/worker.mjs", base), { type: "module" });
  const early = { worker, base, inbox: [] };
  worker.onmessage = (event) => early.inbox.push(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    early.inbox.push({ type: "fatal", message: event.message || "the lab worker failed to load" });
  };
  worker.postMessage({ type: "init", base, path: window.__labsBootPath });
  window.__labsEarly = early;

  const index = new URL("search/search_index.json", base).href;
  const held = [];
  let released = false;
  const { open, send } = XMLHttpRequest.prototype;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.labsHold = new URL(String(url), location.href).href === index;
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (this.labsHold && !released) held.push(() => send.call(this, body));
    else send.call(this, body);
  };
  early.releaseSearch = () => {
    released = true;
    held.splice(0).forEach((go) => go());
  };
  document.addEventListener("focusin", (e) => {
    if (e.target instanceof Element && e.target.closest("[data-md-component=search]")) early.releaseSearch();
  });
})();
