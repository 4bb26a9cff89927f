// The title page: poster (or initials), title, year, genres, the cast as faces, the faces you know (signed in),
// "I'm watching this", "Mark as watched" and "Add to watchlist" (a second add says it is already there); a
// series lists its seasons and episodes, an episode links to its series.
//
// Sample facts used (data/sample/imdb): Holidate (2020, Comedy and Romance, 104 min) credits Emma Roberts as
// Sloane, Luke Bracey as Jackson, Kristin Chenoweth as Aunt Susan and Frances Fisher as Elaine; Saurus City
// credits Emma Roberts too and has no year; Star Trek: The Original Series (1966–1969) has 29, 26 and 24
// episodes in seasons 1 to 3, S1E3 being "Where No Man Has Gone Before". The sample has no ratings, so the
// rating line is checked on the page's own formatter. With the TMDB stand-in, Holidate has a poster and Saurus
// City none.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  FIXTURES, TEST_TIMEOUT_MS, apiCall, assertClean, checkA11y, firstId, openBrowser, registerUser, shotsBoth, signIn,
} from "../lib/harness.mjs";

let holidate;
let saurusCity;
before(async () => {
  holidate = await firstId("content", "Holidate");
  saurusCity = await firstId("content", "Saurus City");
});

describe("the title page at a phone's size, signed in", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  let user;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
    user = await registerUser({ prefix: "titles" });
    const r = await apiCall("/api/v1/users/me/history", { method: "POST", token: user.accessToken, body: { contentId: saurusCity } });
    assert.equal(r.status, 201);
  });
  after(async () => {
    await b?.close();
  });

  test("Holidate: poster, facts, genres, the cast as faces and the face you know", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    await signIn(page, user);
    await b.goto(`/?title=${holidate}`);
    const title = page.getByTestId("title-page");
    await title.getByRole("heading", { level: 2, name: "Holidate", exact: true }).waitFor();
    const poster = title.locator(".title-hero .frame.poster");
    if (FIXTURES) {
      const img = poster.locator("img");
      assert.equal(await img.getAttribute("alt"), "Poster of Holidate");
      await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    } else {
      assert.equal(await poster.innerText(), "H", "its initial stands in for the poster");
    }
    assert.match(await title.locator(".facts").innerText(), /^Movie · 2020 · 104 min$/);
    assert.deepEqual(await title.getByRole("list", { name: "Genres" }).locator("li").allInnerTexts(), ["Comedy", "Romance"]);
    assert.equal(await title.locator(".rating-line").count(), 0, "no rating in the sample: none shown");

    const cast = title.getByTestId("cast-face");
    assert.deepEqual(await cast.locator(".face-name").allInnerTexts(),
      ["Emma Roberts", "Luke Bracey", "Kristin Chenoweth", "Frances Fisher"]);
    assert.deepEqual(await cast.locator(".face-role").allInnerTexts(), ["Sloane", "Jackson", "Aunt Susan", "Elaine"]);
    const known = title.getByTestId("familiar-face");
    assert.equal(await known.count(), 1);
    assert.match(await known.innerText(), /Emma Roberts[\s\S]*You saw them in Saurus City as Sasha Nutwagon/);
    await assertClean(title);
    await checkA11y(page, "Holidate's page");
    await shotsBoth(page, "holidate");
    await b.assertNoErrors();
  });

  test("add to the watchlist, twice; mark as watched once", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?title=${holidate}`);
    const add = page.getByTestId("watchlist-button");
    await add.click();
    await page.getByText("Added “Holidate” to your watchlist.").waitFor();
    assert.equal(await add.innerText(), "On your watchlist");
    const list = await apiCall("/api/v1/users/me/watchlist?limit=100", { token: user.accessToken });
    assert.deepEqual(list.body.data.map((i) => i.contentId), [holidate]);

    // A fresh page does not know: the server's 409 says it is already there.
    await b.goto(`/?title=${holidate}`);
    b.expectFailure("POST", /^\/api\/v1\/users\/me\/watchlist$/, 409);
    await page.getByTestId("watchlist-button").click();
    await page.getByText("“Holidate” is already on your watchlist.").waitFor();
    assert.equal(await page.getByTestId("watchlist-button").innerText(), "On your watchlist");

    await page.getByTestId("mark-watched").click();
    await page.getByText(/Marked as watched/).waitFor();
    const deadline = Date.now() + 5_000;
    let views = [];
    while (Date.now() < deadline) {
      const r = await apiCall("/api/v1/users/me/history?limit=100", { token: user.accessToken });
      views = r.body.data.filter((e) => e.contentId === holidate);
      if (views.length) break;
      await page.waitForTimeout(200);
    }
    assert.equal(views.length, 1, "one history entry for Holidate");
    await shotsBoth(page, "holidate-done");

    await page.getByRole("link", { name: "I'm watching this" }).click();
    await page.waitForURL((u) => u.searchParams.get("watch") === holidate);
    await page.getByTestId("now-watching").getByRole("heading", { level: 2, name: "Holidate", exact: true }).waitFor();
    await b.assertNoErrors();
  });

  test("the rating line: ★ 7.1 with its votes, spelled out for screen readers", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?title=${holidate}`);
    await page.getByTestId("title-page").waitFor();
    const line = await page.evaluate(async () => {
      const { rating } = await import("/js/pages/title.js");
      const el = rating({ rating: 7.1, voteCount: 12345 });
      return { visible: el.querySelector(".rating").textContent, text: el.textContent, none: rating({ rating: null }) };
    });
    assert.equal(line.visible, "★ 7.1");
    assert.match(line.text, /Rated 7\.1 out of 10 \(12[,.  ]?345 votes\)/);
    assert.equal(line.none, null);
    await b.assertNoErrors();
  });
});

describe("the title page at a desktop's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "desktop", colorScheme: "light" });
  });
  after(async () => {
    await b?.close();
  });

  test("signed out: the cast and an invitation; Saurus City has initials for a poster", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?title=${saurusCity}`);
    const title = page.getByTestId("title-page");
    await title.getByRole("heading", { level: 2, name: "Saurus City", exact: true }).waitFor();
    assert.equal(await title.locator(".title-hero .frame.poster img").count(), 0);
    assert.equal(await title.locator(".title-hero .frame.poster").innerText(), "SC");
    assert.ok((await title.getByTestId("cast-face").locator(".face-name").allInnerTexts()).includes("Emma Roberts"));
    assert.equal(await title.getByTestId("watchlist-button").count(), 0);
    assert.equal(await title.getByTestId("familiar-face").count(), 0);
    assert.match(await title.innerText(), /Sign in to mark titles as watched/);
    await title.getByRole("link", { name: "I'm watching this" }).waitFor();
    await assertClean(title);
    await checkA11y(page, "Saurus City signed out");
    await shotsBoth(page, "saurus-city");
    await b.assertNoErrors();
  });

  test("a series lists its seasons and episodes; an episode links to its series", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const tos = await firstId("content", "Star Trek: The Original Series");
    await b.goto(`/?title=${tos}`);
    const title = page.getByTestId("title-page");
    await title.getByRole("heading", { level: 2, name: "Star Trek: The Original Series", exact: true }).waitFor();
    assert.match(await title.locator(".facts").innerText(), /^Series · 1966–1969/);
    const seasons = title.locator("details.season");
    await seasons.first().waitFor();
    assert.deepEqual(await seasons.locator("summary").allInnerTexts(),
      ["Season 1 · 29 episodes", "Season 2 · 26 episodes", "Season 3 · 24 episodes"]);
    assert.equal(await seasons.first().evaluate((d) => /** @type {HTMLDetailsElement} */ (d).open), true);
    const third = seasons.first().getByRole("link", { name: "E3 · Where No Man Has Gone Before (1966)" });
    const castCount = await title.getByTestId("cast-face").count();
    assert.ok(castCount > 0 && castCount <= 48, `a page of the cast (${castCount})`);
    await checkA11y(page, "a series' page");
    await shotsBoth(page, "series");

    await third.click();
    const episode = await firstId("content", "Where No Man Has Gone Before");
    await page.waitForURL((u) => u.searchParams.get("title") === episode);
    await title.getByRole("heading", { level: 2, name: "Where No Man Has Gone Before", exact: true }).waitFor();
    const of = title.locator(".episode-of");
    assert.match(await of.innerText(), /^S1E3 of Star Trek: The Original Series \(1966\)$/);
    assert.equal(await of.getByRole("link").getAttribute("href"), `/?title=${tos}`);
    await checkA11y(page, "an episode's page");
    await shotsBoth(page, "episode");
    await b.assertNoErrors();
  });
});
