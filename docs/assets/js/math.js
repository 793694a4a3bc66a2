/** Render $…$ and $$…$$ (arithmatex generic output) with the self-hosted KaTeX on every page view.

    A display formula wider than the column scrolls inside its box; such a box is made focusable
    (and named) so keyboard readers can scroll it too. Checked again when the window is resized. */
(() => {
  const markScrollable = () => {
    document.querySelectorAll("div.arithmatex").forEach((el) => {
      if (el.scrollWidth > el.clientWidth + 1) {
        el.tabIndex = 0;
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", "Formula (scrolls sideways)");
      } else if (el.hasAttribute("role")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
      }
    });
  };
  const render = () => {
    if (!window.renderMathInElement) return;
    document.querySelectorAll(".arithmatex").forEach((el) => {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
      });
    });
    markScrollable();
  };
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(markScrollable);
  });
  if (window.document$) window.document$.subscribe(render);
  else document.addEventListener("DOMContentLoaded", render);
})();
