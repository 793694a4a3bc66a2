/* Name the copy-button bar Material adds to each code block ("Code block 2 tools"): a page with several
   unnamed <nav> landmarks gives screen-reader users a list of identical entries. */
(() => {
  const label = () => {
    document.querySelectorAll("nav.md-code__nav").forEach((nav, i) => {
      nav.setAttribute("aria-label", `Code block ${i + 1} tools`);
    });
  };
  if (window.document$) window.document$.subscribe(() => requestAnimationFrame(label));
  else document.addEventListener("DOMContentLoaded", label);
})();
