// fetch() for the JSON API riding on the session cookie: CSRF header, one error shape.
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_" + status;
    this.details = error.details;
  }
}

// Offline, DNS failure, server unreachable: try again later.
export class NetworkError extends Error {}

let pageUser = null;  // who the page was made for

// Whether the server is being reached. Out of reach, the service worker answers a read with the
// copy it kept (X-From-Cache): a page showing such a copy says so, with the copy's time, and
// "last sync" is only stamped when the server has answered. Events: "copy" (detail.date: when
// the server made the copy shown) and "contact" (the server answered).
export const reach = new EventTarget();
let contacted = 0;
export const lastContact = () => contacted;

// The page shows a copy of what the server said at ``date`` (a Date header, an ISO time).
export function noteCopy(date) {
  reach.dispatchEvent(new CustomEvent("copy", { detail: { date } }));
}

function noteContact() {
  contacted = Date.now();
  reach.dispatchEvent(new Event("contact"));
}

export function setCsrf(token, username = null) { csrfToken = token; pageUser = username; }

// A fresh token for the session the phone has now. A page made for one person whose session is
// now another's (someone else signed in on this phone since) must not act in it: refused as
// "sign in again" (401), which the sync bar says.
export async function refreshSession() {
  let response;
  try {
    response = await fetch("/app/session", { credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (response.status >= 500) throw new NetworkError(`HTTP ${response.status}`);
  noteContact();
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const body = await response.json();
  if (pageUser && body.username !== pageUser) {
    throw new ApiError(401, { error: { code: "signed_in_as_other", message: body.username } });
  }
  csrfToken = body.csrf_token;
  return body;
}

// ``shown``: the answer is shown to the person (an offline copy is then said on the page).
export async function request(method, url, { json, form, headers = {}, shown = false } = {}) {
  for (let attempt = 0; ; attempt++) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
    if (method !== "GET") {
      if (!csrfToken) await refreshSession();
      options.headers["X-CSRF-Token"] = csrfToken;
    }
    if (json !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(json);
    } else if (form) {
      options.body = form;
    }
    // A request can hang when the network drops mid-flight — before the answer, or half-way
    // through its body: give up and retry later (the sync's lock is not held for minutes).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), form ? 120000 : 30000);
    options.signal = controller.signal;
    let response;
    let body;
    try {
      response = await fetch(url, options);
      body = response.status === 204 ? null : await response.json().catch((error) => {
        if (controller.signal.aborted) throw error;
        return undefined;  // no JSON: said below by the status alone
      });
    } catch (error) {
      throw new NetworkError(String(error));
    } finally {
      clearTimeout(timer);
    }
    if (response.status >= 500) throw new NetworkError(`HTTP ${response.status}`);
    const cached = response.headers.get("X-From-Cache") === "1";
    if (response.ok) {
      if (body === undefined) throw new NetworkError(`HTTP ${response.status}: no JSON`);
      if (!cached) noteContact();
      else if (shown) noteCopy(response.headers.get("Date"));
      return { status: response.status, data: body, cached };
    }
    noteContact();
    body = body === undefined ? null : body;
    const error = new ApiError(response.status, body);
    error.retryAfter = Number(response.headers.get("Retry-After")) || null;  // seconds, if said
    if (error.code === "csrf_failed" && attempt === 0) {
      await refreshSession();  // the page was cached under an older token
      continue;
    }
    throw error;
  }
}

// A read whose answer the page shows; ``{ shown: false }`` for one kept for later.
export const getJSON = (url, { shown = true } = {}) => request("GET", url, { shown }).then((r) => r.data);
