// Sign in, create an account, a forgotten password, a new password and the email verification. Field messages
// come from the API (`error.details.fields`), which checks every field at once, so the forms do no validation
// of their own (`novalidate`) beyond mobile keyboards.
//
// Mailed links carry their token in the fragment (`/?view=reset-password#token=…`): a fragment is never sent to
// a server. The page takes the token out of the address bar (and so out of the history) before anything else,
// keeps it in memory only, and never logs it.

import { api, authed, forgetSession, getSession, login as signIn, register as signUp } from "../api.js";
import { $, h, heading, say, whileBusy } from "../dom.js";
import { applyTheme } from "../theme.js";

/** @typedef {import("../../app.js").Ctx} Ctx */

/** Where to go after signing in: a page of this app, else home. @param {string | null} next */
export function safeNext(next) {
  return next && /^\/(\?|$)/.test(next) ? next : "/";
}

const PASSWORD_RULES = "At least 12 characters, with upper- and lowercase letters, a digit and a special character.";

// ---- fields and forms (also used by the account page) -----------------------------------------------------

/**
 * @typedef {{name: string, label: string, hint?: string, explain?: (message: string) => string}
 *   & Record<string, any>} FieldSpec  the other keys are attributes of the input
 * @typedef {{name: string, control: HTMLInputElement, error: HTMLElement, wrap: HTMLElement,
 *   explain: (message: string) => string}} Field
 */

/**
 * A labelled input with its hint and its error line (both in its `aria-describedby`).
 * @param {string} form  the form's id prefix @param {FieldSpec} spec
 * @returns {Field}
 */
export function field(form, { name, label, hint, explain, ...input }) {
  const id = `${form}-${name}`;
  const describedBy = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" ");
  const isCheck = input.type === "checkbox";
  const control = /** @type {HTMLInputElement} */ (h("input", { id, name, "aria-describedby": describedBy, ...input }));
  const error = h("p", { class: "field-error", id: `${id}-error` });
  const wrap = h("div", { class: isCheck ? "field check" : "field" },
    isCheck ? [control, h("label", { for: id }, label)] : [h("label", { for: id }, label), control],
    hint && h("p", { class: "hint", id: `${id}-hint` }, hint),
    error);
  // `explain` turns the API's message ("must be true") into a sentence; by default: the label, then it.
  return { name, control, error, wrap, explain: explain || ((message) => `${label} ${message}`) };
}

/** Marks `f` invalid with `message`. @param {Field} f @param {string} message */
export function markField(f, message) {
  f.error.textContent = message;
  f.control.setAttribute("aria-invalid", "true");
}

/**
 * Shows an API failure next to the fields it names (the first one gets the focus); what names no field goes to
 * `formError`. @param {any} e an ApiError @param {Field[]} fields @param {HTMLElement} formError
 */
export function showErrors(e, fields, formError) {
  const byName = new Map(fields.map((f) => [f.name, f]));
  /** @type {Field[]} */
  const marked = [];
  /** @param {string} name @param {string} message */
  const mark = (name, message) => {
    const f = byName.get(name);
    if (!f) return false;
    markField(f, message);
    marked.push(f);
    return true;
  };
  if (e.status === 400 && Array.isArray(e.details?.fields)) {
    /** @type {{field: string, message: string}[]} */
    const violations = e.details.fields;
    const rest = violations.filter((v) => !mark(v.field, byName.get(v.field)?.explain(v.message)));
    formError.textContent = rest.length
      ? rest.map((v) => `${v.field} ${v.message}`).join("; ")
      : "Please correct the fields marked above.";
  } else if (e.code === "DUPLICATE_EMAIL" && mark("email", e.message)) {
    formError.textContent = "";
  } else if (e.code === "DUPLICATE_USERNAME" && mark("username", e.message)) {
    formError.textContent = "";
  } else {
    formError.textContent = e.message;
  }
  marked[0]?.control.focus();
}

/**
 * A form of `fields`; submitting it runs `onSubmit(values)` (one at a time) after clearing the old messages. A
 * failure it throws is shown by `onError` when that answers true, else next to its fields.
 * @param {{id: string, fields: Field[], submitLabel: string, footer?: any, before?: any, danger?: boolean,
 *   onSubmit: (values: Record<string, any>) => Promise<void>,
 *   onError?: (e: any, formError: HTMLElement) => boolean}} spec
 */
export function makeForm({ id, fields, submitLabel, footer, before, danger = false, onSubmit, onError }) {
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: danger ? "btn danger" : "btn primary" }, submitLabel);
  const el = h("form", { id, class: "account-form", novalidate: true },
    before, fields.map((f) => f.wrap), formError, submit, footer);
  const clear = () => {
    formError.replaceChildren();
    for (const f of fields) {
      f.error.textContent = "";
      f.control.removeAttribute("aria-invalid");
    }
  };
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    whileBusy(submit, async () => {
      clear();
      try {
        /** @param {HTMLInputElement} c */
        const value = (c) => (c.type === "checkbox" ? c.checked : c.value);
        await onSubmit(Object.fromEntries(fields.map((f) => [f.name, value(f.control)])));
      } catch (e) {
        if (!onError?.(e, formError)) showErrors(e, fields, formError);
      }
    });
  });
  return el;
}

// ---- after signing in -------------------------------------------------------------------------------------

/** The signed-in account's theme, applied (and remembered on this device); quietly nothing when it fails. */
export async function applyAccountTheme() {
  try {
    const { body } = await authed("/api/v1/users/me");
    const theme = body?.data?.preferences?.ui?.theme;
    if (theme === "light" || theme === "dark" || theme === "system") applyTheme(theme);
  } catch {
    // The device's remembered theme stays.
  }
}

/** After signing in: to where the user was going, then a word in the page's status line. @param {Ctx} ctx */
function doneFor(ctx) {
  const next = safeNext(ctx.params.get("next"));
  return {
    next,
    done: (/** @type {string} */ message) =>
      ctx.navigate(next, { replace: true }).then(() => say(/** @type {HTMLElement} */ ($("status")), message)),
  };
}

// What the sign-in page shows next (set by the password reset): a notice and the login to fill in.
/** @type {{login: string, message: string} | null} */
let nextSignIn = null;

// The address a reset was asked for on this device, to fill in the sign-in form once the password is changed.
// sessionStorage would not do: the mailed link usually opens in a new tab.
const RESET_FOR = "iknow.reset-for";

/** The sign-in page. @param {Ctx} ctx */
export function login(ctx) {
  const { next, done } = doneFor(ctx);
  const pending = nextSignIn;
  nextSignIn = null;
  const fields = [
    field("login", { name: "login", label: "Email or username", type: "text", autocomplete: "username",
      autocapitalize: "none", spellcheck: "false", required: true, value: pending?.login || null }),
    field("login", { name: "password", label: "Password", type: "password", autocomplete: "current-password",
      required: true }),
  ];
  const footer = [
    h("p", null, h("a", { href: "/?view=forgot-password" }, "Forgot password?")),
    h("p", null, "New here? ", h("a", { href: `/?view=register&next=${encodeURIComponent(next)}` }, "Create an account")),
  ];
  ctx.root.replaceChildren(heading(2, "Sign in"), makeForm({
    id: "login-form", fields, submitLabel: "Sign in", footer,
    onSubmit: async (v) => {
      const s = await signIn(v.login.trim(), v.password);
      localStorage.removeItem(RESET_FOR);
      await applyAccountTheme();
      await done(`Signed in as ${s.user.username}.`);
    },
  }));
  if (pending) ctx.status(pending.message);
}

/** The registration page: creates the account, signs it in and says where the verification link went. @param {Ctx} ctx */
export function register(ctx) {
  const { next, done } = doneFor(ctx);
  const fields = [
    field("register", { name: "email", label: "Email", type: "email", autocomplete: "email", required: true }),
    field("register", { name: "username", label: "Username", type: "text", autocomplete: "username",
      autocapitalize: "none", spellcheck: "false", required: true, hint: "3 to 30 letters, digits, _ or -." }),
    field("register", { name: "password", label: "Password", type: "password", autocomplete: "new-password",
      required: true, hint: PASSWORD_RULES }),
    field("register", { name: "acceptTerms", label: "I accept the terms of use", type: "checkbox", required: true,
      explain: () => "Please accept the terms of use to create an account." }),
  ];
  const footer = h("p", null, "Have an account? ",
    h("a", { href: `/?view=login&next=${encodeURIComponent(next)}` }, "Sign in"));
  ctx.root.replaceChildren(heading(2, "Create an account"), makeForm({
    id: "register-form", fields, submitLabel: "Create account", footer,
    onSubmit: async (v) => {
      const body = {
        email: v.email.trim(), username: v.username.trim(), password: v.password, acceptTerms: v.acceptTerms,
      };
      await signUp(body);
      await signIn(body.username, body.password);
      await applyAccountTheme();
      await done(`Welcome, ${body.username}! We sent a verification link to ${body.email}.`);
    },
  }));
}

/** "Forgot password?": asks for a reset link; the answer never tells whether the address has an account. @param {Ctx} ctx */
export function forgotPassword(ctx) {
  const fields = [
    field("forgot", { name: "email", label: "Email", type: "email", autocomplete: "email", required: true,
      hint: "We'll mail a link to choose a new password." }),
  ];
  const intro = h("p", null, "Type the email address of your account.");
  const answer = h("div", { class: "notice", role: "status", "aria-live": "polite" });
  const form = makeForm({
    id: "forgot-form", fields, submitLabel: "Send the link",
    footer: h("p", null, "Remembered it? ", h("a", { href: "/?view=login" }, "Sign in")),
    onSubmit: async (v) => {
      const email = v.email.trim();
      await api("/api/v1/auth/password-reset", { method: "POST", body: { email } });
      localStorage.setItem(RESET_FOR, email);
      form.hidden = true;
      intro.hidden = true;
      const again = h("button", { type: "button", class: "btn" }, "Ask again");
      again.addEventListener("click", () => {
        form.hidden = false;
        intro.hidden = false;
        answer.replaceChildren();
        fields[0].control.focus();
      });
      answer.replaceChildren(
        h("p", { tabindex: "-1", class: "notice-text" }, "If an account uses that address, a link is on its way."),
        h("p", { class: "meta" }, "It works once and for a limited time. Nothing arrived? Check your spam folder."),
        h("div", { class: "buttons" }, again, h("a", { href: "/?view=login", class: "btn" }, "Back to sign in")));
      /** @type {HTMLElement} */ (answer.firstElementChild).focus();
    },
  });
  ctx.root.replaceChildren(heading(2, "Forgot your password?"), intro, form, answer);
}

/** Mailed tokens, by page, taken from the fragment: they stay in memory only. */
const heldTokens = new Map();

/**
 * The token of a mailed link: taken from the fragment (`#token=…`), which is then removed from the address bar
 * and the history entry; else the one taken before on this page (a re-render).
 * @param {string} page
 * @returns {string | null}
 */
function takeToken(page) {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (location.hash) history.replaceState(history.state, "", location.pathname + location.search);
  if (token) heldTokens.set(page, token);
  return heldTokens.get(page) || null;
}

/** A failure that says the mailed token is unknown, used or expired. @param {any} e */
const badToken = (e) => e?.status === 400 && (e.details?.fields || []).some((/** @type {any} */ v) => v.field === "token");

/** The page of a password-reset link: a new password, then the sign-in form. @param {Ctx} ctx */
export function resetPassword(ctx) {
  const token = takeToken("reset");
  const title = heading(2, "Choose a new password");
  const askAgain = () => h("a", { href: "/?view=forgot-password" }, "Ask for a new link");
  if (!token) {
    ctx.root.replaceChildren(title,
      h("p", null, "This page needs the link from the mail we sent. Open that link again, or ask for a new one."),
      h("p", null, askAgain()));
    return;
  }
  const known = localStorage.getItem(RESET_FOR) || "";
  const fields = [
    field("reset", { name: "newPassword", label: "New password", type: "password", autocomplete: "new-password",
      required: true, hint: PASSWORD_RULES, explain: (m) => `The password ${m}` }),
  ];
  // For password managers: which account the new password belongs to (when this device asked for the link).
  const who = known ? h("input", { type: "text", name: "username", autocomplete: "username", value: known,
    hidden: true, "aria-hidden": "true", tabindex: "-1" }) : null;
  const form = makeForm({
    id: "reset-form", fields, submitLabel: "Change password", before: who,
    onSubmit: async (v) => {
      await api("/api/v1/auth/password-reset/confirm", {
        method: "POST", body: { token, newPassword: v.newPassword },
      });
      heldTokens.delete("reset");
      localStorage.removeItem(RESET_FOR);
      // Every session of the account has ended on the server; this device's too.
      if (getSession()) forgetSession();
      nextSignIn = { login: known, message: "Password changed — sign in with your new password." };
      await ctx.navigate("/?view=login", { replace: true });
    },
    onError: (e, formError) => {
      if (!badToken(e)) return false;
      heldTokens.delete("reset");
      form.hidden = true;
      const expired = h("div", { class: "notice error-notice", role: "alert" },
        h("p", null, "This link has expired or was already used."),
        h("p", null, askAgain()));
      formError.replaceChildren();
      form.after(expired);
      return true;
    },
  });
  ctx.root.replaceChildren(title, form);
}

// One verification per token, whatever the re-renders (a second POST would answer "already used").
/** @type {{token: string, outcome: Promise<boolean>} | null} */
let verification = null;

/** The page of an email-verification link. @param {Ctx} ctx */
export async function verifyEmail(ctx) {
  const token = takeToken("verify");
  const signedIn = !!getSession();
  const onward = signedIn
    ? h("p", null, h("a", { href: "/?view=account" }, "Go to your account"))
    : h("p", null, h("a", { href: "/?view=login" }, "Sign in"));
  if (!token) {
    ctx.root.replaceChildren(heading(2, "Verify your email"),
      h("p", null, "This page needs the link from the mail we sent. Open that link again."), onward);
    return;
  }
  ctx.root.replaceChildren(heading(2, "Verify your email"), h("p", { class: "meta" }, "Checking your link…"));
  if (verification?.token !== token) {
    const outcome = api("/api/v1/users/verify-email", { method: "POST", body: { token } }).then(
      () => true,
      (e) => {
        if (badToken(e)) return false;
        verification = null; // not an answer about the token (offline, say): the retry asks again
        throw e;
      },
    );
    verification = { token, outcome };
  }
  const ok = await verification.outcome;
  if (!ctx.view.current()) return;
  ctx.root.replaceChildren(...(ok
    ? [heading(2, "Email verified"), h("p", { "data-testid": "verify-result" }, "Thank you: your email address is verified."), onward]
    : [heading(2, "This link didn't work"),
      h("p", { class: "error", "data-testid": "verify-result" },
        "The verification link is invalid, was already used or has expired."),
      h("p", null, signedIn
        ? "Your account page shows whether your address is verified."
        : "Sign in to see whether your address is verified."),
      onward]));
}
