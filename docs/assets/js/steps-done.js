/**
 * The stage page: "n of N steps done" for each lab, read from the progress each lab's guided steps
 * keep in localStorage (`lab-steps:<lab>`, written by assets/labs/steps.js). Unreadable progress is
 * reported as such; nothing is written here.
 */
(() => {
  /** Steps recorded as done for a lab, or null when the stored value cannot be read. */
  function done(lab) {
    const raw = localStorage.getItem(`lab-steps:${lab}`);
    if (raw === null) return 0;
    try {
      const value = JSON.parse(raw);
      return value && value.v === 1 && value.steps && typeof value.steps === "object" ? Object.keys(value.steps).length : null;
    } catch {
      return null;
    }
  }

  function mount() {
    document.querySelectorAll("[data-steps-done][data-steps-total]").forEach((el) => {
      const n = done(el.dataset.stepsDone);
      el.textContent = n === null ? "(step progress unreadable: reset it on the lab)"
        : `${n} of ${el.dataset.stepsTotal} steps done`;
    });
  }

  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
