// Runs Lighthouse (this folder's pinned copy) on pages of a running platform and prints the scores as a
// markdown table, then what kept a category below 100. scripts/lighthouse starts the platform and calls it:
//   node e2e/lighthouse/run.mjs BASE_URL OUT_DIR "label=/path" ...
// Mobile emulation (Lighthouse's default form factor and simulated throttling), Debian's chromium (CHROME_PATH),
// headless; each page from a cold start (Lighthouse clears the origin's storage and service worker first).

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const [base, out, ...pages] = process.argv.slice(2);
if (!base || !out || !pages.length) {
  console.error('usage: node e2e/lighthouse/run.mjs BASE_URL OUT_DIR "label=/path" ...');
  process.exit(2);
}
const CLI = join(dirname(fileURLToPath(import.meta.url)), "node_modules", "lighthouse", "cli", "index.js");
const CATEGORIES = ["performance", "accessibility", "best-practices"];

const rows = [];
const below = [];
for (const [i, spec] of pages.entries()) {
  const at = spec.indexOf("=");
  const label = spec.slice(0, at);
  const path = spec.slice(at + 1);
  const report = join(out, `lighthouse-${i + 1}.json`);
  process.stderr.write(`lighthouse: ${label} (${path})\n`);
  await promisify(execFile)(process.execPath, [
    CLI,
    base + path,
    `--only-categories=${CATEGORIES.join(",")}`,
    "--output=json",
    `--output-path=${report}`,
    "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
    "--quiet",
  ], { env: { ...process.env, CHROME_PATH: process.env.CHROME_PATH || "/usr/bin/chromium" }, maxBuffer: 1 << 26 });
  const lhr = JSON.parse(await readFile(report, "utf8"));
  const score = (c) => Math.round((lhr.categories[c]?.score ?? 0) * 100);
  const metric = (id) => lhr.audits[id]?.displayValue ?? "";
  const shown = path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<id>");
  rows.push([label, `\`${shown}\``, ...CATEGORIES.map(score), metric("largest-contentful-paint"), metric("total-blocking-time"), metric("cumulative-layout-shift")]);
  for (const c of CATEGORIES) {
    if (score(c) === 100) continue;
    const failed = lhr.categories[c].auditRefs
      .filter((r) => r.weight > 0 || c !== "performance")
      .map((r) => lhr.audits[r.id])
      .filter((a) => a && a.score !== null && a.score < (c === "performance" ? 0.9 : 1) && a.scoreDisplayMode !== "informative");
    for (const a of failed) below.push(`- ${label}, ${c}: ${a.id} (${a.title})${a.displayValue ? `: ${a.displayValue}` : ""}`);
  }
}

const header = ["page", "URL", "performance", "accessibility", "best practices", "LCP", "TBT", "CLS"];
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map((h, i) => (i < 2 ? "---" : "---:")).join(" | ")} |`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
if (below.length) {
  console.log("\nBelow 100:");
  console.log(below.join("\n"));
}
