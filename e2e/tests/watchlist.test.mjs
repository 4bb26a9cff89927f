// The watchlist (issue 13, flow 5): two titles added from their pages; filtered by status; status, priority and
// notes changed in place and still there after a reload; sorted by when added and by priority, both ways;
// an item removed.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  TEST_TIMEOUT_MS, apiCall, assertClean, checkA11y, firstId, openBrowser, registerUser, shotsBoth, signIn,
} from "../lib/harness.mjs";

/** The titles of the listed items, in order. */
const titles = (page) =>
  page.getByTestId("watchlist-item").locator(".wl-title a").allInnerTexts();

describe("the watchlist", () => {
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
    await b.goto("/?view=watchlist");
    await page.getByRole("heading", { level: 2, name: "Watchlist" }).waitFor();
    await page.locator("#view").getByRole("link", { name: "Sign in" }).waitFor();
    await checkA11y(page, "the watchlist signed out");
    await b.assertNoErrors();
  });

  test("add, filter, edit in place, sort, remove", { timeout: 2 * TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "wl" });
    await signIn(page, user, { reload: false });

    // Two titles from their pages: Holidate first, then Breach.
    for (const [q, name] of [["holidate", "Holidate"], ["breach", "Breach"]]) {
      await b.goto(`/?title=${await firstId("content", q)}`);
      await page.getByRole("heading", { level: 2, name }).waitFor();
      await page.getByTestId("watchlist-button").click();
      await page.getByText(`Added “${name}” to your watchlist.`).waitFor();
    }

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Watchlist" }).click();
    await page.waitForURL((u) => u.searchParams.get("view") === "watchlist");
    const items = page.getByTestId("watchlist-item");
    await items.nth(1).waitFor();
    assert.deepEqual(await titles(page), ["Breach", "Holidate"], "recently added first");
    await page.getByText("2 titles", { exact: true }).waitFor();
    await assertClean(page.locator("#view"));
    await checkA11y(page, "the watchlist");
    await shotsBoth(page, "watchlist");

    // Nothing is "Watching" yet.
    const show = page.getByRole("group", { name: "Show" });
    await show.getByText("Watching", { exact: true }).click();
    await page.getByText("Nothing on your watchlist is “Watching”.").waitFor();
    assert.equal(await items.count(), 0);
    assert.equal(new URL(page.url()).searchParams.get("status"), "watching", "the filter is in the URL");
    await checkA11y(page, "an empty filter");
    await show.getByText("All", { exact: true }).click();
    await items.nth(1).waitFor();

    // Holidate: watching, priority 7, a note (Enter saves). Breach: priority 2, a note saved on leaving the box.
    const holidate = items.filter({ hasText: "Holidate" });
    const breach = items.filter({ hasText: "Breach" });
    await holidate.getByLabel("Status").selectOption("watching");
    await holidate.getByRole("status").filter({ hasText: "Status: Watching. Saved." }).waitFor();
    await holidate.getByLabel("Priority").selectOption("7");
    await holidate.getByRole("status").filter({ hasText: "Priority 7. Saved." }).waitFor();
    await holidate.getByLabel("Notes").fill("With popcorn");
    await holidate.getByLabel("Notes").press("Enter");
    await holidate.getByRole("status").filter({ hasText: "Notes saved." }).waitFor();
    assert.equal(await holidate.getByLabel("Notes").inputValue(), "With popcorn", "Enter saves, it adds no line");
    await breach.getByLabel("Priority").selectOption("2");
    await breach.getByRole("status").filter({ hasText: "Priority 2. Saved." }).waitFor();
    await breach.getByLabel("Notes").fill("Bruce Willis as Clay");
    await breach.getByLabel("Notes").blur();
    await breach.getByRole("status").filter({ hasText: "Notes saved." }).waitFor();
    await shotsBoth(page, "watchlist-edited");

    // All of it on the server, and after a reload.
    const listed = await apiCall("/api/v1/users/me/watchlist", { token: user.accessToken });
    const byTitle = Object.fromEntries(listed.body.data.map((i) => [i.content.title, i]));
    assert.deepEqual([byTitle.Holidate.status, byTitle.Holidate.priority, byTitle.Holidate.notes], ["watching", 7, "With popcorn"]);
    assert.deepEqual([byTitle.Breach.status, byTitle.Breach.priority, byTitle.Breach.notes], ["to_watch", 2, "Bruce Willis as Clay"]);
    await page.reload({ waitUntil: "load" });
    await items.nth(1).waitFor();
    assert.equal(await holidate.getByLabel("Status").inputValue(), "watching");
    assert.equal(await holidate.getByLabel("Priority").inputValue(), "7");
    assert.equal(await holidate.getByLabel("Notes").inputValue(), "With popcorn");
    assert.equal(await breach.getByLabel("Priority").inputValue(), "2");
    assert.equal(await breach.getByLabel("Notes").inputValue(), "Bruce Willis as Clay");

    // Now "Watching" is Holidate alone.
    await show.getByText("Watching", { exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=watchlist-item]").length === 1);
    assert.deepEqual(await titles(page), ["Holidate"]);
    await page.reload({ waitUntil: "load" });
    await holidate.waitFor();
    assert.equal(await show.getByRole("radio", { name: "Watching" }).isChecked(), true, "the filter survives a reload");
    assert.deepEqual(await titles(page), ["Holidate"]);
    await show.getByText("All", { exact: true }).click();
    await items.nth(1).waitFor();

    // The orders.
    const sort = page.getByLabel("Sort");
    const sorted = async (value, expected) => {
      await sort.selectOption(value);
      await page.waitForFunction(
        (first) => document.querySelector("[data-testid=watchlist-item] .wl-title a")?.textContent === first
          && !document.querySelector(".watchlist[aria-busy]"),
        expected[0],
      );
      assert.deepEqual(await titles(page), expected, value);
    };
    await sorted("priority:desc", ["Holidate", "Breach"]);
    assert.equal(new URL(page.url()).searchParams.get("sort"), "priority");
    await sorted("priority:asc", ["Breach", "Holidate"]);
    await sorted("addedAt:asc", ["Holidate", "Breach"]);
    await sorted("addedAt:desc", ["Breach", "Holidate"]);

    // Remove Breach: the focus stays in the list.
    await breach.getByRole("button", { name: "Remove Breach from your watchlist" }).click();
    await page.getByText("Removed Breach from your watchlist.").waitFor();
    assert.deepEqual(await titles(page), ["Holidate"]);
    await page.getByText("1 title", { exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
      "Remove Holidate from your watchlist");
    await page.reload({ waitUntil: "load" });
    await holidate.waitFor();
    assert.equal(await items.count(), 1);
    await checkA11y(page, "the watchlist after a removal");
    await b.assertNoErrors();
  });
});

describe("the watchlist at a desktop's size, in the light scheme", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "desktop", colorScheme: "light" });
  });
  after(async () => {
    await b?.close();
  });

  test("the list passes axe", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const user = await registerUser({ prefix: "wld" });
    const contentId = await firstId("content", "holidate");
    const added = await apiCall("/api/v1/users/me/watchlist", {
      method: "POST", token: user.accessToken, body: { contentId, priority: 3, notes: "Christmas" },
    });
    assert.equal(added.status, 201);
    await signIn(page, user, { reload: false });
    await b.goto("/?view=watchlist");
    await page.getByTestId("watchlist-item").filter({ hasText: "Holidate" }).waitFor();
    await checkA11y(page, "the watchlist (desktop, light)");
    await b.goto("/?view=watchlist&status=paused");
    await page.getByText("Nothing on your watchlist is “Paused”.").waitFor();
    await checkA11y(page, "an empty filter (desktop, light)");
    await b.assertNoErrors();
  });
});
