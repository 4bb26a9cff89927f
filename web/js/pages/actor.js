// The actor page: who they are, where you know them from (signed in), and their filmography.

import { api, authed, getSession } from "../api.js";
import { day, fill, h, heading, inYear, lifespan, plural, playing, signInHref, titleHref } from "../dom.js";

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

  const about = [lifespan(a), (a.professions || []).join(", ")].filter(Boolean).join(" · ");
  const film = h("ul", { class: "film" }, a.filmography.map((f) => {
    const who = playing(f);
    return h("li", null,
      h("a", { href: titleHref(f.contentId) }, h("strong", null, f.title)),
      h("span", { class: "meta" }, inYear(f)),
      who && [h("br"), h("span", { class: "role" }, `as ${who}`)],
      f.episodeCount ? episodes(f) : null);
  }));

  fill(section,
    heading(2, a.name),
    about && h("p", { class: "meta" }, about),
    knownFrom(a.name, known, signedIn),
    h("section", { "aria-labelledby": "filmography-heading" },
      h("h3", { id: "filmography-heading" }, "Filmography"),
      a.filmography.length ? film : h("p", { class: "meta" }, "No credits in the catalogue.")),
  );
}

function knownFrom(name, known, signedIn) {
  const box = h("section", { class: "panel known-from", "aria-labelledby": "known-from-heading" },
    h("h3", { id: "known-from-heading" }, "Where you know them from"));
  if (!signedIn) {
    box.append(h("p", null, h("a", { href: signInHref() }, "Sign in"), ` to see where you know ${name} from.`));
  } else if (known instanceof Error) {
    box.append(h("p", { class: "error" }, known.message));
  } else if (!known.items.length) {
    box.append(h("p", { class: "meta" }, `You haven't marked any of ${name}'s titles as seen yet. ` +
      "Open a title and press “I've seen this”."));
  } else {
    const share = Math.round(known.share * 100);
    const of = `${known.seenCount} of their ${plural(known.filmographyCount, "title")}`;
    box.append(
      h("p", { class: "meta" }, `You've seen ${of} (${share}%).`),
      h("ul", { class: "film" }, known.items.map((item) => {
        const who = playing(item);
        return h("li", null,
          h("a", { href: titleHref(item.content.id) }, h("strong", null, item.content.title)),
          h("span", { class: "meta" }, inYear(item.content)),
          who && [h("br"), h("span", { class: "role" }, `as ${who}`)],
          h("br"), h("span", { class: "meta" }, `Last seen ${day(item.lastViewedAt)}`));
      })),
    );
  }
  return box;
}

/** A series entry's episodes, folded: "12 episodes", then S1E3 and the title of each. */
function episodes(f) {
  const label = (e) => [
    e.seasonNumber != null && e.episodeNumber != null ? `S${e.seasonNumber}E${e.episodeNumber}` : null,
    e.title,
  ].filter(Boolean).join(" · ");
  return h("details", { class: "episodes" },
    h("summary", { class: "meta" }, plural(f.episodeCount, "episode")),
    h("ol", null, f.episodes.map((e) => h("li", null, h("a", { href: titleHref(e.contentId) }, label(e))))));
}
