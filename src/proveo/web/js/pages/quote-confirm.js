// The confirmation link of a quote request (`/quote-requests/confirm/#token=…`): posts the token
// once, then says how many providers received the request and links to its private page. The
// token leaves the address as soon as it is read (it is single use, and not for the history).
import { h, clear, qs } from '/js/dom.js';
import { onLangChange, t, formatNumber } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';

const STRINGS = {
  es: {
    title: 'Confirmar solicitud',
    confirming: 'Confirmando tu solicitud…',
    doneTitle: 'Solicitud confirmada',
    sentMany: 'La enviamos a {n} proveedores. Te llegará un correo con cada respuesta.',
    sentOne: 'La enviamos a 1 proveedor. Te llegará un correo cuando responda.',
    sentNone: 'Por ahora ningún proveedor de ese rubro atiende ese lugar. Prueba con una zona más amplia o con todo Chile.',
    viewPage: 'Ver tu solicitud y sus respuestas',
    viewHint: 'Guarda este enlace: es privado y es la forma de ver las respuestas y cerrar la solicitud.',
    badTitle: 'No pudimos confirmar la solicitud',
    badText: 'El enlace no es válido, ya se usó o expiró. Si ya la confirmaste, busca en tu correo el enlace a tu solicitud.',
    missing: 'Falta el código del enlace. Ábrelo tal como llegó en el correo.',
    again: 'Pedir cotizaciones',
    error: 'No pudimos confirmar la solicitud. {message}',
    retry: 'Reintentar',
  },
  en: {
    title: 'Confirm request',
    confirming: 'Confirming your request…',
    doneTitle: 'Request confirmed',
    sentMany: 'We sent it to {n} providers. You will get an email with each reply.',
    sentOne: 'We sent it to 1 provider. You will get an email when it replies.',
    sentNone: 'No provider of that category serves that place yet. Try a wider area or all of Chile.',
    viewPage: 'See your request and its replies',
    viewHint: 'Keep this link: it is private, and it is how you see the replies and close the request.',
    badTitle: 'We could not confirm the request',
    badText: 'The link is invalid, already used or expired. If you already confirmed it, look in your email for the link to your request.',
    missing: 'The link is missing its code. Open it exactly as it arrived in the email.',
    again: 'Request quotes',
    error: 'We could not confirm the request. {message}',
    retry: 'Try again',
  },
};

const s = (key, params) => t(STRINGS, key, params);

const token = new URLSearchParams(window.location.hash.slice(1)).get('token') || '';
if (token) window.history.replaceState(null, '', window.location.pathname);

let state = { view: token ? 'loading' : 'missing', result: null, error: null };

function viewHref(uuid, pageToken) {
  return `/quote-requests/view/#${new URLSearchParams({ id: uuid, token: pageToken }).toString()}`;
}

function render() {
  const el = qs('#quote-confirm-root');
  clear(el);
  const { view, result, error } = state;
  if (view === 'loading') {
    el.append(h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), s('confirming')));
    return;
  }
  if (view === 'done') {
    const n = result.notified ?? 0;
    el.append(h('section', { class: 'card notice-card', id: 'quote-confirmed', 'data-state': 'confirmed', 'data-notified': String(n), tabindex: '-1', 'aria-labelledby': 'confirmed-title' },
      h('span', { class: 'notice-icon notice-success', 'aria-hidden': 'true' }, '✓'),
      h('h1', { id: 'confirmed-title' }, s('doneTitle')),
      h('p', { class: 'quote-notified' }, n === 0 ? s('sentNone') : (n === 1 ? s('sentOne') : s('sentMany', { n: formatNumber(n) }))),
      h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-primary', id: 'quote-view-link', href: viewHref(result.uuid, result.page_token) }, s('viewPage'))),
      h('p', { class: 'muted small' }, s('viewHint'))));
    return;
  }
  if (view === 'error') {
    el.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
      s('error', { message: error?.message || '' }),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: confirm } }, s('retry'))))));
    return;
  }
  el.append(h('section', { class: 'card notice-card', 'data-state': view, tabindex: '-1', id: 'quote-bad', 'aria-labelledby': 'bad-title' },
    h('span', { class: 'notice-icon notice-warning', 'aria-hidden': 'true' }, '!'),
    h('h1', { id: 'bad-title' }, s('badTitle')),
    h('p', {}, view === 'missing' ? s('missing') : s('badText')),
    h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-secondary', href: '/quote-requests/' }, s('again')))));
}

async function confirm() {
  state = { view: 'loading', result: null, error: null };
  render();
  try {
    const result = await api('/quote-requests/confirm', { method: 'POST', json: { token } });
    state = { view: 'done', result, error: null };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const invalid = err.code === 'invalid_token' || err.status === 400 || err.status === 404 || err.status === 422;
    state = { view: invalid ? 'invalid' : 'error', result: null, error: err };
  }
  render();
  qs('#main .notice-card, #main .alert')?.focus();
}

await initPage({ titleKey: 'title', strings: STRINGS });
onLangChange(() => render());
if (token) await confirm();
else render();

