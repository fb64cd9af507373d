// The buyer's private page of a quote request (`/quote-requests/view/#id=<uuid>&token=<t>`, the
// link in every email about it): the request, every provider's reply with its profile link and
// contact, and closing the request. The token stays in the fragment: never sent in a Referer.
import { h, clear, qs, showAlert, setBusy } from '/js/dom.js';
import { getLang, onLangChange, t, tc, formatDateTime, formatNumber } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';
import { companyHref, formatPhone, telHref, mailtoHref, websiteLink, icon } from '/js/market/company-view.js';
import { QUOTE_STRINGS, budgetLabel, placeLabel, requestBadge, formatDay } from '/js/quotes/common.js';

const STRINGS = {
  es: {
    title: 'Tu solicitud de cotización',
    kicker: 'Tu solicitud de cotización',
    sentMany: 'Enviada a {n} proveedores',
    sentOne: 'Enviada a 1 proveedor',
    repliedMany: '{n} respondieron',
    repliedOne: '1 respondió',
    declinedMany: '{n} proveedores no pueden',
    declinedOne: '1 proveedor no puede',
    description: 'Lo que pediste',
    replies: 'Respuestas',
    repliesCount: '({n})',
    noReplies: 'Aún no hay respuestas. Te avisaremos por correo cuando un proveedor responda.',
    noRepliesEnded: 'No recibió respuestas.',
    repliedAt: 'Respondió el {date}',
    viewProfile: 'Ver perfil de {name}',
    call: 'Llamar',
    email: 'Escribir',
    close: 'Cerrar la solicitud',
    closeTitle: '¿Cerrar esta solicitud?',
    closeText: 'Los proveedores ya no podrán responderla. Las respuestas que recibiste siguen aquí.',
    closeConfirm: 'Sí, cerrar',
    cancel: 'Cancelar',
    closed: 'La solicitud está cerrada: ya no recibe respuestas.',
    expired: 'La solicitud venció: ya no recibe respuestas.',
    removed: 'Los moderadores de Proveo eliminaron esta solicitud: los proveedores ya no la ven ni pueden responderla.',
    closedDone: 'Cerraste la solicitud.',
    badTitle: 'No encontramos esta solicitud',
    badText: 'El enlace no es válido o la solicitud fue eliminada. Ábrelo tal como llegó en el correo.',
    again: 'Pedir cotizaciones',
    loadError: 'No pudimos cargar tu solicitud. {message}',
    retry: 'Reintentar',
    privateNote: 'Esta página es privada: solo la ve quien tiene el enlace.',
  },
  en: {
    title: 'Your quote request',
    kicker: 'Your quote request',
    sentMany: 'Sent to {n} providers',
    sentOne: 'Sent to 1 provider',
    repliedMany: '{n} replied',
    repliedOne: '1 replied',
    declinedMany: '{n} providers cannot take it',
    declinedOne: '1 provider cannot take it',
    description: 'What you asked for',
    replies: 'Replies',
    repliesCount: '({n})',
    noReplies: 'No replies yet. We will email you when a provider replies.',
    noRepliesEnded: 'It received no replies.',
    repliedAt: 'Replied on {date}',
    viewProfile: 'View {name}’s profile',
    call: 'Call',
    email: 'Email',
    close: 'Close the request',
    closeTitle: 'Close this request?',
    closeText: 'Providers will no longer be able to reply. The replies you received stay here.',
    closeConfirm: 'Yes, close it',
    cancel: 'Cancel',
    closed: 'The request is closed: it no longer receives replies.',
    expired: 'The request has expired: it no longer receives replies.',
    removed: 'Proveo’s moderators removed this request: providers no longer see it or can reply.',
    closedDone: 'You closed the request.',
    badTitle: 'We could not find this request',
    badText: 'The link is invalid or the request was removed. Open it exactly as it arrived in the email.',
    again: 'Request quotes',
    loadError: 'Your request could not be loaded. {message}',
    retry: 'Try again',
    privateNote: 'This page is private: only someone with the link can see it.',
  },
};

const s = (key, params) => t(STRINGS, key, params);
const q = (key, params) => t(QUOTE_STRINGS, key, params);

const params = new URLSearchParams(window.location.hash.slice(1));
const id = params.get('id') || '';
const token = params.get('token') || '';

let state = { view: 'loading', request: null, error: null, flash: null };

function replyCard(reply) {
  const c = reply.company || {};
  return h('li', { class: 'card reply-card', 'data-company': c.uuid || '' },
    h('div', { class: 'cluster cluster-between reply-head' },
      h('h3', { class: 'reply-company' }, c.slug || c.uuid
        ? h('a', { href: companyHref(c), 'aria-label': s('viewProfile', { name: c.name }) }, c.name)
        : c.name),
      h('span', { class: 'muted small' }, s('repliedAt', { date: formatDateTime(reply.replied_at) }))),
    h('p', { class: 'reply-message' }, reply.message),
    h('div', { class: 'contact-actions reply-contact' },
      c.phone && h('a', { class: 'btn btn-secondary btn-sm', href: telHref(c.phone) }, icon('phone', 'icon icon-sm'), h('span', {}, `${s('call')} ${formatPhone(c.phone)}`)),
      c.email && h('a', { class: 'btn btn-secondary btn-sm break', href: mailtoHref(c.email) }, icon('mail', 'icon icon-sm'), h('span', {}, c.email)),
      c.website && websiteLink(c.website)));
}

// "Enviada a 2 proveedores · 1 respondió · 1 proveedor no puede": each part agrees with its
// number, and nobody declining is not said at all.
function summary(r) {
  const count = (key, n) => (n === 1 ? s(`${key}One`) : s(`${key}Many`, { n: formatNumber(n) }));
  const declined = r.declined ?? 0;
  return [
    count('sent', r.notified ?? 0),
    count('replied', (r.replies || []).length),
    declined ? count('declined', declined) : null,
  ].filter(Boolean).join(' · ');
}

// Why a request that is not open takes no replies (one message; removal says who did it).
function endedText(status) {
  if (status === 'removed') return s('removed');
  if (status === 'expired') return s('expired');
  return s('closed');
}

function render() {
  const el = qs('#quote-view-root');
  clear(el);
  const { view, request: r, error } = state;
  if (view === 'loading') {
    el.append(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tc('loading')));
    return;
  }
  if (view === 'invalid') {
    el.append(h('section', { class: 'card notice-card', 'data-state': 'invalid', tabindex: '-1', 'aria-labelledby': 'bad-title' },
      h('span', { class: 'notice-icon notice-warning', 'aria-hidden': 'true' }, '!'),
      h('h1', { id: 'bad-title' }, s('badTitle')),
      h('p', {}, s('badText')),
      h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-secondary', href: '/quote-requests/' }, s('again')))));
    return;
  }
  if (view === 'error') {
    el.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
      s('loadError', { message: error?.message || '' }),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: load } }, s('retry'))))));
    return;
  }
  const lang = getLang();
  const replies = r.replies || [];
  const open = r.status === 'open';
  const fact = (label, value) => value && h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));
  el.append(
    h('div', { class: 'page-header stack-sm' },
      h('p', { class: 'muted small' }, s('kicker')),
      h('h1', { id: 'quote-title', class: 'break' }, r.title),
      h('p', { class: 'cluster' }, requestBadge(r.status), h('span', { class: 'muted', id: 'quote-summary' }, summary(r)))),
    h('div', { id: 'quote-flash' }),
    h('section', { class: 'card stack', 'aria-labelledby': 'quote-desc-title' },
      h('h2', { id: 'quote-desc-title', class: 'card-heading' }, s('description')),
      h('dl', { class: 'profile-facts' },
        fact(q('category'), r.product?.name),
        fact(q('place'), placeLabel(r.place)),
        fact(q('neededBy'), r.needed_by && formatDay(r.needed_by, lang)),
        fact(q('budget'), budgetLabel(r.budget_band)),
        fact(q('created'), formatDateTime(r.created_at)),
        open && fact(q('expires'), formatDateTime(r.expires_at))),
      h('p', { class: 'quote-description' }, r.description)),
    h('section', { class: 'stack', 'aria-labelledby': 'replies-title' },
      h('h2', { id: 'replies-title' }, s('replies'), ' ', h('span', { class: 'muted' }, s('repliesCount', { n: formatNumber(replies.length) }))),
      replies.length
        ? h('ul', { class: 'reply-list stack', id: 'reply-list' }, replies.map(replyCard))
        : h('p', { class: 'empty-state', id: 'no-replies' }, s(open || r.status === 'pending' ? 'noReplies' : 'noRepliesEnded'))),
    open
      ? h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-danger-outline', id: 'close-request', on: { click: askClose } }, s('close')))
      : h('p', { class: 'muted', id: 'request-closed' }, endedText(r.status)),
    h('p', { class: 'muted small' }, s('privateNote')),
    closeDialog());
  if (state.flash) showAlert(qs('#quote-flash'), 'success', s(state.flash), { focus: false });
}

function closeDialog() {
  const status = h('div', { class: 'form-alert' });
  const confirm = h('button', { type: 'button', class: 'btn btn-danger', id: 'confirm-close' }, s('closeConfirm'));
  const dialog = h('dialog', { id: 'close-dialog', 'aria-labelledby': 'close-title', 'aria-describedby': 'close-text' },
    h('div', { class: 'dialog-body' },
      h('h2', { id: 'close-title' }, s('closeTitle')),
      h('p', { id: 'close-text' }, s('closeText')),
      status,
      h('div', { class: 'form-actions dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => dialog.close() } }, s('cancel')),
        confirm)));
  confirm.addEventListener('click', async () => {
    setBusy(confirm, true);
    try {
      await api(`/quote-requests/${encodeURIComponent(id)}/close`, { method: 'POST', json: { token } });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showAlert(status, 'error', err.message);
      return;
    } finally {
      setBusy(confirm, false);
    }
    dialog.close();
    state.flash = 'closedDone';
    await load({ quiet: true });
    qs('#quote-flash .alert')?.focus();
  });
  return dialog;
}

function askClose() {
  const dialog = qs('#close-dialog');
  dialog.showModal();
  qs('.btn-secondary', dialog).focus();
}

async function load({ quiet = false } = {}) {
  if (!id || !token) {
    state = { ...state, view: 'invalid' };
    render();
    return;
  }
  if (!quiet) {
    state = { ...state, view: 'loading' };
    render();
  }
  try {
    // In a header, not the query string: proxies log query strings.
    const request = await api(`/quote-requests/${encodeURIComponent(id)}`, { headers: { 'X-Page-Token': token } });
    state = { ...state, view: 'view', request, error: null };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const invalid = [400, 403, 404, 422].includes(err.status);
    state = { ...state, view: invalid ? 'invalid' : 'error', error: err };
  }
  render();
}

await initPage({ titleKey: 'title', strings: STRINGS });
onLangChange(() => render());
await load();
