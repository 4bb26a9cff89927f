// The actor page: photo, name, birth date (with age or lifespan), bio and professions; where you know them from
// (signed in: the share of their work you've seen, and those titles); their filmography grouped by year, newest
// first, a series once with its episodes folded.

import { api, authed, getSession } from "../api.js";
import { KIND, day, fill, h, heading, inYear, plural, playing, signInHref, titleHref } from "../dom.js";
import { picture } from "../ui.js";
import { imageOf, sxe } from "./title.js";

/** A bio longer than this is folded after its first lines. */
const LONG_BIO = 480;

/** @param {import("../../app.js").Ctx} ctx */
export async function render({ root: section, params, view }) {
  const id = params.get("actor") || "";
  const path = `/api/v1/actors/${encodeURIComponent(id)}`;
  const signedIn = getSession() != null;
  // Both at once; where-you-know-them-from failing must not hide the actor.
  const [actor, known] = await Promise.all([
    api(path),
    signedIn ? authed(`${path}/known-from`).then((r) => r.body.data, (e) => e) : null,
  ]);
  const a = actor.body.data;
  if (!view.current()) return;
  section.setAttribute("data-testid", "actor-profile");

  const professions = (a.professions || []).map((/** @type {string} */ p) => {
    const words = p.replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  });
  fill(section,
    h("div", { class: "hero actor-hero" },
      picture(imageOf(a.photo, a.photoUrl), {
        kind: "profile", name: a.name, eager: true, sizes: "(min-width: 48rem) 14rem, 8rem", alt: "",
      }),
      h("div", { class: "hero-facts" },
        heading(2, a.name),
        born(a),
        professions.length ? h("ul", { class: "chips", "aria-label": "Professions" }, professions.map((/** @type {string} */ p) => h("li", null, p))) : null,
        bio(a.bio))),
    knownFrom(a.name, known, signedIn),
    filmography(a.filmography || []),
  );
}

/** "19 March 1955" from "1955-03-19" (the date as written, whatever the time zone). @param {string} iso */
function longDate(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

/** Whole years from one `YYYY-MM-DD` to another. @param {string} from @param {string} to */
function yearsBetween(from, to) {
  const [y1, m1, d1] = from.split("-").map(Number);
  const [y2, m2, d2] = to.split("-").map(Number);
  return y2 - y1 - (m2 < m1 || (m2 === m1 && d2 < d1) ? 1 : 0);
}

/**
 * "Born 19 March 1955 (age 71)", "Born 1955", "19 March 1931 – 27 February 2015 (aged 83)"; null when unknown.
 * @param {{birthDate?: string | null, birthYear?: number | null, deathDate?: string | null, deathYear?: number | null}} a
 */
function born(a) {
  const today = new Date().toISOString().slice(0, 10);
  const birth = a.birthDate ? longDate(a.birthDate) : a.birthYear ? String(a.birthYear) : "";
  const death = a.deathDate ? longDate(a.deathDate) : a.deathYear ? String(a.deathYear) : "";
  if (!birth && !death) return null;
  let text;
  if (death) {
    const aged = a.birthDate && a.deathDate ? ` (aged ${yearsBetween(a.birthDate, a.deathDate)})`
      : a.birthYear && a.deathYear ? ` (aged about ${a.deathYear - a.birthYear})` : "";
    text = birth ? `${birth} – ${death}${aged}` : `Died ${death}`;
  } else {
    const age = a.birthDate ? ` (age ${yearsBetween(a.birthDate, today)})` : "";
    text = `Born ${birth}${age}`;
  }
  return h("p", { class: "born", "data-testid": "actor-born" }, text);
}

/** The bio, folded after its first lines when long. @param {string | null | undefined} text */
function bio(text) {
  if (!text) return null;
  const p = h("p", { class: "bio", id: "actor-bio" }, text);
  if (text.length <= LONG_BIO) return p;
  p.classList.add("folded");
  const toggle = h("button", { type: "button", class: "link", "aria-expanded": "false", "aria-controls": "actor-bio" },
    "Read more");
  toggle.addEventListener("click", () => {
    const open = p.classList.toggle("folded") === false;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Show less" : "Read more";
  });
  return h("div", { class: "bio-box" }, p, toggle);
}

/**
 * Where you know them from: the share of their work you've seen, then each title with its poster and role.
 * @param {string} name @param {any} known @param {boolean} signedIn
 */
function knownFrom(name, known, signedIn) {
  const box = h("section", { class: "panel known-from", "aria-labelledby": "known-from-heading", "data-testid": "known-from" },
    h("h3", { id: "known-from-heading" }, "You know them from…"));
  if (!signedIn) {
    box.append(h("p", null, h("a", { href: signInHref() }, "Sign in"), ` to see where you know ${name} from.`));
    return box;
  }
  if (known instanceof Error) {
    box.append(h("p", { class: "error" }, known.message));
    return box;
  }
  if (!known.items.length) {
    box.append(h("p", { class: "meta" }, `Nothing yet: you haven't marked any of ${name}'s titles as watched.`));
    return box;
  }
  const share = Math.round(known.share * 100);
  const of = `${known.seenCount} of their ${plural(known.filmographyCount, "title")}`;
  box.append(
    h("div", { class: "share" },
      h("p", { id: "known-share" }, `You've seen ${of} (${share}%).`),
      h("meter", { min: "0", max: "100", value: String(share), "aria-labelledby": "known-share" })),
    h("ul", { class: "cards two known-list" }, known.items.map((/** @type {any} */ item) => {
      const c = item.content;
      const who = playing(item);
      const episode = item.seriesTitle ? `${item.seriesTitle} ${sxe(item)}`.trim() : "";
      return h("li", null,
        h("a", { href: titleHref(c.id), class: "card", "data-testid": "known-from-item" },
          picture(imageOf(c.poster, c.posterUrl), { kind: "poster", name: c.title, sizes: "52px" }),
          h("span", { class: "card-body" },
            h("span", { class: "card-title" }, (c.title || "Untitled") + inYear(c)),
            episode && h("span", { class: "meta" }, episode),
            who && h("span", { class: "role" }, `as ${who}`),
            h("span", { class: "meta" }, `Last watched ${day(item.lastViewedAt)}`))));
    })),
  );
  return box;
}

/**
 * The filmography grouped by year, newest first (a series under its first year, once, with its episodes
 * folded); titles without a year last.
 * @param {any[]} entries
 */
function filmography(entries) {
  const box = h("section", { class: "filmography", "aria-labelledby": "filmography-heading" },
    h("h3", { id: "filmography-heading" }, entries.length ? `Filmography (${entries.length})` : "Filmography"));
  if (!entries.length) {
    box.append(h("p", { class: "meta" }, "No credits in the catalogue."));
    return box;
  }
  /** @type {Map<number | null, any[]>} */
  const years = new Map();
  for (const f of entries) {
    const y = f.year ?? null;
    if (!years.has(y)) years.set(y, []);
    /** @type {any[]} */ (years.get(y)).push(f);
  }
  const ordered = [...years.entries()].sort(([a], [b]) => (b ?? -Infinity) - (a ?? -Infinity));
  box.append(h("ol", { class: "years" }, ordered.map(([year, list]) =>
    h("li", { class: "year-group", "data-testid": "filmography-year", "data-year": year ?? "" },
      h("span", { class: "year" }, year == null
        ? [h("span", { "aria-hidden": "true" }, "—"), h("span", { class: "visually-hidden" }, "Year unknown")]
        : String(year)),
      h("ul", { class: "film" }, list.map(entry))))));
  return box;
}

/** One filmography entry. @param {any} f */
function entry(f) {
  const who = playing(f);
  const kind = f.type !== "movie" ? KIND[/** @type {"series"|"episode"} */ (f.type)] : "";
  return h("li", { "data-testid": "filmography-entry", "data-content-id": f.contentId },
    h("a", { href: titleHref(f.contentId) }, h("strong", null, f.title)),
    kind && h("span", { class: "meta" }, ` · ${kind}`),
    who && [h("br"), h("span", { class: "role" }, `as ${who}`)],
    f.type === "series" ? episodes(f) : null);
}

/** A series entry's episodes, folded: "24 episodes", then S1E3 · its title and the character. @param {any} f */
function episodes(f) {
  if (!f.episodeCount) return [h("br"), h("span", { class: "meta episodes-count" }, "Series regular")];
  const label = (/** @type {any} */ e) => {
    const who = playing(e);
    return [[sxe(e), e.title].filter(Boolean).join(" · ") + inYear(e), who && h("span", { class: "role" }, ` as ${who}`)];
  };
  return h("details", { class: "episodes" },
    h("summary", { class: "meta episodes-count" }, f.episodes.length < f.episodeCount
      ? `${plural(f.episodeCount, "episode")} (${f.episodes.length} listed)` : plural(f.episodeCount, "episode")),
    h("ol", null, f.episodes.map((/** @type {any} */ e) =>
      h("li", null, h("a", { href: titleHref(e.contentId) }, label(e)[0]), label(e)[1]))));
}
