// "My history": the signed-in user's views, newest first, a page at a time, each one deletable.

import { authed, getSession } from "../api.js";
import { day, fill, h, heading, inYear, liveStatus, say, signInHref, titleHref, whileBusy } from "../dom.js";

const PAGE = 20;

/** @param {import("../../app.js").Ctx} ctx */
export async function render({ root: section, view }) {
  if (!getSession()) {
    fill(section, heading(2, "My history"),
      h("p", null, h("a", { href: signInHref() }, "Sign in"), " to see the titles you've marked as seen."));
    return;
  }
  const first = await page(0);
  if (!view.current()) return;

  const status = liveStatus();
  const list = h("ol", { class: "history" });
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show more");
  const empty = h("p", { class: "meta", hidden: true },
    "Nothing here yet. Open a title and press “I've seen this”.");
  let offset = 0;
  const deleted = () => {
    offset -= 1; // the next page starts one row earlier now
    empty.hidden = list.children.length > 0;
  };

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

async function page(offset) {
  return (await authed(`/api/v1/users/me/history?limit=${PAGE}&offset=${offset}`)).body;
}

function row(entry, status, deleted) {
  const title = entry.content.title || "Untitled";
  const when = day(entry.viewedAt);
  const label = `Delete ${title} (${when}) from your history`;
  const remove = h("button", { type: "button", class: "btn small", "aria-label": label }, "Delete");
  const li = h("li", null,
    h("div", null,
      h("a", { href: titleHref(entry.contentId) }, h("strong", null, title)),
      h("span", { class: "meta" }, inYear(entry.content)),
      h("br"), h("span", { class: "meta" }, `Seen ${when}`)),
    remove);
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
