// Search: a typo still finds the actor, the results are faces (a photo from the image host, or initials),
// the search is a URL (back, forward, deep links), nothing found says so, and the keyboard walks the results.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  FIXTURES, TEST_TIMEOUT_MS, UUID, assertClean, checkA11y, openBrowser, shotsBoth,
} from "../lib/harness.mjs";

describe("search at a phone's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
  });
  after(async () => {
    await b?.close();
  });

  test("the home page", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const response = await b.goto("/");
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), "I Know");
    await page.getByTestId("search-input").waitFor();
    await checkA11y(page, "the home page");
    await shotsBoth(page, "home");
    await b.assertNoErrors();
  });

  test("a typo finds Bruce Willis; his card opens him; back and forward", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    await page.getByTestId("search-input").pressSequentially("bruce wilis", { delay: 20 });

    const results = page.getByTestId("search-results");
    const card = results.getByTestId("actor-card").filter({ hasText: "Bruce Willis" }).first();
    await card.waitFor({ state: "visible" });
    await page.locator("#status", { hasText: /^\d+ actors?( and \d+ titles?)? match(es)?$/ }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get("q"), "bruce wilis", "the search is in the URL");
    await assertClean(results);

    // His photo comes from the image host (imported from the TMDB stand-in) and loads.
    const photo = card.locator("img");
    await photo.waitFor();
    const src = await photo.evaluate((img) => /** @type {HTMLImageElement} */ (img).currentSrc || img.getAttribute("src"));
    if (FIXTURES) assert.ok(src.startsWith(FIXTURES + "/t/p/"), `photo from the image host: ${src}`);
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await photo.elementHandle());

    await checkA11y(page, "search results");
    await shotsBoth(page, "results");

    await card.click();
    await page.waitForURL((u) => u.searchParams.has("actor"));
    const id = new URL(page.url()).searchParams.get("actor");
    assert.match(id ?? "", UUID, `actor id in ${page.url()}`);
    const profile = page.getByTestId("actor-profile");
    await profile.getByRole("heading", { level: 2, name: "Bruce Willis" }).waitFor();
    // His filmography: Breach, as Clay.
    const breach = profile.getByRole("link", { name: "Breach", exact: true });
    await breach.first().waitFor();
    assert.match(await profile.innerText(), /\bClay\b/);
    assert.equal(await results.count(), 0, "the results are gone once the actor is open");
    await assertClean(profile);
    await checkA11y(page, "Bruce Willis's page");
    await shotsBoth(page, "actor");

    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has("actor"));
    await card.waitFor({ state: "visible" }); // the same search's results
    await page.goForward();
    await page.waitForURL((u) => u.searchParams.get("actor") === id);
    await breach.first().waitFor();

    // A deep link opens the actor directly.
    await b.goto(`/?actor=${id}`);
    await profile.getByRole("heading", { level: 2, name: "Bruce Willis" }).waitFor();
    await b.assertNoErrors();
  });

  test("an actor without a photo shows initials", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?q=tim%20meadows");
    const card = page.getByTestId("actor-card").filter({ hasText: "Tim Meadows" }).first();
    await card.waitFor();
    assert.equal(await card.locator("img").count(), 0, "no picture");
    assert.equal((await card.innerText()).includes("TM"), true, "his initials stand in for the photo");
    await b.assertNoErrors();
  });

  test("nothing found says so", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?q=" + encodeURIComponent("qqxzv wwkjh"));
    const none = page.getByTestId("no-results");
    await none.waitFor();
    assert.match(await none.innerText(), /Nothing matches/);
    assert.equal(await page.getByTestId("search-results").count(), 0);
    await checkA11y(page, "no results");
    await shotsBoth(page, "no-results");
    await b.assertNoErrors();
  });
});

describe("search with the keyboard at a desktop's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "desktop" });
  });
  after(async () => {
    await b?.close();
  });

  test("arrows walk the results, Enter opens one", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    const box = page.getByTestId("search-input");
    await box.focus();
    await page.keyboard.type("emma roberts", { delay: 20 });
    const cards = page.getByTestId("search-results").locator("a");
    // Typing searches as it goes: wait for the results of the whole query before walking them.
    await page.waitForURL((u) => u.searchParams.get("q") === "emma roberts");
    await page.locator("#status", { hasText: /match/ }).waitFor();
    await page.getByTestId("actor-card").filter({ hasText: "Emma Roberts" }).first().waitFor();
    assert.ok((await cards.count()) >= 2, "more than one result to walk");
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");

    await page.keyboard.press("ArrowDown");
    const first = await cards.nth(0).innerText();
    assert.equal(await focused(), (await cards.nth(0).textContent()).trim(), "ArrowDown from the box: the first result");
    await page.keyboard.press("ArrowDown");
    assert.equal(await focused(), (await cards.nth(1).textContent()).trim(), "ArrowDown: the next result");
    await page.keyboard.press("ArrowUp");
    assert.equal(await focused(), (await cards.nth(0).textContent()).trim(), "ArrowUp: back to the first");
    // The focus is visible: an outline or a box shadow on the focused result.
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(/** @type {Element} */ (document.activeElement));
      return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
    });
    assert.ok(ring, "the focused result shows a focus ring");
    await page.keyboard.press("ArrowUp");
    assert.ok(await box.evaluate((el) => el === document.activeElement), "ArrowUp from the first: the box again");

    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.searchParams.has("actor") || u.searchParams.has("title"));
    const name = first.split("\n")[0].replace(/\s*\(.*\)$/, "").trim();
    await page.getByRole("heading", { level: 2, name }).waitFor();
    await b.assertNoErrors();
  });
});
