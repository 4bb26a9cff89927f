// Small DOM and formatting helpers shared by the views.

export const $ = (id) => document.getElementById(id);

/** `h("a", {href: "/", class: "x", onclick: f}, "text", child)`; null, false and undefined children are skipped. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

/** Replaces the children of `el`, skipping null, false and undefined (as `h` does). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

export const actorHref = (id) => `/?actor=${encodeURIComponent(id)}`;
export const titleHref = (id) => `/?title=${encodeURIComponent(id)}`;
/** The sign-in page, coming back to the current page afterwards. */
export const signInHref = () => `/?view=login&next=${encodeURIComponent(location.pathname + location.search)}`;

export const lifespan = (a) => (a.birthYear ? `${a.birthYear}${a.deathYear ? "–" + a.deathYear : ""}` : "");
export const inYear = (c) => (c && c.year ? ` (${c.year})` : "");
/** The characters of a credit ("Clay", "Jane / Joan"), else its role name, else "". */
export const playing = (credit) => (credit.characters || []).join(" / ") || credit.roleName || "";

export const KIND = { movie: "Movie", series: "Series", episode: "Episode" };

/** "Dec 1, 2026" in the reader's locale; "" for a missing or bad date. */
export function day(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

export const plural = (n, one, many = one + "s") => `${n} ${n === 1 ? one : many}`;

/** A heading the view moves focus to after a navigation (screen readers announce the new page). */
export const heading = (level, text) => h(`h${level}`, { tabindex: "-1", class: "view-heading" }, text);

/** A polite live region for the result of an action, placed next to the control that caused it. */
export const liveStatus = () => h("p", { class: "action-status", role: "status", "aria-live": "polite" });

/**
 * Runs `work` for `button`, one at a time. The button is marked aria-disabled rather than disabled, so it keeps
 * the keyboard focus; `button.dataset.done` leaves it so afterwards.
 */
export async function whileBusy(button, work) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  try {
    await work();
  } finally {
    if (!button.dataset.done) button.removeAttribute("aria-disabled");
  }
}

/** Shows `message` in a live region, as an error or not. */
export function say(region, message, isError = false) {
  region.textContent = message;
  region.classList.toggle("error", isError);
}
