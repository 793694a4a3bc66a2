/* Boxes that scroll sideways inside the column (a display formula or a diagram wider than a phone) are
   made focusable and named, so a keyboard reader can scroll them too. Checked on every page view, once
   fonts have loaded (KaTeX's fonts widen formulas) and when the window is resized. */
(() => {
  const REGIONS = [
    ["div.arithmatex", "Formula (scrolls sideways)"],
    ["figure.diagram", "Diagram (scrolls sideways)"],
  ];
  const mark = () => {
    for (const [selector, label] of REGIONS) {
      document.querySelectorAll(`.md-typeset ${selector}`).forEach((el) => {
        if (el.scrollWidth > el.clientWidth + 1) {
          el.tabIndex = 0;
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", label);
        } else if (el.getAttribute("role") === "region") {
          el.removeAttribute("tabindex");
          el.removeAttribute("role");
          el.removeAttribute("aria-label");
        }
      });
    }
  };
  const later = () => requestAnimationFrame(() => { mark(); document.fonts.ready.then(mark); });
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(mark);
  });
  if (window.document$) window.document$.subscribe(later);
  else document.addEventListener("DOMContentLoaded", later);
})();
