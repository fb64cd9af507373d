// What the quote-request pages share: the budget bands, statuses and places in words, a live
// character counter, and the small form fields (label, control, hint, error) they are built of.
import { h } from '/js/dom.js';
import { t } from '/js/i18n.js';
import { fold } from '/js/market/combobox.js';

export const QUOTE_STRINGS = {
  es: {
    budget_none: 'Sin indicar',
    'budget_under-1m': 'Menos de $1 millón',
    'budget_1m-5m': 'Entre $1 y $5 millones',
    'budget_5m-20m': 'Entre $5 y $20 millones',
    'budget_over-20m': 'Más de $20 millones',
    place_chile: 'Todo Chile',
    place_region: 'Región {name}',
    status_new: 'Nueva',
    status_read: 'Leída',
    status_replied: 'Respondida',
    status_declined: 'Rechazada',
    request_pending: 'Por confirmar',
    request_open: 'Abierta',
    request_closed: 'Cerrada',
    request_expired: 'Vencida',
    request_removed: 'Eliminada',
    counter: '{n} de {max} caracteres',
    counterOver: 'Sobran {n} caracteres',
    category: 'Rubro',
    place: 'Lugar',
    neededBy: 'Se necesita para',
    budget: 'Presupuesto',
    created: 'Enviada',
    expires: 'Vence',
  },
  en: {
    budget_none: 'Not given',
    'budget_under-1m': 'Under CLP 1 million',
    'budget_1m-5m': 'CLP 1 to 5 million',
    'budget_5m-20m': 'CLP 5 to 20 million',
    'budget_over-20m': 'Over CLP 20 million',
    place_chile: 'All of Chile',
    place_region: '{name} Region',
    status_new: 'New',
    status_read: 'Read',
    status_replied: 'Replied',
    status_declined: 'Declined',
    request_pending: 'To confirm',
    request_open: 'Open',
    request_closed: 'Closed',
    request_expired: 'Expired',
    request_removed: 'Removed',
    counter: '{n} of {max} characters',
    counterOver: '{n} characters too many',
    category: 'Category',
    place: 'Place',
    neededBy: 'Needed by',
    budget: 'Budget',
    created: 'Sent',
    expires: 'Expires',
  },
};

export const BUDGET_BANDS = ['under-1m', '1m-5m', '5m-20m', 'over-20m'];

const q = (key, params) => t(QUOTE_STRINGS, key, params);

export function budgetLabel(band) {
  return band ? q(`budget_${band}`) : q('budget_none');
}

// `place` from the API: {kind: commune|region|chile, name}.
export function placeLabel(place) {
  if (!place || place.kind === 'chile' || !place.name) return q('place_chile');
  if (place.kind === 'region') return q('place_region', { name: place.name });
  return place.name;
}

const STATUS_BADGE = { new: 'badge-brand', read: '', replied: 'badge-success', declined: 'badge-warning' };
const REQUEST_BADGE = { pending: 'badge-warning', open: 'badge-success', closed: '', expired: '', removed: 'badge-danger' };

export function statusBadge(status) {
  return h('span', { class: ['badge', STATUS_BADGE[status] || ''], 'data-status': status }, q(`status_${status}`));
}

export function requestBadge(status) {
  return h('span', { class: ['badge', REQUEST_BADGE[status] || ''], 'data-request-status': status }, q(`request_${status}`));
}

// A date-only value (YYYY-MM-DD) shown in the page's language without a time-zone shift.
export function formatDay(value, lang) {
  if (!value) return '';
  const [y, m, d] = String(value).slice(0, 10).split('-').map(Number);
  if (!y || !m || !d) return String(value);
  const date = new Date(Date.UTC(y, m - 1, d));
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-US' : 'es-CL', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

// A day in a table row: weekday, day and month ("dom, 6 dic" / "Sun, Dec 6").
export function formatShortDay(value, lang) {
  const [y, m, d] = String(value || '').slice(0, 10).split('-').map(Number);
  if (!y || !m || !d) return String(value || '');
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-US' : 'es-CL', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

// A counter under a text field: the visible "n of max" and, for screen readers, a polite
// announcement only when the text nears or passes the limit (not on every key).
export function charCounter(control, max) {
  const id = `${control.id}-counter`;
  const out = h('p', { class: 'field-counter', id });
  const live = h('span', { class: 'visually-hidden', 'aria-live': 'polite' });
  let lastBand = 'ok';
  const update = () => {
    const n = control.value.length;
    const over = n - max;
    out.firstChild?.remove();
    out.prepend(document.createTextNode(over > 0 ? q('counterOver', { n: over }) : q('counter', { n, max })));
    out.classList.toggle('is-over', over > 0);
    const band = over > 0 ? 'over' : (n >= max * 0.9 ? 'near' : 'ok');
    if (band !== lastBand) live.textContent = band === 'ok' ? '' : out.firstChild.textContent;
    lastBand = band;
  };
  out.append(live);
  control.addEventListener('input', update);
  update();
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  described.push(id);
  control.setAttribute('aria-describedby', described.join(' '));
  return out;
}

// A labelled field: label, control, optional hint, and the error paragraph dom.js fills.
export function field(id, label, control, { hint = null, optional = null, extra = null } = {}) {
  control.id = id;
  if (hint) {
    const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    described.unshift(`${id}-hint`);
    control.setAttribute('aria-describedby', described.join(' '));
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, label, optional && h('span', { class: 'optional' }, ` ${optional}`)),
    control,
    hint && h('p', { class: 'field-hint', id: `${id}-hint` }, hint),
    extra);
}

// The region a `?region=` or site `place` value names: its name, its slug or `region-<slug>`.
export function slugify(text) {
  return fold(text).replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

export function matchRegion(value, regions) {
  const wanted = slugify(String(value || '').replace(/^region-/i, ''));
  if (!wanted) return null;
  return regions.find((name) => slugify(name) === wanted || slugify(name) === wanted.replace(/^region-(de-)?/, '')) || null;
}

export function regionsOf(communes) {
  return [...new Set(communes.map((c) => c.region))].sort((a, b) => a.localeCompare(b, 'es'));
}
