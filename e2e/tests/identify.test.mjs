// Identify: "who plays [character] in [title]" (with an optional year, season, episode) and free text, ranked
// answers with the photo, the role, the title and the confidence, each linking to the actor; the URL holds the
// question (shareable; back goes to the previous one); an empty answer says what to try.
//
// Sample facts used (data/sample/imdb): Leonard Nimoy plays Mr. Spock (a regular of Star Trek: The Original
// Series, 1966) and Mirror Spock; Ethan Peck plays Spock in Star Trek: Discovery (2017).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TEST_TIMEOUT_MS, assertClean, checkA11y, openBrowser, shotsBoth } from "../lib/harness.mjs";

/** The ranked answers' actor names, in order. */
const answerNames = (page) => page.getByTestId("identify-results").locator(".answer-name").allInnerTexts();

describe("identify at a phone's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
  });
  after(async () => {
    await b?.close();
  });

  test("who plays Spock in Star Trek (1966): Leonard Nimoy first, linking to him", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    await page.locator("#main-nav").getByRole("link", { name: "Identify" }).click();
    await page.getByRole("heading", { level: 2, name: "Who plays that character?", exact: true }).waitFor();
    await checkA11y(page, "the identify page");
    await shotsBoth(page, "empty");

    await page.getByLabel("Character", { exact: true }).fill("Spock");
    await page.getByLabel("Title", { exact: true }).fill("Star Trek");
    await page.getByText("Year, season, episode (optional)").click();
    await page.getByLabel("Year", { exact: true }).fill("1966");
    await page.getByRole("button", { name: "Who plays them?" }).click();
    await page.waitForURL((u) => u.searchParams.get("in") === "Star Trek");
    const url = new URL(page.url()).searchParams;
    assert.deepEqual([url.get("view"), url.get("character"), url.get("year")], ["identify", "Spock", "1966"]);

    const results = page.getByTestId("identify-results");
    await results.waitFor();
    const top = page.getByTestId("identify-answer").first();
    assert.equal(await top.locator(".answer-name").innerText(), "Leonard Nimoy");
    const text = await top.innerText();
    assert.match(text, /as Mr\. Spock/);
    assert.match(text, /in Star Trek: The Original Series \(1966\)/);
    assert.match(text, /\b\d{1,3}% sure\b/);
    const meter = top.locator("meter");
    const value = Number(await meter.getAttribute("value"));
    assert.ok(value > 0 && value <= 100, `confidence meter ${value}`);
    assert.match(text, new RegExp(`\\b${value}% sure`), "the meter shows the same confidence as the text");
    assert.ok((await answerNames(page)).includes("Ethan Peck"), "Discovery's Spock ranks too");
    // The form keeps the question.
    assert.equal(await page.getByLabel("Character", { exact: true }).inputValue(), "Spock");
    await assertClean(results);
    await checkA11y(page, "identify answers");
    await shotsBoth(page, "spock");

    await top.getByRole("link", { name: "Leonard Nimoy" }).click();
    await page.getByTestId("actor-profile").getByRole("heading", { level: 2, name: "Leonard Nimoy", exact: true }).waitFor();
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get("view") === "identify");
    await results.waitFor();
    assert.equal((await answerNames(page))[0], "Leonard Nimoy");
    await b.assertNoErrors();
  });

  test("a typo in the character and a partial title still find him", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?view=identify&character=spok&in=star%20trek%20original");
    await page.getByTestId("identify-results").waitFor();
    assert.equal((await answerNames(page))[0], "Leonard Nimoy");
    assert.equal(await page.getByLabel("Title", { exact: true }).inputValue(), "star trek original", "the form shows the shared question");
    await b.assertNoErrors();
  });

  test("free text, then back to the previous question", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?view=identify&character=spok&in=star%20trek%20original");
    await page.getByTestId("identify-results").waitFor();
    await page.getByLabel("Or ask in your own words").fill("who plays spok in the original series");
    await page.getByRole("button", { name: "Ask", exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get("q") === "who plays spok in the original series");
    await page.getByText(/Read as: the character “spok” in “the original series”/).waitFor();
    assert.equal((await answerNames(page))[0], "Leonard Nimoy");

    // "who plays Spock in Star Trek": both series have a Spock; Leonard Nimoy is among the answers.
    await page.getByLabel("Or ask in your own words").fill("who plays Spock in Star Trek");
    await page.getByRole("button", { name: "Ask", exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get("q") === "who plays Spock in Star Trek");
    await page.getByText(/Read as: the character “Spock” in “Star Trek”/).waitFor();
    assert.ok((await answerNames(page)).includes("Leonard Nimoy"));

    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get("q") === "who plays spok in the original series");
    await page.getByText(/Read as: the character “spok”/).waitFor();
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get("character") === "spok");
    // The previous question's page, drawn again from its URL: its form holds it.
    await page.waitForFunction(() =>
      /** @type {HTMLInputElement | null} */ (document.getElementById("identify-character"))?.value === "spok");
    assert.equal(await page.getByLabel("Title", { exact: true }).inputValue(), "star trek original");
    assert.equal((await answerNames(page))[0], "Leonard Nimoy");
    await b.assertNoErrors();
  });

  test("no answer explains what to try", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?view=identify&character=zzqx&in=qqxzv%20wwkjh");
    const none = page.getByTestId("no-results");
    await none.waitFor();
    const text = await none.innerText();
    assert.match(text, /No one found/);
    assert.match(text, /Check the title/);
    assert.match(text, /own words/);
    assert.equal(await page.getByTestId("identify-results").count(), 0);
    await checkA11y(page, "identify without answers");
    await shotsBoth(page, "no-answer");
    await b.assertNoErrors();
  });
});

describe("identify at a desktop's size", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "desktop", colorScheme: "light" });
  });
  after(async () => {
    await b?.close();
  });

  test("an actor's name as free text; a title without a character lists its cast", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/?view=identify&q=leonard%20nimoy");
    await page.getByTestId("identify-results").waitFor();
    const top = page.getByTestId("identify-answer").first();
    assert.equal(await top.locator(".answer-name").innerText(), "Leonard Nimoy");
    assert.match(await top.innerText(), /matched the actor's name/);
    await checkA11y(page, "identify by name");
    await shotsBoth(page, "by-name");

    await b.goto("/?view=identify&in=Holidate");
    await page.getByTestId("identify-results").waitFor();
    const all = await answerNames(page);
    for (const who of ["Emma Roberts", "Luke Bracey", "Kristin Chenoweth", "Frances Fisher"]) {
      assert.ok(all.includes(who), `${who} in ${all}`);
    }
    await b.assertNoErrors();
  });
});
