/**
 * The stage page's MVU checklist: ticks persist in localStorage. A stored value that cannot be read
 * is reported with a reset button and left untouched until the reader chooses to reset it.
 */
(() => {
  const KEY = "mvu:stage-10";

  /** Parse the stored ticks; null when absent, undefined when unreadable. */
  function load() {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return null;
    try {
      const value = JSON.parse(raw);
      return Array.isArray(value) && value.every((v) => typeof v === "boolean") ? value : undefined;
    } catch {
      return undefined;
    }
  }

  function mount() {
    const box = document.querySelector("[data-mvu]");
    if (!box || box.dataset.mounted) return;
    box.dataset.mounted = "1";
    const inputs = [...box.querySelectorAll('input[type="checkbox"]')];
    inputs.forEach((input, i) => {
      input.disabled = false;
      input.setAttribute("aria-label", input.closest("li").textContent.trim());
      input.dataset.index = String(i);
    });
    const stored = load();
    if (stored === undefined) {
      const note = document.createElement("p");
      note.className = "mvu-error";
      note.setAttribute("role", "alert");
      note.textContent = "Your saved checklist could not be read, so it was left as it is. ";
      const reset = document.createElement("button");
      reset.type = "button";
      reset.className = "md-button";
      reset.textContent = "Reset the checklist";
      reset.addEventListener("click", () => {
        localStorage.removeItem(KEY);
        note.remove();
        inputs.forEach((input) => { input.checked = false; });
      });
      note.append(reset);
      box.prepend(note);
    } else if (stored) {
      inputs.forEach((input, i) => { input.checked = Boolean(stored[i]); });
    }
    box.addEventListener("change", () => {
      if (box.querySelector(".mvu-error")) return; // never overwrite data the reader has not reset
      localStorage.setItem(KEY, JSON.stringify(inputs.map((input) => input.checked)));
    });
  }

  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
