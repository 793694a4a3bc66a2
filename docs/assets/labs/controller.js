/**
 * One lab on the page: reads its controls, keeps at most one computation in flight (newest params
 * win), swaps in the HTML Python returns, mirrors non-default params into the URL, persists reader
 * data the lab hands back, and drives Play as repeated "step" actions.
 */
(() => {
  const STORE_PREFIX = "lab:";

  /** Read the URL's query into {name: value} for the names this lab declares. */
  function urlParams(names) {
    const out = {};
    const query = new URLSearchParams(location.search);
    for (const [k, v] of query) if (names.includes(k)) out[k] = v;
    return out;
  }

  class LabController {
    /** @param {HTMLElement} root the `[data-lab]` element @param {object} rt the shared runtime */
    constructor(root, rt) {
      this.root = root;
      this.rt = rt;
      this.name = root.dataset.lab;
      this.instance = `${location.pathname}#${[...document.querySelectorAll("[data-lab]")].indexOf(root)}`;
      this.defaults = JSON.parse(root.dataset.defaults || "{}");
      this.busy = false;
      this.queued = null;
      this.playing = false;
      this.liveTimer = null;
      this.readUrl();
      root.querySelector("[data-lab-controls]").addEventListener("submit", (e) => e.preventDefault());
      root.addEventListener("input", (e) => this.onInput(e));
      root.addEventListener("change", (e) => this.onInput(e));
      root.addEventListener("click", (e) => this.onClick(e));
      root.addEventListener("keydown", (e) => this.onKey(e));
      this.start();
    }

    /** Take this lab's params from the page URL (at mount; again whenever the URL has changed). */
    readUrl() {
      this.applyParams(urlParams(Object.keys(this.defaults)));
    }

    /** Put raw values (URL strings) into the controls; Python clamps them on the first call. */
    applyParams(values) {
      this.extra = {};
      for (const [name, value] of Object.entries(values)) {
        const el = this.root.querySelector(`[data-control="${CSS.escape(name)}"]`);
        if (!el) continue;
        this.extra[name] = value; // sent as-is so out-of-range values get a visible notice
        if (el.type === "checkbox") el.checked = value === "1" || value === "true";
        else el.value = value;
      }
    }

    /** Current params from the controls (raw URL values win until the first reply cleans them). */
    params() {
      const out = {};
      this.root.querySelectorAll("[data-control]").forEach((el) => {
        out[el.dataset.control] = el.type === "checkbox" ? (el.checked ? 1 : 0) : el.value;
      });
      return { ...out, ...this.extra };
    }

    setState(state, text) {
      this.root.dataset.state = state;
      const status = this.root.querySelector("[data-lab-status-text]");
      if (text !== undefined) status.textContent = text;
      this.root.querySelectorAll("[data-action]").forEach((b) => { b.disabled = state !== "live"; });
      this.root.querySelector("[data-lab-progress]").hidden = state !== "loading";
    }

    showProgress(loaded, total) {
      if (this.root.dataset.state !== "loading") return;
      const bar = this.root.querySelector("[data-lab-progress]");
      bar.style.setProperty("--p", `${Math.min(100, (100 * loaded) / total).toFixed(1)}%`);
      this.root.querySelector("[data-lab-status-text]").textContent =
        `Loading the Python runtime: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB…`;
    }

    /**
     * Boot (or reuse) the runtime, then render with the page's params and any stored reader data.
     * When neither exists, the snapshot already is Python's output for these params, so the lab is
     * live as soon as the runtime is; the first render then runs behind it and changes nothing visible.
     */
    async start() {
      this.setState("loading", "Loading the Python runtime…");
      if (this.rt.progress) this.showProgress(this.rt.progress.loaded, this.rt.progress.total);
      const stored = localStorage.getItem(STORE_PREFIX + this.name);
      try {
        await this.rt.ensureRuntime();
        if (stored === null && Object.keys(this.extra).length === 0) {
          this.setState("live", "Live: computed in your browser by the same Python code.");
        }
        await this.send("init", { stored });
      } catch (err) {
        this.fail(err);
      }
    }

    fail(err) {
      this.playing = false;
      this.setState("error", `The lab could not start: ${err.message}. The snapshot above is still accurate.`);
      const status = this.root.querySelector("[data-lab-status]");
      if (!status.querySelector("[data-lab-retry]")) {
        const retry = document.createElement("button");
        retry.type = "button";
        retry.className = "md-button lab-retry";
        retry.dataset.labRetry = "";
        retry.textContent = "Retry";
        retry.addEventListener("click", () => { retry.remove(); this.start(); });
        status.append(retry);
      }
    }

    /** Send params (+ action); if a call is in flight, remember only the newest request. */
    async send(action = null, payload = null) {
      if (this.busy) { this.queued = { action: action || (this.queued && this.queued.action), payload }; return; }
      this.busy = true;
      try {
        const reply = await this.rt.call({ lab: this.name, instance: this.instance, params: this.params(), action, payload });
        this.apply(reply);
      } catch (err) {
        if (this.root.dataset.state !== "live") throw err;
        this.showError(err);
      } finally {
        this.busy = false;
      }
      if (this.queued) { const q = this.queued; this.queued = null; await this.send(q.action, q.payload); }
      else if (this.playing) requestAnimationFrame(() => this.playing && this.send("step"));
    }

    apply(reply) {
      this.extra = {};
      this.root.querySelector("[data-lab-view]").innerHTML = reply.html;
      this.root.querySelector("[data-lab-notices]").innerHTML = reply.notices;
      for (const [name, value] of Object.entries(reply.params)) {
        const el = this.root.querySelector(`[data-control="${CSS.escape(name)}"]`);
        if (!el || el === document.activeElement && el.type === "range") continue;
        if (el.type === "checkbox") el.checked = Boolean(value); else el.value = String(value);
        const out = this.root.querySelector(`[data-output="${CSS.escape(name)}"]`);
        if (out) out.textContent = out.textContent.replace(/^[-\d.e]+/, String(value));
      }
      if (reply.store !== null && reply.store !== undefined) {
        localStorage.setItem(STORE_PREFIX + this.name, JSON.stringify(reply.store));
      }
      this.syncUrl(reply.query);
      if (this.root.dataset.state !== "live") this.setState("live", "Live: computed in your browser by the same Python code.");
      clearTimeout(this.liveTimer);
      this.liveTimer = setTimeout(() => { this.root.querySelector("[data-lab-live]").textContent = reply.summary; }, 900);
    }

    showError(err) {
      this.root.querySelector("[data-lab-notices]").textContent = `That update failed: ${err.message}`;
    }

    /** Mirror this lab's non-default params into the query string (other keys are kept). */
    syncUrl(query) {
      const url = new URL(location.href);
      for (const name of Object.keys(this.defaults)) url.searchParams.delete(name);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
      if (url.href !== location.href) history.replaceState(history.state, "", url.href);
    }

    onInput(e) {
      const el = e.target.closest("[data-control]");
      if (!el) return;
      delete this.extra[el.dataset.control];
      const out = this.root.querySelector(`[data-output="${CSS.escape(el.dataset.control)}"]`);
      if (out && el.type === "range") out.textContent = out.textContent.replace(/^[-\d.e]+/, el.value);
      if (this.root.dataset.state === "live") this.send(null);
    }

    onClick(e) {
      const button = e.target.closest("[data-action]");
      if (!button || this.root.dataset.state !== "live") return;
      const action = button.dataset.action;
      if (action === "play") {
        this.playing = !this.playing;
        button.setAttribute("aria-pressed", String(this.playing));
        button.textContent = this.playing ? "Pause" : "Play";
        if (this.playing) this.send("step");
      } else if (action === "export") {
        this.exportStore();
      } else if (action === "import") {
        this.importStore();
      } else if (!button.dataset.confirm || window.confirm(button.dataset.confirm)) {
        this.send(action);
      }
    }

    /** Keyboard shortcuts declared by the lab: `data-key="a"` on an action button. */
    onKey(e) {
      if (e.target.closest("input, select, textarea") || e.altKey || e.ctrlKey || e.metaKey) return;
      const button = this.root.querySelector(`[data-action][data-key="${CSS.escape(e.key.toLowerCase())}"]`);
      if (button && !button.disabled) { e.preventDefault(); button.click(); }
    }

    exportStore() {
      const data = localStorage.getItem(STORE_PREFIX + this.name) || "null";
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([data], { type: "application/json" }));
      link.download = `${this.name}-lab.json`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    }

    importStore() {
      const input = document.createElement("input");
      input.type = "file";
      input.accept = "application/json,.json";
      input.addEventListener("change", async () => {
        const file = input.files[0];
        if (file) this.send("import", { text: file.size > 2e6 ? "" : await file.text(), name: file.name });
      });
      input.click();
    }
  }

  window.LabController = LabController;
})();
