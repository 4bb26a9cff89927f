// Runs the TMDB stand-in (e2e/lib/fixtures.mjs) until SIGTERM or SIGINT:
//   node e2e/fixtures-server.mjs [--port N] [--api-key KEY] [--people]
// Prints its port on the first line of stdout (scripts/e2e and scripts/lighthouse read it); with --people,
// then the IMDb ids of the people it knows, one a line.

import { startFixtures } from "./lib/fixtures.mjs";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const fixtures = await startFixtures({
  port: Number(option("--port") || 0),
  apiKey: option("--api-key") || process.env.IKNOW_FIXTURES_API_KEY || "",
});
process.stdout.write(`${fixtures.port}\n`);
if (args.includes("--people")) process.stdout.write(fixtures.people.map((p) => `${p.imdb}\n`).join(""));

const stop = async () => {
  await fixtures.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
