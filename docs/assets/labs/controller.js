/**
 * One lab on the page: reads its controls, sends params and actions to Python in order, swaps in
 * the slots Python returns, mirrors non-default params into the URL, persists reader data the lab
 * hands back, and drives Play as repeated "step" actions. The worker protocol is written down in worker.mjs,
 * the request and reply JSON in labs_py/runtime.py.
 *
 * Param changes coalesce (the newest params win); actions that change data (a pick, an import, a
 * reset, a step's setup) are queued in order and never dropped or merged.
 */
(() => {
  const STORE_PREFIX = "lab:";
  const LIVE_TEXT = "Live: computed in your browser by the same Python code.";
  const TYPING = "select, textarea, input:not([type=range]):not([type=checkbox]):not([type=radio])";

  /** Read the URL's query into {name: value} for the names this lab declares. */
  function urlParams(names) {
    const out = {};
    for (const [k, v] of new URLSearchParams(location.search)) if (names.includes(k)) out[k] = v;
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
      this.actions = []; // data-changing actions, in the order the reader made them
      this.dirty = false; // params changed since the last call
      this.playing = false;
      this.generation = -1; // the runtime worker this lab last sent its stored data to
      this.liveTimer = null;
      this.readUrl();
      root.querySelector("[data-lab-controls]").addEventListener("submit", (e) => e.preventDefault());
      root.addEventListener("input", (e) => this.onInput(e));
      root.addEventListener("change", (e) => this.onInput(e));
      root.addEventListener("click", (e) => this.onClick(e));
      root.addEventListener("keydown", (e) => this.onKey(e));
      this.steps = window.LabSteps ? new window.LabSteps(this) : null;
      this.start();
    }

    /** True while a request waits behind the one in flight. */
    get queued() { return this.actions.length > 0 || this.dirty; }

    /** Take this lab's params from the page URL (at mount; again whenever the URL has changed). */
    readUrl() {
      this.applyParams(urlParams(Object.keys(this.defaults)));
    }

    /** Put raw values (URL strings, a step's setup) into the controls; Python cleans them on the next call. */
    applyParams(values) {
      this.extra = {};
      for (const [name, value] of Object.entries(values)) {
        const els = [...this.root.querySelectorAll(`[data-control="${CSS.escape(name)}"]`)];
        if (!els.length) continue;
        this.extra[name] = value; // sent as-is so out-of-range values get a visible notice
        this.setControl(els, value);
      }
    }

    setControl(els, value) {
      const text = String(value);
      for (const el of els) {
        if (el.dataset.multi !== undefined) el.checked = text.split(",").includes(el.value);
        else if (el.type === "checkbox") el.checked = text === "1" || text === "true";
        else if (el !== document.activeElement || el.type !== "range") el.value = text;
      }
      const out = this.root.querySelector(`[data-output="${CSS.escape(els[0].dataset.control)}"]`);
      if (out) out.textContent = out.textContent.replace(/^[-\d.e]+/, els[0].value);
    }

    /** Current params from the controls (raw URL values win until the next reply cleans them). */
    params() {
      const out = {};
      this.root.querySelectorAll("[data-control]").forEach((el) => {
        const name = el.dataset.control;
        if (el.dataset.multi !== undefined) {
          out[name] = out[name] === undefined ? "" : out[name];
          if (el.checked) out[name] = out[name] ? `${out[name]},${el.value}` : el.value;
        } else out[name] = el.type === "checkbox" ? (el.checked ? 1 : 0) : el.value;
      });
      return { ...out, ...this.extra };
    }

    setState(state, text) {
      this.root.dataset.state = state;
      if (text !== undefined) this.root.querySelector("[data-lab-status-text]").textContent = text;
      this.root.querySelectorAll("[data-action], [data-step-setup]").forEach((b) => { b.disabled = state !== "live"; });
      this.root.querySelector("[data-lab-progress]").hidden = state !== "loading";
      if (this.steps) this.steps.refresh();
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
     * When neither exists, the snapshot already is Python's output for these params: the lab is live
     * as soon as the runtime is, and Python first sees it ("init") with the reader's first change, so
     * that change waits for no render of what is already on screen (the worker has meanwhile warmed
     * this lab's code up: worker.mjs, warmUp).
     */
    async start() {
      this.setState("loading", "Loading the Python runtime…");
      if (this.rt.progress) this.showProgress(this.rt.progress.loaded, this.rt.progress.total);
      try {
        await this.rt.ensureRuntime();
        if (this.stored() === null && Object.keys(this.extra).length === 0 && !this.queued) {
          this.setState("live", LIVE_TEXT);
          return;
        }
        this.dirty = true;
        await this.pump();
      } catch (err) {
        this.fail(err);
      }
    }

    /** The reader data this browser keeps for the lab (raw text), or null. */
    stored() {
      return localStorage.getItem(STORE_PREFIX + this.name);
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

    /** Queue an action (kept in order) or a param change (coalesced), and make sure the queue drains. */
    send(action = null, payload = null) {
      if (action) this.actions.push({ action, payload }); else this.dirty = true;
      if (!this.busy) this.pump().catch((err) => this.showError(err));
    }

    /** One request to Python; a fresh worker first gets this lab's stored data ("init"). */
    async request(action, payload) {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.rt.ensureRuntime();
          if (this.generation !== this.rt.generation) {
            const generation = this.rt.generation;
            this.apply(await this.rt.call(this.body("init", { stored: this.stored() })));
            this.generation = generation;
            if (action === null) return null; // "init" carried the current params already
          }
          return await this.rt.call(this.body(action, payload));
        } catch (err) {
          if (!err.lost || attempt > 0) throw err; // a dead worker is replaced once, then the call is repeated
        }
      }
    }

    body(action, payload) {
      return { lab: this.name, instance: this.instance, params: this.params(), action, payload };
    }

    /** Drain the queue: actions in order, param changes as one call with the newest params. */
    async pump() {
      if (this.busy) return;
      this.busy = true;
      try {
        while (this.actions.length || this.dirty) {
          const next = this.actions.length ? this.actions.shift() : { action: null, payload: null };
          this.dirty = false;
          try {
            const reply = await this.request(next.action, next.payload);
            if (reply) this.apply(reply);
          } catch (err) {
            if (this.root.dataset.state !== "live") throw err;
            this.showError(err);
          }
        }
      } finally {
        this.busy = false;
      }
      if (this.playing) requestAnimationFrame(() => this.playing && !this.busy && this.send("step"));
    }

    apply(reply) {
      this.extra = {};
      const focused = document.activeElement;
      const action = this.root.contains(focused) && focused.dataset ? focused.dataset.action : undefined;
      for (const [slot, html] of Object.entries(reply.slots)) {
        const el = this.root.querySelector(`[data-lab-slot="${slot}"]`);
        if (el) el.innerHTML = html;
      }
      if (action && !this.root.contains(focused)) { // a button the reader was on was redrawn: keep keyboard focus on it
        const again = this.root.querySelector(`[data-action="${CSS.escape(action)}"]`);
        if (again) again.focus({ preventScroll: true });
      }
      this.root.querySelector("[data-lab-notices]").innerHTML = reply.notices;
      if (!this.dirty) { // a newer change is queued: its reply will set the controls, not this older one
        for (const [name, value] of Object.entries(reply.params)) {
          const els = [...this.root.querySelectorAll(`[data-control="${CSS.escape(name)}"]`)];
          if (els.length) this.setControl(els, value);
        }
        this.syncUrl(reply.query);
      }
      this.applyDisabled(reply.disabled || {});
      if (reply.store !== null && reply.store !== undefined) {
        localStorage.setItem(STORE_PREFIX + this.name, JSON.stringify(reply.store));
      }
      if (reply.stop && this.playing) this.togglePlay(false);
      if (this.root.dataset.state !== "live") this.setState("live", LIVE_TEXT);
      clearTimeout(this.liveTimer);
      this.liveTimer = setTimeout(() => { this.root.querySelector("[data-lab-live]").textContent = reply.summary; }, 900);
    }

    /** Disable the controls that do not apply, with the reason beside each. */
    applyDisabled(disabled) {
      this.root.querySelectorAll("[data-control]").forEach((el) => { el.disabled = el.dataset.control in disabled; });
      this.root.querySelectorAll("[data-disabled-reason]").forEach((el) => {
        el.textContent = disabled[el.dataset.disabledReason] || "";
      });
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

    togglePlay(on) {
      this.playing = on;
      const button = this.root.querySelector('[data-action="play"]');
      if (button) { button.setAttribute("aria-pressed", String(on)); button.textContent = on ? "Pause" : "Play"; }
      if (on) this.send("step");
    }

    onClick(e) {
      const button = e.target.closest("[data-action]");
      if (!button || this.root.dataset.state !== "live") return;
      const action = button.dataset.action;
      if (action === "play") this.togglePlay(!this.playing);
      else if (action === "export") this.exportStore();
      else if (action === "import") this.importStore();
      else if (!button.dataset.confirm || window.confirm(button.dataset.confirm)) this.send(action);
    }

    /** Shortcuts declared by the lab (`data-key` on a button), handled here and kept from the site's own hotkeys. */
    onKey(e) {
      if (e.target.closest(TYPING) || e.altKey || e.ctrlKey || e.metaKey) return;
      const button = this.root.querySelector(`[data-action][data-key="${CSS.escape(e.key.toLowerCase())}"]`);
      if (!button) return;
      e.preventDefault();
      e.stopPropagation();
      if (!button.disabled) button.click();
    }

    exportStore() {
      const data = this.stored() || "null";
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
