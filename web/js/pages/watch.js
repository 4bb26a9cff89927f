// "Now watching", the namesake page. `/?view=watch` picks what is on: a title search, and (signed in) what you
// watched last, with the next episode of a series; a series then asks which episode (`/?view=watch&series=<id>`)
// or the whole series. `/?watch=<contentId>` shows it: the character box ("Who's that character?", filtering the
// faces as you type, typos welcome, and asking the server's identification for the best answer), the faces you
// know first (each with where you saw them), the rest of the cast, and "Mark as watched".

import { ApiError, api, authed, getSession } from "../api.js";
import { KIND, day, fill, h, heading, inYear, liveStatus, plural, playing, say, signInHref, titleHref } from "../dom.js";
import { face, faces, picture } from "../ui.js";
import {
  CAST_PAGE, bySeason, castGrid, episodeLabel, episodesOf, familiarFace, imageOf, markWatchedButton, sxe,
} from "./title.js";

/** @typedef {import("./title.js").CastMember} CastMember @typedef {import("./title.js").FamiliarFace} FamiliarFace */

/** @param {import("../../app.js").Ctx} ctx */
export async function render(ctx) {
  ctx.root.setAttribute("data-testid", "now-watching");
  const id = ctx.params.get("watch");
  if (id) return nowWatching(ctx, id);
  const series = ctx.params.get("series");
  if (series) return pickEpisode(ctx, series);
  return pick(ctx);
}

// ---- the typo-tolerant match of the character box ----------------------------------------------------------

/** Lowercase, without accents, words separated by single spaces. @param {string | null | undefined} s */
export function normalize(s) {
  return String(s || "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** Edit distance with adjacent transpositions (optimal string alignment). @param {string} a @param {string} b */
function distance(a, b) {
  if (Math.abs(a.length - b.length) > 1) return 2; // more than one edit: all the callers need to know
  /** @type {number[][]} */
  const d = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * How well one typed word matches one word of a name: 1 the same, .9 its beginning, .8 one typo away,
 * .7 one typo away from its beginning (typed words of 4 letters or more), 0 not at all.
 * @param {string} q @param {string} w
 */
function wordScore(q, w) {
  if (w === q) return 1;
  if (w.startsWith(q)) return 0.9;
  if (q.length < 3) return 0;
  if (distance(q, w) <= 1) return 0.8;
  if (q.length < 4) return 0;
  for (const n of [q.length - 1, q.length, q.length + 1]) {
    if (n < w.length && distance(q, w.slice(0, n)) <= 1) return 0.7;
  }
  return 0;
}

/**
 * How well `query` matches `text`, 0 to 1: every typed word must match a word of the text (see `wordScore`);
 * the mean of those matches.
 * @param {string} query @param {string} text
 */
export function fuzzyScore(query, text) {
  const qs = normalize(query).split(" ").filter(Boolean);
  const ws = normalize(text).split(" ").filter(Boolean);
  if (!qs.length || !ws.length) return 0;
  let total = 0;
  for (const q of qs) {
    let best = 0;
    for (const w of ws) best = Math.max(best, wordScore(q, w));
    if (!best) return 0;
    total += best;
  }
  return total / qs.length;
}

// ---- picking what you watch --------------------------------------------------------------------------------

/** @param {import("../../app.js").Ctx} ctx */
async function pick({ root, params, view }) {
  const signedIn = getSession() != null;
  const input = h("input", {
    id: "watch-find", type: "search", class: "input", autocomplete: "off", spellcheck: "false",
    enterkeyhint: "search", maxlength: "100", placeholder: "A movie or a series", "aria-describedby": "watch-find-hint",
    "data-testid": "watch-search",
  });
  const found = liveStatus();
  const results = h("ol", { class: "cards", id: "watch-results", "aria-label": "Titles found" });
  const form = h("form", { class: "watch-find", role: "search", "aria-label": "Find what you're watching", onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
    h("label", { for: "watch-find", class: "field-label" }, "Find the title"),
    input,
    h("p", { class: "hint", id: "watch-find-hint" }, "A series then asks which episode."),
    found, results);

  let seq = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const search = async () => {
    const q = /** @type {HTMLInputElement} */ (input).value.trim();
    const url = q ? `/?view=watch&find=${encodeURIComponent(q)}` : "/?view=watch";
    if (view.current() && location.pathname + location.search !== url) history.replaceState(null, "", url);
    const mine = ++seq;
    if (!q) {
      fill(results);
      say(found, "");
      return;
    }
    try {
      const { body } = await api(`/api/v1/content/search?q=${encodeURIComponent(q)}&limit=8`);
      if (mine !== seq || !view.current()) return;
      fill(results, body.data.map((/** @type {any} */ c) => h("li", null, titleCard(c))));
      say(found, body.data.length ? `${plural(body.pagination.total, "title")} found.` : `No title matches “${q}”.`);
    } catch (e) {
      if (mine !== seq) return;
      say(found, /** @type {Error} */ (e).message, true);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  form.addEventListener("submit", () => {
    clearTimeout(timer);
    search();
  });

  const cont = h("section", { class: "continue", "aria-labelledby": "continue-heading" },
    h("h3", { id: "continue-heading" }, "Continue"));
  fill(root,
    h("p", { class: "eyebrow" }, "Now watching"),
    heading(2, "What are you watching?"),
    h("p", { class: "meta" }, "Pick it and see its cast as faces, the ones you know first."),
    form,
    cont,
  );
  const q = params.get("find") || "";
  if (q) {
    /** @type {HTMLInputElement} */ (input).value = q;
    search();
  }
  if (!signedIn) {
    cont.append(h("p", null, h("a", { href: signInHref() }, "Sign in"), " to continue from what you watched last."));
    return;
  }
  try {
    await continueFrom(cont, view);
  } catch (e) {
    if (view.current()) cont.append(h("p", { class: "error" }, /** @type {Error} */ (e).message));
  }
}

/** Where a title leads when picked: a series asks for the episode. @param {{id: string, type: string}} c */
const watchHref = (c) =>
  c.type === "series" ? `/?view=watch&series=${encodeURIComponent(c.id)}` : `/?watch=${encodeURIComponent(c.id)}`;

/** @param {any} c a title of the search */
function titleCard(c) {
  const what = [KIND[/** @type {"movie"|"series"|"episode"} */ (c.type)], c.type === "series" ? "pick an episode" : null,
    ...(c.genres || []).slice(0, 2)].filter(Boolean).join(" · ");
  return h("a", { href: watchHref(c), class: "card", "data-testid": "watch-pick" },
    picture(imageOf(c.poster, c.posterUrl), { kind: "poster", name: c.title, sizes: "52px" }),
    h("span", { class: "card-body" },
      h("span", { class: "card-title" }, c.title + inYear(c)),
      h("span", { class: "meta" }, what)));
}

/**
 * "Continue": the titles of the latest history entries; an episode also offers the next one of its series.
 * @param {HTMLElement} box @param {{current: () => boolean}} view
 */
async function continueFrom(box, view) {
  const { body } = await authed("/api/v1/users/me/history?limit=20");
  if (!view.current()) return;
  /** @type {Map<string, any>} */
  const latest = new Map();
  for (const e of body.data) if (!latest.has(e.contentId)) latest.set(e.contentId, e);
  const entries = [...latest.values()].slice(0, 5);
  if (!entries.length) {
    box.append(h("p", { class: "meta" }, "What you mark as watched shows here, to pick it up again."));
    return;
  }
  const list = h("ol", { class: "cards continue-list" });
  box.append(list);
  /** @type {Map<string, Promise<import("./title.js").Episode[]>>} */
  const seriesEpisodes = new Map();
  for (const e of entries) {
    const c = e.content;
    const next = h("span", { class: "next" });
    list.append(h("li", { class: "continue-item" },
      h("a", { href: `/?watch=${encodeURIComponent(e.contentId)}`, class: "card", "data-testid": "continue-item" },
        picture(imageOf(c.poster, c.posterUrl), { kind: "poster", name: c.title, sizes: "52px" }),
        h("span", { class: "card-body" },
          h("span", { class: "card-title" }, (c.title || "Untitled") + inYear(c)),
          h("span", { class: "meta" }, `Watched ${day(e.viewedAt)}`))),
      next));
    // The next episode of a series: the one after this one in the catalogue's order.
    if (c.contentType === "episode" && c.seriesId) {
      if (!seriesEpisodes.has(c.seriesId)) seriesEpisodes.set(c.seriesId, episodesOf(c.seriesId));
      /** @type {Promise<import("./title.js").Episode[]>} */ (seriesEpisodes.get(c.seriesId)).then((eps) => {
        const i = eps.findIndex((x) => x.id === c.id);
        const after = i >= 0 ? eps[i + 1] : undefined;
        if (!after || !view.current()) return;
        fill(next, h("a", { href: `/?watch=${encodeURIComponent(after.id)}`, class: "btn small" },
          `Next: ${[sxe(after), after.title].filter(Boolean).join(" · ")}`));
      }, () => {});
    }
  }
}

/**
 * Which episode of a series: a season, then one of its episodes; or the whole series.
 * @param {import("../../app.js").Ctx} ctx @param {string} seriesId
 */
async function pickEpisode({ root, params, view }, seriesId) {
  const [series, episodes] = await Promise.all([
    api(`/api/v1/content/${encodeURIComponent(seriesId)}?castLimit=1`).then((r) => r.body.data),
    episodesOf(seriesId).catch((e) => {
      if (e instanceof ApiError && e.code === "NOT_A_SERIES") return null;
      return /** @type {Error} */ (e); // the whole series can still be watched
    }),
  ]);
  if (!view.current()) return;
  if (episodes instanceof Error) {
    fill(root,
      h("p", { class: "eyebrow" }, "Now watching"),
      heading(2, `Which episode of ${series.title}?`),
      h("p", { class: "error" }, `The episodes could not be loaded: ${episodes.message}`),
      h("div", { class: "buttons" },
        h("a", { href: `/?watch=${encodeURIComponent(seriesId)}`, class: "btn primary", "data-testid": "whole-series" },
          "The whole series"),
        h("a", { href: "/?view=watch", class: "btn" }, "Something else")));
    return;
  }
  if (!episodes) {
    // Not a series after all: watch it as it is.
    history.replaceState(null, "", `/?watch=${encodeURIComponent(seriesId)}`);
    return nowWatching({ root, params: new URLSearchParams({ watch: seriesId }), view }, seriesId);
  }
  const seasons = bySeason(episodes);
  const asked = Number(params.get("season"));
  const chosen = seasons.find(([s]) => s === asked) ? asked : seasons[0]?.[0] ?? null;
  const select = h("select", { id: "season-select", class: "input" }, seasons.map(([s, eps]) =>
    h("option", { value: s == null ? "" : String(s), selected: s === chosen },
      `${s == null ? "Other episodes" : `Season ${s}`} (${plural(eps.length, "episode")})`)));
  const list = h("ol", { class: "episode-list cards", "aria-label": "Episodes" });
  const show = (/** @type {number | null} */ season) => {
    const eps = seasons.find(([s]) => s === season)?.[1] || [];
    fill(list, eps.map((e) => h("li", null,
      h("a", { href: `/?watch=${encodeURIComponent(e.id)}`, class: "card", "data-testid": "episode-pick" },
        h("span", { class: "card-body" }, h("span", { class: "card-title" }, episodeLabel(e)))))));
  };
  select.addEventListener("change", () => {
    const v = /** @type {HTMLSelectElement} */ (select).value;
    const season = v === "" ? null : Number(v);
    show(season);
    const url = `/?view=watch&series=${encodeURIComponent(seriesId)}${season == null ? "" : `&season=${season}`}`;
    history.replaceState(null, "", url);
  });
  show(chosen);
  fill(root,
    h("p", { class: "eyebrow" }, "Now watching"),
    heading(2, `Which episode of ${series.title}?`),
    h("div", { class: "buttons" },
      h("a", { href: `/?watch=${encodeURIComponent(seriesId)}`, class: "btn", "data-testid": "whole-series" },
        "The whole series"),
      h("a", { href: "/?view=watch", class: "btn" }, "Something else")),
    episodes.length
      ? [h("div", { class: "field season-field" }, h("label", { for: "season-select" }, "Season"), select), list]
      : h("p", { class: "meta" }, "No episodes of it in the catalogue: watch the whole series."),
  );
}

// ---- now watching ------------------------------------------------------------------------------------------

/** Identification answers below this confidence are not offered as the best match. */
const MIN_CONFIDENCE = 0.35;

/**
 * @typedef {{el: HTMLElement, grid: HTMLElement, order: number, names: string[], actorId: string}} Entry
 */

/**
 * @param {{root: HTMLElement, params: URLSearchParams, view: {current: () => boolean}}} ctx
 * @param {string} id
 */
async function nowWatching({ root, view }, id) {
  const path = `/api/v1/content/${encodeURIComponent(id)}`;
  const signedIn = getSession() != null;
  const [content, familiar] = await Promise.all([
    api(`${path}?castLimit=${CAST_PAGE}`).then((r) => r.body.data),
    signedIn ? authed(`${path}/familiar-faces`).then((r) => /** @type {FamiliarFace[]} */ (r.body.data.faces), (e) => e) : null,
  ]);
  if (!view.current()) return;
  const c = content;
  // An episode's own credits leave out the series' regulars: they come from the series' cast (regulars first).
  /** @type {CastMember[]} */
  let regulars = [];
  if (c.type === "episode" && c.parent) {
    regulars = await api(`/api/v1/content/${encodeURIComponent(c.parent.id)}?castLimit=30`).then(
      (r) => r.body.data.cast.filter((/** @type {CastMember} */ m) => m.seriesRegular),
      () => [],
    );
    if (!view.current()) return;
  }

  const knownList = Array.isArray(familiar) ? familiar : [];
  const knownIds = new Set(knownList.map((f) => f.actorId));
  const inCast = new Set(c.cast.map((/** @type {CastMember} */ m) => m.actorId));
  const extra = regulars.filter((m) => !inCast.has(m.actorId)).map((m) => ({ ...m, episodeCount: null }));
  const castData = { id: c.id, cast: [...extra, ...c.cast], castTotal: c.castTotal + extra.length };

  /** @type {Entry[]} */
  const entries = [];
  const addEntries = (/** @type {HTMLElement[]} */ els, /** @type {HTMLElement} */ grid,
    /** @type {Map<string, string[]>} */ namesOf) => {
    for (const el of els) {
      const actorId = el.dataset.actorId || "";
      entries.push({ el, grid, order: entries.length, names: namesOf.get(actorId) || [], actorId });
    }
  };
  /** @type {Map<string, string[]>} */
  const names = new Map();
  const remember = (/** @type {{actorId: string, name?: string, actorName?: string, characters?: string[], roleName?: string | null}} */ m) =>
    names.set(m.actorId, [m.name || m.actorName || "", ...(m.characters || []), m.roleName || ""].filter(Boolean));
  knownList.forEach(remember);
  castData.cast.forEach(remember);

  // The faces you know, first.
  const knownSection = h("section", { class: "familiar", "aria-labelledby": "familiar-heading" },
    h("h3", { id: "familiar-heading" }, "Faces you know"));
  const knownEmpty = h("p", { class: "meta", hidden: true }, "None of the faces you know matches.");
  if (!signedIn) {
    knownSection.append(h("p", null, h("a", { href: signInHref() }, "Sign in"),
      " to see the faces you know first, and where you saw them."));
  } else if (familiar instanceof Error) {
    knownSection.append(h("p", { class: "error" }, familiar.message));
  } else if (!knownList.length) {
    knownSection.append(h("p", { class: "meta" },
      "No one in this cast is in anything you've marked as watched yet. Mark titles as watched and they will be."));
  } else {
    const els = knownList.map(familiarFace);
    const grid = faces(els, "Faces you know");
    addEntries(els, grid, names);
    knownSection.append(grid, knownEmpty);
  }

  // The rest of the cast.
  const castEmpty = h("p", { class: "meta", hidden: true }, "No other face matches.");
  /** @type {HTMLElement} */
  let castGridEl = h("ul");
  const cast = castGrid(castData, {
    skip: knownIds,
    label: knownList.length ? "The rest of the cast" : "Cast",
    added: (els, members) => {
      members.forEach(remember);
      addEntries(els, castGridEl, names);
      filter.apply();
    },
  });
  castGridEl = cast.grid;
  addEntries(cast.items, castGridEl, names);
  const castSection = h("section", { class: "cast-section", "aria-labelledby": "cast-heading" },
    h("h3", { id: "cast-heading" }, knownList.length ? "The rest of the cast" : "Cast"),
    cast.items.length || cast.more.hidden === false ? [cast.grid, castEmpty, cast.more, cast.status]
      : h("p", { class: "meta" }, knownList.length ? "Everyone in it is a face you know." : "No cast in the catalogue."));

  const filter = characterBox(c, entries, { knownEmpty, castEmpty, castGrid: cast.grid, view });

  const episode = c.type === "episode";
  const headline = episode && c.parent ? c.parent.title : c.title;
  const episodeLine = episode && [sxe(c), c.title].filter(Boolean).join(" · ");
  const fields = episode && c.seasonNumber != null
    ? { context: { season: c.seasonNumber, ...(c.episodeNumber != null ? { episode: c.episodeNumber } : {}) } }
    : {};
  const mark = signedIn ? markWatchedButton(c.id, episode && c.parent ? `${c.parent.title} ${sxe(c)}`.trim() : c.title, fields, true) : null;
  const other = episode && c.parent
    ? h("a", { href: `/?view=watch&series=${encodeURIComponent(c.parent.id)}${c.seasonNumber != null ? `&season=${c.seasonNumber}` : ""}`, class: "btn" }, "Another episode")
    : h("a", { href: "/?view=watch", class: "btn" }, "Something else");

  fill(root,
    h("div", { class: "hero watch-hero" },
      picture(imageOf(c.poster, c.posterUrl), { kind: "poster", name: headline, eager: true, sizes: "(min-width: 48rem) 10rem, 6rem", alt: "" }),
      h("div", { class: "hero-facts" },
        h("p", { class: "eyebrow" }, "Now watching"),
        heading(2, headline),
        episodeLine && h("p", { class: "episode-line" }, episodeLine,
          c.parent && [", of ", h("a", { href: titleHref(c.parent.id) }, c.parent.title)]),
        h("p", { class: "meta" }, [KIND[/** @type {"movie"|"series"|"episode"} */ (c.type)], c.year && String(c.year),
          plural(c.castTotal + extra.length, "face")].filter(Boolean).join(" · "),
          " · ", h("a", { href: titleHref(c.id) }, "About it"))),
      h("div", { class: "actions" },
        h("div", { class: "buttons" },
          mark ? mark.button : h("a", { href: signInHref(), class: "btn" }, "Sign in to mark it as watched"),
          other),
        mark?.status)),
    filter.box,
    knownSection,
    castSection,
  );
}

/**
 * The character box: filters the faces as you type (typo-tolerant, on character and actor names) and asks the
 * server's identification (debounced, stale answers dropped) for the best answer, shown first and highlighted.
 * @param {any} c the title
 * @param {Entry[]} entries every face on the page (the list grows with "Show more")
 * @param {{knownEmpty: HTMLElement, castEmpty: HTMLElement, castGrid: HTMLElement, view: {current: () => boolean}}} parts
 */
function characterBox(c, entries, { knownEmpty, castEmpty, view }) {
  const input = /** @type {HTMLInputElement} */ (h("input", {
    id: "character-filter", type: "search", class: "input", autocomplete: "off", spellcheck: "false",
    "data-testid": "character-filter", placeholder: "A character or an actor", enterkeyhint: "search",
    maxlength: "100", "aria-describedby": "character-hint",
  }));
  const status = liveStatus();
  const best = h("div", { class: "best-match", "data-testid": "best-match", hidden: true });
  const box = h("form", { class: "character-box", onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
  h("label", { for: "character-filter", class: "field-label" }, "Who's that character?"),
  input,
  h("p", { class: "hint", id: "character-hint" }, "Type a character's or an actor's name; typos are fine."),
  status, best);

  let seq = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {{query: string, candidate: any} | null} */
  let answer = null;

  const clearBest = () => {
    for (const e of entries) {
      e.el.classList.remove("best");
      e.el.querySelector(".best-badge")?.remove();
    }
    best.hidden = true;
    fill(best);
  };

  const badge = (/** @type {any} */ cand) => h("span", { class: "best-badge" },
    h("span", { class: "best-label" }, "Best match"), ` · ${Math.round(cand.confidence * 100)}% sure`);

  /** Shows the faces matching the box, best first; the identified answer before them. */
  const apply = () => {
    const q = normalize(input.value);
    clearBest();
    if (!q) {
      for (const e of [...entries].sort((a, b) => a.order - b.order)) {
        e.el.hidden = false;
        e.grid.append(e.el);
      }
      knownEmpty.hidden = true;
      castEmpty.hidden = true;
      say(status, "");
      return;
    }
    /** @type {Map<Entry, number>} */
    const scores = new Map();
    for (const e of entries) scores.set(e, Math.max(0, ...e.names.map((n) => fuzzyScore(q, n))));
    const cand = answer && answer.query === q ? answer.candidate : null;
    const top = cand ? entries.find((e) => e.actorId === cand.actor.id) : undefined;
    if (top) scores.set(top, 2); // the server's answer first, even when the names here missed it
    const shown = entries.filter((e) => /** @type {number} */ (scores.get(e)) > 0)
      .sort((a, b) => /** @type {number} */ (scores.get(b)) - /** @type {number} */ (scores.get(a)) || a.order - b.order);
    for (const e of entries) e.el.hidden = !scores.get(e);
    // Re-order each grid: the matches first, in order of score.
    for (const e of [...shown].reverse()) e.grid.prepend(e.el);
    if (top) {
      top.el.classList.add("best");
      top.el.append(badge(cand));
    } else if (cand) {
      // Not among the faces read so far: shown on its own, before them.
      const member = { actorId: cand.actor.id, name: cand.actor.name,
        photo: imageOf(cand.actor.photo, cand.actor.profileImageUrl),
        roleName: cand.role.roleName, characters: cand.role.characters };
      fill(best, h("ul", { class: "faces-grid" }, face(member, { extra: badge(cand) })));
      best.querySelector(".face")?.classList.add("best");
      best.hidden = false;
    }
    const count = shown.length + (cand && !top ? 1 : 0);
    knownEmpty.hidden = !entries.some((e) => e.el.closest(".familiar")) ||
      entries.some((e) => !e.el.hidden && e.el.closest(".familiar"));
    castEmpty.hidden = entries.some((e) => !e.el.hidden && e.el.closest(".cast-section"));
    const first = cand ? `${cand.actor.name}${playing(cand.role) ? ` as ${playing(cand.role)}` : ""}` : "";
    say(status, count
      ? `${plural(count, "face")} ${count === 1 ? "matches" : "match"}${first ? `; best: ${first}` : ""}.`
      : `No face matches “${input.value.trim()}” yet.`);
  };

  /** Asks the server who plays the typed character in this title. */
  const identify = async () => {
    const q = normalize(input.value);
    const mine = ++seq;
    if (!q) return;
    const episode = c.type === "episode" && c.parent;
    const query = new URLSearchParams({ title: episode ? c.parent.title : c.title, character: input.value.trim(), limit: "5" });
    const year = episode ? c.parent.year : c.year;
    if (year) query.set("year", String(year));
    if (episode && c.seasonNumber != null) query.set("season", String(c.seasonNumber));
    if (episode && c.seasonNumber != null && c.episodeNumber != null) query.set("episode", String(c.episodeNumber));
    try {
      const { body } = await api(`/api/v1/identify?${query}`);
      if (mine !== seq || !view.current()) return;
      // Only an answer about this very title (or its series) counts.
      const here = new Set([c.id, c.parent?.id].filter(Boolean));
      const cand = body.data.find((/** @type {any} */ x) => x.content && here.has(x.content.id) &&
        x.confidence >= MIN_CONFIDENCE) || null;
      answer = { query: q, candidate: cand };
      apply();
    } catch (e) {
      if (mine !== seq) return;
      // The faces here still filter; the server's ranking is a bonus.
    }
  };

  input.addEventListener("input", () => {
    apply();
    clearTimeout(timer);
    timer = setTimeout(identify, 200);
  });
  box.addEventListener("submit", () => {
    clearTimeout(timer);
    identify();
  });
  return { box, apply };
}
