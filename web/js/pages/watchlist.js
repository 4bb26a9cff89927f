// "Watchlist" (/?view=watchlist&status=…&sort=…&order=…): the signed-in user's watchlist with posters, filtered
// by status and sorted by when added or by priority; status, priority and notes change in place, and an item can
// be removed. The filter and the order are in the URL (replaced, not pushed: they refine one page).

import { authed, getSession } from "../api.js";
import { KIND, day, h, heading, inYear, liveStatus, plural, say, signInHref, titleHref, whileBusy } from "../dom.js";
import { picture } from "../ui.js";

/** @typedef {import("../../app.js").Ctx} Ctx */
/**
 * @typedef {{id: string, title: string, contentType: string, year: number | null, posterUrl: string | null,
 *   poster?: import("../ui.js").ImageSet | null}} LibraryTitle
 * @typedef {{id: string, contentId: string, content: LibraryTitle, status: string, priority: number,
 *   notes: string | null, addedAt: string, completedAt: string | null}} Item
 */

const PAGE = 20;

/** An image set from a bare URL (all three sizes the same); null for none. @param {string | null | undefined} url */
const urlImages = (url) => (url ? { small: url, medium: url, large: url } : null);

/** The API's statuses (libs/common/src/rules.rs) and how the page names them. */
export const STATUSES = [
  { value: "to_watch", label: "To watch" },
  { value: "watching", label: "Watching" },
  { value: "completed", label: "Watched" },
  { value: "paused", label: "Paused" },
];
const statusLabel = (/** @type {string} */ s) => STATUSES.find((x) => x.value === s)?.label || s;

/** The orders offered: the API sorts by when added or by priority (then when added), either way. */
const SORTS = [
  { value: "addedAt:desc", label: "Recently added first" },
  { value: "addedAt:asc", label: "Oldest first" },
  { value: "priority:desc", label: "Highest priority first" },
  { value: "priority:asc", label: "Lowest priority first" },
];

/** The id of the hint every notes box points to. */
const NOTES_HINT = "wl-notes-hint";

const PRIORITIES = Array.from({ length: 11 }, (_, i) => i);
const priorityLabel = (/** @type {number} */ p) => (p === 0 ? "0 (lowest)" : p === 10 ? "10 (highest)" : String(p));

/** The filter and the order of the URL, valid ones only. @param {URLSearchParams} params */
function choices(params) {
  const status = STATUSES.some((s) => s.value === params.get("status")) ? params.get("status") : "";
  const sortBy = params.get("sort") === "priority" ? "priority" : "addedAt";
  const order = params.get("order") === "asc" ? "asc" : "desc";
  return { status, sortBy, order };
}

/** @param {Ctx} ctx */
export async function render(ctx) {
  if (!getSession()) {
    ctx.root.replaceChildren(heading(2, "Watchlist"),
      h("p", null, h("a", { href: signInHref() }, "Sign in"), " to keep a list of what you want to watch."));
    return;
  }
  let chosen = choices(ctx.params);
  const status = liveStatus();
  const count = h("p", { class: "meta", "aria-live": "polite" });
  const list = h("ul", { class: "watchlist", "aria-labelledby": "watchlist-heading" });
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show more");
  const empty = h("p", { class: "empty-state", hidden: true });
  let offset = 0;
  let total = 0;
  let seq = 0;

  /** One page of the list as chosen. @param {number} at */
  const page = async (at) => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(at), sortBy: chosen.sortBy, sortOrder: chosen.order });
    if (chosen.status) q.set("status", chosen.status);
    return (await authed(`/api/v1/users/me/watchlist?${q}`)).body;
  };
  const showCount = () => {
    count.textContent = total ? plural(total, "title") : "";
    empty.textContent = chosen.status
      ? `Nothing on your watchlist is “${statusLabel(chosen.status)}”.`
      : "Your watchlist is empty. Open a title and press “Add to watchlist”.";
    empty.hidden = list.children.length > 0;
  };
  /** @param {{data: Item[], pagination: {total: number, hasMore: boolean}}} body */
  const show = (body) => {
    list.append(...body.data.map((item) => row(item, status, removed)));
    offset += body.data.length;
    total = body.pagination.total;
    more.hidden = !body.pagination.hasMore;
    showCount();
  };
  const removed = () => {
    offset -= 1; // the next page starts one item earlier now
    total -= 1;
    showCount();
  };
  more.addEventListener("click", () => whileBusy(more, async () => {
    try {
      show(await page(offset));
    } catch (e) {
      say(status, e.message, true);
    }
  }));

  // A new filter or order: the URL says so (replaced), and the list starts again.
  const reload = async () => {
    const mine = ++seq;
    const q = new URLSearchParams({ view: "watchlist" });
    if (chosen.status) q.set("status", chosen.status);
    if (chosen.sortBy !== "addedAt") q.set("sort", chosen.sortBy);
    if (chosen.order !== "desc") q.set("order", chosen.order);
    history.replaceState(history.state, "", `/?${q}`);
    list.setAttribute("aria-busy", "true");
    try {
      const body = await page(0);
      if (mine !== seq || !ctx.view.current()) return;
      list.replaceChildren();
      offset = 0;
      show(body);
      say(status, "");
    } catch (e) {
      if (mine === seq) say(status, e.message, true);
    } finally {
      if (mine === seq) list.removeAttribute("aria-busy");
    }
  };

  const filters = h("fieldset", { class: "filter-chips" },
    h("legend", null, "Show"),
    [{ value: "", label: "All" }, ...STATUSES].map((s) => {
      const id = `wl-filter-${s.value || "all"}`;
      const radio = h("input", { type: "radio", name: "wl-status", id, value: s.value, checked: chosen.status === s.value });
      radio.addEventListener("change", () => {
        chosen = { ...chosen, status: s.value };
        void reload();
      });
      return h("label", { class: "chip", for: id }, radio, h("span", null, s.label));
    }));
  const sort = /** @type {HTMLSelectElement} */ (h("select", { id: "wl-sort", name: "sort" },
    SORTS.map((s) => h("option", { value: s.value, selected: s.value === `${chosen.sortBy}:${chosen.order}` }, s.label))));
  sort.addEventListener("change", () => {
    const [sortBy, order] = sort.value.split(":");
    chosen = { ...chosen, sortBy, order };
    void reload();
  });

  const first = await page(0);
  if (!ctx.view.current()) return;
  const title = heading(2, "Watchlist");
  title.id = "watchlist-heading";
  ctx.root.replaceChildren(
    title,
    h("div", { class: "list-controls" },
      filters,
      h("div", { class: "field sort" }, h("label", { for: "wl-sort" }, "Sort"), sort)),
    h("p", { class: "hint", id: NOTES_HINT }, "Changes are saved as you make them; notes when you leave the box or press Enter."),
    count, status, list, empty, more,
  );
  show(first);
}

/**
 * A PATCH of one item; answers whether it was saved (the message is in `status` either way).
 * @param {Item} item @param {Record<string, unknown>} change @param {HTMLElement} status @param {string} saved
 */
async function patch(item, change, status, saved) {
  say(status, "Saving…");
  try {
    const { body } = await authed(`/api/v1/users/me/watchlist/${encodeURIComponent(item.contentId)}`,
      { method: "PATCH", body: change });
    Object.assign(item, body.data);
    say(status, saved);
    return true;
  } catch (e) {
    const fields = Array.isArray(e.details?.fields) ? e.details.fields : [];
    say(status, fields.length ? fields.map((/** @type {any} */ v) => `${v.field} ${v.message}`).join("; ") : e.message, true);
    return false;
  }
}

/**
 * One item: poster, title, status, priority, notes, remove.
 * @param {Item} item @param {HTMLElement} listStatus @param {() => void} removed
 */
function row(item, listStatus, removed) {
  const c = item.content;
  const name = c.title || "Untitled";
  const key = item.contentId;
  const status = liveStatus();

  const statusSelect = /** @type {HTMLSelectElement} */ (h("select", { id: `wl-status-${key}` },
    STATUSES.map((s) => h("option", { value: s.value, selected: s.value === item.status }, s.label))));
  statusSelect.addEventListener("change", async () => {
    const before = item.status;
    const label = statusLabel(statusSelect.value);
    if (!(await patch(item, { status: statusSelect.value }, status, `Status: ${label}. Saved.`))) statusSelect.value = before;
  });

  const prioritySelect = /** @type {HTMLSelectElement} */ (h("select", { id: `wl-priority-${key}` },
    PRIORITIES.map((p) => h("option", { value: String(p), selected: p === item.priority }, priorityLabel(p)))));
  prioritySelect.addEventListener("change", async () => {
    const before = String(item.priority);
    const p = Number(prioritySelect.value);
    if (!(await patch(item, { priority: p }, status, `Priority ${p}. Saved.`))) prioritySelect.value = before;
  });

  const notes = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: `wl-notes-${key}`, rows: "2", maxlength: "2000",
    "aria-describedby": NOTES_HINT }));
  notes.value = item.notes || "";
  const saveNotes = async () => {
    const text = notes.value;
    if (text === (item.notes || "")) return;
    await patch(item, { notes: text }, status, text.trim() ? "Notes saved." : "Notes cleared.");
  };
  notes.addEventListener("blur", () => void saveNotes());
  notes.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void saveNotes();
    }
  });

  const remove = h("button", { type: "button", class: "btn small", "aria-label": `Remove ${name} from your watchlist` },
    "Remove");
  const li = h("li", { class: "wl-item", "data-testid": "watchlist-item", "data-content-id": key },
    h("div", { class: "wl-poster" },
      picture(c.poster ?? urlImages(c.posterUrl), { kind: "poster", name, sizes: "(min-width: 48rem) 6rem, 4.5rem" })),
    h("div", { class: "wl-body" },
      h("h3", { class: "wl-title" }, h("a", { href: titleHref(key) }, name),
        h("span", { class: "meta" }, inYear(c), c.contentType && KIND[c.contentType] ? ` · ${KIND[c.contentType]}` : "")),
      h("p", { class: "meta" }, `Added ${day(item.addedAt)}`,
        item.completedAt ? ` · watched ${day(item.completedAt)}` : ""),
      h("div", { class: "wl-edits" },
        h("div", { class: "field" }, h("label", { for: `wl-status-${key}` }, "Status"), statusSelect),
        h("div", { class: "field" }, h("label", { for: `wl-priority-${key}` }, "Priority"), prioritySelect)),
      h("div", { class: "field" },
        h("label", { for: `wl-notes-${key}` }, "Notes"),
        notes),
      status,
      h("div", { class: "buttons" },
        h("a", { href: `/?watch=${encodeURIComponent(key)}`, class: "btn small" }, "I'm watching it"),
        remove)));
  remove.addEventListener("click", () => whileBusy(remove, async () => {
    try {
      await authed(`/api/v1/users/me/watchlist/${encodeURIComponent(key)}`, { method: "DELETE" });
      // Keep the focus in the list: on the next item's remove button, else the previous one's.
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      /** @type {HTMLElement | null | undefined} */ (next?.querySelector("button.btn"))?.focus();
      removed();
      say(listStatus, `Removed ${name} from your watchlist.`);
    } catch (e) {
      say(status, e.message, true);
    }
  }));
  return li;
}
