// I Know web app: search actors (typo-tolerant) and show where you may know them from.
"use strict";

const $ = (id) => document.getElementById(id);
const api = async (path) => {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : `HTTP ${res.status}`);
  return body;
};
const text = (tag, value, cls) => {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
};
const years = (a) => (a.birthYear ? ` (${a.birthYear}${a.deathYear ? "–" + a.deathYear : ""})` : "");

let pending = 0;
async function search(q) {
  const mine = ++pending;
  if (!q.trim()) { $("results").replaceChildren(); $("status").textContent = ""; return; }
  try {
    const body = await api(`/api/v1/actors/search?q=${encodeURIComponent(q)}&limit=20`);
    if (mine !== pending) return;
    $("status").textContent = `${body.pagination.total} match${body.pagination.total === 1 ? "" : "es"}`;
    $("results").replaceChildren(...body.data.map((a) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.id = a.id;
      b.append(text("strong", a.name + years(a)));
      const known = (a.knownFor || []).map((k) => k.title).slice(0, 3).join(", ");
      if (known) b.append(document.createElement("br"), text("span", "Known for " + known, "meta"));
      b.addEventListener("click", () => showActor(a.id, true));
      li.append(b);
      return li;
    }));
    $("actor").hidden = true;
  } catch (e) {
    if (mine === pending) $("status").textContent = e.message;
  }
}

async function showActor(id, push) {
  try {
    const { data: a } = await api(`/api/v1/actors/${encodeURIComponent(id)}`);
    const section = $("actor");
    const list = document.createElement("ul");
    list.className = "film";
    for (const f of a.filmography) {
      const li = document.createElement("li");
      li.append(text("strong", f.content.title), text("span", f.content.year ? ` (${f.content.year})` : "", "meta"));
      if (f.roleName) li.append(document.createElement("br"), text("span", `as ${f.characters.join(" / ") || f.roleName}`, "role"));
      list.append(li);
    }
    section.replaceChildren(text("h2", a.name), text("p", years(a).trim() + " " + (a.professions || []).join(", "), "meta"), list);
    section.hidden = false;
    $("results").replaceChildren();
    $("status").textContent = "";
    if (push) history.pushState({ id }, "", `/?actor=${id}`);
  } catch (e) {
    $("status").textContent = e.message;
  }
}

let timer;
$("q").addEventListener("input", (e) => { clearTimeout(timer); timer = setTimeout(() => search(e.target.value), 150); });
$("search-form").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value); });
window.addEventListener("popstate", () => route());
function route() {
  const id = new URLSearchParams(location.search).get("actor");
  if (id) showActor(id, false); else $("actor").hidden = true;
}
route();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
