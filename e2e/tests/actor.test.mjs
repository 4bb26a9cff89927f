// The actor page: photo (or initials), name, birth date with age, professions; "You know them from…" with the
// share of their work seen (signed in) or an invitation to sign in; the filmography grouped by year, newest
// first, with characters, and a series once with its episode count and its episodes folded.
//
// Sample facts used (data/sample/imdb): Bruce Willis (born 1955) plays Clay in Breach (2020); Johnny Terris
// has movies in 2012, 2008, 2005, 2002 and 1996 (Bailey Stardust in Stardust Redux, 2012); DeForest Kelley is a
// regular of Star Trek: The Original Series (1966) as Dr. Leonard "Bones" McCoy, credited on 24 of its episodes;
// Emma Roberts plays Sloane in Holidate (2020) and Sasha Nutwagon in Saurus City (no year). With the TMDB
// stand-in (IKNOW_FIXTURES_URL), Bruce Willis has a photo and a birth date (19 March 1955).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  FIXTURES, TEST_TIMEOUT_MS, apiCall, assertClean, checkA11y, firstId, openBrowser, registerUser, shotsBoth, signIn,
} from "../lib/harness.mjs";

/** The years of the filmography's groups, in order ("" for titles without a year). */
const years = (profile) =>
  profile.getByTestId("filmography-year").evaluateAll((els) => els.map((e) => e.getAttribute("data-year")));

describe("actor pages at a phone's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
  });
  after(async () => {
    await b?.close();
  });

  test("Bruce Willis: Breach as Clay under 2020; signed out, an invitation", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const id = await firstId("actors", "Bruce Willis");
    await b.goto(`/?actor=${id}`);
    const profile = page.getByTestId("actor-profile");
    await profile.getByRole("heading", { level: 2, name: "Bruce Willis", exact: true }).waitFor();
    const born = await profile.getByTestId("actor-born").innerText();
    if (FIXTURES) {
      assert.match(born, /^Born 19 March 1955 \(age \d+\)$/);
      const photo = profile.locator(".actor-hero img");
      assert.equal(await photo.getAttribute("loading"), "eager", "the page's photo is not lazy");
      await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await photo.elementHandle());
    } else {
      assert.match(born, /^Born 1955$/);
    }
    assert.match(await profile.getByRole("list", { name: "Professions" }).innerText(), /Actor/);

    const group = profile.getByTestId("filmography-year").filter({ hasText: "2020" });
    const breach = group.getByTestId("filmography-entry").filter({ hasText: "Breach" });
    assert.match(await breach.innerText(), /^Breach\s+as Clay$/);
    assert.equal(await breach.getByRole("link", { name: "Breach" }).getAttribute("href"),
      `/?title=${await firstId("content", "Breach")}`);

    const known = profile.getByTestId("known-from");
    assert.match(await known.innerText(), /Sign in to see where you know Bruce Willis from\./);
    assert.match(await known.getByRole("link", { name: "Sign in" }).getAttribute("href"), /^\/\?view=login&next=/);
    await assertClean(profile);
    await checkA11y(page, "Bruce Willis's page");
    await shotsBoth(page, "bruce-willis");
    await b.assertNoErrors();
  });

  test("a filmography over several years, newest first", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?actor=${await firstId("actors", "Johnny Terris")}`);
    const profile = page.getByTestId("actor-profile");
    await profile.getByRole("heading", { level: 2, name: "Johnny Terris", exact: true }).waitFor();
    assert.deepEqual(await years(profile), ["2012", "2008", "2005", "2002", "1996"]);
    const first = profile.getByTestId("filmography-year").first();
    assert.match(await first.innerText(), /Stardust Redux\s+as Bailey Stardust/);
    await b.assertNoErrors();
  });
});

describe("actor pages at a desktop's size, signed in", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  let user;
  let tos;
  before(async () => {
    b = await openBrowser({ viewport: "desktop" });
    user = await registerUser({ prefix: "actors" });
    tos = await firstId("content", "Star Trek: The Original Series");
    for (const contentId of [tos, await firstId("content", "Saurus City")]) {
      const r = await apiCall("/api/v1/users/me/history", { method: "POST", token: user.accessToken, body: { contentId } });
      assert.equal(r.status, 201);
    }
  });
  after(async () => {
    await b?.close();
  });

  test("DeForest Kelley: the series once, with its 24 episodes folded; known from it", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    const id = await firstId("actors", "DeForest Kelley");
    await b.goto("/");
    await signIn(page, user);
    await b.goto(`/?actor=${id}`);
    const profile = page.getByTestId("actor-profile");
    await profile.getByRole("heading", { level: 2, name: "DeForest Kelley", exact: true }).waitFor();

    const entries = profile.getByTestId("filmography-entry").filter({ hasText: "Star Trek: The Original Series" });
    assert.equal(await entries.count(), 1, "the series is listed once");
    const series = entries.first();
    assert.match(await series.innerText(), /as Dr\. Leonard Horatio "Bones" McCoy/);
    const folded = series.locator("details");
    assert.equal(await folded.evaluate((d) => /** @type {HTMLDetailsElement} */ (d).open), false, "episodes folded");
    await series.getByText("24 episodes").click();
    const episodeLinks = series.locator("details ol > li");
    await episodeLinks.first().waitFor();
    assert.equal(await episodeLinks.count(), 24);
    assert.match(await episodeLinks.first().innerText(), /^S\d+E\d+ · /);
    assert.deepEqual(await years(profile), ["1966"]);

    const known = profile.getByTestId("known-from");
    const { body } = await apiCall(`/api/v1/actors/${id}/known-from`, { token: user.accessToken });
    const { seenCount, filmographyCount, share } = body.data;
    assert.ok(seenCount >= 1);
    assert.match(await known.innerText(),
      new RegExp(`You've seen ${seenCount} of their ${filmographyCount} titles? \\(${Math.round(share * 100)}%\\)`));
    assert.equal(await known.locator("meter").getAttribute("value"), String(Math.round(share * 100)));
    const item = known.getByTestId("known-from-item").filter({ hasText: "Star Trek: The Original Series" });
    assert.match(await item.innerText(), /as Dr\. Leonard Horatio "Bones" McCoy/);
    assert.equal(await item.getAttribute("href"), `/?title=${tos}`);
    await assertClean(profile);
    await checkA11y(page, "DeForest Kelley's page, signed in");
    await shotsBoth(page, "deforest-kelley");
    await b.assertNoErrors();
  });

  test("Emma Roberts: known from Saurus City; the title without a year comes last", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?actor=${await firstId("actors", "Emma Roberts")}`);
    const profile = page.getByTestId("actor-profile");
    await profile.getByRole("heading", { level: 2, name: "Emma Roberts", exact: true }).waitFor();
    const item = profile.getByTestId("known-from-item");
    await item.first().waitFor();
    assert.equal(await item.count(), 1);
    assert.match(await item.innerText(), /Saurus City[\s\S]*as Sasha Nutwagon[\s\S]*Last watched/);
    assert.match(await profile.getByTestId("known-from").innerText(), /You've seen 1 of their 2 titles \(50%\)/);
    assert.deepEqual(await years(profile), ["2020", ""]);
    assert.match(await profile.getByTestId("filmography-year").last().innerText(), /Year unknown[\s\S]*Saurus City/);
    await checkA11y(page, "Emma Roberts's page, signed in");
    await b.assertNoErrors();
  });
});
