// I Know web app: search actors and titles (typo-tolerant), see where you know an actor from, keep your
// viewing history. Every page is a shareable URL: /?q=…, /?actor=<id>, /?title=<id>, /?view=history|login|register.

import { api, getSession, logout, onSessionChange } from "./js/api.js";
import { $, KIND, actorHref, fill, h, inYear, lifespan, plural, say, titleHref } from "./js/dom.js";
import { renderActor } from "./js/actor.js";
import { renderTitle } from "./js/title.js";
import { renderHistory } from "./js/history.js";
import { renderLogin, renderRegister, safeNext } from "./js/account.js";

const VIEWS = ["results", "actor", "title", "history", "account"];
const status = $("status");

// ---- navigation -------------------------------------------------------------------------------------------

let routeSeq = 0;
let shown = "results";
function navigate(url, { replace = false, typed = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", url);
  return route({ moved: true, typed });
}

function show(name) {
  shown = name;
  for (const v of VIEWS) $(v).hidden = v !== name;
  if (name !== "results") $("results").replaceChildren();
}

async function route({ moved = false, typed = false } = {}) {
  const seq = ++routeSeq;
  const view = { current: () => seq === routeSeq };
  const p = new URLSearchParams(location.search);
  const next = safeNext(p.get("next"));
  say(status, "");
  renderNav(p);
  try {
    if (p.get("actor")) {
      await renderActor($("actor"), p.get("actor"), view);
      if (view.current()) show("actor");
    } else if (p.get("title")) {
      await renderTitle($("title"), p.get("title"), view);
      if (view.current()) show("title");
    } else if (p.get("view") === "history") {
      await renderHistory($("history"), view);
      if (view.current()) show("history");
    } else if (p.get("view") === "login" || p.get("view") === "register") {
      const signedIn = (message) => navigate(next, { replace: true }).then(() => say(status, message));
      (p.get("view") === "login" ? renderLogin : renderRegister)($("account"), next, signedIn);
      show("account");
    } else {
      const q = p.get("q") || "";
      if (!typed) $("q").value = q; // while typing, the box is ahead of the URL
      show("results");
      await search(q, view);
      return;
    }
  } catch (e) {
    if (view.current()) say(status, e.message, true);
    return;
  }
  if (moved && view.current()) {
    window.scrollTo(0, 0);
    document.querySelector("main .view:not([hidden]) .view-heading")?.focus({ preventScroll: true });
  }
}

// Same-origin links of the app navigate in place (modifier keys and middle clicks keep their usual meaning).
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname !== "/" || a.target) return;
  e.preventDefault();
  if (url.href !== location.href) navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => route());

// ---- search -----------------------------------------------------------------------------------------------

async function search(q, view) {
  if (!q.trim()) {
    $("results").replaceChildren();
    return;
  }
  const query = `q=${encodeURIComponent(q)}&limit=10`;
  const [actors, titles] = await Promise.all([
    api(`/api/v1/actors/search?${query}`),
    api(`/api/v1/content/search?${query}`),
  ]);
  if (!view.current()) return;
  const a = actors.body.pagination.total;
  const t = titles.body.pagination.total;
  const found = [a && plural(a, "actor"), t && plural(t, "title")].filter(Boolean).join(" and ");
  say(status, found ? `${found} ${a + t === 1 ? "matches" : "match"}` : `Nothing matches “${q}”.`);
  fill($("results"),
    group("Actors", actors.body.data, (x) => {
      const known = (x.knownFor || []).slice(0, 3).join(", ");
      return h("a", { href: actorHref(x.id) }, h("strong", null, x.name + (lifespan(x) ? ` (${lifespan(x)})` : "")),
        known && [h("br"), h("span", { class: "meta" }, "Known for " + known)]);
    }),
    group("Titles", titles.body.data, (x) =>
      h("a", { href: titleHref(x.id) }, h("strong", null, x.title + inYear(x)),
        h("br"), h("span", { class: "meta" }, [KIND[x.type], ...(x.genres || [])].filter(Boolean).join(" · ")))),
  );
}

function group(label, items, render) {
  if (!items.length) return null;
  const id = `results-${label.toLowerCase()}`;
  return h("section", { "aria-labelledby": id },
    h("h2", { id, class: "group" }, label),
    h("ol", null, items.map((x) => h("li", null, render(x)))));
}

let timer;
function searchNow() {
  clearTimeout(timer);
  const q = $("q").value;
  const url = q.trim() ? `/?q=${encodeURIComponent(q)}` : "/";
  // Typing refines one history entry; leaving another page for the results adds one.
  navigate(url, { replace: shown === "results", typed: true });
}
$("q").addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(searchNow, 150);
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  searchNow();
});

// ---- account navigation -----------------------------------------------------------------------------------

function renderNav(p = new URLSearchParams(location.search)) {
  const s = getSession();
  // Signing in comes back to this page (from the sign-in pages: to where they would have gone).
  const onAccount = p.get("view") === "login" || p.get("view") === "register";
  const next = encodeURIComponent(onAccount ? safeNext(p.get("next")) : location.pathname + location.search);
  fill($("account-nav"), ...(s
    ? [
      h("span", { class: "who" }, h("span", { class: "visually-hidden" }, "Signed in as "), s.user.username),
      h("a", { href: "/?view=history" }, "My history"),
      h("button", { type: "button", class: "link", onclick: signOut }, "Log out"),
    ]
    : [
      h("a", { href: `/?view=login&next=${next}` }, "Sign in"),
      h("a", { href: `/?view=register&next=${next}` }, "Create account"),
    ]));
}

async function signOut() {
  const confirmed = await logout();
  const personal = new URLSearchParams(location.search).get("view") === "history";
  await (personal ? navigate("/") : route());
  say(status, confirmed ? "Signed out." : "Signed out on this device (the server could not be reached).");
}

onSessionChange((_, fromOtherTab) => {
  if (fromOtherTab) route(); // signed in or out elsewhere: redraw what depends on it
  else renderNav();
});

route();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
