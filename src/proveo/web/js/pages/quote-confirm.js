// The confirmation link of a quote request (`/quote-requests/confirm/#token=…`). Opening it sends
// nothing: the page says the request is waiting and only its button posts the token (mail
// scanners that open links and run their scripts must not send a request to the providers nor
// receive the private page's token). Then it says how many providers received the request and
// links to its private page. The token leaves the address as soon as it is read (it is single
// use, and not for the history); it stays in this page's memory until the button is pressed.
import { h, clear, qs, setBusy } from '/js/dom.js';
import { onLangChange, t, formatNumber } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';

const STRINGS = {
  es: {
    title: 'Confirmar solicitud',
    pendingTitle: 'Tu solicitud espera tu confirmación',
    pendingText: 'Todavía no la enviamos a ningún proveedor. Con el botón la enviamos a los proveedores de ese rubro que atienden el lugar que elegiste (hasta 25), que verán tu nombre y tus datos de contacto para responderte.',
    pendingIgnore: 'Si no la pediste tú, cierra esta página: no se enviará nada.',
    send: 'Enviar mi solicitud a los proveedores',
    sending: 'Enviando tu solicitud…',
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
    error: 'No pudimos enviar la solicitud. {message} Puedes intentarlo de nuevo con el botón.',
  },
  en: {
    title: 'Confirm request',
    pendingTitle: 'Your request is waiting for your confirmation',
    pendingText: 'We have not sent it to any provider yet. The button sends it to the providers of that category that serve the place you chose (up to 25), who will see your name and contact details to answer you.',
    pendingIgnore: 'If you did not ask for it, close this page: nothing will be sent.',
    send: 'Send my request to the providers',
    sending: 'Sending your request…',
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
    error: 'We could not send the request. {message} You can try again with the button.',
  },
};

const s = (key, params) => t(STRINGS, key, params);

const token = new URLSearchParams(window.location.hash.slice(1)).get('token') || '';
if (token) window.history.replaceState(null, '', window.location.pathname);

// `pending`: waiting for the button (`sending` while its request runs, `error` after a failure
// worth retrying); then `done`, `invalid` or `missing`.
let state = { view: token ? 'pending' : 'missing', sending: false, result: null, error: null };

function viewHref(uuid, pageToken) {
  return `/quote-requests/view/#${new URLSearchParams({ id: uuid, token: pageToken }).toString()}`;
}

function sendButton() {
  const button = h('button', { type: 'button', class: 'btn btn-primary quote-send', id: 'quote-send', on: { click: confirm } }, s('send'));
  setBusy(button, state.sending);
  return button;
}

function render() {
  const el = qs('#quote-confirm-root');
  clear(el);
  const { view, result, error, sending } = state;
  if (view === 'pending') {
    el.append(h('section', { class: 'card notice-card', id: 'quote-pending', 'data-state': 'pending', tabindex: '-1', 'aria-labelledby': 'pending-title' },
      h('span', { class: 'notice-icon notice-info', 'aria-hidden': 'true' }, '…'),
      h('h1', { id: 'pending-title' }, s('pendingTitle')),
      error ? h('div', { class: 'alert alert-error', role: 'alert', id: 'quote-send-error' }, h('div', { class: 'alert-body' }, s('error', { message: error.message || '' }))) : null,
      h('p', {}, s('pendingText')),
      h('div', { class: 'form-actions' }, sendButton(), h('span', { class: 'muted small', id: 'quote-send-status', role: 'status' }, sending ? s('sending') : '')),
      h('p', { class: 'muted small' }, s('pendingIgnore'))));
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
  el.append(h('section', { class: 'card notice-card', 'data-state': view, tabindex: '-1', id: 'quote-bad', 'aria-labelledby': 'bad-title' },
    h('span', { class: 'notice-icon notice-warning', 'aria-hidden': 'true' }, '!'),
    h('h1', { id: 'bad-title' }, s('badTitle')),
    h('p', {}, view === 'missing' ? s('missing') : s('badText')),
    h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-secondary', href: '/quote-requests/' }, s('again')))));
}

// Only the button calls this, and only once at a time: it is disabled (and `sending` refuses a
// second call) until the answer is in.
async function confirm() {
  if (state.sending || state.view !== 'pending') return;
  state = { ...state, sending: true };
  setBusy(qs('#quote-send'), true);
  qs('#quote-send-status').textContent = s('sending');
  try {
    const result = await api('/quote-requests/confirm', { method: 'POST', json: { token } });
    state = { view: 'done', sending: false, result, error: null };
  } catch (err) {
    if (!(err instanceof ApiError)) {
      state = { ...state, sending: false };
      render();
      throw err;
    }
    const invalid = err.code === 'invalid_token' || err.status === 400 || err.status === 404 || err.status === 422;
    state = invalid
      ? { view: 'invalid', sending: false, result: null, error: err }
      : { view: 'pending', sending: false, result: null, error: err };
  }
  render();
  if (state.view === 'pending') qs('#quote-send')?.focus();
  else qs('#main .notice-card')?.focus();
}

await initPage({ titleKey: 'title', strings: STRINGS });
onLangChange(() => render());
render();
