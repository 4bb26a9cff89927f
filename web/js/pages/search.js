// Search (the home page): actors and titles at once, typo-tolerant. Arrow keys move through the results,
// Enter opens one. Without a query: where to start.

import { api, getSession } from "../api.js";
import { KIND, actorHref, fill, h, heading, inYear, lifespan, plural, titleHref } from "../dom.js";
import { picture } from "../ui.js";

/** @param {import("../../app.js").Ctx} ctx */
export async function render({ root, params, view, status }) {
  const q = params.get("q") || "";
  if (!q.trim()) {
    home(root);
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
  status(found ? `${found} ${a + t === 1 ? "matches" : "match"}` : `Nothing matches “${q}”.`);
  if (!a && !t) {
    fill(root, heading(2, "Search"),
      h("div", { class: "panel empty-state", "data-testid": "no-results" },
        h("p", null, `Nothing matches “${q}”. Try fewer words, or a name as it is spelled in the credits.`),
        h("p", null, "Know the character but not the actor? ",
          h("a", { href: `/?view=identify&q=${encodeURIComponent(q)}` }, "Ask who plays them"), ".")));
    return;
  }
  const results = h("div", { class: "results", "data-testid": "search-results" },
    group("Actors", actors.body.data, (x) => {
      const known = (x.knownFor || []).slice(0, 3).join(", ");
      const life = lifespan(x);
      return h("a", { href: actorHref(x.id), class: "card", "data-testid": "actor-card" },
        picture(x.photo, { name: x.name, sizes: "52px" }),
        h("span", { class: "card-body" },
          h("span", { class: "card-title" }, x.name + (life ? ` (${life})` : "")),
          known && h("span", { class: "meta" }, "Known for " + known)));
    }),
    group("Titles", titles.body.data, (x) =>
      h("a", { href: titleHref(x.id), class: "card", "data-testid": "title-card" },
        picture(x.poster, { kind: "poster", name: x.title, sizes: "52px" }),
        h("span", { class: "card-body" },
          h("span", { class: "card-title" }, x.title + inYear(x)),
          h("span", { class: "meta" }, [KIND[x.type], ...(x.genres || [])].filter(Boolean).join(" · "))))),
  );
  results.addEventListener("keydown", arrows);
  fill(root, h("h2", { class: "visually-hidden view-heading", tabindex: "-1" }, `Results for “${q}”`), results);
}

/** @param {string} label @param {any[]} items @param {(x: any) => HTMLElement} card */
function group(label, items, card) {
  if (!items.length) return null;
  const id = `results-${label.toLowerCase()}`;
  return h("section", { "aria-labelledby": id },
    h("h3", { id, class: "group" }, label),
    h("ol", { class: "cards two" }, items.map((x) => h("li", null, card(x)))));
}

/** Up and down move between the results (up from the first goes back to the box). @param {KeyboardEvent} e */
function arrows(e) {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  const links = [.../** @type {HTMLElement} */ (e.currentTarget).querySelectorAll("a.card")].map(
    (a) => /** @type {HTMLElement} */ (a),
  );
  const i = links.indexOf(/** @type {HTMLElement} */ (document.activeElement));
  if (i < 0) return;
  e.preventDefault();
  const next = e.key === "ArrowDown" ? links[i + 1] : links[i - 1];
  (next || (e.key === "ArrowUp" ? document.getElementById("q") : links[i]))?.focus();
}

/** The home page: what I Know does and where to start. @param {HTMLElement} root */
function home(root) {
  const signedIn = getSession() != null;
  fill(root,
    heading(2, "Who is that actor?"),
    h("p", { class: "meta" }, "Search above for an actor or a title, or start from what you're watching."),
    h("div", { class: "buttons" },
      h("a", { href: "/?view=watch", class: "btn primary" }, "I'm watching something"),
      h("a", { href: "/?view=identify", class: "btn" }, "Who plays…?")),
    !signedIn && h("p", { class: "panel" }, h("a", { href: "/?view=register&next=%2F%3Fview%3Dwatch" }, "Create an account"),
      " and mark what you've seen: I Know then tells you where you know each face from."));
}
