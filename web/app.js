// I Know web app: the shell. Every page is a shareable URL on "/" with query parameters:
//   /?q=…                  search (the home page without q)
//   /?actor=<id>           an actor          /?title=<id>      a title
//   /?watch=<contentId>    now watching      /?view=watch      pick what you are watching
//   /?view=identify&character=…&in=…&q=…      who plays CHARACTER in TITLE, or free text
//   /?view=watchlist | history | account | login | register | forgot-password | reset-password | verify-email
// Each page is a module of js/pages/, loaded when first needed (the first load stays small), exporting
// `render(ctx)`; see the `Ctx` type below.

import { getSession, logout, onSessionChange } from "./js/api.js";
import { $, fill, h, say } from "./js/dom.js";
import { applyTheme } from "./js/theme.js";
import { initPwa } from "./js/pwa.js";

/**
 * What a page's `render` gets. It fills `root` (a fresh section, shown once `render` resolves) and checks
 * `view.current()` after every await: a newer navigation makes it stale.
 * @typedef {object} Ctx
 * @property {HTMLElement} root
 * @property {URLSearchParams} params
 * @property {{current: () => boolean}} view
 * @property {(url: string, options?: {replace?: boolean}) => Promise<void>} navigate
 * @property {(message: string, isError?: boolean) => void} status  the page-wide live region
 * @property {() => Promise<void>} refresh  renders the current URL again
 */

/** @typedef {(ctx: Ctx) => Promise<void> | void} Render */

/** @type {Record<string, () => Promise<Render>>} */
const PAGES = {
  search: () => import("./js/pages/search.js").then((m) => m.render),
  actor: () => import("./js/pages/actor.js").then((m) => m.render),
  title: () => import("./js/pages/title.js").then((m) => m.render),
  watch: () => import("./js/pages/watch.js").then((m) => m.render),
  identify: () => import("./js/pages/identify.js").then((m) => m.render),
  watchlist: () => import("./js/pages/watchlist.js").then((m) => m.render),
  history: () => import("./js/pages/history.js").then((m) => m.render),
  account: () => import("./js/pages/account.js").then((m) => m.render),
  login: () => import("./js/pages/auth.js").then((m) => m.login),
  register: () => import("./js/pages/auth.js").then((m) => m.register),
  "forgot-password": () => import("./js/pages/auth.js").then((m) => m.forgotPassword),
  "reset-password": () => import("./js/pages/auth.js").then((m) => m.resetPassword),
  "verify-email": () => import("./js/pages/auth.js").then((m) => m.verifyEmail),
};

/** The page a URL shows. @param {URLSearchParams} p */
export function pageOf(p) {
  if (p.has("actor")) return "actor";
  if (p.has("title")) return "title";
  if (p.has("watch")) return "watch";
  const v = p.get("view");
  if (v && v in PAGES && v !== "search") return v;
  return "search";
}

const status = $("status");
const viewBox = $("view");
const box = /** @type {HTMLInputElement} */ ($("q"));

let routeSeq = 0;
let shown = "";

/** @param {string} url @param {{replace?: boolean, typed?: boolean}} [options] */
function navigate(url, { replace = false, typed = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", url);
  return route({ moved: true, typed });
}

/** @param {{moved?: boolean, typed?: boolean}} [options] */
async function route({ moved = false, typed = false } = {}) {
  const seq = ++routeSeq;
  const view = { current: () => seq === routeSeq };
  const params = new URLSearchParams(location.search);
  const name = pageOf(params);
  say(status, "");
  renderNav(name);
  if (name === "search" && !typed) box.value = params.get("q") || "";
  if (name !== "search" && !typed && document.activeElement !== box) box.value = "";
  const root = h("section", { class: `view page-${name}`, "data-page": name });
  const ctx = {
    root, params, view,
    navigate: (/** @type {string} */ url, /** @type {{replace?: boolean}} */ o = {}) => navigate(url, o),
    status: (/** @type {string} */ m, /** @type {boolean} */ e = false) => view.current() && say(status, m, e),
    refresh: () => route(),
  };
  // The page on show stays until the next one is drawn (nothing jumps while it loads); a slow page says so.
  viewBox.setAttribute("aria-busy", "true");
  const slow = setTimeout(() => view.current() && viewBox.classList.add("loading"), 400);
  try {
    const render = await PAGES[name]();
    if (!view.current()) return;
    await render(ctx);
  } catch (e) {
    if (!view.current()) return;
    const err = /** @type {Error & {status?: number}} */ (e);
    fill(root, h("div", { class: "panel failure", "data-testid": err.status === 0 ? "network-error" : "error" },
      h("p", { class: "error" }, err.message || "Something went wrong."),
      h("button", { type: "button", class: "btn", "data-testid": "retry-button", onclick: () => route() }, "Try again")));
  }
  clearTimeout(slow);
  if (!view.current()) return;
  viewBox.removeAttribute("aria-busy");
  viewBox.classList.remove("loading");
  if (viewBox.firstChild !== root) fill(viewBox, root);
  shown = name;
  if (moved && !typed) {
    window.scrollTo(0, 0);
    /** @type {HTMLElement | null} */ (root.querySelector(".view-heading"))?.focus({ preventScroll: true });
  }
}

// Same-origin links of the app navigate in place (modifier keys and middle clicks keep their usual meaning).
document.addEventListener("click", (e) => {
  const a = /** @type {HTMLElement} */ (e.target).closest?.("a[href]");
  if (!(a instanceof HTMLAnchorElement) || e.defaultPrevented || e.button !== 0) return;
  if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname !== "/") return;
  e.preventDefault();
  if (url.href !== location.href) navigate(url.pathname + url.search + url.hash);
});
window.addEventListener("popstate", () => route());
// The offline banner's retry found I Know reachable again: draw the current page afresh (instead of a reload).
window.addEventListener("iknow:retry", (e) => {
  e.preventDefault();
  route();
});

// ---- the search box (in the header, on every page) ---------------------------------------------------------

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
function searchNow() {
  clearTimeout(timer);
  const q = box.value;
  const url = q.trim() ? `/?q=${encodeURIComponent(q)}` : "/";
  // Typing refines one history entry; leaving another page for the results adds one.
  navigate(url, { replace: shown === "search", typed: true });
}
box.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(searchNow, 150);
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  searchNow();
});
// Arrow down from the box moves into the results (the search page handles the arrows between results).
box.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowDown") return;
  const first = /** @type {HTMLElement | null} */ (viewBox.querySelector("[data-testid=search-results] a"));
  if (first) {
    e.preventDefault();
    first.focus();
  }
});

// ---- navigation bars ---------------------------------------------------------------------------------------

/** @param {string} page */
function renderNav(page) {
  for (const a of document.querySelectorAll("#main-nav a")) {
    const here = /** @type {HTMLElement} */ (a).dataset.nav === page ||
      (page === "watch" && /** @type {HTMLElement} */ (a).dataset.nav === "watch");
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const s = getSession();
  const params = new URLSearchParams(location.search);
  const onAuth = ["login", "register", "forgot-password", "reset-password", "verify-email"].includes(page);
  // Signing in comes back to this page (from the sign-in pages: to where they would have gone).
  const back = onAuth ? params.get("next") || "/" : location.pathname + location.search;
  const next = encodeURIComponent(back);
  fill($("account-nav"), ...(s
    ? [
      h("a", { href: "/?view=account", class: "who", "aria-current": page === "account" ? "page" : null },
        h("span", { class: "visually-hidden" }, "Account of "), s.user.username),
      h("a", { href: "/?view=history", "aria-current": page === "history" ? "page" : null }, "History"),
      h("button", { type: "button", class: "link", onclick: signOut }, "Log out"),
    ]
    : [
      h("a", { href: `/?view=login&next=${next}` }, "Sign in"),
      h("a", { href: `/?view=register&next=${next}` }, "Create account"),
    ]));
}

const PERSONAL = ["history", "watchlist", "account"];

async function signOut() {
  const confirmed = await logout();
  const personal = PERSONAL.includes(pageOf(new URLSearchParams(location.search)));
  await (personal ? navigate("/") : route());
  say(status, confirmed ? "Signed out." : "Signed out on this device (the server could not be reached).");
}

onSessionChange((_, fromOtherTab) => {
  if (fromOtherTab) route(); // signed in or out elsewhere: redraw what depends on it
  else renderNav(pageOf(new URLSearchParams(location.search)));
});

applyTheme();
route();
initPwa();
