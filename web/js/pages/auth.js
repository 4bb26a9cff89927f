// Sign in and create an account. Field messages come from the API (`error.details.fields`), which checks
// every field at once, so the forms do no validation of their own (`novalidate`) beyond mobile keyboards.

import { login as signIn, register as signUp } from "../api.js";
import { $, h, heading, say, whileBusy } from "../dom.js";

/** Where to go after signing in: a page of this app, else home. */
export function safeNext(next) {
  return next && /^\/(\?|$)/.test(next) ? next : "/";
}

function field(form, { name, label, hint, explain, ...input }) {
  const id = `${form}-${name}`;
  const describedBy = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" ");
  const isCheck = input.type === "checkbox";
  const control = h("input", { id, name, "aria-describedby": describedBy, ...input });
  const error = h("p", { class: "field-error", id: `${id}-error` });
  const wrap = h("div", { class: isCheck ? "field check" : "field" },
    isCheck ? [control, h("label", { for: id }, label)] : [h("label", { for: id }, label), control],
    hint && h("p", { class: "hint", id: `${id}-hint` }, hint),
    error);
  // `explain` turns the API's message ("must be true") into a sentence; by default: the label, then it.
  return { name, control, error, wrap, explain: explain || ((message) => `${label} ${message}`) };
}

function form(id, title, fields, submitLabel, footer, onSubmit) {
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn primary" }, submitLabel);
  const el = h("form", { id, class: "account-form", novalidate: true },
    fields.map((f) => f.wrap), formError, submit, footer);

  const clear = () => {
    formError.textContent = "";
    for (const f of fields) {
      f.error.textContent = "";
      f.control.removeAttribute("aria-invalid");
    }
  };
  const fail = (e) => {
    const byName = new Map(fields.map((f) => [f.name, f]));
    const marked = [];
    const mark = (name, message) => {
      const f = byName.get(name);
      if (!f) return false;
      f.error.textContent = message;
      f.control.setAttribute("aria-invalid", "true");
      marked.push(f);
      return true;
    };
    if (e.status === 400 && Array.isArray(e.details?.fields)) {
      const rest = e.details.fields.filter((v) => !mark(v.field, byName.get(v.field)?.explain(v.message)));
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
  };
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    whileBusy(submit, async () => {
      clear();
      try {
        const value = (c) => (c.type === "checkbox" ? c.checked : c.value);
        await onSubmit(Object.fromEntries(fields.map((f) => [f.name, value(f.control)])));
      } catch (e) {
        fail(e);
      }
    });
  });
  return [heading(2, title), el];
}

/** After signing in: to where the user was going, then a word in the page's status line. */
function doneFor(/** @type {import("../../app.js").Ctx} */ ctx) {
  const next = safeNext(ctx.params.get("next"));
  return {
    next,
    done: (/** @type {string} */ message) =>
      ctx.navigate(next, { replace: true }).then(() => say(/** @type {HTMLElement} */ ($("status")), message)),
  };
}

/** The sign-in page. @param {import("../../app.js").Ctx} ctx */
export function login(ctx) {
  const { next, done } = doneFor(ctx);
  const section = ctx.root;
  const fields = [
    field("login", { name: "login", label: "Email or username", type: "text", autocomplete: "username",
      autocapitalize: "none", spellcheck: "false", required: true }),
    field("login", { name: "password", label: "Password", type: "password", autocomplete: "current-password",
      required: true }),
  ];
  const footer = h("p", null, "New here? ",
    h("a", { href: `/?view=register&next=${encodeURIComponent(next)}` }, "Create an account"));
  section.replaceChildren(...form("login-form", "Sign in", fields, "Sign in", footer, async (v) => {
    const s = await signIn(v.login.trim(), v.password);
    done(`Signed in as ${s.user.username}.`);
  }));
}

/** The registration page; signs the new account in, then calls `done(message)`. */
export function register(ctx) {
  const { next, done } = doneFor(ctx);
  const section = ctx.root;
  const fields = [
    field("register", { name: "email", label: "Email", type: "email", autocomplete: "email", required: true }),
    field("register", { name: "username", label: "Username", type: "text", autocomplete: "username",
      autocapitalize: "none", spellcheck: "false", required: true, hint: "3 to 30 letters, digits, _ or -." }),
    field("register", { name: "password", label: "Password", type: "password", autocomplete: "new-password",
      required: true,
      hint: "At least 12 characters, with upper- and lowercase letters, a digit and a special character." }),
    field("register", { name: "acceptTerms", label: "I accept the terms of use", type: "checkbox", required: true,
      explain: () => "Please accept the terms of use to create an account." }),
  ];
  const footer = h("p", null, "Have an account? ",
    h("a", { href: `/?view=login&next=${encodeURIComponent(next)}` }, "Sign in"));
  section.replaceChildren(...form("register-form", "Create an account", fields, "Create account", footer, async (v) => {
    const body = {
      email: v.email.trim(), username: v.username.trim(), password: v.password, acceptTerms: v.acceptTerms,
    };
    await signUp(body);
    await signIn(body.username, body.password);
    done(`Welcome, ${body.username}! You're signed in.`);
  }));
}

// Owned by the account pages' work: forgot-password, reset-password and verify-email (see issue 13).
/** @param {import("../../app.js").Ctx} ctx */
export function forgotPassword(ctx) {
  ctx.root.replaceChildren(heading(2, "Forgot your password?"));
}
/** @param {import("../../app.js").Ctx} ctx */
export function resetPassword(ctx) {
  ctx.root.replaceChildren(heading(2, "Choose a new password"));
}
/** @param {import("../../app.js").Ctx} ctx */
export function verifyEmail(ctx) {
  ctx.root.replaceChildren(heading(2, "Verify your email"));
}
