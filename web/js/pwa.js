// The installable, offline side of the app:
// - registers the service worker (/sw.js: the shell, the last actor and title pages, pictures);
// - shows the offline banner (#offline-banner) while the device is offline or I Know can't be reached, with a
//   retry button; hides it when the network is back;
// - shows the install button (#install-button) when the browser offers to install the app;
// - records views ("mark as watched") with an idempotency key, and keeps those made offline in IndexedDB until
//   they can be sent: each is sent with the key it got when it was marked, so a view the server recorded but
//   whose answer was lost is not recorded twice (the server answers the replay 200 instead of 201).
//
// Events on window: `iknow:queue` (detail.pending: views waiting to be sent for the signed-in user) whenever the
// queue changes; `iknow:retry` (cancelable) when the banner's retry found the network back: the app renders
// the current page again and calls preventDefault(); if nobody does, the page is reloaded.

import { ApiError, authed, getSession, onSessionChange } from "./api.js";

const HISTORY = "/api/v1/users/me/history";
const DB_NAME = "iknow-pwa";
const STORE = "views";

/**
 * A view marked while I Know could not be reached, waiting to be sent.
 * @typedef {{key: string, userId: string, contentId: string, fields: Record<string, unknown>, queuedAt: string}} QueuedView
 */

// ---- the banner ----------------------------------------------------------------------------------------

const OFFLINE_TEXT = "You're offline. Pages you've opened before still work; views you mark are kept until you're back.";
const UNREACHABLE_TEXT = "I Know can't be reached right now. Pages you've opened before still work; views you mark are kept until it's back.";

/** @param {boolean} show */
function setBanner(show) {
  const banner = document.getElementById("offline-banner");
  if (!banner) return;
  if (show) {
    const message = document.getElementById("offline-message");
    if (message) message.textContent = navigator.onLine ? UNREACHABLE_TEXT : OFFLINE_TEXT;
  }
  banner.hidden = !show;
}

/** For the app: an API call failed on the network (I Know can't be reached). Shows the offline banner. */
export function reportNetworkError() {
  setBanner(true);
}

/** The network is back (or was never gone): hides the banner and sends what waits. */
function backOnline() {
  setBanner(false);
  void flushQueue();
}

async function retry() {
  const button = /** @type {HTMLButtonElement | null} */ (document.getElementById("retry-button"));
  if (button) button.disabled = true;
  try {
    // /health is never cached by the service worker: any answer means the gateway can be reached.
    const reachable = await fetch("/health", { cache: "no-store" }).then(() => true, () => false);
    if (!reachable) {
      setBanner(true);
      return;
    }
    backOnline();
    const unhandled = window.dispatchEvent(new CustomEvent("iknow:retry", { cancelable: true }));
    if (unhandled) location.reload();
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- installing ----------------------------------------------------------------------------------------

/** @typedef {Event & {prompt: () => Promise<void>, userChoice: Promise<{outcome: string}>}} BeforeInstallPromptEvent */

/** @type {BeforeInstallPromptEvent | null} */
let installPrompt = null;

function initInstall() {
  const button = document.getElementById("install-button");
  if (!button) return;
  window.addEventListener("beforeinstallprompt", (e) => {
    e.preventDefault(); // the button offers it, not the browser's mini-infobar
    installPrompt = /** @type {BeforeInstallPromptEvent} */ (e);
    button.hidden = false;
  });
  button.addEventListener("click", async () => {
    const offer = installPrompt;
    if (!offer) return;
    installPrompt = null;
    button.hidden = true; // a prompt can be shown once
    await offer.prompt();
    await offer.userChoice.catch(() => null);
  });
  window.addEventListener("appinstalled", () => {
    installPrompt = null;
    button.hidden = true;
  });
}

// ---- start ---------------------------------------------------------------------------------------------

let started = false;

/** Registers the service worker and wires the banner, the install button and the queue of views. */
export function initPwa() {
  if (started) return;
  started = true;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("The service worker was not registered:", e));
    navigator.serviceWorker.addEventListener("message", (e) => {
      if (e.data?.type === "iknow:network" && e.data.online === false) setBanner(true);
    });
  }
  window.addEventListener("offline", () => setBanner(true));
  window.addEventListener("online", backOnline);
  // web/js/api.js tells whether each call reached the server.
  window.addEventListener("iknow:network", (e) => {
    const online = /** @type {CustomEvent<{online: boolean}>} */ (e).detail?.online;
    if (online === false) setBanner(true);
    else if (online && navigator.onLine) backOnline();
  });
  document.getElementById("retry-button")?.addEventListener("click", retry);
  initInstall();
  onSessionChange((session) => {
    if (session) void flushQueue();
    else notify();
  });
  if (!navigator.onLine) setBanner(true);
  void flushQueue();
}

// ---- the queue of views --------------------------------------------------------------------------------

/** @type {Promise<IDBDatabase> | null} */
let db = null;

function openDb() {
  db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.catch(() => {
    db = null; // try again next time (a private window may refuse IndexedDB)
  });
  return db;
}

/**
 * One transaction on the store.
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} action
 * @returns {Promise<T>}
 */
async function withStore(mode, action) {
  const database = await openDb();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    const req = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/**
 * The views waiting to be sent for the signed-in user (none when signed out), oldest first.
 * @returns {Promise<QueuedView[]>}
 */
export async function pendingViews() {
  const user = getSession()?.user?.id;
  if (!user) return [];
  const all = /** @type {QueuedView[]} */ (await withStore("readonly", (s) => s.getAll()).catch(() => []));
  return all.filter((v) => v.userId === user).sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
}

async function notify() {
  const pending = (await pendingViews()).length;
  window.dispatchEvent(new CustomEvent("iknow:queue", { detail: { pending } }));
}

/** Statuses after which a view is kept for a later try: the network, the session, timeouts, overload, 5xx. */
const keep = (/** @type {number} */ status) => status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;

/**
 * Records that the signed-in user watched `contentId` (POST /api/v1/users/me/history with an Idempotency-Key
 * made for this view). When I Know can't be reached, or answers 408, 429 or 5xx, the view is queued in IndexedDB (with
 * `viewedAt` set to now) and sent later with the same key: resolves `{queued: true}` then. Other failures
 * reject with the ApiError (a 401 when signed out, a 400, a 404 for an unknown title).
 * @param {string} contentId
 * @param {Record<string, unknown>} [fields] more of the request body (viewedAt, duration, context, …)
 * @returns {Promise<{queued: true} | {queued: false, status: number, replayed: boolean, entry: any}>}
 */
export async function recordView(contentId, fields = {}) {
  const key = crypto.randomUUID();
  const session = getSession();
  try {
    const res = await send(key, contentId, fields);
    return { queued: false, status: res.status, replayed: res.status === 200, entry: res.body?.data };
  } catch (e) {
    const status = e instanceof ApiError ? e.status : 0;
    if (!session || status === 401 || !keep(status)) throw e;
    /** @type {QueuedView} */
    const view = {
      key,
      userId: session.user.id,
      contentId,
      fields: { viewedAt: new Date().toISOString(), ...fields },
      queuedAt: new Date().toISOString(),
    };
    await withStore("readwrite", (s) => s.put(view));
    if (status === 0) reportNetworkError();
    void notify();
    return { queued: true };
  }
}

/** @param {string} key @param {string} contentId @param {Record<string, unknown>} fields */
function send(key, contentId, fields) {
  return authed(HISTORY, { method: "POST", body: { ...fields, contentId }, headers: { "Idempotency-Key": key } });
}

/** @type {Promise<{sent: number, pending: number}> | null} */
let flushing = null;

/**
 * Sends the signed-in user's queued views, oldest first, each with its own key. Sent (201) or already
 * recorded (200): removed. Refused for good (another 4xx): removed, with a console warning. The network,
 * the session, 408, 429 or 5xx: kept, and the rest waits too. Runs once at a time (in this tab; another
 * tab sending the same view is harmless: the key makes it one). Resolves `{sent, pending}`.
 */
export function flushQueue() {
  flushing ??= run().finally(() => {
    flushing = null;
  });
  return flushing;
}

async function run() {
  let sent = 0;
  const queued = await pendingViews();
  for (const view of queued) {
    try {
      await send(view.key, view.contentId, view.fields);
      sent += 1;
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 0;
      if (keep(status)) break;
      console.warn(`A view marked offline was refused (HTTP ${status}${e.code ? ` ${e.code}` : ""}) and dropped.`);
    }
    await withStore("readwrite", (s) => s.delete(view.key));
  }
  const pending = (await pendingViews()).length;
  window.dispatchEvent(new CustomEvent("iknow:queue", { detail: { pending } }));
  return { sent, pending };
}
