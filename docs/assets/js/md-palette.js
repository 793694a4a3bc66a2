/* Restore the reader's stored colour palette before first paint (Material's partials/javascripts/palette.html,
   loaded from a file so the site runs under `script-src 'self'`). An unreadable stored value is ignored. */
(() => {
  let palette = null;
  try {
    palette = window.__md_get("__palette");
  } catch (err) {
    return;
  }
  if (!palette || !palette.color) return;
  if (palette.color.media === "(prefers-color-scheme)") {
    const light = matchMedia("(prefers-color-scheme: light)").matches;
    const input = document.querySelector(
      `[data-md-color-media='(prefers-color-scheme: ${light ? "light" : "dark"})']`);
    if (!input) return;
    for (const key of ["media", "scheme", "primary", "accent"]) {
      palette.color[key] = input.getAttribute(`data-md-color-${key}`);
    }
  }
  for (const [key, value] of Object.entries(palette.color)) {
    document.body.setAttribute(`data-md-color-${key}`, value);
  }
})();
