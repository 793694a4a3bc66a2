/**
 * Lab worker: boots the self-hosted Pyodide once per window, with numpy and the labs_py wheel
 * downloaded in parallel with the interpreter, then answers render calls with `labs_py.runtime`.
 *
 * Messages in:  {type: "init", base} | {type: "call", id, request}
 * Messages out: {type: "progress", loaded, total} | {type: "stage", name} | {type: "ready", ms}
 *               | {type: "fatal", message}
 *               | {type: "result", id, out} | {type: "result", id, error}
 */

let handle = null;

/**
 * Wrap a response so every body chunk read is counted towards the progress bar.
 * @param {Response} resp
 * @param {(n: number) => void} onBytes
 * @returns {Response}
 */
function countingResponse(resp, onBytes) {
  const reader = resp.body.getReader();
  const body = new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) { controller.close(); return; }
      onBytes(value.byteLength);
      controller.enqueue(value);
    },
    cancel(reason) { return reader.cancel(reason); },
  });
  return new Response(body, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
}

/**
 * Start every runtime download at once and route Pyodide's own fetches to them.
 * @param {object} cfg runtime.json
 * @param {string} base absolute site root
 */
function prefetchAll(cfg, base) {
  const total = Object.values(cfg.sizes).reduce((a, b) => a + b, 0);
  let loaded = 0;
  let last = 0;
  const onBytes = (n) => {
    loaded += n;
    const now = performance.now();
    if (now - last > 50 || loaded >= total) { last = now; postMessage({ type: "progress", loaded, total }); }
  };
  const index = new URL(cfg.pyodide, base).href;
  const urls = {
    [index + "pyodide.asm.wasm"]: {},
    [index + "python_stdlib.zip"]: {},
    [index + "pyodide-lock.json"]: {},
    [index + cfg.numpy]: { integrity: cfg.numpy_integrity },
    [new URL(cfg.labs_wheel, base).href]: {},
  };
  const started = new Map();
  const realFetch = self.fetch.bind(self);
  for (const [url, init] of Object.entries(urls)) {
    started.set(url, realFetch(url, { ...init, credentials: "same-origin" }).then((resp) => {
      if (!resp.ok) throw new Error(`${url} answered HTTP ${resp.status}`);
      const type = resp.headers.get("content-type") || "none";
      if (url.endsWith(".wasm") && !type.toLowerCase().startsWith("application/wasm")) {
        // Pyodide would hang on this; say why at once instead of waiting for the stall timeout.
        postMessage({ type: "fatal", message: `the server sends ${url} as ${type}, not application/wasm` });
      }
      return countingResponse(resp, onBytes);
    }));
  }
  self.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), self.location.href).href;
    const early = started.get(url);
    if (early) { started.delete(url); return early; }
    return realFetch(input, init);
  };
  const imported = ["pyodide.mjs", "pyodide.asm.js"].map((f) => cfg.sizes[cfg.pyodide + f] || 0);
  return { index, onBytes, importedSize: imported[0] + imported[1] };
}

/**
 * Boot Pyodide, numpy and labs_py.
 * @param {string} base absolute URL of the site root
 */
async function boot(base) {
  const t0 = performance.now();
  const cfgResp = await fetch(new URL("assets/labs/runtime.json", base), { cache: "no-cache" });
  if (!cfgResp.ok) throw new Error(`runtime.json answered HTTP ${cfgResp.status}`);
  const cfg = await cfgResp.json();
  const { index, onBytes, importedSize } = prefetchAll(cfg, base);
  const { loadPyodide } = await import(index + "pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: index, packages: ["numpy"], fullStdLib: false });
  onBytes(importedSize); // the two scripts Pyodide imports as modules, not through fetch
  postMessage({ type: "stage", name: "interpreter" });
  await pyodide.loadPackage(new URL(cfg.labs_wheel, base).href, { checkIntegrity: false, messageCallback: () => {} });
  postMessage({ type: "stage", name: "labs" });
  pyodide.pyimport("numpy"); // imported here, as in the naive path, not on the first interaction
  handle = pyodide.pyimport("labs_py.runtime").handle;
  return Math.round(performance.now() - t0);
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      const ms = await boot(msg.base);
      postMessage({ type: "ready", ms });
    } catch (err) {
      postMessage({ type: "fatal", message: String(err && err.message ? err.message : err) });
    }
  } else if (msg.type === "call") {
    try {
      postMessage({ type: "result", id: msg.id, out: handle(msg.request) });
    } catch (err) {
      const text = String(err && err.message ? err.message : err);
      postMessage({ type: "result", id: msg.id, error: text.split("\n").slice(-3).join("\n") });
    }
  }
};

self.addEventListener("unhandledrejection", (event) => {
  postMessage({ type: "fatal", message: String(event.reason) });
});
