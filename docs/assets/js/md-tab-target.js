/* Open the content tab that the URL's #fragment names (Material's partials/javascripts/content.html,
   loaded from a file so the site runs under `script-src 'self'`). */
(() => {
  const target = document.getElementById(location.hash.slice(1));
  if (target && target.name) target.checked = target.name.startsWith("__tabbed_");
})();
