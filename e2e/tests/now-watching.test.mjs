// Now watching: pick what is on (a search, or "continue" from history with the next episode), then the faces you
// know first with where you saw them, the character box that filters the cast as you type (typos welcome, the
// server's identification ranking the best answer first), the rest of the cast a page at a time, and "Mark as
// watched", which records exactly one view.
//
// Sample facts used (data/sample/imdb): Holidate (2020) credits Emma Roberts as Sloane, Luke Bracey as Jackson,
// Kristin Chenoweth as Aunt Susan and Frances Fisher as Elaine; Saurus City (no year) credits Emma Roberts as
// Sasha Nutwagon. Star Trek: The Original Series has Leonard Nimoy as Mr. Spock among its regulars; its S1E3 is
// "Where No Man Has Gone Before" and S1E4 "The Naked Time".

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  TEST_TIMEOUT_MS, apiCall, assertClean, checkA11y, firstId, openBrowser, registerUser, shotsBoth, signIn,
} from "../lib/harness.mjs";

/** Records a view of `contentId` for `user` through the API. */
async function seen(user, contentId) {
  const r = await apiCall("/api/v1/users/me/history", { method: "POST", token: user.accessToken, body: { contentId } });
  assert.ok(r.status === 201 || r.status === 200, `history ${contentId}: ${JSON.stringify(r.body)}`);
}

/** The user's history rows of `contentId`. */
async function viewsOf(user, contentId) {
  const r = await apiCall("/api/v1/users/me/history?limit=100", { token: user.accessToken });
  assert.equal(r.status, 200);
  return r.body.data.filter((e) => e.contentId === contentId);
}

/** The faces on screen, in order (the best match, the faces you know, then the cast). */
const visibleFaces = (page) =>
  page.locator("[data-testid=familiar-face]:visible, [data-testid=cast-face]:visible");

/** The name on each face, in order. */
const names = (faces) => faces.locator(".face-name").allInnerTexts();

let holidate;
let saurusCity;
let tos;
let whereNoMan;
before(async () => {
  holidate = await firstId("content", "Holidate");
  saurusCity = await firstId("content", "Saurus City");
  tos = await firstId("content", "Star Trek: The Original Series");
  whereNoMan = await firstId("content", "Where No Man Has Gone Before");
});

describe("now watching Holidate at a phone's size, signed in", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  let user;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
    user = await registerUser({ prefix: "watching" });
    await seen(user, saurusCity);
  });
  after(async () => {
    await b?.close();
  });

  test("pick it with the search; Emma Roberts comes first, seen in Saurus City", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    await signIn(page, user);
    await page.locator("#main-nav").getByRole("link", { name: "Now watching" }).click();
    await page.getByRole("heading", { level: 2, name: "What are you watching?", exact: true }).waitFor();
    // Continue: Saurus City, the latest (and only) view.
    await page.getByTestId("continue-item").filter({ hasText: "Saurus City" }).waitFor();
    await checkA11y(page, "the now-watching picker");
    await shotsBoth(page, "picker");

    await page.getByTestId("watch-search").pressSequentially("holidat", { delay: 20 });
    await page.getByTestId("watch-pick").filter({ hasText: "Holidate (2020)" }).first().click();
    await page.waitForURL((u) => u.searchParams.get("watch") === holidate);

    const watching = page.getByTestId("now-watching");
    await watching.getByRole("heading", { level: 2, name: "Holidate", exact: true }).waitFor();
    const known = page.getByTestId("familiar-face");
    await known.first().waitFor();
    assert.deepEqual(await names(known), ["Emma Roberts"], "the one face this user knows");
    const emma = known.first();
    assert.match(await emma.innerText(), /Sloane/);
    assert.match(await emma.innerText(), /You saw them in Saurus City as Sasha Nutwagon/);
    assert.equal(await emma.getByRole("link", { name: "Saurus City" }).getAttribute("href"), `/?title=${saurusCity}`);
    // The faces you know come before the rest of the cast, which leaves her out.
    assert.equal((await names(visibleFaces(page)))[0], "Emma Roberts");
    const cast = page.getByTestId("cast-face");
    assert.deepEqual((await names(cast)).sort(), ["Frances Fisher", "Kristin Chenoweth", "Luke Bracey"]);
    await assertClean(watching);
    await checkA11y(page, "now watching Holidate");
    await shotsBoth(page, "holidate");
    await b.assertNoErrors();
  });

  test("typing “sloan” shows Emma Roberts first, as the best match", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?watch=${holidate}`);
    const box = page.getByTestId("character-filter");
    await box.waitFor();
    assert.equal(await page.getByLabel("Who's that character?").getAttribute("data-testid"), "character-filter");
    await box.pressSequentially("sloan", { delay: 30 });
    // The server's answer arrives after the debounce: Emma Roberts, highlighted with its confidence.
    const best = page.locator(".face.best");
    await best.getByText(/Best match · \d+% sure/).waitFor();
    assert.equal(await best.locator(".face-name").innerText(), "Emma Roberts");
    assert.deepEqual(await names(visibleFaces(page)), ["Emma Roberts"], "only she matches");
    await page.getByRole("status").filter({ hasText: "best: Emma Roberts as Sloane" }).waitFor();
    await checkA11y(page, "the character box with an answer");
    await shotsBoth(page, "sloan");

    // A typo in an actor's name, and an accent that is not in the name, still find her and only her.
    await box.fill("");
    assert.equal(await visibleFaces(page).count(), 4, "an empty box shows every face again");
    await box.pressSequentially("kristn", { delay: 20 });
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=cast-face]:not([hidden])").length === 1);
    assert.deepEqual(await names(visibleFaces(page)), ["Kristin Chenoweth"]);
    await box.fill("");
    await box.pressSequentially("élaine", { delay: 20 });
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=cast-face]:not([hidden])").length === 1);
    assert.deepEqual(await names(visibleFaces(page)), ["Frances Fisher"]);
    // The server agrees (accents folded there too), with certainty.
    await page.locator(".face.best").getByText("Best match · 100% sure").waitFor();
    assert.equal(await page.locator(".face.best .face-name").innerText(), "Frances Fisher");
    await b.assertNoErrors();
  });

  test("mark as watched records exactly one view", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?watch=${holidate}`);
    assert.equal((await viewsOf(user, holidate)).length, 0);
    const mark = page.getByTestId("mark-watched");
    await mark.click();
    await page.getByText(/Marked as watched/).waitFor();
    // A second press changes nothing: the button is done (aria-disabled, so it keeps the focus).
    assert.equal(await mark.getAttribute("aria-disabled"), "true");
    await mark.dispatchEvent("click");
    const deadline = Date.now() + 5_000;
    while ((await viewsOf(user, holidate)).length === 0 && Date.now() < deadline) await page.waitForTimeout(200);
    await page.waitForTimeout(500);
    assert.equal((await viewsOf(user, holidate)).length, 1, "one history entry for Holidate");
    await shotsBoth(page, "marked");
    await b.assertNoErrors();
  });
});

describe("now watching signed out, at a phone's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone", colorScheme: "light" });
  });
  after(async () => {
    await b?.close();
  });

  test("the cast and the character box work; the rest invites to sign in", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?watch=${holidate}`);
    const watching = page.getByTestId("now-watching");
    await watching.getByRole("heading", { level: 2, name: "Holidate", exact: true }).waitFor();
    assert.equal(await page.getByTestId("familiar-face").count(), 0);
    assert.deepEqual((await names(page.getByTestId("cast-face"))).sort(),
      ["Emma Roberts", "Frances Fisher", "Kristin Chenoweth", "Luke Bracey"]);
    assert.equal(await page.getByTestId("mark-watched").count(), 0);
    const signInLinks = watching.getByRole("link", { name: /Sign in/ });
    assert.ok((await signInLinks.count()) >= 2, "the faces you know and mark as watched invite to sign in");
    for (const href of await signInLinks.evaluateAll((as) => as.map((a) => a.getAttribute("href")))) {
      assert.equal(new URLSearchParams(href.slice(2)).get("next"), `/?watch=${holidate}`);
    }
    await checkA11y(page, "now watching signed out");
    await shotsBoth(page, "signed-out");

    await page.getByTestId("character-filter").pressSequentially("slaone", { delay: 30 }); // two letters swapped
    await page.locator(".face.best").getByText(/Best match/).waitFor();
    assert.deepEqual(await names(visibleFaces(page)), ["Emma Roberts"]);
    await b.assertNoErrors();
  });
});

describe("now watching a series at a desktop's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  let user;
  before(async () => {
    b = await openBrowser({ viewport: "desktop" });
    user = await registerUser({ prefix: "trekkie" });
    await seen(user, whereNoMan);
  });
  after(async () => {
    await b?.close();
  });

  test("a series asks for the episode; the episode shows its regulars; “spok” finds Leonard Nimoy", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?view=watch");
    await signIn(page, user);
    // Continue offers the episode seen and the next one.
    const item = page.getByTestId("continue-item").filter({ hasText: "Where No Man Has Gone Before" });
    await item.waitFor();
    await page.getByRole("link", { name: "Next: S1E4 · The Naked Time" }).waitFor();

    await page.getByTestId("watch-search").pressSequentially("original series", { delay: 20 });
    await page.getByTestId("watch-pick").filter({ hasText: "Star Trek: The Original Series" }).first().click();
    await page.waitForURL((u) => u.searchParams.get("series") === tos);
    await page.getByRole("heading", { level: 2, name: "Which episode of Star Trek: The Original Series?", exact: true }).waitFor();
    assert.equal(await page.getByTestId("whole-series").getAttribute("href"), `/?watch=${tos}`);
    const episodes = page.getByTestId("episode-pick");
    await episodes.first().waitFor();
    assert.equal(await episodes.count(), 29, "season 1 has 29 episodes");
    await page.getByLabel("Season").selectOption("2");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=episode-pick]").length === 26);
    assert.equal(new URL(page.url()).searchParams.get("season"), "2", "the season is in the URL");
    await page.getByLabel("Season").selectOption("1");
    await checkA11y(page, "the episode picker");
    await shotsBoth(page, "episode-picker");

    await episodes.filter({ hasText: "E3 · Where No Man Has Gone Before" }).click();
    await page.waitForURL((u) => u.searchParams.get("watch") === whereNoMan);
    const watching = page.getByTestId("now-watching");
    await watching.getByRole("heading", { level: 2, name: "Star Trek: The Original Series", exact: true }).waitFor();
    assert.match(await watching.locator(".episode-line").innerText(), /^S1E3 · Where No Man Has Gone Before, of Star Trek: The Original Series$/);
    // The episode's guests and the series' regulars.
    const all = await names(page.getByTestId("cast-face"));
    for (const who of ["Leonard Nimoy", "William Shatner", "Sally Kellerman"]) assert.ok(all.includes(who), `${who} in ${all}`);

    await page.getByTestId("character-filter").pressSequentially("spok", { delay: 30 });
    await page.locator(".face.best").getByText(/Best match · \d+% sure/).waitFor();
    assert.equal((await names(visibleFaces(page)))[0], "Leonard Nimoy");
    await assertClean(watching);
    await checkA11y(page, "now watching an episode");
    await shotsBoth(page, "episode");
    await b.assertNoErrors();
  });

  test("the whole series: its cast a page at a time", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?watch=${tos}`);
    const cast = page.getByTestId("cast-face");
    await cast.first().waitFor();
    const first = await cast.count();
    const { body } = await apiCall(`/api/v1/content/${tos}?castLimit=1`);
    assert.ok(body.data.castTotal > first, `a page of the ${body.data.castTotal} faces (${first} shown)`);
    await page.getByRole("button", { name: /^Show more \(\d+ more\)$/ }).click();
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=cast-face]").length > n, first);
    const second = await cast.count();
    assert.equal(second, Math.min(2 * first, body.data.castTotal));
    // Faces read by "Show more" filter too: a guest of the second page.
    const late = await cast.nth(second - 1).locator(".face-name").innerText();
    await page.getByTestId("character-filter").pressSequentially(late, { delay: 10 });
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=cast-face]:not([hidden])").length >= 1);
    assert.ok((await names(visibleFaces(page))).includes(late), `${late} is found after Show more`);
    await b.assertNoErrors();
  });
});
