// The film fan's flow of the first browser test (e2e/e2e.mjs), moved onto the harness: register (the API's
// field errors first), log out and in, mark a title watched and put it on the watchlist, meet a familiar face on
// another title (through a simulated expired access token, refreshed invisibly), see where you know the actor
// from, delete the view from the history and log out.
// Temporary: delete this file once the per-flow tests (account, title, actor, history) cover these steps; the
// expired-token refresh is covered nowhere else yet.
//
// The sample's Breach (Bruce Willis as Clay) shares no cast with any other sample title, so the flow uses Emma
// Roberts: Sloane in "Holidate" (title A), Sasha Nutwagon in "Saurus City" (title B).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { TEST_TIMEOUT_MS, assertClean, checkA11y, openBrowser, shotsBoth } from "../lib/harness.mjs";

/** @type {import("../lib/harness.mjs").Browser} */
let b;
before(async () => {
  b = await openBrowser({ viewport: "phone" });
});
after(async () => {
  await b?.close();
});

const FLOW = "a film fan: register, sign in, mark a title watched, meet a familiar face, tidy the history, log out";
test(FLOW, { timeout: 3 * TEST_TIMEOUT_MS }, async () => {
  const { page } = b;
  const username = `fan-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const password = "Correct-Horse-9!";
  const status = page.locator("#status");
  const nav = page.getByRole("navigation", { name: "Account" });
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem("iknow.session")));

  await b.goto("/");
  await nav.getByRole("link", { name: "Create account" }).click();
  await page.waitForURL((u) => u.searchParams.get("view") === "register");
  const form = page.locator("#register-form");
  await form.getByLabel("Email").fill(`${username}@example.com`);
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password", { exact: true }).fill("short");

  // The API's field messages show next to their fields, and the fields are marked invalid.
  const refused = b.expectFailure("POST", /^\/api\/v1\/users\/register$/, 400);
  await form.getByRole("button", { name: "Create account" }).click();
  const passwordBox = form.getByLabel("Password", { exact: true });
  await form.locator("#register-password-error", { hasText: /12 characters/ }).waitFor();
  await form.locator("#register-acceptTerms-error", { hasText: /accept the terms/ }).waitFor();
  assert.equal(await passwordBox.getAttribute("aria-invalid"), "true");
  assert.ok(refused.url, "the weak registration was refused by the API");
  assert.match(await passwordBox.getAttribute("aria-describedby"), /register-password-error/);
  await checkA11y(page, "the registration form with errors");
  await shotsBoth(page, "register-errors");

  await passwordBox.fill(password);
  await form.getByLabel("I accept the terms of use").check();
  await form.getByRole("button", { name: "Create account" }).click();
  await status.filter({ hasText: `Welcome, ${username}!` }).waitFor();
  await nav.getByText(username).waitFor();

  // Log out and in again through the sign-in form.
  await nav.getByRole("button", { name: "Log out" }).click();
  await status.filter({ hasText: "Signed out." }).waitFor();
  assert.equal(await stored(), null, "no session is kept after logging out");
  await nav.getByRole("link", { name: "Sign in" }).click();
  const login = page.locator("#login-form");
  await login.getByLabel("Email or username").fill(username);
  await login.getByLabel("Password").fill(password);
  await login.getByRole("button", { name: "Sign in" }).click();
  await status.filter({ hasText: `Signed in as ${username}.` }).waitFor();
  await nav.getByRole("link", { name: "History" }).waitFor();

  // Title A: search it, open it, mark it watched and add it to the watchlist.
  const box = page.getByTestId("search-input");
  await box.fill("holidate");
  await page.getByTestId("search-results").getByRole("link", { name: /^Holidate \(2020\)/ }).click();
  await page.waitForURL((u) => u.searchParams.has("title"));
  const titleA = new URL(page.url()).searchParams.get("title");
  const title = page.getByTestId("title-page");
  await title.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
  await title.getByTestId("cast-face").filter({ hasText: "Emma Roberts" }).filter({ hasText: "Sloane" }).waitFor();
  await title.getByTestId("mark-watched").click();
  await title.getByText("Marked as watched: “Holidate” is in your history.").waitFor();
  const watchlist = title.getByTestId("watchlist-button");
  await watchlist.click();
  await title.getByText("Added “Holidate” to your watchlist.").waitFor();
  assert.equal(await watchlist.getAttribute("aria-disabled"), "true");
  assert.ok(await watchlist.evaluate((el) => el === document.activeElement), "the button keeps the focus");

  // Title B shares Emma Roberts. Its familiar faces answer once with an expired-token 401 (simulated): the app
  // refreshes the session (a new pair replaces the old one) and retries, invisibly.
  const before = await stored();
  let expiredOnce = 0;
  await page.route("**/api/v1/content/*/familiar-faces", async (route) => {
    expiredOnce += 1;
    const error = {
      code: "TOKEN_EXPIRED",
      message: "The access token has expired",
      timestamp: new Date().toISOString(),
      requestId: "e2e",
    };
    await route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ error }) });
  }, { times: 1 });
  const expired = b.expectFailure("GET", /^\/api\/v1\/content\/[^/]+\/familiar-faces$/, 401);
  const refreshed = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/auth/refresh");
  await box.fill("saurus city");
  await page.getByTestId("search-results").getByRole("link", { name: /^Saurus City/ }).click();
  await title.getByRole("heading", { level: 2, name: "Saurus City" }).waitFor();
  assert.equal((await refreshed).status(), 200, "the session was refreshed");
  assert.equal(expiredOnce, 1, "the simulated expiry was served");
  assert.ok(expired.url, "the expired answer reached the page");
  const after = await stored();
  assert.notEqual(after.refreshToken, before.refreshToken, "the rotated refresh token is stored");
  assert.notEqual(after.accessToken, before.accessToken, "the new access token is stored");

  const face = title.getByTestId("familiar-face").filter({ hasText: "Emma Roberts" });
  await face.waitFor();
  assert.match(await face.innerText(), /You saw them in Holidate as Sloane \(2020\)/);
  assert.equal(await face.getByRole("link", { name: "Holidate" }).getAttribute("href"), `/?title=${titleA}`);
  await assertClean(title);
  await checkA11y(page, "Saurus City with a familiar face");
  await shotsBoth(page, "familiar-faces");

  // The actor: where you know them from.
  await face.getByRole("link", { name: "Emma Roberts" }).click();
  await page.waitForURL((u) => u.searchParams.has("actor"));
  const profile = page.getByTestId("actor-profile");
  await profile.getByRole("heading", { level: 2, name: "Emma Roberts" }).waitFor();
  const actorUrl = page.url();
  const known = page.getByTestId("known-from");
  await known.getByTestId("known-from-item").filter({ hasText: "Holidate" }).waitFor();
  assert.match(await known.innerText(), /as Sloane/);
  assert.match(await known.innerText(), /You've seen 1 of their \d+ titles/);
  await assertClean(profile);
  await checkA11y(page, "Emma Roberts, known from Holidate");
  await shotsBoth(page, "known-from");

  // Back and forward walk the pages of the flow.
  await page.goBack();
  await title.getByRole("heading", { level: 2, name: "Saurus City" }).waitFor();
  await page.goForward();
  await known.getByTestId("known-from-item").filter({ hasText: "Holidate" }).waitFor();

  // The history lists the view; delete it.
  await nav.getByRole("link", { name: "History" }).click();
  await page.waitForURL((u) => u.searchParams.get("view") === "history");
  const entries = page.getByTestId("history-entry");
  await entries.filter({ hasText: "Holidate" }).waitFor();
  assert.equal(await entries.count(), 1);
  await assertClean(page.locator("#view"));
  await checkA11y(page, "the history");
  await shotsBoth(page, "history");
  await entries.getByRole("button", { name: /^Delete Holidate/ }).click();
  await page.getByText(/^Deleted Holidate/).waitFor();
  await page.getByText(/^Nothing here yet\./).waitFor();
  assert.equal(await entries.count(), 0);

  // Deleted for real: a reload shows the empty history, and Emma Roberts is known from nothing now.
  await page.reload({ waitUntil: "load" });
  await page.getByText(/^Nothing here yet\./).waitFor();
  await b.goto(new URL(actorUrl).pathname + new URL(actorUrl).search);
  await known.getByText(/haven't marked any of Emma Roberts's titles/).waitFor();

  // Log out from the history: the session is gone, and the personal page with it.
  await page.goBack({ waitUntil: "load" });
  await page.getByText(/^Nothing here yet\./).waitFor();
  await nav.getByRole("button", { name: "Log out" }).click();
  await status.filter({ hasText: "Signed out." }).waitFor();
  await page.waitForURL((u) => !u.searchParams.has("view"));
  await nav.getByRole("link", { name: "Sign in" }).waitFor();
  assert.equal(await stored(), null);
  await b.assertNoErrors();
});
