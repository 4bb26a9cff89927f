// "Your account" (/?view=account): the profile, the preferences (theme, language, notifications; each change
// is saved at once as a JSON merge patch), the actors watched most, the data export as a file, and the
// deletion of the account.

import { authed, forgetSession, getSession } from "../api.js";
import { $, actorHref, day, h, heading, liveStatus, plural, say, signInHref, whileBusy } from "../dom.js";
import { applyTheme } from "../theme.js";
import { failure, picture } from "../ui.js";
import { field, makeForm, markField } from "./auth.js";

/** @typedef {import("../../app.js").Ctx} Ctx */
/** @typedef {import("../ui.js").ImageSet} ImageSet */

/**
 * The preferences document (libs/common/src/preferences.rs); every key is present.
 * @typedef {{notifications: Record<string, boolean>, ui: {theme: string, language: string}} & Record<string, any>} Preferences
 * @typedef {{id: string, email: string, username: string, emailVerified: boolean, preferences: Preferences,
 *   createdAt: string}} User
 * @typedef {{actorId: string, actorName: string, photo?: ImageSet | null, profileImageUrl?: string | null,
 *   titlesSeen: number}} ActorStat
 */

const THEMES = [
  { value: "system", label: "Same as this device" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

// The languages offered; a stored one not listed here is offered too. The app's texts are English for now.
const LANGUAGES = [
  ["en", "English"], ["de", "Deutsch"], ["es", "Español"], ["fr", "Français"], ["it", "Italiano"],
  ["nl", "Nederlands"], ["pl", "Polski"], ["pt", "Português"], ["pt-BR", "Português (Brasil)"], ["sv", "Svenska"],
];

const NOTIFICATIONS = [
  { key: "email", label: "Mails from I Know" },
  { key: "push", label: "Push notifications" },
  { key: "newEpisodes", label: "New episodes of series I watch" },
  { key: "weeklyDigest", label: "A weekly digest" },
];

/** An image set from a bare URL (all three sizes the same); null for none. @param {string | null | undefined} url */
const urlImages = (url) => (url ? { small: url, medium: url, large: url } : null);

/** The envelope's message of a failure, with its field messages when it has some. @param {any} e */
function explain(e) {
  const fields = Array.isArray(e?.details?.fields) ? e.details.fields : [];
  return fields.length ? fields.map((/** @type {any} */ v) => `${v.field} ${v.message}`).join("; ") : e.message;
}

/** @param {Ctx} ctx */
export async function render(ctx) {
  if (!getSession()) {
    ctx.root.replaceChildren(heading(2, "Your account"), invitation());
    return;
  }
  let me;
  try {
    me = /** @type {User} */ ((await authed("/api/v1/users/me")).body.data);
  } catch (e) {
    if (e.status !== 401) throw e;
    if (!ctx.view.current()) return;
    ctx.root.replaceChildren(heading(2, "Your account"), h("p", { class: "error" }, e.message), invitation());
    return;
  }
  if (!ctx.view.current()) return;
  // The account's theme wins over the one this device remembers (it may have changed elsewhere).
  applyTheme(/** @type {any} */ (me.preferences.ui.theme));

  const stats = h("section", { class: "account-part", "aria-labelledby": "stats-heading" },
    h("h3", { id: "stats-heading" }, "Actors you watch most"));
  ctx.root.replaceChildren(
    heading(2, "Your account"),
    profile(me),
    preferences(me),
    stats,
    download(me),
    deletion(ctx),
  );
  await fillStats(stats, ctx);
}

function invitation() {
  return h("p", null, h("a", { href: signInHref() }, "Sign in"), " or ",
    h("a", { href: "/?view=register" }, "create an account"),
    " to set your preferences, see the actors you watch most and manage your data.");
}

/** @param {User} me */
function profile(me) {
  const verified = me.emailVerified;
  return h("section", { class: "account-part", "aria-labelledby": "profile-heading" },
    h("h3", { id: "profile-heading" }, "Profile"),
    h("dl", { class: "profile" },
      h("dt", null, "Username"), h("dd", null, me.username),
      h("dt", null, "Email"), h("dd", null, h("span", { class: "email" }, me.email), " ",
        h("span", { class: verified ? "badge ok" : "badge", "data-testid": "email-status" },
          verified ? "✓ Verified" : "Not verified")),
      day(me.createdAt) && [h("dt", null, "Member since"), h("dd", null, day(me.createdAt))]),
    !verified && h("p", { class: "meta" }, `Open the link in the mail we sent to ${me.email} to verify it.`));
}

/** The preferences: every change is applied and saved at once, one save at a time. @param {User} me */
function preferences(me) {
  const status = liveStatus();
  /** @type {Preferences} */
  let saved = me.preferences;
  let queue = Promise.resolve();

  /**
   * Sends `patch` (merged into the stored document); `revert` puts the control back when it is refused.
   * @param {Record<string, any>} patch @param {string} what @param {() => void} revert
   */
  const save = (patch, what, revert) => {
    say(status, "Saving…");
    queue = queue.then(async () => {
      try {
        const { body } = await authed("/api/v1/users/me", { method: "PATCH", body: { preferences: patch } });
        saved = body.data.preferences;
        say(status, `Saved: ${what}.`);
      } catch (e) {
        revert();
        say(status, `Not saved: ${explain(e)}`, true);
      }
    });
  };

  const themes = h("fieldset", { class: "field choices" },
    h("legend", null, "Theme"),
    THEMES.map((t) => {
      const id = `pref-theme-${t.value}`;
      const radio = h("input", { type: "radio", name: "theme", id, value: t.value,
        checked: saved.ui.theme === t.value });
      radio.addEventListener("change", () => {
        const before = saved.ui.theme;
        applyTheme(/** @type {any} */ (t.value));
        save({ ui: { theme: t.value } }, `theme ${t.label.toLowerCase()}`, () => {
          applyTheme(/** @type {any} */ (before));
          const old = /** @type {HTMLInputElement | null} */ (themes.querySelector(`input[value="${before}"]`));
          if (old) old.checked = true;
        });
      });
      return h("label", { class: "choice", for: id }, radio, h("span", null, t.label));
    }));

  const current = saved.ui.language;
  const known = LANGUAGES.some(([code]) => code === current);
  const language = /** @type {HTMLSelectElement} */ (h("select", { id: "pref-language", name: "language",
    "aria-describedby": "pref-language-hint" },
  (known ? LANGUAGES : [...LANGUAGES, [current, current]]).map(([code, name]) =>
    h("option", { value: code, selected: code === current }, name))));
  language.addEventListener("change", () => {
    const before = saved.ui.language;
    const name = language.selectedOptions[0]?.textContent || language.value;
    save({ ui: { language: language.value } }, `language ${name}`, () => { language.value = before; });
  });

  const switches = h("fieldset", { class: "field switches" },
    h("legend", null, "Notifications"),
    NOTIFICATIONS.map((n) => {
      const id = `pref-notify-${n.key}`;
      const box = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", role: "switch", id, name: n.key,
        checked: !!saved.notifications[n.key] }));
      box.addEventListener("change", () => {
        const on = box.checked;
        save({ notifications: { [n.key]: on } }, `${n.label.toLowerCase()} ${on ? "on" : "off"}`,
          () => { box.checked = !on; });
      });
      return h("div", { class: "switch" }, box, h("label", { for: id }, n.label));
    }));

  return h("section", { class: "account-part", "aria-labelledby": "prefs-heading" },
    h("h3", { id: "prefs-heading" }, "Preferences"),
    h("p", { class: "meta" }, "Changes are saved as you make them."),
    h("form", { class: "prefs", id: "preferences-form", onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
      themes,
      h("div", { class: "field" },
        h("label", { for: "pref-language" }, "Language"),
        language,
        h("p", { class: "hint", id: "pref-language-hint" },
          "I Know is in English for now; your choice is kept for when other languages arrive.")),
      switches),
    status);
}

/** The most-watched actors, into `section` (a failure there keeps the rest of the page). @param {HTMLElement} section @param {Ctx} ctx */
async function fillStats(section, ctx) {
  const heading3 = /** @type {HTMLElement} */ (section.firstElementChild);
  let data;
  try {
    data = (await authed("/api/v1/users/me/stats/actors?limit=10")).body.data;
  } catch (e) {
    if (!ctx.view.current()) return;
    section.replaceChildren(heading3, failure(e, () => {
      section.replaceChildren(heading3);
      void fillStats(section, ctx);
    }));
    return;
  }
  if (!ctx.view.current()) return;
  /** @type {ActorStat[]} */
  const actors = data.actors;
  if (!actors.length) {
    section.replaceChildren(heading3, h("p", { class: "empty-state" },
      "Mark titles as watched, and the actors you see most show up here."));
    return;
  }
  section.replaceChildren(heading3,
    h("ol", { class: "stats" }, actors.map((a) => h("li", { "data-testid": "stat-actor" },
      h("a", { href: actorHref(a.actorId), class: "stat-link" },
        picture(a.photo ?? urlImages(a.profileImageUrl), { kind: "profile", name: a.actorName, sizes: "3.5rem" }),
        h("span", { class: "stat-name" }, a.actorName)),
      h("span", { class: "stat-count" }, `${plural(a.titlesSeen, "title")} seen`)))),
    h("p", { class: "meta" }, `${plural(data.titlesSeen, "title")} seen in all.`));
}

/** "2026-01-31" in the reader's time zone. */
function today() {
  const d = new Date();
  const two = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** "Download my data": the export as a JSON file. @param {User} me */
function download(me) {
  const status = liveStatus();
  const button = h("button", { type: "button", class: "btn", "data-testid": "download-data" }, "Download my data");
  button.addEventListener("click", () => whileBusy(button, async () => {
    say(status, "Preparing your data…");
    try {
      const { body } = await authed("/api/v1/users/me/export");
      const name = `iknow-export-${me.username}-${today()}.json`;
      const url = URL.createObjectURL(new Blob([JSON.stringify(body.data, null, 2)], { type: "application/json" }));
      const a = h("a", { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 0);
      say(status, `Your data is in ${name}.`);
    } catch (e) {
      say(status, e.message, true);
    }
  }));
  return h("section", { class: "account-part", "aria-labelledby": "data-heading" },
    h("h3", { id: "data-heading" }, "Your data"),
    h("p", null, "Everything I Know keeps about you (profile, preferences, watchlist and history) as one JSON file."),
    button, status);
}

/** "Delete my account", confirmed with the password and a checkbox. @param {Ctx} ctx */
function deletion(ctx) {
  const password = field("delete", { name: "password", label: "Your password", type: "password",
    autocomplete: "current-password", required: true });
  const confirm = field("delete", { name: "confirm", label: "I understand that my account and its data are erased for good",
    type: "checkbox", required: true });
  const form = makeForm({
    id: "delete-form", fields: [password, confirm], submitLabel: "Delete my account", danger: true,
    onSubmit: async (v) => {
      if (!v.confirm) {
        markField(confirm, "Tick this box to confirm.");
        confirm.control.focus();
        return;
      }
      await authed("/api/v1/users/me", { method: "DELETE", body: { password: v.password } });
      forgetSession();
      await ctx.navigate("/", { replace: true });
      say(/** @type {HTMLElement} */ ($("status")), "Your account has been deleted.");
    },
    onError: (e) => {
      if (e.code !== "INVALID_CREDENTIALS") return false;
      markField(password, "That password is not right.");
      password.control.focus();
      return true;
    },
  });
  return h("section", { class: "account-part danger-zone", "aria-labelledby": "delete-heading" },
    h("h3", { id: "delete-heading" }, "Delete my account"),
    h("p", null, "This erases your account, your watchlist and your history at once and signs you out everywhere. ",
      "It can't be undone; download your data first if you want to keep it."),
    form);
}
