// "My history": the signed-in user's views, newest first, a page at a time, each with its poster, a way back
// to "now watching" and a delete button.

import { authed, getSession } from "../api.js";
import { KIND, day, fill, h, heading, inYear, liveStatus, say, signInHref, titleHref, whileBusy } from "../dom.js";
import { picture } from "../ui.js";

/** @typedef {import("../../app.js").Ctx} Ctx */
/**
 * @typedef {{id: string, contentId: string, viewedAt: string, context?: {season?: number, episode?: number} | null,
 *   content: {title: string, year: number | null, contentType: string, posterUrl: string | null,
 *   poster?: import("../ui.js").ImageSet | null}}} Entry
 */

const PAGE = 20;

/** An image set from a bare URL (all three sizes the same); null for none. @param {string | null | undefined} url */
const urlImages = (url) => (url ? { small: url, medium: url, large: url } : null);

/** @param {Ctx} ctx */
export async function render({ root: section, view }) {
  if (!getSession()) {
    fill(section, heading(2, "My history"),
      h("p", null, h("a", { href: signInHref() }, "Sign in"), " to see the titles you've marked as watched."));
    return;
  }
  const first = await page(0);
  if (!view.current()) return;

  const status = liveStatus();
  const list = h("ol", { class: "history", "aria-label": "Titles you've watched, newest first" });
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show more");
  const empty = h("p", { class: "empty-state", hidden: true },
    "Nothing here yet. Open a title and press “Mark as watched”.");
  let offset = 0;
  const deleted = () => {
    offset -= 1; // the next page starts one row earlier now
    empty.hidden = list.children.length > 0;
  };

  /** @param {{data: Entry[], pagination: {hasMore: boolean}}} body */
  const show = (body) => {
    list.append(...body.data.map((entry) => row(entry, status, deleted)));
    offset += body.data.length;
    more.hidden = !body.pagination.hasMore;
    empty.hidden = list.children.length > 0;
  };
  more.addEventListener("click", () => whileBusy(more, async () => {
    try {
      show(await page(offset));
    } catch (e) {
      say(status, e.message, true);
    }
  }));

  const days = first.meta.historyWindowDays;
  fill(section,
    heading(2, "My history"),
    days && h("p", { class: "meta" }, `The last ${days} days (a premium subscription keeps everything).`),
    status, list, empty, more,
  );
  show(first);
}

/** @param {number} offset */
async function page(offset) {
  return (await authed(`/api/v1/users/me/history?limit=${PAGE}&offset=${offset}`)).body;
}

/** @param {Entry} entry @param {HTMLElement} status @param {() => void} deleted */
function row(entry, status, deleted) {
  const c = entry.content;
  const title = c.title || "Untitled";
  const when = day(entry.viewedAt);
  const season = entry.context?.season;
  const episode = entry.context?.episode;
  const which = season != null ? ` · season ${season}${episode != null ? `, episode ${episode}` : ""}` : "";
  const label = `Delete ${title} (${when}) from your history`;
  const remove = h("button", { type: "button", class: "btn small", "aria-label": label }, "Delete");
  const li = h("li", { class: "history-entry", "data-testid": "history-entry" },
    h("div", { class: "history-poster" },
      picture(c.poster ?? urlImages(c.posterUrl), { kind: "poster", name: title, sizes: "3.5rem" })),
    h("div", { class: "history-body" },
      h("a", { href: titleHref(entry.contentId) }, h("strong", null, title)),
      h("span", { class: "meta" }, inYear(c), KIND[c.contentType] ? ` · ${KIND[c.contentType]}` : "", which),
      h("span", { class: "meta" }, `Watched ${when}`)),
    h("div", { class: "history-actions" },
      h("a", { href: `/?watch=${encodeURIComponent(entry.contentId)}`, class: "btn small",
        "aria-label": `Now watching ${title}` }, "Now watching"),
      remove));
  remove.addEventListener("click", () => whileBusy(remove, async () => {
    try {
      await authed(`/api/v1/users/me/history/${encodeURIComponent(entry.id)}`, { method: "DELETE" });
      // Keep the focus in the list: on the next entry's button, else the previous one's.
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      next?.querySelector("button")?.focus();
      deleted();
      say(status, `Deleted ${title} (${when}) from your history.`);
    } catch (e) {
      say(status, e.message, true);
    }
  }));
  return li;
}
