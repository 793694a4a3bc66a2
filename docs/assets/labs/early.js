/**
 * Lab pages load this from <head>: the Python worker starts downloading before the body is parsed
 * and before Material's scripts run. shim.js adopts the worker and replays what it said meanwhile.
 * `window.__labsBootPath` ("heap" | "normal"), when a test or the benchmark sets it, forces the boot path.
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
})();
