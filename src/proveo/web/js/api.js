// The API client: JSON in and out, the CSRF header on state-changing requests, errors as
// ApiError with a message in the current language, and the way back to log in when a session ends.

import { tc } from './i18n.js';

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiError extends Error {
  constructor({ status, code, detail, fieldErrors = {}, retryAfter = null }) {
    // No argument: an own `message` property would hide the getter below.
    super();
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fieldErrors = fieldErrors;
    this.retryAfter = retryAfter;
  }

  // A human message in the language of the moment (the header toggle may change it later).
  get message() {
    return errorMessage(this);
  }
}

export function errorMessage(error) {
  if (error.code === 'rate_limited' && error.retryAfter) {
    return tc('err_rate_limited_wait', { minutes: Math.max(1, Math.ceil(error.retryAfter / 60)) });
  }
  const key = `err_${error.code}`;
  const known = tc(key);
  if (known !== key) return known;
  if (typeof error.detail === 'string' && error.detail) return error.detail;
  return tc('err_generic');
}

function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

function fieldErrorsFrom(detail) {
  const fields = {};
  if (!Array.isArray(detail)) return fields;
  for (const item of detail) {
    const loc = Array.isArray(item?.loc) ? item.loc : [];
    const field = loc.length ? String(loc[loc.length - 1]) : '';
    if (!field || field in fields) continue;
    fields[field] = String(item.msg || '').replace(/^Value error, /, '');
  }
  return fields;
}

function buildUrl(path, query) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
    else url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

// Whether this page has seen a logged-in user: a later 401 means the session was lost.
let hadUser = false;
let userPromise = null;

export function loginUrl({ expired = false } = {}) {
  const here = window.location.pathname + window.location.search + window.location.hash;
  const params = new URLSearchParams({ next: here });
  if (expired) params.set('reason', 'expired');
  return `/login/?${params.toString()}`;
}

function goToLogin(expired) {
  window.location.assign(loginUrl({ expired }));
  return new Promise(() => {});
}

async function request(path, { method = 'GET', json, form, query, signal, headers: extra = {} } = {}, { followExpiry = true } = {}) {
  const upper = method.toUpperCase();
  const headers = { ...extra, Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (UNSAFE.has(upper)) {
    const csrf = readCookie('csrf_token');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let response;
  try {
    response = await fetch(buildUrl(path, query), {
      method: upper,
      headers,
      body,
      signal,
      credentials: 'same-origin',
    });
  } catch (cause) {
    if (cause?.name === 'AbortError') throw cause;
    throw new ApiError({ status: 0, code: 'network_error', detail: tc('err_network') });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    const error = new ApiError({
      status: response.status,
      code: data?.code || 'http_error',
      detail: data?.detail ?? response.statusText,
      fieldErrors: response.status === 422 ? fieldErrorsFrom(data?.detail) : {},
      retryAfter: Number.isFinite(retry) ? retry : null,
    });
    if (followExpiry && response.status === 401 && error.code === 'not_authenticated' && hadUser) {
      hadUser = false;
      return goToLogin(true);
    }
    throw error;
  }
  return { data, response };
}

export async function api(path, opts = {}) {
  const { data } = await request(path, opts);
  return data;
}

export async function apiList(path, opts = {}) {
  const { data, response } = await request(path, opts);
  const total = Number.parseInt(response.headers.get('X-Total-Count') || '', 10);
  const items = Array.isArray(data) ? data : data?.items || [];
  return { items, total: Number.isFinite(total) ? total : items.length, headers: response.headers };
}

export function currentUser({ refresh = false } = {}) {
  if (!userPromise || refresh) {
    // Logging in sets the readable `csrf_token` cookie beside the session's: without it nobody
    // is logged in, and an anonymous visit asks nothing (a 401 would be a failed request in the
    // console of every first visit).
    if (!hasSessionCookie()) {
      hadUser = false;
      userPromise = Promise.resolve(null);
      return userPromise;
    }
    // Asking who is logged in is how a page learns nobody is: never a redirect of its own.
    userPromise = request('/users/me', {}, { followExpiry: false })
      .then(({ data }) => {
        hadUser = Boolean(data);
        return data;
      })
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401) {
          hadUser = false;
          return null;
        }
        throw error;
      });
  }
  return userPromise;
}

function hasSessionCookie() {
  return readCookie('csrf_token') !== null;
}

// A session cookie that the server no longer accepts: the CSRF cookie outlives it, readable here.
function sessionWasLost() {
  return readCookie('csrf_token') !== null;
}

export async function requireUser({ verified = false, admin = false } = {}) {
  const user = await currentUser();
  if (!user) return goToLogin(sessionWasLost());
  if (admin && user.role !== 'admin') {
    throw new ApiError({ status: 403, code: 'admin_required', detail: tc('err_admin_required') });
  }
  if (verified && !user.email_verified) {
    throw new ApiError({ status: 403, code: 'email_not_verified', detail: tc('err_email_not_verified') });
  }
  return user;
}

export async function logout() {
  hadUser = false;
  try {
    await request('/users/logout', { method: 'POST' }, { followExpiry: false });
  } finally {
    userPromise = Promise.resolve(null);
  }
}
