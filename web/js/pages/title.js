// The title page: what it is, "I've seen this" and "Add to watchlist" (signed in), the familiar faces of its
// cast (signed in), and the cast with character names.

import { api, authed, getSession } from "../api.js";
import {
  KIND, actorHref, fill, h, heading, inYear, liveStatus, plural, playing, say, signInHref, titleHref, whileBusy,
} from "../dom.js";

/** @param {import("../../app.js").Ctx} ctx */
export async function render({ root: section, params, view }) {
  const id = params.get("title") || "";
  const path = `/api/v1/content/${encodeURIComponent(id)}`;
  const signedIn = getSession() != null;
  const [content, faces] = await Promise.all([
    api(path),
    signedIn ? authed(`${path}/familiar-faces`).then((r) => r.body.data.faces, (e) => e) : null,
  ]);
  const c = content.body.data;
  if (!view.current()) return;

  const facts = [
    KIND[c.type],
    c.year && (c.endYear && c.endYear !== c.year ? `${c.year}–${c.endYear}` : String(c.year)),
    c.runtimeMinutes && `${c.runtimeMinutes} min`,
    (c.genres || []).join(", "),
  ].filter(Boolean).join(" · ");
  const episodeOf = c.parent && h("p", { class: "meta" }, "Episode of ",
    h("a", { href: titleHref(c.parent.id) }, c.parent.title),
    c.seasonNumber != null && ` · S${c.seasonNumber}${c.episodeNumber != null ? "E" + c.episodeNumber : ""}`);

  const cast = h("ul", { class: "film" }, c.cast.map((m) => {
    const who = playing(m);
    return h("li", null,
      h("a", { href: actorHref(m.actorId) }, h("strong", null, m.name)),
      who && [h("br"), h("span", { class: "role" }, `as ${who}`)]);
  }));

  fill(section,
    heading(2, c.title),
    facts && h("p", { class: "meta" }, facts),
    episodeOf,
    c.overview && h("p", null, c.overview),
    signedIn ? actions(c) : h("p", { class: "panel" }, h("a", { href: signInHref() }, "Sign in"),
      " to mark titles as seen, keep a watchlist and see which of the cast you know from elsewhere."),
    signedIn && familiarFaces(faces),
    h("section", { "aria-labelledby": "cast-heading" },
      h("h3", { id: "cast-heading" }, "Cast"),
      c.cast.length ? cast : h("p", { class: "meta" }, "No cast in the catalogue.")),
  );
}

function actions(c) {
  const status = liveStatus();
  const seen = h("button", { type: "button", class: "btn primary" }, "I've seen this");
  const watch = h("button", { type: "button", class: "btn" }, "Add to watchlist");
  const busy = (button, work) => whileBusy(button, () => work().catch((e) => say(status, e.message, true)));
  seen.addEventListener("click", () => busy(seen, async () => {
    const { status: code } = await authed("/api/v1/users/me/history", { method: "POST", body: { contentId: c.id } });
    const added = code === 201; // 200: today's row of this title was updated instead
    say(status, added ? `Added “${c.title}” to your history.` : `“${c.title}” is already in today's history; updated.`);
  }));
  const onList = (message) => {
    watch.textContent = "On your watchlist";
    watch.dataset.done = "1";
    say(status, message);
  };
  watch.addEventListener("click", () => busy(watch, async () => {
    try {
      await authed("/api/v1/users/me/watchlist", { method: "POST", body: { contentId: c.id } });
      onList(`Added “${c.title}” to your watchlist.`);
    } catch (e) {
      if (e.code !== "DUPLICATE_WATCHLIST_ITEM") throw e;
      onList(`“${c.title}” is already on your watchlist.`);
    }
  }));
  return h("div", { class: "actions" }, h("div", { class: "buttons" }, seen, watch), status);
}

function familiarFaces(faces) {
  const box = h("section", { class: "panel faces", "aria-labelledby": "faces-heading" },
    h("h3", { id: "faces-heading" }, "Familiar faces"));
  if (faces instanceof Error) {
    box.append(h("p", { class: "error" }, faces.message));
  } else if (!faces.length) {
    box.append(h("p", { class: "meta" }, "No one in this cast appears in anything you've marked as seen."));
  } else {
    box.append(h("ul", null, faces.map((f) => {
      const there = playing(f.example);
      const here = playing(f);
      const others = f.seenCount > 1 ? ` and ${plural(f.seenCount - 1, "other title")}` : "";
      return h("li", null,
        "You know ", h("a", { href: actorHref(f.actorId) }, h("strong", null, f.actorName)),
        " from ", h("a", { href: titleHref(f.example.content.id) }, f.example.content.title),
        inYear(f.example.content), there && ` as ${there}`, others, ".",
        here && [h("br"), h("span", { class: "meta" }, `Here: ${here}${f.seriesRegular ? " (series regular)" : ""}`)]);
    })));
  }
  return box;
}
