// A local stand-in for TMDB's API and image host, so the browser tests (and scripts/lighthouse) run with
// photos and posters and without the network. It answers the requests the ingest's `tmdb_person` job makes
// (services/scraper-ingest/src/tmdb/client.rs) for a handful of people of the bundled sample:
//   GET /3/find/{imdb id}?external_source=imdb_id     → {person_results | movie_results | tv_results: [{id}]}
//   GET /3/person/{id}                                 → name, imdb_id, birthday, gender, profile_path, biography
//   GET /3/person/{id}/combined_credits                → their acting credits *as the sample has them*
//   GET /3/movie/{id}, /3/tv/{id}?append_to_response=external_ids, /3/{movie|tv}/{id}/credits
//   GET /t/p/{size}/{file}.png                          → a small generated PNG (profiles and posters)
// Every API call needs `api_key` (401 otherwise, as TMDB). A title's TMDB id is the number of its IMDb id
// (tt9866072 → 9866072). The credits repeat the sample's own (same titles, same characters), so importing a
// person adds their photo, birth date and biography and the titles' posters, and no credit: the sample casts
// the other tests rely on stay as they are. Some people of the same casts are left out (no photo: the
// initials placeholder), and Frances Fisher is served without a photo.
//
//   import { startFixtures } from "./lib/fixtures.mjs";
//   const tmdb = await startFixtures({ apiKey: "k" });  // tmdb.url, tmdb.apiBase, tmdb.imageBase, tmdb.close()

import { createReadStream } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Canvas, circle, ellipse, hash, hsl, roundedRect } from "./png.mjs";

const SAMPLE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "data", "sample", "imdb");

/**
 * The people the stand-in knows (TMDB ids are made up, in a range of their own). `photo: false`: TMDB has
 * them without a profile picture.
 */
export const PEOPLE = [
  // Holidate (2020)
  { imdb: "nm0731075", tmdb: 7_100_001, name: "Emma Roberts", gender: 1, birthday: "1991-02-10", place: "Rhinebeck, New York, USA" },
  { imdb: "nm3478396", tmdb: 7_100_002, name: "Luke Bracey", gender: 2, birthday: "1989-04-26", place: "Sydney, Australia" },
  { imdb: "nm0155693", tmdb: 7_100_003, name: "Kristin Chenoweth", gender: 1, birthday: "1968-07-24", place: "Broken Arrow, Oklahoma, USA" },
  { imdb: "nm0004920", tmdb: 7_100_004, name: "Frances Fisher", gender: 1, birthday: "1952-05-11", place: "Milford-on-Sea, England", photo: false },
  // Saurus City (Emma Roberts again; Tim Meadows and Aimee Garcia are left out)
  { imdb: "nm0000579", tmdb: 7_100_005, name: "Ron Perlman", gender: 2, birthday: "1950-04-13", place: "New York City, USA" },
  { imdb: "nm0000566", tmdb: 7_100_006, name: "Julia Ormond", gender: 1, birthday: "1965-01-04", place: "Epsom, England" },
  { imdb: "nm0000598", tmdb: 7_100_007, name: "Dennis Quaid", gender: 2, birthday: "1954-04-09", place: "Houston, Texas, USA" },
  // Breach (2020)
  { imdb: "nm0000246", tmdb: 7_100_008, name: "Bruce Willis", gender: 2, birthday: "1955-03-19", place: "Idar-Oberstein, West Germany" },
  // Star Trek: The Original Series (DeForest Kelley and Jeffrey Hunter are left out)
  { imdb: "nm650000574", tmdb: 7_100_009, name: "Leonard Nimoy", gender: 2, birthday: "1931-03-26", deathday: "2015-02-27", place: "Boston, Massachusetts, USA" },
  { imdb: "nm650000990", tmdb: 7_100_010, name: "William Shatner", gender: 2, birthday: "1931-03-22", place: "Montreal, Quebec, Canada" },
];

/** Titles served without a poster (the placeholder shows). */
const POSTERLESS = new Set(["tt9833308"]); // Saurus City

/** Pixel width of each TMDB size path (h632 is a height: 421 px wide at 2:3); images are 2:3. */
const SIZES = { w92: 92, w154: 154, w185: 185, w300: 300, w342: 342, w500: 500, w780: 780, h632: 421, original: 1000 };

const slug = (s) => s.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/** Lines of a TSV file as arrays, the header first. */
async function* tsv(file) {
  const lines = createInterface({ input: createReadStream(join(SAMPLE, file)), crlfDelay: Infinity });
  for await (const line of lines) if (line) yield line.split("\t");
}

const nul = (v) => (v === "\\N" || v === undefined ? null : v);

/** The sample's credits and titles of the fixture people. */
async function loadSample() {
  const wanted = new Set(PEOPLE.map((p) => p.imdb));
  /** @type {Map<string, {tconst: string, ordering: number, characters: string[]}[]>} */
  const credits = new Map();
  const tconsts = new Set();
  let header = true;
  for await (const [tconst, ordering, nconst, category, , characters] of tsv("title.principals.tsv")) {
    if (header) {
      header = false;
      continue;
    }
    if (!wanted.has(nconst) || !["actor", "actress", "self"].includes(category)) continue;
    let names = [];
    try {
      names = nul(characters) ? JSON.parse(characters) : [];
    } catch {
      names = [];
    }
    if (!credits.has(nconst)) credits.set(nconst, []);
    credits.get(nconst).push({ tconst, ordering: Number(ordering), characters: names });
    tconsts.add(tconst);
  }
  /** @type {Map<string, {tconst: string, type: string, title: string, original: string, year: string | null, endYear: string | null, runtime: number | null, genres: string[]}>} */
  const titles = new Map();
  header = true;
  for await (const [tconst, type, title, original, , start, end, runtime, genres] of tsv("title.basics.tsv")) {
    if (header) {
      header = false;
      continue;
    }
    if (!tconsts.has(tconst)) continue;
    titles.set(tconst, {
      tconst, type, title, original, year: nul(start), endYear: nul(end),
      runtime: nul(runtime) ? Number(runtime) : null,
      genres: nul(genres) ? genres.split(",") : [],
    });
  }
  return { credits, titles };
}

// ---- images ------------------------------------------------------------------------------------------------

/** A profile picture: a head and shoulders in a light tone on a dark one, both picked from `seed`. */
function profileImage(seed, width, height) {
  const hue = hash(seed) % 360;
  const c = new Canvas(width, height);
  c.clear(hsl(hue, 0.32, 0.28));
  const w = width;
  c.fill(ellipse(w * 0.5, height * 1.02, w * 0.46, height * 0.36), hsl((hue + 20) % 360, 0.3, 0.62));
  c.fill(circle(w * 0.5, height * 0.44, w * 0.22), hsl((hue + 20) % 360, 0.3, 0.72),
    [w * 0.26, height * 0.44 - w * 0.24, w * 0.74, height * 0.44 + w * 0.24]);
  return c.png();
}

/** A poster: a two-tone background, a sun and a bar, picked from `seed`. */
function posterImage(seed, width, height) {
  const h = hash(seed);
  const hue = h % 360;
  const c = new Canvas(width, height);
  c.clear(hsl(hue, 0.45, 0.22));
  c.fill(roundedRect(-1, height * 0.62, width + 1, height + 1, 0), hsl((hue + 180) % 360, 0.35, 0.3));
  c.fill(circle(width * (0.3 + ((h >>> 9) % 40) / 100), height * 0.38, width * 0.2), hsl((hue + 40) % 360, 0.75, 0.6));
  c.fill(roundedRect(width * 0.1, height * 0.8, width * 0.9, height * 0.86, width * 0.02), hsl(hue, 0.1, 0.9));
  return c.png();
}

// ---- the server --------------------------------------------------------------------------------------------

/**
 * Starts the stand-in on `host:port` (0: any free port). `apiKey`: the key it accepts (anything non-empty
 * when not given).
 * @param {{port?: number, host?: string, apiKey?: string, log?: (line: string) => void}} [options]
 */
export async function startFixtures({ port = 0, host = "127.0.0.1", apiKey = "", log = () => {} } = {}) {
  const { credits, titles } = await loadSample();
  const byTmdb = new Map(PEOPLE.map((p) => [p.tmdb, p]));
  const byImdb = new Map(PEOPLE.map((p) => [p.imdb, p]));
  const profileFile = (p) => (p.photo === false ? null : `${slug(p.name)}.png`);
  const posterFile = (t) => (POSTERLESS.has(t.tconst) ? null : `poster-${t.tconst}.png`);
  const media = (t) => (t.type === "tvSeries" || t.type === "tvMiniSeries" ? "tv" : t.type === "movie" || t.type === "tvMovie" ? "movie" : null);
  const titleById = (kind, id) => {
    const t = titles.get(`tt${id}`);
    return t && media(t) === kind ? t : null;
  };
  /** @type {Map<string, Buffer>} */
  const images = new Map();
  const imageFiles = new Map();
  for (const p of PEOPLE) if (profileFile(p)) imageFiles.set(profileFile(p), { kind: "profile", seed: p.name });
  for (const t of titles.values()) if (posterFile(t) && media(t)) imageFiles.set(posterFile(t), { kind: "poster", seed: t.title });
  /** @type {string[]} every request, "GET /3/person/7100001" */
  const requests = [];

  const person = (p) => ({
    id: p.tmdb,
    imdb_id: p.imdb,
    name: p.name,
    also_known_as: [],
    birthday: p.birthday,
    deathday: p.deathday ?? null,
    gender: p.gender,
    known_for_department: "Acting",
    place_of_birth: p.place,
    profile_path: profileFile(p) ? `/${profileFile(p)}` : null,
    biography: `${p.name} (born ${p.birthday} in ${p.place}) is an actor of the bundled sample catalogue. ` +
      "This biography comes from the test stand-in for TMDB.",
    popularity: 10,
    adult: false,
  });
  const year = (t) => (t.year ? `${t.year}-01-01` : "");
  const movie = (t) => ({
    id: Number(t.tconst.slice(2)),
    imdb_id: t.tconst,
    title: t.title,
    original_title: t.original,
    release_date: year(t),
    runtime: t.runtime,
    adult: false,
    genres: t.genres.map((name, i) => ({ id: i + 1, name })),
    poster_path: posterFile(t) ? `/${posterFile(t)}` : null,
    overview: "",
  });
  const tv = (t) => ({
    id: Number(t.tconst.slice(2)),
    name: t.title,
    original_name: t.original,
    first_air_date: year(t),
    last_air_date: t.endYear ? `${t.endYear}-06-01` : "",
    status: t.endYear ? "Ended" : "Returning Series",
    episode_run_time: t.runtime ? [t.runtime] : [],
    adult: false,
    genres: t.genres.map((name, i) => ({ id: i + 1, name })),
    external_ids: { imdb_id: t.tconst },
    poster_path: posterFile(t) ? `/${posterFile(t)}` : null,
    overview: "",
  });
  const combined = (p) => ({
    id: p.tmdb,
    cast: (credits.get(p.imdb) || []).flatMap((c) => {
      const t = titles.get(c.tconst);
      const kind = t && media(t);
      if (!kind) return []; // episodes: TMDB lists a series once
      const base = { id: Number(t.tconst.slice(2)), media_type: kind, character: c.characters.join(" / "), popularity: 5 };
      return [kind === "movie"
        ? { ...base, title: t.title, release_date: year(t), order: c.ordering - 1 }
        : { ...base, name: t.title, first_air_date: year(t), episode_count: 1 }];
    }),
    crew: [],
  });
  const castOf = (t) => ({
    id: Number(t.tconst.slice(2)),
    cast: PEOPLE.flatMap((p) => (credits.get(p.imdb) || [])
      .filter((c) => c.tconst === t.tconst)
      .map((c) => ({ id: p.tmdb, name: p.name, character: c.characters.join(" / "), order: c.ordering - 1, gender: p.gender }))),
    crew: [],
  });

  const json = (res, status, body) => {
    res.writeHead(status, { "content-type": "application/json;charset=utf-8", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };
  const notFound = (res) => json(res, 404, { success: false, status_code: 34, status_message: "The resource you requested could not be found." });

  /** @param {string} path */
  const api = (path, query) => {
    let m;
    if ((m = /^\/find\/(\w+)$/.exec(path))) {
      const id = m[1];
      const p = byImdb.get(id);
      const t = titles.get(id);
      return [200, {
        person_results: p ? [{ id: p.tmdb, name: p.name }] : [],
        movie_results: t && media(t) === "movie" ? [{ id: Number(id.slice(2)) }] : [],
        tv_results: t && media(t) === "tv" ? [{ id: Number(id.slice(2)) }] : [],
      }];
    }
    if ((m = /^\/person\/(\d+)(\/combined_credits)?$/.exec(path))) {
      const p = byTmdb.get(Number(m[1]));
      if (!p) return null;
      return [200, m[2] ? combined(p) : person(p)];
    }
    if ((m = /^\/(movie|tv)\/(\d+)(\/credits)?$/.exec(path))) {
      const t = titleById(m[1], m[2]);
      if (!t) return null;
      if (m[3]) return [200, castOf(t)];
      if (m[1] === "movie") return [200, movie(t)];
      const body = tv(t);
      if (!(query.get("append_to_response") || "").split(",").includes("external_ids")) delete body.external_ids;
      return [200, body];
    }
    return null;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url || "/", "http://fixtures");
    requests.push(`${req.method} ${url.pathname}`);
    log(`${req.method} ${url.pathname}`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let m;
    if ((m = /^\/t\/p\/([a-z0-9]+)\/([a-z0-9-]+\.png)$/.exec(url.pathname))) {
      const width = SIZES[m[1]];
      const spec = imageFiles.get(m[2]);
      if (!width || !spec) {
        res.writeHead(404, { "content-type": "text/plain", "access-control-allow-origin": "*" }).end("no such image\n");
        return;
      }
      const key = `${m[1]}/${m[2]}`;
      if (!images.has(key)) {
        const height = Math.round(width * 1.5);
        images.set(key, spec.kind === "profile" ? profileImage(spec.seed, width, height) : posterImage(spec.seed, width, height));
      }
      const body = images.get(key);
      const etag = `"${hash(key).toString(16)}-${body.length}"`;
      const headers = {
        "content-type": "image/png",
        "content-length": String(body.length),
        "cache-control": "public, max-age=31536000, immutable",
        etag,
        "access-control-allow-origin": "*",
        "timing-allow-origin": "*",
        "cross-origin-resource-policy": "cross-origin",
      };
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, headers);
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (url.pathname.startsWith("/3/")) {
      const key = url.searchParams.get("api_key") || "";
      if (!key || (apiKey && key !== apiKey)) {
        json(res, 401, { success: false, status_code: 7, status_message: "Invalid API key: You must be granted a valid key." });
        return;
      }
      const answer = api(url.pathname.slice(2), url.searchParams);
      if (answer) json(res, answer[0], answer[1]);
      else notFound(res);
      return;
    }
    notFound(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const url = `http://${host}:${address.port}`;
  return {
    url,
    port: address.port,
    /** [ingest] tmdb_base_url */
    apiBase: `${url}/3`,
    /** [ingest] tmdb_image_base_url */
    imageBase: `${url}/t/p/original`,
    people: PEOPLE,
    /** The IMDb ids of the people served with a photo. */
    withPhoto: PEOPLE.filter((p) => p.photo !== false).map((p) => p.imdb),
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve(undefined));
    }),
  };
}
