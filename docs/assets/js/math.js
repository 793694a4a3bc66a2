/** Render $…$ and $$…$$ (arithmatex generic output) with the self-hosted KaTeX on every page view. */
(() => {
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
  };
  if (window.document$) window.document$.subscribe(render);
  else document.addEventListener("DOMContentLoaded", render);
})();
