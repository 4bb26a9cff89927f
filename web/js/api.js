// Calls to the I Know API, and the signed-in session.
//
// The session (access token, refresh token, username) is kept in localStorage: the app is static files with no
// server-side session or cookie endpoint, and the session must survive reloads, new tabs and shared links. The
// cost is that any script running on this origin could read it, so the app loads nothing from other origins
// (no CDN, no analytics), never puts a token in a URL and never logs one. Access tokens live 15 minutes; the
// refresh token is single use and rotated by every refresh (the new pair replaces the old one here).

const KEY = "iknow.session";
const listeners = new Set();

/** An API failure: `message` is the envelope's message, meant for the user. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.code = error?.code;
    this.details = error?.details;
  }
}

const sessionEnded = () =>
  new ApiError(401, { code: "SESSION_ENDED", message: "Your session has ended. Please sign in again." });

export function getSession() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY));
    return s && s.accessToken && s.refreshToken ? s : null;
  } catch {
    return null;
  }
}

function setSession(s) {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  for (const f of listeners) f(s, false);
}

/** Calls `f(session, fromOtherTab)` whenever the session changes, here or in another tab. */
export function onSessionChange(f) {
  listeners.add(f);
}
window.addEventListener("storage", (e) => {
  if (e.key === KEY || e.key === null) for (const f of listeners) f(getSession(), true);
});

/**
 * Tells the app whether the API answered: `iknow:network` with `detail.online` false on a network failure, true on
 * any answer (the offline banner listens).
 * @param {boolean} online
 */
function signal(online) {
  window.dispatchEvent(new CustomEvent("iknow:network", { detail: { online } }));
}

/**
 * @typedef {{method?: string, body?: unknown, token?: string, headers?: Record<string, string>, signal?: AbortSignal}} SendOptions
 * @typedef {{status: number, body: any, headers: Headers}} Answer
 */

/**
 * @param {string} path
 * @param {SendOptions} [options]
 * @returns {Promise<Answer>}
 */
async function send(path, { method = "GET", body, token, headers: extra, signal: abort } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json", ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal: abort, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    signal(false);
    throw new ApiError(0, { code: "NETWORK_ERROR", message: "I Know can't be reached. Check your connection." });
  }
  signal(true);
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json?.error);
  return { status: res.status, body: json, headers: res.headers };
}

/**
 * A public call: resolves to `{status, body, headers}`, rejects with an ApiError.
 * @param {string} path
 * @param {SendOptions} [options]
 */
export const api = (path, options) => send(path, options);

/**
 * A call as the signed-in user; an expired access token is refreshed once, transparently.
 * @param {string} path
 * @param {SendOptions} [options]
 */
export async function authed(path, options = {}) {
  const s = getSession();
  if (!s) throw sessionEnded();
  try {
    return await send(path, { ...options, token: s.accessToken });
  } catch (e) {
    if (e.status !== 401) throw e;
    if (e.code !== "TOKEN_EXPIRED") {
      setSession(null); // revoked, or the account is gone
      throw sessionEnded();
    }
    const fresh = await refresh(s.accessToken);
    return send(path, { ...options, token: fresh.accessToken });
  }
}

// One refresh at a time: in this tab (calls share the promise) and across tabs (a Web Lock), because presenting
// an already-rotated refresh token revokes the whole session.
let refreshing = null;
function refresh(staleAccessToken) {
  const run = async () => {
    const s = getSession();
    if (!s) throw sessionEnded();
    if (s.accessToken !== staleAccessToken) return s; // another call or tab has rotated the pair already
    try {
      const { body } = await send("/api/v1/auth/refresh", { method: "POST", body: { refreshToken: s.refreshToken } });
      return keep(body.data);
    } catch (e) {
      if (e.status === 400 || e.status === 401) {
        setSession(null);
        throw sessionEnded();
      }
      throw e;
    }
  };
  refreshing ??= (navigator.locks ? navigator.locks.request("iknow-refresh", run) : run()).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function keep(session) {
  const s = {
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    user: { id: session.user.id, username: session.user.username },
  };
  setSession(s);
  return s;
}

export async function login(loginName, password) {
  const { body } = await send("/api/v1/auth/login", { method: "POST", body: { login: loginName, password } });
  return keep(body.data);
}

export const register = (fields) => send("/api/v1/users/register", { method: "POST", body: fields });

/** Ends the session on the server (best effort) and forgets it here. Resolves to whether the server confirmed. */
export async function logout() {
  const s = getSession();
  if (!s) return true;
  const ok = await send("/api/v1/auth/logout", { method: "POST", body: { refreshToken: s.refreshToken } }).then(
    () => true,
    () => false,
  );
  setSession(null);
  return ok;
}

/** Forgets the session on this device only (after the account is deleted, say). */
export function forgetSession() {
  setSession(null);
}
