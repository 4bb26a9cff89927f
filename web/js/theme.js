// The colour scheme: the account's `preferences.ui.theme` (light, dark or system), remembered on this device so
// the next visit starts in it before anything is fetched. "system" follows the device (prefers-color-scheme).

const KEY = "iknow.theme";

/** @typedef {"light" | "dark" | "system"} Theme */

/** @returns {Theme} */
export function currentTheme() {
  const t = localStorage.getItem(KEY);
  return t === "light" || t === "dark" ? t : "system";
}

/** Applies `theme` (default: the remembered one) to the page and remembers it. @param {Theme} [theme] */
export function applyTheme(theme = currentTheme()) {
  if (theme === "light" || theme === "dark") {
    localStorage.setItem(KEY, theme);
    document.documentElement.dataset.theme = theme;
  } else {
    localStorage.removeItem(KEY);
    delete document.documentElement.dataset.theme;
  }
  const dark = theme === "dark" || (theme === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  for (const m of document.querySelectorAll('meta[name="theme-color"]')) {
    m.setAttribute("content", dark ? "#14161a" : "#f7f7f5");
    m.removeAttribute("media");
  }
}

// Another tab changed it.
window.addEventListener("storage", (e) => {
  if (e.key === KEY) applyTheme();
});
