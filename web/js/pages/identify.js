// Identify: "who plays [character] in [title]" (optionally the year, season and episode) or a question in your
// own words ("the guy who plays spock"), answered by `GET /api/v1/identify` as ranked candidates. The URL holds
// the question (`/?view=identify&character=…&in=…&year=…&season=…&episode=…`, or `&q=…`), so an answer can be
// shared and the back button goes to the previous question.

import { api } from "../api.js";
import { actorHref, fill, h, heading, inYear, plural, playing, titleHref } from "../dom.js";
import { picture } from "../ui.js";
import { imageOf, sxe } from "./title.js";

/** The URL parameters of a question, in the order they appear in the URL. */
const FIELDS = ["character", "in", "year", "season", "episode"];

/** @param {import("../../app.js").Ctx} ctx */
export async function render({ root, params, view, navigate, status }) {
  const get = (/** @type {string} */ k) => (params.get(k) || "").trim();
  const q = get("q");
  const character = get("character");
  const title = get("in");

  /** A text field of the forms. @param {string} id @param {string} label @param {Record<string, string>} attrs */
  const field = (id, label, attrs, hint = "") => h("div", { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, class: "input", autocomplete: "off", ...attrs, "aria-describedby": hint ? `${id}-hint` : null }),
    hint && h("p", { class: "hint", id: `${id}-hint` }, hint));

  const numbers = (/** @type {string} */ name, /** @type {string} */ label) =>
    field(`identify-${name}`, label, { name, type: "text", inputmode: "numeric", pattern: "[0-9]*", value: get(name) });

  const byTitle = h("form", { class: "identify-form", "aria-labelledby": "identify-title-legend", novalidate: true },
    h("p", { class: "form-title", id: "identify-title-legend" }, "Who plays the character in the title?"),
    h("div", { class: "identify-pair" },
      field("identify-character", "Character", { name: "character", type: "text", value: character,
        placeholder: "Spock", spellcheck: "false", maxlength: "200" }),
      field("identify-in", "Title", { name: "in", type: "text", value: title, placeholder: "Star Trek",
        spellcheck: "false", maxlength: "200", required: "" })),
    h("details", { class: "identify-more", open: get("year") || get("season") || get("episode") ? true : null },
      h("summary", null, "Year, season, episode (optional)"),
      h("div", { class: "identify-numbers" },
        numbers("year", "Year"), numbers("season", "Season"), numbers("episode", "Episode"))),
    h("button", { type: "submit", class: "btn primary" }, "Who plays them?"));

  const freeText = h("form", { class: "identify-form free", role: "search", "aria-label": "Ask in your own words" },
    field("identify-q", "Or ask in your own words", { name: "q", type: "search", value: q, maxlength: "200",
      placeholder: "who plays spock in star trek", enterkeyhint: "search" },
    "A character and a title (“spock in star trek”), or an actor's name."),
    h("button", { type: "submit", class: "btn" }, "Ask"));

  byTitle.addEventListener("submit", (/** @type {Event} */ e) => {
    e.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (byTitle));
    const url = new URLSearchParams({ view: "identify" });
    for (const k of FIELDS) {
      const v = String(data.get(k) || "").trim();
      if (v) url.set(k, v);
    }
    if (!url.get("in")) {
      /** @type {HTMLElement | null} */ (byTitle.querySelector("#identify-in"))?.focus();
      status("Which title? Type the title the character is in.", true);
      return;
    }
    navigate(`/?${url}`);
  });
  freeText.addEventListener("submit", (/** @type {Event} */ e) => {
    e.preventDefault();
    const v = String(new FormData(/** @type {HTMLFormElement} */ (freeText)).get("q") || "").trim();
    navigate(v ? `/?view=identify&q=${encodeURIComponent(v)}` : "/?view=identify");
  });

  const asked = Boolean(q || title || character);
  fill(root,
    heading(2, asked ? "Who plays them?" : "Who plays that character?"),
    h("div", { class: "identify-forms" }, byTitle, freeText),
    asked && h("section", { class: "identify-answers", "aria-labelledby": "answers-heading" },
      h("h3", { id: "answers-heading" }, "Answers"),
      h("p", { class: "meta" }, "Looking…")),
  );
  if (!asked) return;

  // The question: the title form when it names a title, else free text (a character alone is free text too).
  const query = new URLSearchParams({ limit: "10" });
  if (title) {
    query.set("title", title);
    if (character) query.set("character", character);
    for (const k of ["year", "season", "episode"]) if (/^\d+$/.test(get(k))) query.set(k, get(k));
  } else {
    query.set("q", q || character);
  }
  const { body } = await api(`/api/v1/identify?${query}`);
  if (!view.current()) return;
  const answers = /** @type {HTMLElement} */ (root.querySelector(".identify-answers"));
  const found = body.data;
  const reading = body.meta?.interpretation;
  const readAs = reading && (reading.character || reading.title || reading.actorName) && h("p", { class: "meta" },
    "Read as: ", [
      reading.character && `the character “${reading.character}”`,
      reading.title && `in “${reading.title}”`,
      reading.actorName && `the actor “${reading.actorName}”`,
    ].filter(Boolean).join(" "));
  status(found.length ? `${plural(found.length, "answer")}; best: ${found[0].actor.name}.` : "No answer found.");
  fill(answers,
    h("h3", { id: "answers-heading" }, "Answers"),
    readAs,
    found.length
      ? h("ol", { class: "answers", "data-testid": "identify-results" }, found.map(answer))
      : h("div", { class: "panel empty-state", "data-testid": "no-results" },
        h("p", null, "No one found for that question."),
        h("ul", null,
          h("li", null, "Check the title: a few letters are enough, typos are fine (“star trk”)."),
          title && character ? h("li", null, "Try the character's first or last name only (“spock”, not “mr. spock the science officer”).") : null,
          title ? h("li", null, "Leave the character empty to see the title's whole cast.") : null,
          h("li", null, "Ask in your own words: “spock in star trek”, or type an actor's name."),
          h("li", null, "The catalogue may not have it yet: search for the title above."))),
  );
}

/** @param {number} x 0 to 1 */
const percent = (x) => Math.round(x * 100);

/** What matched, in words. */
const MATCHED = {
  title_character: "matched the character in the title",
  actor_name: "matched the actor's name",
  title: "in the title's cast",
};

/** One ranked answer: photo, name, the role and the title, the confidence as text and a meter. @param {any} a */
function answer(a, /** @type {number} */ i) {
  const role = playing(a.role);
  const c = a.content;
  const series = a.role.episodeCount != null
    ? (a.role.episodeCount ? ` · ${plural(a.role.episodeCount, "episode")}` : " · series regular") : "";
  const first = a.role.firstAppearance;
  const conf = percent(a.confidence);
  const meterId = `confidence-${i}`;
  return h("li", { class: i === 0 ? "answer best" : "answer", "data-testid": "identify-answer", "data-actor-id": a.actor.id },
    h("a", { href: actorHref(a.actor.id), class: "answer-photo", tabindex: "-1", "aria-hidden": "true" },
      picture(imageOf(a.actor.photo, a.actor.profileImageUrl), { name: a.actor.name, sizes: "80px" })),
    h("div", { class: "answer-body" },
      h("a", { href: actorHref(a.actor.id), class: "answer-name" }, a.actor.name),
      role && h("span", { class: "role" }, `as ${role}`),
      c && h("span", { class: "answer-title" }, "in ", h("a", { href: titleHref(c.id) }, c.title), inYear(c), series),
      first && h("span", { class: "meta" }, `First credited episode: ${[sxe(first), first.title].filter(Boolean).join(" · ")}`),
      h("span", { class: "confidence" },
        h("span", { id: meterId }, `${conf}% sure`),
        h("meter", { min: "0", max: "100", value: String(conf), low: "40", high: "75", optimum: "100", "aria-labelledby": meterId }),
        h("span", { class: "meta" }, MATCHED[/** @type {keyof typeof MATCHED} */ (a.matchedBy)] || ""))));
}
