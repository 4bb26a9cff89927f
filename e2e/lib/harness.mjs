// The browser-test harness every flow test (e2e/tests/*.test.mjs) builds on. scripts/e2e runs the files one
// at a time (`node --test --test-concurrency=1 e2e/tests/`) against a platform it started, with
//   IKNOW_BASE_URL      the gateway (http://127.0.0.1:PORT)
//   IKNOW_FIXTURES_URL  the stand-in for TMDB's API and image host (e2e/lib/fixtures.mjs)
//   IKNOW_MAIL_DIR      where the mailer writes its .eml files
//   IKNOW_SHOTS_DIR     where screenshots go (one folder per run; printed at the end)
//
// A test file:
//   const b = await openBrowser({ viewport: "phone" });     // or "desktop"
//   await b.goto("/?q=emma");
//   ... Playwright on b.page ...
//   await shotsBoth(b.page, "search-results");             // 390×844 and 1280×800
//   await checkA11y(b.page, "search results");              // axe-core: any violation fails
//   b.assertNoErrors();                                     // console errors, failed requests
//   await b.close();
// Chromium is Debian's (/usr/bin/chromium, or CHROMIUM_PATH), headless; Playwright never downloads a browser.

import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { chromium } from "playwright-core";

export const BASE = (process.env.IKNOW_BASE_URL || "").replace(/\/+$/, "");
export const ORIGIN = BASE ? new URL(BASE).origin : "";
export const FIXTURES = (process.env.IKNOW_FIXTURES_URL || "").replace(/\/+$/, "");
export const MAIL_DIR = process.env.IKNOW_MAIL_DIR || "";
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** Every Playwright wait (auto-waiting locators, clicks, navigations). */
export const STEP_TIMEOUT_MS = 15_000;
/** A test's bound: `test(name, { timeout: TEST_TIMEOUT_MS }, ...)`. */
export const TEST_TIMEOUT_MS = 90_000;

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export { UUID };

function requireBase() {
  assert.ok(BASE, "IKNOW_BASE_URL is not set: run the browser tests through scripts/e2e, or set it to a platform");
}

// ---- the browser ---------------------------------------------------------------------------------------

/**
 * A headless chromium with a fresh profile (a persistent context, so service workers, caches and IndexedDB
 * behave as on a device) at a phone (390×844, touch, 2× pixels) or desktop (1280×800) viewport.
 * @param {{viewport?: "phone" | "desktop", colorScheme?: "light" | "dark", locale?: string}} [options]
 */
export async function openBrowser({ viewport = "phone", colorScheme = "dark", locale = "en-GB" } = {}) {
  requireBase();
  const phone = viewport === "phone";
  const userDataDir = await mkdtemp(join(tmpdir(), "iknow-e2e-profile-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: VIEWPORTS[viewport],
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    colorScheme,
    locale,
    reducedMotion: "reduce",
    serviceWorkers: "allow",
    timeout: 30_000,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  return new Browser(context, page, userDataDir, viewport);
}

/**
 * One browser and what went wrong in it: console errors of its pages and failed requests to the app's origin
 * or the image host (a request the test provoked is allowed through `expectFailure`, and anything while
 * `setOffline(true)` is in force is expected to fail).
 */
export class Browser {
  /** @param {import("playwright-core").BrowserContext} context @param {import("playwright-core").Page} page */
  constructor(context, page, userDataDir, viewport) {
    this.context = context;
    this.page = page;
    this.viewport = viewport;
    this.userDataDir = userDataDir;
    this.offline = false;
    /** @type {{text: string, url: string}[]} */
    this.consoleErrors = [];
    /** @type {string[]} */
    this.failedRequests = [];
    /** Static GETs the browser itself cancelled (net::ERR_ABORTED): fetched again by assertNoErrors. */
    this.abortedGets = new Set();
    /** @type {{method: string, path: RegExp, status: number, url: string | null}[]} */
    this.expectedFailures = [];
    /** Console lines of requests that failed while offline (Chromium logs each as an error). */
    this.offlineUrls = new Set();

    const tracked = (url) => url.startsWith(ORIGIN + "/") || (FIXTURES && url.startsWith(FIXTURES + "/"));
    context.on("requestfailed", (req) => {
      if (!tracked(req.url())) return;
      const reason = req.failure()?.errorText || "";
      if (this.offline || /ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED/.test(reason)) {
        this.offlineUrls.add(req.url());
        return;
      }
      const path = new URL(req.url()).pathname;
      const expected = this.expectedFailures.find(
        (e) => !e.url && e.status === 0 && e.method === req.method() && e.path.test(path),
      );
      if (expected) {
        expected.url = req.url();
        return;
      }
      const api = path.startsWith("/api/");
      if (reason === "net::ERR_ABORTED" && req.method() === "GET" && !api) this.abortedGets.add(req.url());
      else this.failedRequests.push(`${req.method()} ${req.url()}: ${reason}`);
    });
    context.on("response", (res) => {
      if (!tracked(res.url()) || res.status() < 400) return;
      const method = res.request().method();
      const path = new URL(res.url()).pathname;
      const expected = this.expectedFailures.find(
        (e) => !e.url && e.method === method && e.path.test(path) && e.status === res.status(),
      );
      if (expected) expected.url = res.url();
      else this.failedRequests.push(`${method} ${res.url()}: HTTP ${res.status()}`);
    });
    const watch = (p) => {
      p.on("console", (msg) => {
        if (msg.type() === "error") this.consoleErrors.push({ text: msg.text(), url: msg.location().url });
      });
      p.on("pageerror", (err) => this.consoleErrors.push({ text: `uncaught: ${err.message}`, url: "" }));
    };
    for (const p of context.pages()) watch(p);
    context.on("page", watch);
  }

  /** The platform's URL of `path` ("/?q=emma"). @param {string} path */
  url(path = "/") {
    return BASE + path;
  }

  /** Opens `path` of the app in the page and waits for its load event; answers the navigation's response. */
  async goto(path = "/", options = {}) {
    return this.page.goto(this.url(path), { waitUntil: "load", ...options });
  }

  /**
   * Allows one error answer the test provokes on purpose (a refused form, a simulated expiry), and Chromium's
   * matching "Failed to load resource" console line. Status 0: a request that fails on the network (a route
   * the test aborts). Answers the entry; its `url` is set once it happened.
   * @param {string} method @param {RegExp} path @param {number} status
   */
  expectFailure(method, path, status) {
    const entry = { method, path, status, url: null };
    this.expectedFailures.push(entry);
    return entry;
  }

  /** Cuts (or restores) the network of every page and worker; failures meanwhile are expected. */
  async setOffline(offline) {
    this.offline = offline;
    await this.context.setOffline(offline);
  }

  /**
   * Fails on console errors and failed requests since the last call (then forgets them), apart from the
   * expected ones. Cancelled static GETs are fetched again and must answer below 400.
   */
  async assertNoErrors() {
    const provoked = (e) =>
      (/^Failed to load resource: the server responded with a status of \d+/.test(e.text) &&
        this.expectedFailures.some((x) => x.url === e.url && e.text.includes(`status of ${x.status}`))) ||
      (/^Failed to load resource: net::/.test(e.text) && this.expectedFailures.some((x) => x.url === e.url && x.status === 0));
    const offline = (e) =>
      /^Failed to load resource: net::ERR_INTERNET_DISCONNECTED/.test(e.text) || this.offlineUrls.has(e.url);
    const errors = this.consoleErrors.filter((e) => !provoked(e) && !offline(e)).map((e) => `${e.text} (${e.url})`);
    const failed = [...this.failedRequests];
    for (const url of this.abortedGets) {
      const res = await this.context.request.get(url);
      if (res.status() >= 400) failed.push(`GET ${url}: cancelled by the browser, HTTP ${res.status()} when fetched again`);
    }
    this.consoleErrors.length = 0;
    this.failedRequests.length = 0;
    this.abortedGets.clear();
    this.offlineUrls.clear();
    const unmet = this.expectedFailures.filter((e) => !e.url);
    this.expectedFailures.length = 0;
    assert.deepEqual(errors, [], "console errors");
    assert.deepEqual(failed, [], "failed requests");
    assert.deepEqual(unmet.map((e) => `${e.method} ${e.path} ${e.status}`), [], "expected failures that never happened");
  }

  async close() {
    await this.context.close().catch(() => {});
    await rm(this.userDataDir, { recursive: true, force: true });
  }
}

/** No missing value leaked into the page as text. @param {import("playwright-core").Locator} locator */
export async function assertClean(locator) {
  assert.doesNotMatch(await locator.innerText(), /\b(null|undefined|NaN|\[object Object\])\b/, "rendered text");
}

/**
 * Waits until the page is controlled by the app's service worker (it registers /sw.js after load and claims
 * the page once active).
 * @param {import("playwright-core").Page} page
 */
export async function waitForServiceWorker(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller != null, null, { polling: 100 });
}

// ---- screenshots ---------------------------------------------------------------------------------------

/** The run's screenshot folder: IKNOW_SHOTS_DIR (scripts/e2e makes one per run), else a temp folder. */
let shotsDir = process.env.IKNOW_SHOTS_DIR || "";
const taken = [];
/** Names of this file's screenshots start with the flow (the test file's name): "search-results-390x844.png". */
const FLOW = basename(process.argv[1] || "e2e").replace(/\.test\.m?js$|\.m?js$/, "");

function shotsFolder() {
  if (!shotsDir) {
    shotsDir = join(tmpdir(), `iknow-e2e-shots-${process.pid}`);
  }
  mkdirSync(shotsDir, { recursive: true });
  return shotsDir;
}
process.on("exit", () => {
  if (taken.length) console.log(`# ${taken.length} screenshots in ${shotsDir}`);
});

/** Lets layout and fonts settle after a resize or a navigation. @param {import("playwright-core").Page} page */
async function settled(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/**
 * Saves a screenshot of the page (the whole page by default) as `<flow>-<name>.png`; answers its path.
 * @param {import("playwright-core").Page} page @param {string} name
 */
export async function shot(page, name, { fullPage = true } = {}) {
  const path = join(shotsFolder(), `${FLOW}-${name}.png`);
  await page.screenshot({ path, fullPage });
  taken.push(path);
  return path;
}

/**
 * The page at both sizes, phone (390×844) and desktop (1280×800), by resizing the viewport; the viewport is
 * restored afterwards. Answers the two paths.
 * @param {import("playwright-core").Page} page @param {string} name
 */
export async function shotsBoth(page, name) {
  const before = page.viewportSize();
  const paths = [];
  for (const { width, height } of [VIEWPORTS.phone, VIEWPORTS.desktop]) {
    await page.setViewportSize({ width, height });
    await settled(page);
    paths.push(await shot(page, `${name}-${width}x${height}`));
  }
  if (before) await page.setViewportSize(before);
  await settled(page);
  return paths;
}

// ---- accessibility -------------------------------------------------------------------------------------

const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"];

/**
 * Runs axe-core (from node_modules, injected through the DevTools protocol, so the app's CSP needs no
 * exception) on the page as it is, and fails on any violation of WCAG 2.1 A/AA or axe's best practices with
 * a readable list.
 * @param {import("playwright-core").Page} page @param {string} label what is on screen, for the message
 * @param {{exclude?: string[], disableRules?: string[]}} [options] selectors left out; rules turned off (say why)
 */
export async function checkA11y(page, label, { exclude = [], disableRules = [] } = {}) {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(
    async ({ tags, exclude, disableRules }) => {
      const axe = /** @type {any} */ (window).axe;
      const rules = Object.fromEntries(disableRules.map((r) => [r, { enabled: false }]));
      const context = exclude.length ? { include: [document], exclude: exclude.map((s) => [s]) } : document;
      const r = await axe.run(context, { runOnly: { type: "tag", values: tags }, rules, resultTypes: ["violations"] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary, html: n.html })),
      }));
    },
    { tags: AXE_TAGS, exclude, disableRules },
  );
  if (!result.length) return;
  const lines = result.flatMap((v) => [
    `- ${v.id} (${v.impact}): ${v.help} [${v.nodes.length} element${v.nodes.length === 1 ? "" : "s"}] ${v.helpUrl}`,
    ...v.nodes.slice(0, 5).map((n) => `    ${n.target}: ${String(n.html).slice(0, 160)}\n      ${String(n.summary).replace(/\n/g, "\n      ")}`),
  ]);
  assert.fail(`accessibility violations on ${label} (${page.url()}):\n${lines.join("\n")}`);
}

// ---- the API -------------------------------------------------------------------------------------------

/**
 * A call to the platform's API from the test (not the browser): answers `{status, body, headers}` whatever
 * the status.
 * @param {string} path "/api/v1/…"
 * @param {{method?: string, body?: unknown, token?: string, headers?: Record<string, string>}} [options]
 */
export async function apiCall(path, { method = "GET", body, token, headers = {} } = {}) {
  requireBase();
  const res = await fetch(BASE + path, {
    method,
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

/** The id of the first search hit (`kind` "actors" or "content"). @param {"actors" | "content"} kind @param {string} q */
export async function firstId(kind, q) {
  const { status, body } = await apiCall(`/api/v1/${kind}/search?q=${encodeURIComponent(q)}&limit=1`);
  assert.equal(status, 200, `search ${kind} for ${q}`);
  assert.ok(body.data.length, `no ${kind} match ${q}`);
  return body.data[0].id;
}

/**
 * Registers a fresh user through the API (unique name), signs it in, and answers
 * `{username, email, password, id, accessToken, refreshToken, session}` (`session` as web/js/api.js stores it).
 * @param {{prefix?: string, password?: string}} [options]
 */
export async function registerUser({ prefix = "fan", password = "Correct-Horse-9!" } = {}) {
  const username = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const email = `${username}@example.com`;
  const reg = await apiCall("/api/v1/users/register", {
    method: "POST",
    body: { email, username, password, acceptTerms: true },
  });
  assert.equal(reg.status, 201, `register ${username}: ${JSON.stringify(reg.body)}`);
  return { ...(await login(username, password)), username, email, password };
}

/** Signs in through the API; answers `{id, accessToken, refreshToken, session}`. */
export async function login(loginName, password) {
  const res = await apiCall("/api/v1/auth/login", { method: "POST", body: { login: loginName, password } });
  assert.equal(res.status, 200, `login ${loginName}: ${JSON.stringify(res.body)}`);
  const d = res.body.data;
  const session = { accessToken: d.accessToken, refreshToken: d.refreshToken, user: { id: d.user.id, username: d.user.username } };
  return { id: d.user.id, accessToken: d.accessToken, refreshToken: d.refreshToken, session };
}

/**
 * Signs the page in as `user` (from registerUser or login): stores its session where web/js/api.js keeps it
 * (localStorage `iknow.session`) and reloads, unless `reload` is false.
 * @param {import("playwright-core").Page} page
 * @param {{session: {accessToken: string, refreshToken: string, user: {id: string, username: string}}}} user
 */
export async function signIn(page, user, { reload = true } = {}) {
  if (!page.url().startsWith(ORIGIN + "/")) await page.goto(BASE + "/", { waitUntil: "load" });
  await page.evaluate((s) => localStorage.setItem("iknow.session", JSON.stringify(s)), user.session);
  if (reload) await page.reload({ waitUntil: "load" });
}

// ---- mail ----------------------------------------------------------------------------------------------

/** RFC 2047 encoded words in a header ("=?UTF-8?Q?…?=", "=?utf-8?b?…?="). @param {string} value */
function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, enc, text) => {
      const bytes = enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64")
        : qpBytes(text.replace(/_/g, " "));
      return new TextDecoder(charset).decode(bytes);
    });
}

/** Quoted-printable → bytes (soft line breaks removed). @param {string} text */
function qpBytes(text) {
  const s = text.replace(/=\r?\n/g, "");
  const out = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(s[i], "utf8"));
  }
  return Buffer.from(out);
}

/** Splits a MIME entity into its (unfolded, lower-cased) headers and its body. @param {string} raw */
function parseEntity(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? "" : raw.slice(at).replace(/^\r?\n\r?\n/, "");
  /** @type {Record<string, string>} */
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** The decoded text of a leaf entity. */
function decodeBody(headers, body) {
  const encoding = (headers["content-transfer-encoding"] || "7bit").toLowerCase();
  const charset = /charset="?([^";]+)"?/i.exec(headers["content-type"] || "")?.[1] || "utf-8";
  const bytes = encoding === "base64"
    ? Buffer.from(body.replace(/\s+/g, ""), "base64")
    : encoding === "quoted-printable" ? qpBytes(body) : Buffer.from(body, "utf8");
  return new TextDecoder(charset).decode(bytes);
}

/** The text/plain and text/html parts of a (possibly multipart) entity. */
function parts(raw, found = { text: "", html: "" }) {
  const { headers, body } = parseEntity(raw);
  const type = (headers["content-type"] || "text/plain").toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(headers["content-type"] || "")?.[1];
  if (type.startsWith("multipart/") && boundary) {
    const chunks = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?\\n?`));
    for (const c of chunks.slice(1)) if (c.trim()) parts(c, found);
  } else if (type.startsWith("text/html")) {
    found.html ||= decodeBody(headers, body);
  } else if (type.startsWith("text/")) {
    found.text ||= decodeBody(headers, body);
  }
  return found;
}

/**
 * Reads one .eml file: `{file, to, subject, text, html, links}` (links: the http(s) URLs of the text part, or
 * of the HTML part's hrefs when there is no text part).
 * @param {string} file
 */
export async function readMail(file) {
  const raw = await readFile(file, "utf8");
  const { headers } = parseEntity(raw);
  const { text, html } = parts(raw);
  const fromText = text.match(/https?:\/\/[^\s<>"')\]]+/g) || [];
  const fromHtml = [...html.matchAll(/href="(https?:\/\/[^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, "&"));
  return {
    file,
    to: decodeHeader(headers.to || ""),
    subject: decodeHeader(headers.subject || ""),
    text,
    html,
    links: [...new Set(fromText.length ? fromText : fromHtml)],
  };
}

/**
 * The newest mail to `address` in IKNOW_MAIL_DIR (the mailer writes one .eml a mail), waiting up to
 * `timeoutMs` for one written at or after `since` (a Date or epoch ms; default: any) to arrive.
 * @param {string} address
 * @param {{since?: Date | number, timeoutMs?: number, subject?: RegExp}} [options]
 */
export async function latestMail(address, { since = 0, timeoutMs = 20_000, subject } = {}) {
  assert.ok(MAIL_DIR, "IKNOW_MAIL_DIR is not set: scripts/e2e points the mailer at a folder and sets it");
  const after = since instanceof Date ? since.getTime() : since;
  const deadline = Date.now() + timeoutMs;
  const needle = address.toLowerCase();
  for (;;) {
    const names = (await readdir(MAIL_DIR, { recursive: true }).catch(() => [])).filter((n) => n.endsWith(".eml"));
    const files = await Promise.all(names.map(async (n) => {
      const path = join(MAIL_DIR, n);
      const s = await stat(path).catch(() => null);
      return s && { path, mtime: s.mtimeMs };
    }));
    const candidates = files.filter((f) => f && f.mtime >= after - 1_000).sort((a, b) => b.mtime - a.mtime);
    for (const f of candidates) {
      const raw = await readFile(f.path, "utf8").catch(() => "");
      if (!raw.toLowerCase().includes(needle)) continue;
      const mail = await readMail(f.path);
      if (!mail.to.toLowerCase().includes(needle)) continue;
      if (subject && !subject.test(mail.subject)) continue;
      return mail;
    }
    if (Date.now() > deadline) {
      assert.fail(`no mail to ${address}${subject ? ` with a subject like ${subject}` : ""} in ${MAIL_DIR} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
