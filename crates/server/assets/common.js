// What every comanda page shares: its configuration and words (rendered into the page
// by the server), money in the store's format, calls to the API with the session's
// anti-forgery token and idempotency keys, notices, and the live connection.
'use strict';

const C = JSON.parse(document.getElementById('comanda-config').textContent || '{}');
const M = JSON.parse(document.getElementById('comanda-messages').textContent || '{}');

/** A message in the reader's language, arguments filled in. */
function t(id, args) {
  let text = Object.prototype.hasOwnProperty.call(M, id) ? M[id] : id;
  if (args) {
    for (const [name, value] of Object.entries(args)) {
      text = text.split('{' + name + '}').join(String(value));
    }
  }
  return text;
}

/** Minor units as the store's readers write money: "R$ 1.234,50", "$1,234.50". */
function money(minor) {
  const f = C.money;
  const places = f.places;
  const negative = minor < 0;
  const abs = Math.abs(minor);
  const scale = 10 ** places;
  const whole = String(Math.floor(abs / scale));
  let grouped = '';
  for (let i = 0; i < whole.length; i++) {
    if (i > 0 && (whole.length - i) % 3 === 0) grouped += f.group;
    grouped += whole[i];
  }
  if (places > 0) grouped += f.decimal + String(abs % scale).padStart(places, '0');
  return (negative ? '-' : '') + f.symbol + f.space + grouped;
}

/** What a person typed as an amount ("50", "50,5", "1.234,50") in minor units, or null. */
function parseMoney(text) {
  const f = C.money;
  let s = String(text).trim().replace(/\s/g, '');
  if (s.startsWith(f.symbol)) s = s.slice(f.symbol.length);
  s = s.split(f.group).join('');
  if (f.decimal !== '.') s = s.replace(f.decimal, '.');
  if (!/^\d+(\.\d*)?$/.test(s)) return null;
  const [whole, fraction = ''] = s.split('.');
  if (fraction.length > f.places) return null;
  return Number(whole) * 10 ** f.places + Number((fraction + '0'.repeat(f.places)).slice(0, f.places) || 0);
}

/** The amount as typed into a field: "50,00" for "R$ 50,00". */
function moneyInput(minor) {
  const f = C.money;
  const scale = 10 ** f.places;
  const whole = String(Math.floor(minor / scale));
  return f.places > 0 ? whole + f.decimal + String(minor % scale).padStart(f.places, '0') : whole;
}

/** An element with attributes and children; text is never parsed as HTML. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(text, kind) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const note = el('div', { class: 'toast ' + (kind || 'info'), role: kind === 'error' ? 'alert' : null }, text);
  box.append(note);
  // A busy terminal keeps its last three notices; the older ones would cover the ticket.
  const old = [...box.children].filter((n) => !n.classList.contains('ready'));
  for (const n of old.slice(0, -3)) n.remove();
  setTimeout(() => note.remove(), kind === 'ready' ? 15000 : 5000);
  note.addEventListener('click', () => note.remove());
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || 'HTTP ' + status);
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.body = body;
  }
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether the signed-in person's role allows `permission` ("order_approve"...). */
function may(permission) {
  return !!(C.user && (C.user.may || []).includes(permission));
}

// A page that is going away renews nothing: its successor will, and two renewals with
// one refresh token look like theft to the server.
let leaving = false;
window.addEventListener('pagehide', () => {
  leaving = true;
});
window.addEventListener('pageshow', () => {
  leaving = false;
});

/** The renewal under way, shared by every caller that finds the access cookie stale. */
let renewal = null;

/**
 * Renews the session's access cookie from its refresh cookie; false when signed out.
 * One renewal at a time per page: calls that fail together wait for the same one.
 * @returns {Promise<boolean>}
 */
function refreshSession() {
  if (leaving) return Promise.resolve(false);
  if (!renewal) {
    renewal = renew().finally(() => {
      renewal = null;
    });
  }
  return renewal;
}

async function renew() {
  try {
    const r = await fetch('/app/session/refresh', { method: 'POST', credentials: 'same-origin' });
    if (!r.ok) return false;
    const body = await r.json();
    if (body.csrf) C.csrf = body.csrf;
    return true;
  } catch (e) {
    return false;
  }
}

/** Hooks run before the page leaves for the sign-in (the POS keeps its unsent lines). */
const beforeSignIn = [];

/** The session is over: a terminal goes back to its PIN screen, anyone else signs in. */
function toLogin() {
  for (const hook of beforeSignIn) hook();
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign((C.device ? '/app/pin?next=' : '/app/login?next=') + next);
}

/**
 * A path template with its parameters filled in. To the type check it stays the
 * template (`/orders/{order_id}`), so that a call is checked against the document's
 * operation for it; at run time it is the path to call.
 * @template {string} T
 * @param {T} template
 * @param {Record<string, string | number>} params
 * @returns {T}
 */
function at(template, params) {
  const filled = template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(String(params[name])));
  return /** @type {T} */ (/** @type {unknown} */ (filled));
}

/**
 * Calls the store's API (`path` under /api/v1/stores/{id}, or absolute when it starts
 * with /api/). A change carries one idempotency key through every retry, so a request
 * that reached the server before the network dropped is answered, not repeated.
 *
 * Typed from the API's OpenAPI document (crates/server/webcheck): the path must be one
 * of its paths (write a path with ids as `at('/orders/{order_id}', {order_id})`), the
 * method one it has there, the body what it takes, and the answer is what it answers.
 * @template {string} P
 * @template {MethodOf<P>} M
 * @param {M} method
 * @param {P & KnownPath<P>} path
 * @param {BodyOf<P, M>} [body]
 * @returns {Promise<AnswerOf<P, M>>}
 */
async function api(method, path, body) {
  const url = path.startsWith('/api/') || path.startsWith('/app/') ? path : C.api + path;
  const key = method === 'GET' ? null : newKey();
  let refreshed = false;
  for (let attempt = 0; ; attempt++) {
    const headers = { 'X-CSRF-Token': C.csrf || '' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (attempt >= 4) throw new ApiError(0, { error: { code: 'network', message: t('error-network') } });
      if (attempt === 0) toast(t('error-network'), 'error');
      await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      continue;
    }
    if (response.status === 401 && !refreshed) {
      refreshed = true;
      if (await refreshSession()) continue;
      if (!leaving) toLogin();
    }
    if ((response.status === 503 || response.status === 502) && attempt < 4) {
      await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      continue;
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
}

/** This browser's language for the sign-in page and for anyone without one of their own. */
function rememberLanguage(tag) {
  document.cookie = `comanda_lang=${tag}; Path=/; Max-Age=31536000; SameSite=Strict`;
}

function showError(e) {
  toast(t('error-generic', { message: e.message }), 'error');
}

/** A stream silent for this long (the server pings every 10 s) is taken for dead. */
const SILENCE_MS = 30000;

/**
 * Follows a Server-Sent Events stream, resuming where it left off after a drop (the
 * browser sends Last-Event-ID; a stream reopened by us says `after`). A connection can
 * die without an error (Wi-Fi gone, a router rebooted): the server's pings stop, and
 * after SILENCE_MS the stream is opened again; the browser's own offline and online
 * events close it and open it again at once.
 */
function follow(path, handlers, onState) {
  let lastId = null;
  let source = null;
  let heard = Date.now();
  const open = () => {
    const url = C.api + path + (lastId !== null ? (path.includes('?') ? '&' : '?') + 'after=' + lastId : '');
    heard = Date.now();
    source = new EventSource(url, { withCredentials: true });
    source.onopen = () => {
      heard = Date.now();
      onState('online');
    };
    source.addEventListener('ping', () => {
      heard = Date.now();
    });
    source.onerror = async () => {
      onState('offline');
      if (source.readyState === EventSource.CLOSED && !leaving) {
        // Refused (an expired session, a restart): renew and reopen from where we were.
        await refreshSession();
        setTimeout(open, 1000);
      }
    };
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        heard = Date.now();
        if (event.lastEventId) lastId = event.lastEventId;
        handle(JSON.parse(event.data), event);
      });
    }
    source.onmessage = (event) => {
      if (event.lastEventId) lastId = event.lastEventId;
    };
  };
  const reopen = () => {
    if (source) source.close();
    open();
  };
  window.addEventListener('offline', () => {
    if (source) source.close();
    onState('offline');
  });
  window.addEventListener('online', () => {
    onState('connecting');
    reopen();
  });
  setInterval(() => {
    if (navigator.onLine && Date.now() - heard > SILENCE_MS) {
      onState('offline');
      reopen();
    }
  }, 5000);
  open();
  return { reopen };
}

function liveIndicator(state) {
  const live = document.getElementById('live');
  if (!live) return;
  live.dataset.state = state;
  live.textContent = t(state === 'online' ? 'live-online' : state === 'offline' ? 'live-offline' : 'live-connecting');
}

document.addEventListener('DOMContentLoaded', () => {
  const menu = document.getElementById('bar-menu');
  if (menu) {
    const bar = /** @type {HTMLElement} */ (menu.closest('.bar'));
    const set = (open) => {
      bar.dataset.menu = open ? 'open' : '';
      menu.setAttribute('aria-expanded', String(open));
    };
    menu.addEventListener('click', () => set(bar.dataset.menu !== 'open'));
    // A choice in the menu, or a tap anywhere else, closes it.
    document.addEventListener('click', (e) => {
      if (!menu.contains(/** @type {Node} */ (e.target))) set(false);
    });
  }
  const out = document.getElementById('sign-out');
  if (out) {
    out.addEventListener('click', async () => {
      try {
        await fetch('/app/session/logout', { method: 'POST', headers: { 'X-CSRF-Token': C.csrf || '' }, credentials: 'same-origin' });
      } finally {
        location.assign('/app/login');
      }
    });
  }
  const name = document.getElementById('store-name');
  if (name && C.store) name.textContent = C.store.name;
});
