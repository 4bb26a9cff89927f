// Accounts (issue 13, flow 6): sign up and verify the address from the mailed link; a forgotten password reset
// from the mailed link, then signing in with the new one (the old one refused); preferences saved on the server
// (the theme applies at once and comes back from the server); the most-watched actors; "download my data" as a
// file; and deleting the account (signed out, the old token refused, no more signing in).
// Mail comes from the file-mode mailer's .eml files (IKNOW_MAIL_DIR).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  BASE, FIXTURES, TEST_TIMEOUT_MS, apiCall, assertClean, checkA11y, firstId, latestMail, openBrowser,
  registerUser, shotsBoth, signIn,
} from "../lib/harness.mjs";

const PASSWORD = "Correct-Horse-9!";
const NEW_PASSWORD = "Battery-Staple-42?";
const DARK_BG = "rgb(20, 22, 26)";
const LIGHT_BG = "rgb(247, 247, 245)";

/** The link of a mail that opens `view` of the app, with its token in the fragment. */
function mailedLink(mail, view) {
  const link = mail.links.find((l) => l.includes(`view=${view}`));
  assert.ok(link, `a ${view} link in ${JSON.stringify(mail.links)}`);
  const url = new URL(link);
  assert.equal(url.origin, new URL(BASE).origin, "the link opens this platform");
  assert.match(url.hash, /^#token=./, "the token is in the fragment");
  return { link, token: new URLSearchParams(url.hash.slice(1)).get("token") };
}

/** The address bar and the history entry no longer hold `token`. */
async function assertTokenGone(page, token) {
  assert.ok(!page.url().includes("#"), `no fragment left in ${page.url()}`);
  assert.ok(!page.url().includes(encodeURIComponent(token)) && !page.url().includes(token), "no token in the URL");
  assert.equal(await page.evaluate(() => location.hash), "");
}

/** A fresh start on this device: nothing in localStorage (no session, no theme). */
async function forgetDevice(b) {
  if (!b.page.url().startsWith(BASE + "/")) await b.goto("/");
  await b.page.evaluate(() => localStorage.clear());
}

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

describe("accounts at a phone's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
  });
  after(async () => {
    await b?.close();
  });

  test("sign up, then the mailed link verifies the address", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const username = `verify-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const email = `${username}@example.com`;
    const since = Date.now();
    await b.goto("/");
    await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Create account" }).click();
    const form = page.locator("#register-form");
    await form.waitFor();
    await checkA11y(page, "the registration form");
    await shotsBoth(page, "register");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Username").fill(username);
    // A weak password and the terms not accepted: the API's messages next to their fields, marked invalid.
    const passwordBox = form.getByLabel("Password", { exact: true });
    await passwordBox.fill("short");
    b.expectFailure("POST", /^\/api\/v1\/users\/register$/, 400);
    await form.getByRole("button", { name: "Create account" }).click();
    await form.locator("#register-password-error", { hasText: /12 characters/ }).waitFor();
    await form.locator("#register-acceptTerms-error", { hasText: /accept the terms/ }).waitFor();
    assert.equal(await passwordBox.getAttribute("aria-invalid"), "true");
    assert.match(await passwordBox.getAttribute("aria-describedby"), /register-password-error/);
    assert.ok(await passwordBox.evaluate((el) => el === document.activeElement), "the first marked field has the focus");
    await checkA11y(page, "the registration form with errors");
    await shotsBoth(page, "register-errors");
    await passwordBox.fill(PASSWORD);
    await form.getByLabel("I accept the terms of use").check();
    await form.getByRole("button", { name: "Create account" }).click();
    await page.locator("#status", { hasText: `We sent a verification link to ${email}` }).waitFor();
    await page.getByRole("navigation", { name: "Account" }).getByText(username).waitFor();

    // Not verified yet.
    await b.goto("/?view=account");
    const state = page.getByTestId("email-status");
    await state.filter({ hasText: "Not verified" }).waitFor();

    const mail = await latestMail(email, { since, subject: /verify/i });
    const { link, token } = mailedLink(mail, "verify-email");
    await page.goto(link, { waitUntil: "load" });
    await page.getByRole("heading", { level: 2, name: "Email verified" }).waitFor();
    await assertTokenGone(page, token);
    await checkA11y(page, "email verified");
    await shotsBoth(page, "verified");

    await page.getByRole("link", { name: "Go to your account" }).click();
    await state.filter({ hasText: "Verified" }).filter({ hasNotText: "Not" }).waitFor();
    const me = await apiCall("/api/v1/users/me", {
      token: await page.evaluate(() => JSON.parse(localStorage.getItem("iknow.session")).accessToken),
    });
    assert.equal(me.body.data.emailVerified, true, "verified on the server");

    // Log out from the account page: home, and no session kept.
    const nav = page.getByRole("navigation", { name: "Account" });
    await nav.getByRole("button", { name: "Log out" }).click();
    await page.locator("#status", { hasText: "Signed out." }).waitFor();
    await page.waitForURL((u) => !u.searchParams.has("view"));
    assert.equal(await page.evaluate(() => localStorage.getItem("iknow.session")), null);
    await nav.getByRole("link", { name: "Sign in" }).waitFor();

    // The same link again: used, and the page says so.
    b.expectFailure("POST", /^\/api\/v1\/users\/verify-email$/, 400);
    await page.goto(link, { waitUntil: "load" });
    await page.getByRole("heading", { level: 2, name: "This link didn't work" }).waitFor();
    await assertTokenGone(page, token);
    await checkA11y(page, "a used verification link");
    await b.assertNoErrors();
  });

  test("forgot password: the mailed link, a new password, signing in with it", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "reset", password: PASSWORD });
    await forgetDevice(b);
    await b.goto("/?view=login");
    const login = page.locator("#login-form");
    await login.waitFor();
    await checkA11y(page, "the sign-in form");
    await shotsBoth(page, "sign-in");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL((u) => u.searchParams.get("view") === "forgot-password");
    const forgot = page.locator("#forgot-form");
    await checkA11y(page, "the forgotten-password form");

    // An unknown address gets the very same answer.
    const neutral = "If an account uses that address, a link is on its way.";
    await forgot.getByLabel("Email").fill(`nobody-${Date.now()}@example.com`);
    await forgot.getByRole("button", { name: "Send the link" }).click();
    await page.getByText(neutral).waitFor();
    await shotsBoth(page, "forgot-sent");
    await page.getByRole("button", { name: "ask again" }).click();

    const since = Date.now();
    await forgot.getByLabel("Email").fill(user.email);
    await forgot.getByRole("button", { name: "Send the link" }).click();
    await page.getByText(neutral).waitFor();
    const mail = await latestMail(user.email, { since, subject: /password/i });
    const { link, token } = mailedLink(mail, "reset-password");

    await page.goto(link, { waitUntil: "load" });
    const reset = page.locator("#reset-form");
    await reset.waitFor();
    await assertTokenGone(page, token);
    // A weak password: the API's rule shows next to the field (the token is not spent).
    b.expectFailure("POST", /^\/api\/v1\/auth\/password-reset\/confirm$/, 400);
    await reset.getByLabel("New password").fill("short");
    await reset.getByRole("button", { name: "Change password" }).click();
    await reset.locator("#reset-newPassword-error", { hasText: /at least 12 characters/ }).waitFor();
    assert.equal(await reset.getByLabel("New password").getAttribute("aria-invalid"), "true");
    await checkA11y(page, "the new-password form with an error");
    await shotsBoth(page, "reset-error");

    await reset.getByLabel("New password").fill(NEW_PASSWORD);
    await reset.getByRole("button", { name: "Change password" }).click();
    await page.waitForURL((u) => u.searchParams.get("view") === "login");
    await page.locator("#status", { hasText: "Password changed — sign in" }).waitFor();
    assert.equal(await login.getByLabel("Email or username").inputValue(), user.email, "the sign-in form is filled in");
    await shotsBoth(page, "reset-done");

    // Every old session ended with the reset; the old password is refused.
    assert.equal((await apiCall("/api/v1/users/me", { token: user.accessToken })).status, 401, "the old access token");
    const old = await apiCall("/api/v1/auth/login", { method: "POST", body: { login: user.username, password: PASSWORD } });
    assert.equal(old.status, 401, "the old password");
    b.expectFailure("POST", /^\/api\/v1\/auth\/login$/, 401);
    await login.getByLabel("Password").fill(PASSWORD);
    await login.getByRole("button", { name: "Sign in" }).click();
    await login.locator(".form-error", { hasText: "Invalid login or password" }).waitFor();

    await login.getByLabel("Password").fill(NEW_PASSWORD);
    await login.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#status", { hasText: `Signed in as ${user.username}.` }).waitFor();

    // The link works once.
    b.expectFailure("POST", /^\/api\/v1\/auth\/password-reset\/confirm$/, 400);
    await page.goto(link, { waitUntil: "load" });
    await reset.getByLabel("New password").fill("Another-Passw0rd!");
    await reset.getByRole("button", { name: "Change password" }).click();
    await page.getByText("This link has expired or was already used.").waitFor();
    await page.getByRole("link", { name: "Ask for a new link" }).waitFor();
    await checkA11y(page, "a used reset link");
    await b.assertNoErrors();
  });

  test("preferences: the theme applies at once and comes back from the server", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "prefs" });
    await forgetDevice(b);
    await signIn(page, user, { reload: false });
    await b.goto("/?view=account");
    const prefs = page.locator("#preferences-form");
    await prefs.waitFor();
    const saved = page.locator(".account-part .action-status");
    assert.equal(await background(page), DARK_BG, "the device's dark scheme to begin with");
    await assertClean(page.locator("#view"));
    await checkA11y(page, "the account page (dark)");
    await shotsBoth(page, "account-dark");

    await prefs.getByText("Light", { exact: true }).click();
    assert.equal(await background(page), LIGHT_BG, "light at once");
    await saved.filter({ hasText: "Saved: theme light." }).waitFor();
    const weekly = prefs.getByRole("switch", { name: "A weekly digest" });
    assert.equal(await weekly.isChecked(), false);
    await weekly.check();
    await saved.filter({ hasText: "Saved: a weekly digest on." }).waitFor();
    await prefs.getByLabel("Language").selectOption("fr");
    await saved.filter({ hasText: "Saved: language Français." }).waitFor();
    const me = await apiCall("/api/v1/users/me", { token: user.accessToken });
    assert.equal(me.body.data.preferences.ui.theme, "light");
    assert.equal(me.body.data.preferences.ui.language, "fr");
    assert.equal(me.body.data.preferences.notifications.weeklyDigest, true);
    assert.equal(me.body.data.preferences.notifications.email, true, "the other keys are kept");
    await checkA11y(page, "the account page (light)");
    await shotsBoth(page, "account-light");

    // From the server: this device forgets its theme, and the account page brings it back.
    await page.evaluate(() => localStorage.removeItem("iknow.theme"));
    await page.reload({ waitUntil: "load" });
    await prefs.waitFor();
    await page.waitForFunction((bg) => getComputedStyle(document.body).backgroundColor === bg, LIGHT_BG);
    assert.equal(await prefs.getByRole("radio", { name: "Light" }).isChecked(), true);
    assert.equal(await prefs.getByRole("switch", { name: "A weekly digest" }).isChecked(), true);
    assert.equal(await prefs.getByLabel("Language").inputValue(), "fr");

    // Signing in on a fresh device applies the account's theme too.
    await page.evaluate(() => localStorage.clear());
    await b.goto("/?view=login");
    assert.equal(await background(page), DARK_BG);
    const login = page.locator("#login-form");
    await login.getByLabel("Email or username").fill(user.username);
    await login.getByLabel("Password").fill(user.password);
    await login.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#status", { hasText: `Signed in as ${user.username}.` }).waitFor();
    assert.equal(await background(page), LIGHT_BG, "the account's theme after signing in");
    await page.evaluate(() => localStorage.removeItem("iknow.theme"));
    await b.assertNoErrors();
  });

  test("the most-watched actors, and my data as a file", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "stats" });
    for (const q of ["holidate", "saurus city"]) {
      const contentId = await firstId("content", q);
      const r = await apiCall("/api/v1/users/me/history", { method: "POST", token: user.accessToken, body: { contentId } });
      assert.equal(r.status, 201, `view of ${q}: ${JSON.stringify(r.body)}`);
    }
    await forgetDevice(b);
    await signIn(page, user, { reload: false });
    await b.goto("/?view=account");
    const emma = page.getByTestId("stat-actor").filter({ hasText: "Emma Roberts" });
    await emma.waitFor();
    assert.match(await emma.innerText(), /2 titles seen/);
    assert.match(await page.locator(".account-part", { has: emma }).innerText(), /2 titles seen in all/);
    assert.equal(await page.getByTestId("stat-actor").first().innerText().then((t) => t.includes("Emma Roberts")), true,
      "the actor of both titles comes first");
    const photo = emma.locator("img");
    if (FIXTURES) {
      await photo.waitFor();
      assert.ok((await photo.getAttribute("src")).startsWith(FIXTURES + "/"), "her photo from the image host");
      await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await photo.elementHandle());
    }
    await checkA11y(page, "the account page with stats");
    await shotsBoth(page, "account-stats");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download my data" }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`^iknow-export-${user.username}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const text = await readFile(await download.path(), "utf8");
    const data = JSON.parse(text);
    assert.ok(text.includes(user.username), "the export names the user");
    assert.equal(data.library.history.length, 2, "both views are in it");
    await page.locator(".action-status", { hasText: `Your data is in ${download.suggestedFilename()}` }).waitFor();

    await emma.getByRole("link", { name: "Emma Roberts" }).click();
    await page.waitForURL((u) => u.searchParams.has("actor"));
    await page.getByRole("heading", { level: 2, name: "Emma Roberts" }).waitFor();
    await b.assertNoErrors();
  });

  test("delete my account: signed out, the old token refused, no signing in", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "delete" });
    await forgetDevice(b);
    await signIn(page, user, { reload: false });
    await b.goto("/?view=account");
    const form = page.locator("#delete-form");
    await form.waitFor();
    const erase = form.getByRole("button", { name: "Delete my account" });

    // Not confirmed: nothing is sent.
    await form.getByLabel("Your password").fill(user.password);
    await erase.click();
    await form.locator("#delete-confirm-error", { hasText: "Tick this box to confirm." }).waitFor();
    // A wrong password.
    b.expectFailure("DELETE", /^\/api\/v1\/users\/me$/, 403);
    await form.getByLabel("Your password").fill("Not-The-Passw0rd!");
    await form.getByLabel(/I understand/).check();
    await erase.click();
    await form.locator("#delete-password-error", { hasText: "That password is not right." }).waitFor();
    assert.equal(await form.getByLabel("Your password").getAttribute("aria-invalid"), "true");
    await checkA11y(page, "the deletion form with an error");
    await shotsBoth(page, "delete-error");

    await form.getByLabel("Your password").fill(user.password);
    await erase.click();
    await page.locator("#status", { hasText: "Your account has been deleted." }).waitFor();
    await page.waitForURL((u) => u.pathname === "/" && !u.search);
    await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem("iknow.session")), null, "no session kept");
    await shotsBoth(page, "deleted");

    const me = await apiCall("/api/v1/users/me", { token: user.accessToken });
    assert.equal(me.status, 401, "the old access token is refused");

    b.expectFailure("POST", /^\/api\/v1\/auth\/login$/, 401);
    await b.goto("/?view=login");
    const login = page.locator("#login-form");
    await login.getByLabel("Email or username").fill(user.username);
    await login.getByLabel("Password").fill(user.password);
    await login.getByRole("button", { name: "Sign in" }).click();
    await login.locator(".form-error", { hasText: "Invalid login or password" }).waitFor();
    await b.assertNoErrors();
  });
});

describe("account pages at a desktop's size, in the light scheme", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "desktop", colorScheme: "light" });
  });
  after(async () => {
    await b?.close();
  });

  test("every page passes axe, signed out and in", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const pages = [
      ["/?view=login", "Sign in"],
      ["/?view=register", "Create an account"],
      ["/?view=forgot-password", "Forgot your password?"],
      // Without the mailed link's token: they say where it is.
      ["/?view=reset-password", "Choose a new password", "This page needs the link from the mail we sent."],
      ["/?view=verify-email", "Verify your email", "This page needs the link from the mail we sent."],
      ["/?view=account", "Your account", "to set your preferences"],
    ];
    for (const [path, name, text] of pages) {
      await b.goto(path);
      await page.getByRole("heading", { level: 2, name }).waitFor();
      if (text) await page.locator("#view").getByText(text).waitFor();
      assert.equal(await background(page), LIGHT_BG, `${path} follows the light scheme`);
      await checkA11y(page, `${path} signed out (desktop, light)`);
    }

    const user = await registerUser({ prefix: "desk" });
    await signIn(page, user, { reload: false });
    await b.goto("/?view=account");
    await page.locator("#preferences-form").waitFor();
    await page.getByText("Mark titles as watched, and the actors you see most show up here.").waitFor();
    await checkA11y(page, "the account page (desktop, light)");
    await b.assertNoErrors();
  });
});
