// Shared pieces of the pages: images in three sizes with an initials placeholder, faces (a cast member as a
// photo, a name and a character), posters.

import { actorHref, h, playing } from "./dom.js";

/**
 * @typedef {{small: string, medium: string, large: string}} ImageSet
 * @typedef {"profile" | "poster"} ImageKind
 */

// The widths of TMDB's size paths the API maps small/medium/large onto (docs/architecture.md, "Images").
/** @type {Record<ImageKind, [number, number, number]>} */
const WIDTHS = { profile: [185, 421, 1000], poster: [154, 342, 780] };

/** "Emma Roberts" → "ER"; one letter for one word; "?" for nothing. @param {string | undefined | null} name */
export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter((w) => /\p{L}|\p{N}/u.test(w));
  if (!words.length) return "?";
  const first = [...words[0]][0];
  const last = words.length > 1 ? [...words[words.length - 1]][0] : "";
  return (first + last).toUpperCase();
}

/**
 * A picture in a frame of fixed aspect ratio (2:3, so nothing shifts when it loads), lazily loaded from the
 * three sizes; the initials of `name` when there is no image or it fails to load.
 * @param {ImageSet | null | undefined} set
 * @param {{kind?: ImageKind, name: string, sizes?: string, alt?: string, eager?: boolean}} options
 */
export function picture(set, { kind = "profile", name, sizes = "96px", alt = "", eager = false }) {
  const frame = h("span", { class: `frame ${kind}` });
  const placeholder = () => {
    frame.classList.add("empty");
    frame.replaceChildren(h("span", { class: "initials", "aria-hidden": "true" }, initials(name)));
  };
  if (!set || !set.small) {
    placeholder();
    return frame;
  }
  const [s, m, l] = WIDTHS[kind];
  const distinct = set.small !== set.medium || set.medium !== set.large;
  const img = h("img", {
    src: set.medium || set.small,
    srcset: distinct ? `${set.small} ${s}w, ${set.medium} ${m}w, ${set.large} ${l}w` : null,
    sizes: distinct ? sizes : null,
    alt,
    loading: eager ? "eager" : "lazy",
    decoding: "async",
    width: String(s),
    height: String(Math.round(s * 1.5)),
  });
  img.addEventListener("error", placeholder, { once: true });
  frame.append(img);
  return frame;
}

/**
 * One face of a cast: photo (or initials), name (a link to the actor) and the character played.
 * `extra` children follow (a "you saw them in …" line, say).
 * @param {{actorId: string, name: string, photo?: ImageSet | null, characters?: string[], roleName?: string | null}} m
 * @param {{testid?: string, extra?: any, known?: boolean, sizes?: string}} [options]
 */
export function face(m, { testid = "cast-face", extra = null, known = false, sizes = "(min-width: 40rem) 120px, 30vw" } = {}) {
  const who = playing(m);
  return h("li", { class: known ? "face known" : "face", "data-testid": testid, "data-actor-id": m.actorId },
    h("a", { href: actorHref(m.actorId), class: "face-link" },
      picture(m.photo, { kind: "profile", name: m.name, sizes }),
      h("span", { class: "face-name" }, m.name)),
    who && h("span", { class: "face-role" }, who),
    extra);
}

/** A grid of faces. @param {HTMLElement[]} items @param {string} label */
export function faces(items, label) {
  return h("ul", { class: "faces-grid", "aria-label": label }, items);
}

/**
 * A toast-free way to report a failure where it happened: a message and a retry button.
 * @param {Error} error @param {() => void} retry
 */
export function failure(error, retry) {
  const offline = /** @type {any} */ (error).status === 0;
  return h("div", { class: "panel failure", "data-testid": offline ? "network-error" : "error" },
    h("p", { class: "error" }, error.message),
    h("button", { type: "button", class: "btn", "data-testid": "retry-button", onclick: retry }, "Try again"));
}
