// Pieces every admin tab shares: strings, error text, tables, paging, dialogs, catalogue lists.

import { h, clear, showAlert, clearAlert, setBusy } from '/js/dom.js';
import { t, tc, getLang, formatNumber } from '/js/i18n.js';
import { api } from '/js/api.js';
import { STRINGS } from './strings.js';

export function s(key, params = {}) {
  return t(STRINGS, key, params);
}

// Codes this console explains better than the shared messages do.
const ADMIN_CODES = {
  duplicate_name: 'err_duplicate_name',
  moderation_decided: 'err_moderation_decided',
  moderation_not_found: 'err_moderation_not_found',
};

export function errorText(err, params = {}) {
  const key = err && ADMIN_CODES[err.code];
  if (key) return s(key, params);
  if (err && err.code === 'in_use') return s('err_in_use', params);
  return (err && err.message) || tc('err_generic');
}

// Element.append would print `null` for a missing optional piece; this skips it.
export function put(el, ...children) {
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

export function countText(total) {
  return total === 1 ? s('results_one') : s('results_count', { total: formatNumber(total) });
}

export function shortDate(isoString) {
  if (!isoString) return '';
  return new Intl.DateTimeFormat(getLang() === 'en' ? 'en-US' : 'es-CL', { dateStyle: 'medium' }).format(new Date(isoString));
}

export function isForbidden(err) {
  return Boolean(err) && err.status === 403 && err.code !== 'csrf_failed';
}

export function shortId(uuid) {
  return uuid ? String(uuid).slice(0, 8) : '';
}

export function idChip(uuid) {
  return h('code', { class: 'id-chip', title: s('copy_hint', { id: uuid }) }, shortId(uuid));
}

// An email that wraps at its seams (before "@", after each "." and "-"), never inside a word:
// text nodes with <wbr> between them, so the address itself still goes in as text.
export function emailText(email, { className = '' } = {}) {
  const parts = String(email || '').split(/(?=@)|(?<=[.\-_+])/);
  const children = [];
  parts.forEach((part, index) => {
    if (index) children.push(h('wbr'));
    children.push(part);
  });
  return h('span', { class: `email-text ${className}`.trim() }, children);
}

export function badge(text, tone = 'neutral') {
  return h('span', { class: `badge badge-${tone}` }, text);
}

export function spinnerRow() {
  return h('p', { class: 'admin-loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' ', tc('loading'));
}

// A table inside a keyboard-focusable scroll region: on a phone the table scrolls sideways
// inside `.table-wrap`, never the page, and keyboard users can scroll it too.
export function dataTable({ caption, columns, rows, emptyText, className = '' }) {
  if (!rows.length) {
    return h('div', { class: 'empty-state' }, h('p', {}, emptyText || s('empty')));
  }
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: ['table', 'admin-table', className] },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((col) =>
        h('th', { scope: 'col', class: col.className || null }, col.label)))),
      h('tbody', {}, rows)));
}

export function pager({ offset, limit, total, onChange }) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return h('nav', { class: 'pagination admin-pager', 'aria-label': tc('pagination_label') },
    h('p', { class: 'pager-range' },
      s('range', { from: formatNumber(from), to: formatNumber(to), total: formatNumber(total) })),
    h('div', { class: 'cluster pager-buttons' },
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm', disabled: offset <= 0,
        on: { click: () => onChange(Math.max(0, offset - limit)) },
      }, tc('page_previous')),
      h('span', { class: 'pager-page' }, s('page_label', { page, pages })),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm', disabled: offset + limit >= total,
        on: { click: () => onChange(offset + limit) },
      }, tc('page_next'))));
}

let dialogCount = 0;

// A native modal <dialog>: it traps focus and closes on Escape; focus returns to the opener.
export function modal({ title, content, wide = false }) {
  dialogCount += 1;
  const titleId = `admin-dialog-title-${dialogCount}`;
  const opener = document.activeElement;
  const alertBox = h('div', { class: 'dialog-alert' });
  const dialog = h('dialog', { class: ['admin-dialog', wide ? 'admin-dialog-wide' : null], 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' },
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      h('button', {
        type: 'button', class: 'btn-icon dialog-x', 'aria-label': s('dialog_close'),
        on: { click: () => dialog.close() },
      }, h('span', { 'aria-hidden': 'true' }, '×'))),
    alertBox,
    content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, alertBox, close: () => dialog.close() };
}

// Asks before an irreversible action; `run` does it. A failure stays in the dialog, so the admin
// reads why and can cancel; success closes it and resolves true. `focusCancel` starts on Cancel,
// so Enter alone never does the destructive thing.
export function confirmAction({ title, body, confirmLabel, tone = 'danger', run, errorParams = {}, focusCancel = false }) {
  return new Promise((resolve) => {
    let done = false;
    const confirmBtn = h('button', { type: 'submit', class: `btn btn-${tone}` }, confirmLabel);
    const cancelBtn = h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => m.close() } }, tc('btn_cancel'));
    const form = h('form', { method: 'dialog', class: 'dialog-body stack' },
      h('p', {}, body),
      h('div', { class: 'dialog-actions' }, cancelBtn, confirmBtn));
    const m = modal({ title, content: form });
    m.dialog.addEventListener('close', () => resolve(done));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearAlert(m.alertBox);
      setBusy(confirmBtn, true);
      try {
        await run();
        done = true;
        m.close();
      } catch (err) {
        setBusy(confirmBtn, false);
        showAlert(m.alertBox, 'error', errorText(err, errorParams));
      }
    });
    (focusCancel ? cancelBtn : confirmBtn).focus();
  });
}

export function field({ id, name, label, hint, input }) {
  input.id = id;
  input.name = name;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null);
}

export function localName(product) {
  return getLang() === 'en' ? product.name_en : product.name_es;
}

// The catalogue lists are public and cached by the browser (max-age + ETag). After an admin
// change the console must not show a stale copy, so it revalidates (`no-cache` still gets a
// cheap 304 when nothing changed).
const catalogCache = { products: null, communes: null };

async function fetchFresh(path) {
  const response = await fetch(`/api/v1${path}`, {
    cache: 'no-cache', credentials: 'same-origin', headers: { Accept: 'application/json' },
  });
  if (!response.ok) {
    // Let the shared client build the error (message, code) from a second, ordinary request.
    return api(path);
  }
  return response.json();
}

export async function loadCatalog(kind, { refresh = false } = {}) {
  if (refresh || !catalogCache[kind]) catalogCache[kind] = await fetchFresh(`/${kind}/`);
  return catalogCache[kind];
}

export function sortByName(items, name) {
  const collator = new Intl.Collator(getLang() === 'en' ? 'en-US' : 'es-CL', { sensitivity: 'base' });
  return [...items].sort((a, b) => collator.compare(name(a), name(b)));
}

export function fold(text) {
  return String(text || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

export { h, clear, showAlert, clearAlert, setBusy, tc, formatNumber };
