// The REST client every page shares (docs/scheduling.md, "REST API"): JSON in and out,
// errors as ApiError carrying the server's {"error":{"code","message"}} and the rest of the
// body (a 409 conflict's clashing lessons). The session travels in the HttpOnly cr_session
// cookie the server sets at login, so requests only need same-origin credentials; a page
// opened from a join link may pass its ?token= instead (Authorization: Bearer).
//
// A 401 means "log in first": api() sends the browser to login.html?next=<this page> and
// never settles, so no caller paints an error over a page that is going away. Pass
// { redirect401: false } to see the 401 instead (the login page, token checks).
// Standard browser APIs only; loaded as an ES module.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;       // the whole JSON error body, or null
  }
}

// This page as a relative URL (last path segment, query, hash): where login returns to.
export function thisPage() {
  const file = location.pathname.split('/').pop() || 'index.html';
  return `${file}${location.search}${location.hash}`;
}

export function loginUrl(next = thisPage()) {
  return `login.html?next=${encodeURIComponent(next)}`;
}

let leaving = false;

// Sends the browser to the login page, coming back to next afterwards.
export function goLogin(next = thisPage()) {
  if (leaving) return;
  leaving = true;
  location.assign(loginUrl(next));
}

// A path (or URL) safe to go to after login: the same origin only, else the fallback.
// Refuses other origins, protocol-relative "//host" and "javascript:" URLs.
export function safeNext(next, fallback = 'schedule.html') {
  if (!next) return fallback;
  let url;
  try { url = new URL(next, location.href); } catch { return fallback; }
  if (url.origin !== location.origin) return fallback;
  if (url.pathname.endsWith('/login.html')) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

// fetch + JSON. path is relative to the page ("api/v1/lessons"). Returns the parsed body
// (null for an empty one); throws ApiError on any non-2xx answer or network failure.
export async function api(path, { method = 'GET', body, token = null, redirect401 = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'same-origin',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, 'network', `the server cannot be reached (${err.message})`, null);
  }
  if (res.status === 401 && redirect401) {
    goLogin();
    return new Promise(() => {});
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = data && data.error;
    const message = (e && (e.message || (typeof e === 'string' ? e : ''))) || text.trim().slice(0, 200) ||
      `HTTP ${res.status}`;
    const err = new ApiError(res.status, (e && e.code) || `http_${res.status}`, message, data);
    err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
    throw err;
  }
  return data;
}

// A list out of a REST answer that may be a bare array or {key:[...]}.
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}
