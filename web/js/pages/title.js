// The title page: poster and facts, "I'm watching this", "Mark as watched" and "Add to watchlist", the faces of
// its cast you know from elsewhere (signed in), the cast as faces, and a series' seasons and episodes (or an
// episode's series).
//
// The pieces the other fan pages share (images of either API shape, "you saw them in …", the "Mark as watched"
// button, a series' episodes, a cast read a page at a time) are exported from here: the now-watching page imports
// them. Marking a view goes through js/pwa.js's `recordView` (an Idempotency-Key per press; queued offline).

import { api, authed, getSession } from "../api.js";
import { recordView } from "../pwa.js";
import {
  KIND, fill, h, heading, inYear, liveStatus, plural, playing, say, signInHref, titleHref, whileBusy,
} from "../dom.js";
import { face, faces, picture } from "../ui.js";

/**
 * @typedef {import("../ui.js").ImageSet} ImageSet
 * @typedef {{id: string, title: string, contentType?: string, year?: number | null, posterUrl?: string | null,
 *   poster?: ImageSet | null, seriesId?: string | null}} LibraryTitle
 * @typedef {{content: LibraryTitle, roleName?: string | null, characters?: string[], seasonNumber?: number | null,
 *   episodeNumber?: number | null, seriesTitle?: string | null, sameSeries?: boolean}} KnownItem
 * @typedef {{actorId: string, actorName: string, photo?: ImageSet | null, profileImageUrl?: string | null,
 *   roleName?: string | null, characters?: string[], seriesRegular?: boolean, example: KnownItem,
 *   seenCount: number, sameSeries?: boolean}} FamiliarFace
 * @typedef {{actorId: string, name: string, photo?: ImageSet | null, profileImageUrl?: string | null,
 *   roleName?: string | null, characters?: string[], episodeCount?: number | null,
 *   seriesRegular?: boolean | null}} CastMember
 * @typedef {{id: string, imdbId?: string, title: string, seasonNumber?: number | null,
 *   episodeNumber?: number | null, year?: number | null, posterUrl?: string | null, poster?: ImageSet | null}} Episode
 */

/** Cast members read at a time (a series' aggregated cast can have hundreds). */
export const CAST_PAGE = 48;

/**
 * The API's three sizes of an image, or one URL in all three (older answers, or an answer without `photo` yet).
 * @param {ImageSet | null | undefined} set
 * @param {string | null | undefined} url
 * @returns {ImageSet | null}
 */
export function imageOf(set, url) {
  if (set && set.small) return set;
  return url ? { small: url, medium: url, large: url } : null;
}

/** "S1E3" (or "S1" when the episode number is unknown); "" when neither is known. @param {{seasonNumber?: number | null, episodeNumber?: number | null}} e */
export function sxe(e) {
  if (e.seasonNumber == null) return e.episodeNumber != null ? `E${e.episodeNumber}` : "";
  return `S${e.seasonNumber}${e.episodeNumber != null ? "E" + e.episodeNumber : ""}`;
}

/**
 * "You saw them in Saurus City as Sasha Nutwagon (2020)", the title a link; an episode names its series and
 * number. Followed by how many other titles of theirs were seen.
 * @param {FamiliarFace} f
 */
export function seenIn(f) {
  const ex = f.example;
  const c = ex.content;
  const where = ex.seriesTitle && !ex.sameSeries
    ? `${ex.seriesTitle} ${sxe(ex)}`.trim()
    : ex.sameSeries ? [sxe(ex), c.title && `“${c.title}”`].filter(Boolean).join(" ") || c.title : c.title;
  const as = playing(ex);
  const others = f.seenCount > 1 ? `, and ${plural(f.seenCount - 1, "other title")}` : "";
  return h("span", { class: "seen-in" },
    ex.sameSeries ? "You saw them earlier in this series: " : "You saw them in ",
    h("a", { href: titleHref(c.id) }, where || "a title"),
    as && ` as ${as}`, inYear(c), others);
}

/** A familiar face: the face (outlined) and where you saw them. @param {FamiliarFace} f */
export function familiarFace(f) {
  const member = { actorId: f.actorId, name: f.actorName, photo: imageOf(f.photo, f.profileImageUrl),
    roleName: f.roleName, characters: f.characters };
  return face(member, { testid: "familiar-face", known: true, extra: seenIn(f) });
}

/** A cast member as a face; a series' member says in how many episodes. @param {CastMember} m @param {boolean} [known] */
export function castFace(m, known = false) {
  const member = { ...m, photo: imageOf(m.photo, m.profileImageUrl) };
  const episodes = m.seriesRegular ? "Series regular"
    : m.episodeCount ? plural(m.episodeCount, "episode") : "";
  return face(member, { known, extra: episodes ? h("span", { class: "meta episodes-count" }, episodes) : null });
}

/**
 * A "Mark as watched" button with its live status; signed out, a link to sign in instead.
 * @param {string} contentId
 * @param {string} title
 * @param {Record<string, unknown>} [fields]
 * @param {boolean} [primary] the page's main action
 */
export function markWatchedButton(contentId, title, fields = {}, primary = false) {
  const status = liveStatus();
  const button = h("button", { type: "button", class: primary ? "btn primary" : "btn", "data-testid": "mark-watched" },
    "Mark as watched");
  button.addEventListener("click", () => whileBusy(button, async () => {
    try {
      const r = await recordView(contentId, fields);
      button.dataset.done = "1";
      button.textContent = "Watched";
      say(status, r.queued ? `Saved offline, will sync: “${title}” is marked as watched when you're back online.`
        : `Marked as watched: “${title}” is in your history.`);
    } catch (e) {
      say(status, /** @type {Error} */ (e).message, true);
    }
  }));
  return { button, status };
}

/**
 * Every catalogued episode of a series, by season and number.
 * @param {string} seriesId
 * @returns {Promise<Episode[]>}
 */
export async function episodesOf(seriesId) {
  const base = `/api/v1/content/${encodeURIComponent(seriesId)}/episodes?limit=500`;
  /** @type {Episode[]} */
  const all = [];
  for (let offset = 0; offset < 5000;) {
    const { body } = await api(`${base}&offset=${offset}`);
    all.push(...body.data);
    offset += body.data.length;
    if (!body.pagination?.hasMore || !body.data.length) break;
  }
  return all;
}

/** The episodes grouped by season (in order; an unknown season last). @param {Episode[]} list */
export function bySeason(list) {
  /** @type {Map<number | null, Episode[]>} */
  const seasons = new Map();
  for (const e of list) {
    const s = e.seasonNumber ?? null;
    if (!seasons.has(s)) seasons.set(s, []);
    /** @type {Episode[]} */ (seasons.get(s)).push(e);
  }
  return [...seasons.entries()].sort(([a], [b]) => (a ?? Infinity) - (b ?? Infinity));
}

/** "E3 · The Naked Time (1966)". @param {Episode} e */
export const episodeLabel = (e) =>
  [e.episodeNumber != null ? `E${e.episodeNumber}` : null, e.title || "Untitled"].filter(Boolean).join(" · ") +
  inYear(e);

/**
 * A title's cast as faces, a page at a time: `more` reads the next page ("Show more") and calls `added` with
 * the new faces.
 * @param {{id: string, cast: CastMember[], castTotal: number}} c
 * @param {{skip?: Set<string>, known?: Set<string>, added?: (items: HTMLElement[], members: CastMember[]) => void,
 *   label?: string}} [options]
 *   skip: actors shown elsewhere (familiar faces); known: actors to outline
 */
export function castGrid(c, { skip = new Set(), known = new Set(), added = () => {}, label = "Cast" } = {}) {
  const keep = (/** @type {CastMember[]} */ list) => list.filter((m) => !skip.has(m.actorId));
  const make = (/** @type {CastMember[]} */ list) => list.map((m) => castFace(m, known.has(m.actorId)));
  const first = make(keep(c.cast));
  const grid = faces(first, label);
  const status = liveStatus();
  let loaded = c.cast.length;
  const left = () => Math.max(0, c.castTotal - loaded);
  const more = h("button", { type: "button", class: "btn show-more", hidden: left() <= 0 }, "");
  const label_ = () => {
    more.textContent = `Show more (${left()} more)`;
  };
  label_();
  more.addEventListener("click", () => whileBusy(more, async () => {
    try {
      const { body } = await api(`/api/v1/content/${encodeURIComponent(c.id)}?castLimit=${CAST_PAGE}&castOffset=${loaded}`);
      const page = /** @type {CastMember[]} */ (body.data.cast);
      loaded += page.length;
      if (!page.length) loaded = c.castTotal;
      const members = keep(page);
      const items = make(members);
      grid.append(...items);
      added(items, members);
      label_();
      more.hidden = left() <= 0;
      say(status, `${plural(items.length, "more face")} shown.`);
      /** @type {HTMLElement | undefined} */ (items[0]?.querySelector("a"))?.focus();
    } catch (e) {
      say(status, /** @type {Error} */ (e).message, true);
    }
  }));
  return { grid, more, status, items: first };
}

/** @param {number} n */
const votes = (n) => new Intl.NumberFormat().format(n);

/** The rating, "★ 7.1" with its votes; null without a rating. @param {{rating?: number | null, voteCount?: number | null}} c */
export function rating(c) {
  if (c.rating == null) return null;
  const value = c.rating.toFixed(1);
  const count = c.voteCount ? ` (${votes(c.voteCount)} ${c.voteCount === 1 ? "vote" : "votes"})` : "";
  return h("p", { class: "rating-line" },
    h("span", { class: "rating", "aria-hidden": "true" }, `★ ${value}`),
    h("span", { "aria-hidden": "true", class: "meta" }, count),
    h("span", { class: "visually-hidden" }, `Rated ${value} out of 10${count}`));
}

/** The years of a title: "2020", or "1966–1969" for a series. @param {{year?: number | null, endYear?: number | null}} c */
export const years = (c) =>
  c.year ? (c.endYear && c.endYear !== c.year ? `${c.year}–${c.endYear}` : String(c.year)) : "";

/** @param {import("../../app.js").Ctx} ctx */
export async function render({ root: section, params, view }) {
  const id = params.get("title") || "";
  const path = `/api/v1/content/${encodeURIComponent(id)}`;
  const signedIn = getSession() != null;
  const [content, familiar] = await Promise.all([
    api(`${path}?castLimit=${CAST_PAGE}`),
    signedIn ? authed(`${path}/familiar-faces`).then((r) => r.body.data.faces, (e) => e) : null,
  ]);
  const c = content.body.data;
  if (!view.current()) return;
  section.setAttribute("data-testid", "title-page");

  const facts = [KIND[/** @type {"movie" | "series" | "episode"} */ (c.type)], years(c), c.runtimeMinutes && `${c.runtimeMinutes} min`].filter(Boolean).join(" · ");
  const episodeOf = c.parent && h("p", { class: "episode-of" },
    sxe(c) ? `${sxe(c)} of ` : "An episode of ",
    h("a", { href: titleHref(c.parent.id) }, c.parent.title), inYear(c.parent));
  const genres = (c.genres || []).length
    ? h("ul", { class: "chips", "aria-label": "Genres" }, c.genres.map((/** @type {string} */ g) => h("li", null, g)))
    : null;

  const knownIds = new Set(familiar instanceof Array ? familiar.map((/** @type {FamiliarFace} */ f) => f.actorId) : []);
  const cast = castGrid(c, { known: knownIds, label: `Cast of ${c.title}` });

  fill(section,
    h("div", { class: "hero title-hero" },
      picture(imageOf(c.poster, c.posterUrl), {
        kind: "poster", name: c.title, eager: true, sizes: "(min-width: 48rem) 14rem, 7rem", alt: `Poster of ${c.title}`,
      }),
      h("div", { class: "hero-facts" },
        heading(2, c.title),
        c.originalTitle && c.originalTitle !== c.title && h("p", { class: "meta" }, `Original title: ${c.originalTitle}`),
        episodeOf,
        facts && h("p", { class: "meta facts" }, facts),
        genres,
        rating(c)),
      actions(c, signedIn)),
    c.overview && h("p", { class: "overview" }, c.overview),
    signedIn && familiarSection(familiar),
    // A series' episodes come before its (long) cast.
    c.type === "series" && seasons(c, view),
    h("section", { "aria-labelledby": "cast-heading", class: "cast-section" },
      h("h3", { id: "cast-heading" }, c.type === "series" ? `Cast (${c.castTotal})` : "Cast"),
      c.cast.length ? [cast.grid, cast.more, cast.status] : h("p", { class: "meta" }, "No cast in the catalogue.")),
  );
}

/**
 * The buttons: now watching (anyone), mark as watched and the watchlist (signed in).
 * @param {any} c @param {boolean} signedIn
 */
function actions(c, signedIn) {
  const watching = h("a", { href: `/?watch=${encodeURIComponent(c.id)}`, class: "btn primary" }, "I'm watching this");
  if (!signedIn) {
    return h("div", { class: "actions" }, h("div", { class: "buttons" }, watching),
      h("p", { class: "meta" }, h("a", { href: signInHref() }, "Sign in"),
        " to mark titles as watched, keep a watchlist and see which faces you know."));
  }
  const fields = c.type === "episode" && c.seasonNumber != null
    ? { context: { season: c.seasonNumber, ...(c.episodeNumber != null ? { episode: c.episodeNumber } : {}) } }
    : {};
  const mark = markWatchedButton(c.id, c.title, fields);
  const status = liveStatus();
  const watch = h("button", { type: "button", class: "btn", "data-testid": "watchlist-button" }, "Add to watchlist");
  const onList = (/** @type {string} */ message) => {
    watch.textContent = "On your watchlist";
    watch.dataset.done = "1";
    say(status, message);
  };
  watch.addEventListener("click", () => whileBusy(watch, async () => {
    try {
      await authed("/api/v1/users/me/watchlist", { method: "POST", body: { contentId: c.id } });
      onList(`Added “${c.title}” to your watchlist.`);
    } catch (e) {
      const err = /** @type {import("../api.js").ApiError} */ (e);
      if (err.code === "DUPLICATE_WATCHLIST_ITEM") onList(`“${c.title}” is already on your watchlist.`);
      else say(status, err.message, true);
    }
  }));
  return h("div", { class: "actions" }, h("div", { class: "buttons" }, watching, mark.button, watch),
    mark.status, status);
}

/** The familiar faces (signed in). @param {FamiliarFace[] | Error | null} list */
function familiarSection(list) {
  const box = h("section", { class: "familiar", "aria-labelledby": "familiar-heading" },
    h("h3", { id: "familiar-heading" }, "Faces you know"));
  if (list instanceof Error) box.append(h("p", { class: "error" }, list.message));
  else if (!list || !list.length) {
    box.append(h("p", { class: "meta" }, "No one in this cast appears in anything you've marked as watched yet."));
  } else box.append(faces(list.map(familiarFace), "Faces you know"));
  return box;
}

/**
 * A series' seasons, each a folded list of its episodes (the first one open), read after the page shows.
 * @param {any} c @param {{current: () => boolean}} view
 */
function seasons(c, view) {
  const body = h("div", { class: "seasons" }, h("p", { class: "meta" }, "Loading the episodes…"));
  const box = h("section", { "aria-labelledby": "seasons-heading", class: "seasons-section" },
    h("h3", { id: "seasons-heading" }, c.episodeCount ? `Episodes (${c.episodeCount})` : "Episodes"), body);
  episodesOf(c.id).then((list) => {
    if (!view.current()) return;
    if (!list.length) {
      fill(body, h("p", { class: "meta" }, "No episodes in the catalogue."));
      return;
    }
    fill(body, bySeason(list).map(([season, eps], i) =>
      h("details", { class: "season", open: i === 0 },
        h("summary", null, h("span", null, season == null ? "Other episodes" : `Season ${season}`,
          h("span", { class: "meta" }, ` · ${plural(eps.length, "episode")}`))),
        h("ol", { class: "episode-list" }, eps.map((e) =>
          h("li", null, h("a", { href: titleHref(e.id) }, episodeLabel(e))))))));
  }, (e) => {
    if (view.current()) fill(body, h("p", { class: "error" }, `The episodes could not be loaded: ${e.message}`));
  });
  return box;
}
