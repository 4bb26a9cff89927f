// My history (ported from the old e2e/e2e.mjs flow, with issue 13's posters and "now watching" links): a title
// marked as watched on its page is listed with its poster; its "Now watching" link opens it; deleting the entry
// empties the list, for real (a reload, the API).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  FIXTURES, TEST_TIMEOUT_MS, apiCall, assertClean, checkA11y, firstId, openBrowser, registerUser, shotsBoth, signIn,
} from "../lib/harness.mjs";

describe("my history", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
  });
  after(async () => {
    await b?.close();
  });

  test("signed out, an invitation to sign in", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?view=history");
    await page.getByRole("heading", { level: 2, name: "My history" }).waitFor();
    await page.locator("#view").getByRole("link", { name: "Sign in" }).waitFor();
    await checkA11y(page, "the history signed out");
    await b.assertNoErrors();
  });

  test("mark as watched, list it with its poster, watch it again, delete it", { timeout: 2 * TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "hist" });
    await signIn(page, user, { reload: false });
    const holidate = await firstId("content", "holidate");

    await b.goto(`/?title=${holidate}`);
    await page.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
    const mark = page.getByTestId("mark-watched");
    await mark.click();
    await page.getByText("Marked as watched: “Holidate” is in your history.").waitFor();

    await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "History" }).click();
    await page.waitForURL((u) => u.searchParams.get("view") === "history");
    await page.getByRole("heading", { level: 2, name: "My history" }).waitFor();
    const entries = page.getByTestId("history-entry");
    const entry = entries.filter({ hasText: "Holidate" });
    await entry.waitFor();
    assert.equal(await entries.count(), 1);
    assert.match(await entry.innerText(), /Holidate\s*\(2020\)/);
    assert.match(await entry.innerText(), /Watched /);
    await assertClean(page.locator("#view"));

    // Its poster, from the image host when the sample title has one there; its initials otherwise.
    const frame = entry.locator(".frame.poster");
    await frame.waitFor();
    const img = frame.locator("img");
    if (FIXTURES && (await img.count())) {
      assert.ok((await img.getAttribute("src")).startsWith(FIXTURES + "/"), "the poster from the image host");
      await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    } else {
      assert.equal((await frame.innerText()).trim(), "H", "the title's initial stands in");
    }
    await checkA11y(page, "my history");
    await shotsBoth(page, "history");

    // "Now watching" opens the title's now-watching page.
    const watching = entry.getByRole("link", { name: "Now watching Holidate" });
    assert.equal(await watching.getAttribute("href"), `/?watch=${holidate}`);
    await watching.click();
    await page.waitForURL((u) => u.searchParams.get("watch") === holidate);
    await page.goBack();
    await entry.waitFor();

    await entry.getByRole("button", { name: /^Delete Holidate/ }).click();
    await page.getByText(/^Deleted Holidate/).waitFor();
    assert.equal(await entries.count(), 0);
    await page.getByText("Nothing here yet.").waitFor();
    await checkA11y(page, "an empty history");
    await shotsBoth(page, "history-empty");

    // Deleted for real.
    await page.reload({ waitUntil: "load" });
    await page.getByText("Nothing here yet.").waitFor();
    const listed = await apiCall("/api/v1/users/me/history", { token: user.accessToken });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.data.length, 0);
    await b.assertNoErrors();
  });

  test("Show more pages through a long history", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "histp" });
    // 21 views (one a page more than a page): one title, one view a day.
    const contentId = await firstId("content", "breach");
    for (let d = 1; d <= 21; d++) {
      const viewedAt = new Date(Date.now() - d * 86_400_000).toISOString();
      const r = await apiCall("/api/v1/users/me/history", {
        method: "POST", token: user.accessToken, body: { contentId, viewedAt },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await page.evaluate(() => localStorage.clear());
    await signIn(page, user, { reload: false });
    await b.goto("/?view=history");
    const entries = page.getByTestId("history-entry");
    await entries.nth(19).waitFor();
    assert.equal(await entries.count(), 20);
    await page.getByRole("button", { name: "Show more" }).click();
    await entries.nth(20).waitFor();
    assert.equal(await entries.count(), 21);
    assert.equal(await page.getByRole("button", { name: "Show more" }).isVisible(), false);
    await b.assertNoErrors();
  });
});

describe("my history at a desktop's size, in the light scheme", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "desktop", colorScheme: "light" });
  });
  after(async () => {
    await b?.close();
  });

  test("the list passes axe; an episode says which it is", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "histd" });
    const movie = await firstId("content", "saurus city");
    const series = await firstId("content", "star trek discovery");
    const episodes = await apiCall(`/api/v1/content/${series}/episodes?season=1&limit=1`);
    assert.equal(episodes.status, 200, JSON.stringify(episodes.body));
    const episode = episodes.body.data[0];
    for (const body of [{ contentId: movie }, { contentId: episode.id, context: { season: 1, episode: episode.episodeNumber } }]) {
      const r = await apiCall("/api/v1/users/me/history", { method: "POST", token: user.accessToken, body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await signIn(page, user, { reload: false });
    await b.goto("/?view=history");
    await page.getByTestId("history-entry").filter({ hasText: "Saurus City" }).waitFor();
    const seen = page.getByTestId("history-entry").filter({ hasText: episode.title });
    assert.match(await seen.innerText(), new RegExp(`Episode · season 1, episode ${episode.episodeNumber}`));
    await checkA11y(page, "my history (desktop, light)");
    await b.assertNoErrors();
  });
});
