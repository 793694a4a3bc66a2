/**
 * Guided steps of one lab (predict → check). "Set it up" applies the step's params (and action)
 * through the lab's controller; "Check" asks Python for the step's answer, computed at that moment,
 * and reveals it. Progress is kept in localStorage under its own key, apart from the lab's data;
 * a stored value that cannot be read is explained and never overwritten until the reader resets.
 */
(() => {
  const KEY_PREFIX = "lab-steps:";

  /** A progress record is {v: 1, steps: {id: {prediction: string, right: boolean}}}. */
  function valid(p) {
    return p && typeof p === "object" && p.v === 1 && p.steps && typeof p.steps === "object" && !Array.isArray(p.steps)
      && Object.values(p.steps).every((s) => s && typeof s.prediction === "string" && typeof s.right === "boolean");
  }

  class LabSteps {
    /** @param {object} ctl the lab's LabController */
    constructor(ctl) {
      this.ctl = ctl;
      this.root = ctl.root;
      this.key = KEY_PREFIX + ctl.name;
      this.list = this.root.querySelector("[data-lab-steps]");
      if (!this.list) return;
      this.locked = false;
      this.progress = this.load();
      this.root.addEventListener("click", (e) => this.onClick(e));
      this.list.addEventListener("input", (e) => this.onPredict(e));
      this.list.addEventListener("change", (e) => this.onPredict(e));
      for (const [id, done] of Object.entries(this.progress.steps)) this.restore(id, done);
      this.showCount();
    }

    /** Stored progress, or an empty record (and an explanation) when the stored value is unreadable. */
    load() {
      const raw = localStorage.getItem(this.key);
      if (raw === null) return { v: 1, steps: {} };
      let parsed = null;
      try { parsed = JSON.parse(raw); } catch { parsed = null; }
      if (valid(parsed)) return parsed;
      this.locked = true;
      const box = this.root.querySelector("[data-lab-steps-store]");
      box.innerHTML = '<p class="lab-note" role="alert">Your saved progress through these steps could not be read, so '
        + "it is left exactly as it is and nothing new is saved. Use “Reset step progress” to start counting again.</p>";
      return { v: 1, steps: {} };
    }

    save() {
      if (!this.locked) localStorage.setItem(this.key, JSON.stringify(this.progress));
      this.showCount();
    }

    showCount() {
      const total = this.list.querySelectorAll("[data-step]").length;
      const done = this.list.querySelectorAll('[data-step-state="done"]').length;
      this.root.querySelector("[data-lab-steps-progress]").textContent = `${done} of ${total} steps done.`;
    }

    step(id) {
      return this.list.querySelector(`[data-step="${CSS.escape(id)}"]`);
    }

    /** A step done on an earlier visit: marked done with its prediction selected; Check shows the numbers again. */
    restore(id, done) {
      const li = this.step(id);
      if (!li) return;
      li.dataset.stepState = "done";
      const inputs = [...li.querySelectorAll("[data-step-predict]")];
      for (const input of inputs) {
        if (input.type === "radio") input.checked = input.value === done.prediction;
        else input.value = done.prediction;
      }
      this.onPredict({ target: inputs[0] });
      const reveal = li.querySelector("[data-step-reveal]");
      reveal.hidden = false;
      reveal.textContent = `Done earlier: your prediction was ${done.right ? "right" : "off"}. Check again to see the numbers.`;
    }

    /** The prediction made in a step, or null before one is chosen. */
    prediction(li) {
      const inputs = [...li.querySelectorAll("[data-step-predict]")];
      if (inputs.length === 1 && inputs[0].type === "range") return inputs[0].value;
      const picked = inputs.find((i) => i.checked);
      return picked ? picked.value : null;
    }

    /** Enable Check once a prediction exists and the lab is live. */
    refresh() {
      if (!this.list) return;
      const live = this.root.dataset.state === "live";
      this.list.querySelectorAll("[data-step]").forEach((li) => {
        li.querySelector("[data-step-check]").disabled = !live || this.prediction(li) === null;
      });
    }

    onPredict(e) {
      const li = e.target && e.target.closest("[data-step]");
      if (!li) return;
      const out = li.querySelector("[data-step-guess]");
      if (out) out.textContent = `${e.target.value}${e.target.dataset.unit || ""}`;
      this.refresh();
    }

    onClick(e) {
      const target = e.target.closest("[data-step-setup], [data-step-check], [data-steps-reset]");
      if (!target || !this.root.contains(target)) return;
      if (target.matches("[data-steps-reset]")) return this.reset();
      if (this.root.dataset.state !== "live") return;
      const li = target.closest("[data-step]");
      if (target.matches("[data-step-setup]")) {
        this.ctl.applyParams({ ...this.ctl.defaults, ...JSON.parse(target.dataset.setup) });
        this.ctl.send(null);
        if (target.dataset.setupAction) this.ctl.send(target.dataset.setupAction);
      } else {
        this.check(li);
      }
    }

    /** Ask Python for the step's answer and reveal it (one retry if the worker had to be replaced). */
    async check(li) {
      const id = li.dataset.step;
      const prediction = this.prediction(li);
      const reveal = li.querySelector("[data-step-reveal]");
      const button = li.querySelector("[data-step-check]");
      button.disabled = true;
      reveal.hidden = false;
      reveal.textContent = "Computing…";
      const ask = () => this.ctl.rt.call({ lab: this.ctl.name, check: id, prediction });
      try {
        const answer = await ask().catch((err) => { if (err.lost) return ask(); throw err; });
        if (answer.error) { reveal.textContent = answer.error; return; }
        reveal.innerHTML = "";
        const verdict = document.createElement("strong");
        verdict.textContent = answer.right ? "Right. " : "Not quite. ";
        reveal.append(verdict, answer.text);
        reveal.dataset.right = String(answer.right);
        li.dataset.stepState = "done";
        this.progress.steps[id] = { prediction, right: answer.right };
        this.save();
      } catch (err) {
        reveal.textContent = `The check failed: ${err.message}`;
      } finally {
        this.refresh();
      }
    }

    reset() {
      localStorage.removeItem(this.key);
      this.locked = false;
      this.progress = { v: 1, steps: {} };
      this.root.querySelector("[data-lab-steps-store]").innerHTML = "";
      this.list.querySelectorAll("[data-step]").forEach((li) => {
        li.dataset.stepState = "open";
        const reveal = li.querySelector("[data-step-reveal]");
        reveal.hidden = true;
        reveal.textContent = "";
      });
      this.showCount();
    }
  }

  window.LabSteps = LabSteps;
})();
