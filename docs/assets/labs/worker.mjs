/**
 * Lab worker: boots Python (self-hosted Pyodide 0.27.7, numpy, labs_py) once per window, then answers
 * render calls with `labs_py.runtime.handle`.
 *
 * Two boot paths, chosen per visit (see README, "Start-up"):
 * - "heap": restore the build-time memory image (`runtime.json` → `heap`): numpy's compiled modules
 *   are loaded and the WebAssembly instantiated while the image arrives, then Python's memory is
 *   restored with numpy and every lab already imported and rendered once. Taken when an earlier visit
 *   kept the unpacked image (Cache Storage) or the image arrives fast (HTTP cache, fast link); the image
 *   must carry the hashes of what this page loads and pass a self-test.
 * - "normal": load Pyodide, numpy (by name, integrity-checked by Pyodide) and the labs wheel.
 * If the heap path fails anywhere, the worker says "fallback" and the page starts a fresh worker on
 * the normal path. Downloads are started by the worker (before Pyodide asks for them) and counted
 * on a `clone()` for the progress bar, so Chromium still caches the compiled wasm.
 *
 * The page ↔ worker protocol, in one place:
 * Page → worker
 *   {type: "init", base, path?}  start; base = absolute site root; path = "heap" | "normal" forces a
 *                                boot path (tests, benchmark), otherwise the worker chooses
 *   {type: "call", id, request}  request = JSON string for labs_py.runtime.handle
 *   {type: "warm", labs}         the labs on the page: warm their code up first (warmUp), then the others'
 *   {type: "make-heap", base, libs}  build only (scripts/heap_snapshot.py): boot with numpy's modules
 *                                libs = [[file system path, URL]…] preloaded, and answer "heap"
 * Worker → page
 *   {type: "progress", loaded, total}  runtime bytes downloaded so far, of total (from runtime.json)
 *   {type: "stage", name}              a start-up stage finished (keeps the page's stall timeout alive)
 *   {type: "ready", ms, path}          Python is ready: ms since init, boot path taken
 *   {type: "verified"}                 (heap path, after "ready") the restored runtime passed its self-test
 *   {type: "fallback", reason}         the heap path failed (before "ready", or its self-test after it):
 *                                      terminate me, boot a fresh worker "normal"
 *   {type: "fatal", message}           start-up failed
 *   {type: "result", id, out} | {type: "result", id, error}  the answer to one "call"
 *   {type: "warmed", lab}              the warm-up has run this lab's code (for tests and the benchmark)
 *   {type: "heap", snapshot, handles, selftest}  answer to "make-heap": Pyodide's memory snapshot
 *                                (Uint8Array), [[dlopen handle, library path]…], the self-test answer
 * Boot worker ↔ image reader (this module in a worker of its own, started by the heap path to read
 * and gunzip the image beside the boot):
 *   boot → reader  {type: "read-image", url}   (not started when an earlier visit kept the unpacked image:
 *                                              the boot worker reads that from Cache Storage itself)
 *   reader → boot  {type: "probe", fast}  PROBE_BYTES within PROBE_MS of the request
 *                  {type: "bytes", n}…, {type: "image", bytes} (the unpacked file), then it closes
 *                  | {type: "fatal", message}
 * The boot worker terminates the reader when it drops the image (slow link, failed restore).
 */

// The image is worth its extra bytes only on a fast link (or from a cache): it must deliver PROBE_BYTES
// within PROBE_MS of being requested, beside the other downloads (≈ 100 Mbit/s in all), or the worker
// drops it and boots normally. On a 20 Mbit/s link that costs one PROBE_MS of shared bandwidth.
const PROBE_BYTES = 1e6;
const PROBE_MS = 300;
// A known computation (numpy's LAPACK, one lab's full render), run after a restore and at build time:
// both answers must be equal (runtime.json → heap.selftest).
const SELFTEST = `
import hashlib, numpy as np
from labs_py import runtime
_h = hashlib.sha256(runtime.snapshot("quantization").encode())
_h.update(repr(np.linalg.svd(np.arange(12.0).reshape(3, 4))[1].round(9).tolist()).encode())
_h.hexdigest()
`;

// The warm-up runs one short piece at a time, so a reader's change waits behind at most one of them: the
// page's own labs' pieces at once, the others' only after this long without a call, a new page or "ready".
const WARM_IDLE_MS = 300;

let handle = null;
let bootPath = null; // the path being booted, until "ready"
const warming = { runtime: null, labs: [], first: [], warmed: new Set(), running: false, lastActive: 0, wake: null };

/** Downloads started up front, handed to Pyodide's own `fetch` calls, counted for the progress bar. */
class Net {
  constructor() {
    this.realFetch = self.fetch.bind(self);
    this.started = new Map();
    this.loaded = 0;
    this.total = 0;
    this.lastPost = 0;
    self.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input), self.location.href).href;
      const early = this.started.get(url);
      if (early) { this.started.delete(url); return early; }
      return this.realFetch(input, init);
    };
  }

  /** Start one download now; Pyodide's later fetch of the same URL gets this response. */
  start(url, init = {}) {
    const promise = this.realFetch(url, { ...init, credentials: "same-origin" }).then((resp) => {
      if (!resp.ok) throw new Error(`${url} answered HTTP ${resp.status}`);
      const type = resp.headers.get("content-type") || "none";
      if (url.endsWith(".wasm") && !type.toLowerCase().startsWith("application/wasm")) {
        // Pyodide would hang on this; say why at once instead of waiting for the stall timeout.
        const message = `the server sends ${url} as ${type}, not application/wasm`;
        postMessage({ type: "fatal", message });
        throw new Error(message);
      }
      this.count(resp.clone().body);
      return resp;
    });
    promise.catch(() => {}); // a download nobody waits for (after a fallback) is no error of its own
    this.started.set(url, promise);
    return promise;
  }

  /** Take a started download for our own use (Pyodide will not ask for it). */
  take(url) {
    const promise = this.started.get(url) || this.start(url);
    this.started.delete(url);
    return promise;
  }

  /** Read a cloned body to its end, adding its bytes to the progress. */
  async count(body) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      this.add(value.byteLength);
    }
  }

  add(n) {
    this.loaded += n;
    const now = performance.now();
    if (this.total && (now - this.lastPost > 50 || this.loaded >= this.total)) {
      this.lastPost = now;
      postMessage({ type: "progress", loaded: Math.min(this.loaded, this.total), total: this.total });
    }
  }
}

/** Fetch runtime.json: file names, sizes, hashes and, when the build made one, the memory image. */
async function loadConfig(base) {
  const resp = await fetch(new URL("assets/labs/runtime.json", base), { cache: "no-cache" });
  if (!resp.ok) throw new Error(`runtime.json answered HTTP ${resp.status}`);
  return resp.json();
}

/**
 * Load numpy's compiled modules into Emscripten's dynamic linker before the C runtime starts, in the
 * order the image was made with, so their memory and table bases match the image (preRun step).
 * @param {Array<[string, Promise<WebAssembly.Module>]>} libs [file system path, compiled module]
 */
function preloadLibs(libs) {
  return (Module) => {
    Module.addRunDependency("labs-dynlibs");
    (async () => {
      for (const [path, compiled] of libs) {
        const dso = Module.newDSO(path, undefined, "loading");
        dso.refcount = Infinity;
        dso.global = false;
        const flags = { loadAsync: true, nodelete: true, allowUndefined: true };
        dso.exports = await Module.loadWebAssemblyModule(await compiled, flags, path, {});
      }
      Module.reportUndefinedSymbols();
    })().then(() => Module.removeRunDependency("labs-dynlibs"), (err) => {
      postMessage({ type: "fallback", reason: `loading numpy's modules failed: ${err.message || err}` });
    });
  };
}

/** Compile a side module as it streams in (Chromium caches the compiled code); failures surface in preloadLibs. */
function compile(response) {
  const compiled = WebAssembly.compileStreaming(response);
  compiled.catch(() => {});
  return compiled;
}

/**
 * Import Pyodide's two scripts now, while the rest downloads (both boot paths need them; Pyodide then
 * skips importing pyodide.asm.js itself). Resolves to {loadPyodide, hooks}: before calling loadPyodide,
 * push Emscripten preRun steps to `hooks.preRun`, and set `hooks.beforeRestore` to a promise the
 * module waits for once it is instantiated (a memory image can then still be arriving while the
 * WebAssembly, numpy's modules and the standard library are set up).
 */
async function importPyodide(index) {
  await import(index + "pyodide.asm.js");
  const create = globalThis._createPyodideModule;
  const hooks = { preRun: [], beforeRestore: null };
  globalThis._createPyodideModule = async (settings) => {
    const module = await create({ ...settings, preRun: [...settings.preRun, ...hooks.preRun] });
    await hooks.beforeRestore;
    return module;
  };
  const { loadPyodide } = await import(index + "pyodide.mjs");
  return { loadPyodide, hooks };
}

/** Start the downloads both boot paths need and import Pyodide; returns the Pyodide index URL. */
function startCommon(cfg, base, net) {
  const index = new URL(cfg.pyodide, base).href;
  net.wasm = net.start(index + "pyodide.asm.wasm");
  for (const f of ["python_stdlib.zip", "pyodide-lock.json"]) net.start(index + f);
  net.pyodide = importPyodide(index);
  net.pyodide.catch(() => {}); // awaited by the boot path; a failure surfaces there
  return index;
}

/** Bytes of the files a path downloads (progress bar total). */
function pathBytes(cfg, files) {
  const common = ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"];
  return [...common.map((f) => cfg.pyodide + f), ...files].reduce((sum, f) => sum + (cfg.sizes[f] || 0), 0);
}

/** The two scripts Pyodide imports as modules (not through fetch) count once they are in. */
function countImported(cfg, net) {
  net.add(cfg.sizes[cfg.pyodide + "pyodide.mjs"] + cfg.sizes[cfg.pyodide + "pyodide.asm.js"]);
}

/**
 * Normal boot: Pyodide, then numpy by name and the labs wheel. Those two start downloading once the
 * WebAssembly is instantiated (an Emscripten preRun step, just before the interpreter starts), so on
 * a slow link they do not slow the interpreter's own files and arrive while it boots.
 */
async function bootNormal(cfg, base, net, index) {
  const wheel = new URL(cfg.labs_wheel, base).href;
  net.total = pathBytes(cfg, [cfg.pyodide + cfg.numpy, cfg.labs_wheel]);
  const { loadPyodide, hooks } = await net.pyodide;
  hooks.preRun.push(() => {
    net.start(index + cfg.numpy, { integrity: cfg.numpy_integrity });
    net.start(wheel);
  });
  const pyodide = await loadPyodide({ indexURL: index, fullStdLib: false });
  countImported(cfg, net);
  postMessage({ type: "stage", name: "interpreter" });
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  postMessage({ type: "stage", name: "numpy" });
  await pyodide.loadPackage(wheel, { checkIntegrity: false, messageCallback: () => {} });
  postMessage({ type: "stage", name: "labs" });
  pyodide.pyimport("numpy"); // imported here, as in the naive path, not on the first interaction
  return pyodide;
}

/** True when the site has a memory image and this browser can boot from it (and no data saving is asked for). */
function heapCapable(cfg) {
  return Boolean(cfg.heap && self.DecompressionStream && WebAssembly.compileStreaming && !navigator.connection?.saveData);
}

/**
 * The image reader (this module in a worker of its own, started by ImageReader): downloads, gunzips
 * and keeps the image, answering as the protocol above says, then closes. The probe is decided here,
 * where the bytes arrive: the clock starts at the request, so a slow start of the reader is not read
 * as a slow link.
 */
async function readImage(url) {
  try {
    const store = await openImageStore();
    let received = 0;
    let decided = false;
    const decide = (fast) => { if (!decided) { decided = true; postMessage({ type: "probe", fast }); } };
    const timer = setTimeout(() => decide(received >= PROBE_BYTES), PROBE_MS);
    const resp = await fetch(url, { credentials: "same-origin" });
    if (!resp.ok) throw new Error(`${url} answered HTTP ${resp.status}`);
    const counted = resp.body.pipeThrough(new TransformStream({
      transform(chunk, out) {
        received += chunk.byteLength;
        postMessage({ type: "bytes", n: chunk.byteLength });
        if (received >= PROBE_BYTES) decide(true);
        out.enqueue(chunk);
      },
    }));
    const bytes = new Uint8Array(await new Response(counted.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
    clearTimeout(timer);
    decide(true);
    const copy = new Response(bytes); // the body is a copy: `bytes` can go to the booting worker now
    postMessage({ type: "image", bytes }, [bytes.buffer]);
    if (store) await keepImage(store, url, copy);
  } catch (err) {
    postMessage({ type: "fatal", message: String(err && err.message ? err.message : err) });
  } finally {
    self.close();
  }
}

/**
 * Unpacked images, kept so that a returning reader skips the gunzip (the slowest step of a warm
 * start); one per site build (its URL names its content), older ones are deleted when a new one is
 * kept. Null where the browser has no Cache Storage (e.g. a page not served over https).
 */
const IMAGE_STORE = "labs-memory-image";

function openImageStore() {
  return self.caches ? caches.open(IMAGE_STORE).catch(() => null) : Promise.resolve(null);
}

async function keepImage(store, url, response) {
  try {
    for (const old of await store.keys()) if (old.url !== url) await store.delete(old);
    await store.put(url, response);
  } catch {
    // full storage or a private mode without storage: the next visit gunzips again
  }
}

/** The image as an earlier visit kept it (unpacked; same interface as ImageReader), or null. */
async function keptImage(url, net, size) {
  const store = await openImageStore();
  const kept = store && await store.match(url).catch(() => null);
  if (!kept) return null;
  const result = kept.arrayBuffer().then((buffer) => {
    net.add(size);
    return { bytes: new Uint8Array(buffer) };
  });
  result.catch(() => {}); // awaited by bootHeap
  return { url, result, fast: () => Promise.resolve(true), cancel: () => {} };
}

/** Forget a kept image that failed to restore, so the next visit takes it from the network again. */
function dropImage(url) {
  return openImageStore().then((store) => store && store.delete(url)).catch(() => {});
}

/**
 * Write an unpacked image file (magic, JSON meta, Pyodide's header, page numbers, non-zero pages; see
 * scripts/heap_snapshot.py) into `snapshot`, Pyodide's own format, which starts out zero. Returns the meta.
 */
function assemble(bytes, snapshot) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== "LABHEAP1") throw new Error("not a lab memory image");
  const metaLen = view.getUint32(8, true);
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + metaLen)));
  if (meta.header + meta.memory !== snapshot.length) throw new Error("the memory image has another size than runtime.json says");
  let at = 12 + metaLen;
  snapshot.set(bytes.subarray(at, at + meta.header));
  at += meta.header;
  const pages = new Uint32Array(bytes.slice(at, at + 4 * meta.pages).buffer);
  at += 4 * meta.pages;
  if (bytes.length !== at + meta.pages * meta.page) throw new Error("the memory image is truncated");
  for (let i = 0; i < meta.pages; i++) {
    snapshot.set(bytes.subarray(at + i * meta.page, at + (i + 1) * meta.page), meta.header + pages[i] * meta.page);
  }
  return meta;
}

/** The memory image, as the image reader (readImage, in a worker of its own) sends it, beside Pyodide's start-up. */
class ImageReader {
  /** @param {string} url the image @param {Net} net progress @param {number} size its bytes on the wire */
  constructor(url, net, size) {
    this.helper = new Worker(self.location.href, { type: "module" });
    this.helper.postMessage({ type: "read-image", url });
    this.url = url;
    this.bytes = 0;
    this.net = net;
    let probed = null;
    this.probe = new Promise((resolve) => { probed = resolve; });
    this.result = new Promise((resolve, reject) => {
      this.helper.onmessage = ({ data }) => {
        if (data.type === "bytes") { this.bytes += data.n; net.add(data.n); return; }
        if (data.type === "probe") { probed(data.fast); return; }
        if (data.type === "image") {
          net.add(size - this.bytes);
          this.bytes = size;
          probed(true);
          resolve(data);
          return;
        }
        probed(true); // "fatal": bootHeap falls back
        reject(new Error(data.message));
      };
      this.helper.onerror = (e) => {
        e.preventDefault();
        probed(true);
        reject(new Error(e.message || "the image reader failed"));
      };
    });
    this.result.catch(() => {}); // awaited by bootHeap; a dropped image is no error
  }

  /** Resolves true when the image arrives fast (the reader's probe). */
  fast() {
    return this.probe;
  }

  /** Stop the reader; its bytes leave the progress bar. */
  cancel() {
    this.helper.terminate();
    this.net.loaded -= this.bytes;
  }
}

/**
 * Heap boot: set up Pyodide's module while the image still arrives, restore the image into it and
 * re-attach numpy's library handles (the self-test follows "ready": selfTest).
 */
async function bootHeap(cfg, base, net, index, image) {
  const { heap } = cfg;
  await net.wasm; // its MIME type is checked first: a misconfigured server is named before 19 more .wasm requests
  const libs = heap.libs.map(([path, file]) => [path, compile(net.take(new URL(file, base).href))]);
  const { loadPyodide, hooks } = await net.pyodide;
  hooks.preRun.push(preloadLibs(libs));
  const snapshot = new Uint8Array(heap.size); // Pyodide sizes the memory from it now and restores it later
  const arrived = image.result.then(({ bytes }) => {
    const meta = assemble(bytes, snapshot);
    for (const key of ["pyodide", "libs", "labs"]) {
      if (meta.hashes[key] !== cfg.hashes[key]) throw new Error(`the memory image was made for another ${key} build`);
    }
    postMessage({ type: "stage", name: "image" });
    return meta;
  });
  arrived.catch(() => {}); // awaited below and by the module; a failure surfaces there
  hooks.beforeRestore = arrived;
  const pyodide = await loadPyodide({ indexURL: index, _loadSnapshot: snapshot, fullStdLib: false });
  const meta = await arrived;
  countImported(cfg, net);
  const ldso = pyodide._module.LDSO;
  for (const [h, path] of meta.handles) {
    if (!ldso.loadedLibsByName[path]) throw new Error(`the memory image expects ${path}`);
    ldso.loadedLibsByHandle[h] = ldso.loadedLibsByName[path];
  }
  postMessage({ type: "stage", name: "interpreter" });
  return pyodide;
}

/**
 * A heap boot's self-test, run just after "ready": the labs are live on their snapshots and call only
 * when the reader acts, and such a call waits for this (one thread). Passed: "verified". Failed: the
 * worker stops answering, drops the kept image and says "fallback"; the page then sends the labs'
 * calls to a fresh worker on the normal path.
 */
async function selfTest(pyodide, cfg, image) {
  let answer;
  try {
    answer = pyodide.runPython(SELFTEST);
  } catch (err) {
    answer = String(err);
  }
  if (answer === cfg.heap.selftest) {
    postMessage({ type: "verified" });
    return;
  }
  handle = null;
  await dropImage(image.url);
  postMessage({ type: "fallback", reason: "the restored runtime failed its self-test" });
}

/**
 * Boot on the heap path when the site has an image, the browser can restore it and the image arrives
 * fast (from the cache or a fast link); otherwise, or when forced, on the normal path. A failed heap
 * boot asks the page for a fresh worker instead.
 */
async function boot(base, forced) {
  const t0 = performance.now();
  const net = new Net();
  const cfg = await loadConfig(base);
  let path = forced || (heapCapable(cfg) ? "heap" : "normal");
  // Looked up before the downloads and Pyodide's import start: that import keeps this thread busy.
  const url = cfg.heap && new URL(cfg.heap.image, base).href;
  let image = path === "heap" ? await keptImage(url, net, cfg.sizes[cfg.heap.image]) : null;
  const index = startCommon(cfg, base, net);
  if (path === "heap") {
    net.total = pathBytes(cfg, [cfg.heap.image, ...cfg.heap.libs.map(([, file]) => file)]);
    image = image || new ImageReader(url, net, cfg.sizes[cfg.heap.image]);
    if (!forced && !(await image.fast())) {
      image.cancel();
      path = "normal";
    }
  }
  bootPath = path;
  let pyodide;
  if (path === "heap") {
    try {
      pyodide = await bootHeap(cfg, base, net, index, image);
    } catch (err) {
      image.cancel(); // its helper may still be keeping the image
      await dropImage(image.url);
      postMessage({ type: "fallback", reason: String(err && err.message ? err.message : err) });
      return;
    }
  } else {
    pyodide = await bootNormal(cfg, base, net, index);
  }
  const runtime = pyodide.pyimport("labs_py.runtime");
  handle = runtime.handle;
  bootPath = null;
  postMessage({ type: "ready", ms: Math.round(performance.now() - t0), path });
  if (path === "heap") await selfTest(pyodide, cfg, image);
  warming.runtime = runtime;
  warming.labs = cfg.labs;
  warming.lastActive = performance.now();
  warmUp();
}

/**
 * Warm-up: a fresh WebAssembly instance runs each function slowly the first time (it is compiled then,
 * and optimised only once it has run a while), and a restored memory image does not change that. So
 * the worker steps `labs_py.runtime.warm` for every lab, the page's labs first and at once (a reader
 * rarely acts within the half second that takes), the others while the reader is idle (a lab whose
 * page the reader has left is put back in line): the reader's first change then finds its code compiled.
 */
async function warmUp() {
  if (!warming.runtime || warming.running) return;
  warming.running = true;
  try {
    for (let lab = nextToWarm(); lab; lab = nextToWarm()) {
      const pieces = warming.runtime.warm(lab);
      let done = false;
      try {
        while (!done) {
          await (warming.first.includes(lab) ? nextTask() : idle());
          if (!handle) return; // the self-test failed: this worker is being replaced
          if (nextToWarm() !== lab) break; // a new page's lab goes first; this one starts again later, from its first piece
          done = pieces.next().done;
        }
      } finally {
        pieces.destroy();
      }
      if (done) {
        warming.warmed.add(lab);
        postMessage({ type: "warmed", lab });
      }
    }
  } catch {
    // only a speed-up: the lab's own calls run the same code and report any error
  } finally {
    warming.running = false;
  }
}

/** The lab to warm up now: the page's first, then the others in the site's order; none when all are done. */
function nextToWarm() {
  return [...warming.first, ...warming.labs].find((name) => warming.labs.includes(name) && !warming.warmed.has(name));
}

/** Resolves in a task of its own, after any message already queued. */
function nextTask() {
  return new Promise((resolve) => { setTimeout(resolve, 0); });
}

/** Resolves once the reader has been idle for WARM_IDLE_MS (after any message already queued), or at once
 * when a new page's labs arrive (`warming.wake`). */
function idle() {
  return new Promise((resolve) => {
    let timer = null;
    const wake = () => {
      clearTimeout(timer);
      warming.wake = null;
      resolve();
    };
    const wait = () => {
      const left = warming.lastActive + WARM_IDLE_MS - performance.now();
      if (left <= 0) wake();
      else timer = setTimeout(wait, left);
    };
    warming.wake = wake;
    timer = setTimeout(wait, 0);
  });
}

/**
 * Zero what the image need not carry: free malloc chunks (taken with malloc without ever growing the
 * memory, zeroed, freed), memory above the break and the unused stack. Zero pages are left out of the file.
 */
function zeroUnused(M) {
  const taken = [];
  for (let size = 1 << 24; size >= 64; size >>= 1) {
    for (;;) {
      const brk = M._sbrk(0);
      if (size + (1 << 18) > M.HEAPU8.length - brk) break; // an sbrk for this much could grow the memory
      const p = M._emscripten_builtin_malloc(size);
      if (!p) break;
      if (M._sbrk(0) !== brk) { M._emscripten_builtin_free(p); break; } // no free chunk this large is left
      M.HEAPU8.fill(0, p, p + size);
      taken.push(p);
    }
  }
  for (const p of taken) M._emscripten_builtin_free(p);
  M.HEAPU8.fill(0, M._sbrk(0), M.HEAPU8.length);
  M.HEAPU8.fill(0, M._emscripten_stack_get_end(), M.stackSave() - 256);
}

/**
 * Build time: boot with numpy's modules preloaded and `_makeSnapshot`, import and render every lab,
 * then take Pyodide's memory snapshot with the dlopen handles the image needs and the self-test answer.
 */
async function makeHeap(base, libPaths) {
  const net = new Net();
  const cfg = await loadConfig(base);
  const index = startCommon(cfg, base, net);
  const libs = libPaths.map(([path, file]) => [path, compile(net.take(new URL(file, base).href))]);
  const { loadPyodide, hooks } = await net.pyodide;
  hooks.preRun.push(preloadLibs(libs));
  const pyodide = await loadPyodide({ indexURL: index, _makeSnapshot: true, fullStdLib: false });
  await pyodide.loadPackage(["numpy", new URL(cfg.labs_wheel, base).href], { messageCallback: () => {} });
  pyodide.runPython(`
import gc, json, numpy
from labs_py import runtime
from labs_py.lab import LABS
for _lab in LABS:
    runtime.snapshot(_lab)
    runtime.handle(json.dumps({"lab": _lab, "instance": "heap", "params": {}, "action": "init", "payload": {"stored": None}}))
    runtime.handle(json.dumps({"lab": _lab, "instance": "heap", "action": "forget"}))
gc.collect()
`);
  const selftest = pyodide.runPython(SELFTEST);
  for (const name of Object.keys(pyodide.loadedPackages)) delete pyodide.loadedPackages[name];
  const ldso = pyodide._module.LDSO;
  const wanted = new Set(libPaths.map(([path]) => path));
  const handles = Object.entries(ldso.loadedLibsByHandle)
    .filter(([, dso]) => wanted.has(dso.name)).map(([h, dso]) => [Number(h), dso.name]);
  zeroUnused(pyodide._module);
  const snapshot = pyodide.makeMemorySnapshot();
  postMessage({ type: "heap", snapshot, handles, selftest }, [snapshot.buffer]);
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "read-image") {
    readImage(msg.url);
  } else if (msg.type === "init" || msg.type === "make-heap") {
    try {
      const job = { init: () => boot(msg.base, msg.path), "make-heap": () => makeHeap(msg.base, msg.libs) };
      await job[msg.type]();
    } catch (err) {
      postMessage({ type: "fatal", message: String(err && err.message ? err.message : err) });
    }
  } else if (msg.type === "call" && handle) { // none after a failed self-test: the page replaces this worker
    try {
      postMessage({ type: "result", id: msg.id, out: handle(msg.request) });
    } catch (err) {
      const text = String(err && err.message ? err.message : err);
      postMessage({ type: "result", id: msg.id, error: text.split("\n").slice(-3).join("\n") });
    }
    warming.lastActive = performance.now();
  } else if (msg.type === "warm" && Array.isArray(msg.labs)) {
    warming.first = msg.labs.filter((name) => typeof name === "string");
    warming.lastActive = performance.now();
    if (warming.wake) warming.wake(); // an idle lab's wait ends: the new page's lab goes first
    warmUp();
  }
};

self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault(); // reported to the page as a message, not to the console
  const why = String(event.reason);
  postMessage(bootPath === "heap" ? { type: "fallback", reason: why } : { type: "fatal", message: why });
});
