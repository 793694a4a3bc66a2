/* Material's storage helpers, loaded from a file so the site runs under `script-src 'self'`.

   Material 9.8 writes these as an inline <script> (partials/javascripts/base.html); its bundle and the
   palette script call them. Same behaviour: keys are scoped by the site root's pathname, values are JSON,
   and a full or unavailable localStorage is ignored on write. */
window.__md_scope = new URL(document.currentScript.dataset.scope, location);
window.__md_hash = (text) => [...text].reduce((h, c) => (h << 5) - h + c.charCodeAt(0), 0);
window.__md_get = (key, storage = localStorage, scope = window.__md_scope) =>
  JSON.parse(storage.getItem(`${scope.pathname}.${key}`));
window.__md_set = (key, value, storage = localStorage, scope = window.__md_scope) => {
  try {
    storage.setItem(`${scope.pathname}.${key}`, JSON.stringify(value));
  } catch (err) {
    /* storage full or blocked: the choice is simply not remembered */
  }
};
