// My company's "Quote requests" section: the requests sent to the owner's company, newest first
// with their status; one opened shows the buyer's need and contact (and counts as read), with a
// reply form and "decline" behind a confirmation. `#quote-requests` on the page's address
// scrolls here; `#quote-request=<uuid>` (the provider's email) opens that request.
import { h, clear, qs, showAlert, setBusy, setFieldErrors, clearFieldErrors } from '/js/dom.js';
import { getLang, onLangChange, t, tc, formatDateTime, formatNumber } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { formatPhone, telHref, mailtoHref } from '/js/market/company-view.js';
import { QUOTE_STRINGS, budgetLabel, placeLabel, statusBadge, requestBadge, formatDay, charCounter } from '/js/quotes/common.js';

const STRINGS = {
  es: {
    heading: 'Solicitudes de cotización',
    intro: 'Compradores que buscan tu rubro en tu zona. Responde con tu propuesta: el comprador recibe tu mensaje, tu perfil y tu contacto.',
    filter: 'Mostrar',
    all: 'Todas',
    newCount: '{n} nuevas',
    newOne: '1 nueva',
    empty: 'Aún no te han llegado solicitudes. Te avisaremos por correo cuando llegue una.',
    emptyFilter: 'No hay solicitudes con ese estado.',
    received: 'Recibida el {date}',
    back: 'Volver a las solicitudes',
    buyer: 'Comprador',
    contactName: 'Nombre',
    contactCompany: 'Empresa',
    contactEmail: 'Correo',
    contactPhone: 'Teléfono',
    contactErased: 'Los datos de contacto del comprador ya se borraron.',
    need: 'Lo que necesita',
    reply: 'Tu respuesta',
    replyLabel: 'Mensaje para el comprador',
    replyHint: 'Tu propuesta, precio o las preguntas que necesites. El comprador verá también tu perfil y tu contacto.',
    send: 'Enviar respuesta',
    sent: 'Respuesta enviada. El comprador la recibió por correo.',
    yourReply: 'Respondiste el {date}:',
    decline: 'No puedo tomarla',
    declineTitle: '¿Rechazar esta solicitud?',
    declineText: 'No podrás responderla después. El comprador no recibe ningún mensaje.',
    declineConfirm: 'Sí, rechazar',
    cancel: 'Cancelar',
    declined: 'Rechazaste esta solicitud.',
    closedNote: 'Esta solicitud ya no recibe respuestas ({status}).',
    required: 'Escribe tu respuesta.',
    tooLong: 'Usa como máximo 2.000 caracteres.',
    tooManyLinks: 'Incluye como máximo 2 enlaces.',
    err_already_answered: 'Esta solicitud ya tiene tu respuesta.',
    err_request_closed: 'El comprador cerró esta solicitud o venció.',
    loadError: 'No pudimos cargar las solicitudes. {message}',
    retry: 'Reintentar',
    prev: 'Anteriores',
    next: 'Siguientes',
    pageOf: 'Página {page} de {pages}',
    open: 'Abrir «{title}»',
  },
  en: {
    heading: 'Quote requests',
    intro: 'Buyers looking for your category in your area. Reply with your offer: the buyer gets your message, your profile and your contact details.',
    filter: 'Show',
    all: 'All',
    newCount: '{n} new',
    newOne: '1 new',
    empty: 'No requests yet. We will email you when one arrives.',
    emptyFilter: 'No requests with that status.',
    received: 'Received on {date}',
    back: 'Back to the requests',
    buyer: 'Buyer',
    contactName: 'Name',
    contactCompany: 'Company',
    contactEmail: 'Email',
    contactPhone: 'Phone',
    contactErased: 'The buyer’s contact details have been erased.',
    need: 'What they need',
    reply: 'Your reply',
    replyLabel: 'Message to the buyer',
    replyHint: 'Your offer, price or any questions. The buyer also sees your profile and contact details.',
    send: 'Send reply',
    sent: 'Reply sent. The buyer received it by email.',
    yourReply: 'You replied on {date}:',
    decline: 'I cannot take it',
    declineTitle: 'Decline this request?',
    declineText: 'You will not be able to reply later. The buyer gets no message.',
    declineConfirm: 'Yes, decline',
    cancel: 'Cancel',
    declined: 'You declined this request.',
    closedNote: 'This request no longer takes replies ({status}).',
    required: 'Write your reply.',
    tooLong: 'Use at most 2,000 characters.',
    tooManyLinks: 'Include at most 2 links.',
    err_already_answered: 'This request already has your answer.',
    err_request_closed: 'The buyer closed this request or it expired.',
    loadError: 'The requests could not be loaded. {message}',
    retry: 'Try again',
    prev: 'Newer',
    next: 'Older',
    pageOf: 'Page {page} of {pages}',
    open: 'Open “{title}”',
  },
};

const s = (key, params) => t(STRINGS, key, params);
const q = (key, params) => t(QUOTE_STRINGS, key, params);
const BASE = '/companies/user/my-company/quote-requests';
const STATUSES = ['new', 'read', 'replied', 'declined'];
const REPLY_MAX = 2000;

function errorText(err) {
  const own = s(`err_${err.code}`);
  return own !== `err_${err.code}` ? own : err.message;
}

// `onAnswered`: called after a reply or a decline went through (the insights count replies).
export function quoteInbox({ onAnswered = () => {} } = {}) {
  const element = h('section', { class: 'card quote-inbox', id: 'quote-requests', 'aria-labelledby': 'inbox-title', tabindex: '-1' });
  const st = { view: 'loading', status: '', page: 1, list: null, item: null, error: null, flash: null, draft: '' };

  function itemRow(item) {
    return h('li', { class: ['inbox-item', item.status === 'new' && 'is-new'], 'data-uuid': item.uuid },
      h('button', { type: 'button', class: 'inbox-open', 'aria-label': s('open', { title: item.title }), on: { click: () => openItem(item.uuid) } },
        h('span', { class: 'inbox-line' },
          h('span', { class: 'inbox-title' }, item.title),
          statusBadge(item.status)),
        h('span', { class: 'inbox-meta muted small' },
          [item.product?.name, placeLabel(item.place), s('received', { date: formatDateTime(item.notified_at) })].filter(Boolean).join(' · '))));
  }

  function renderList(body) {
    const list = st.list;
    const items = list?.items || [];
    const newCount = items.filter((i) => i.status === 'new').length;
    const select = h('select', { id: 'inbox-status', on: { change: () => { st.status = select.value; st.page = 1; load(); } } },
      h('option', { value: '' }, s('all')),
      STATUSES.map((status) => h('option', { value: status, selected: st.status === status }, q(`status_${status}`))));
    body.append(h('div', { class: 'cluster cluster-between inbox-tools' },
      h('p', { class: 'muted small' }, newCount ? (newCount === 1 ? s('newOne') : s('newCount', { n: formatNumber(newCount) })) : ''),
      h('div', { class: 'field field-inline' }, h('label', { for: 'inbox-status' }, s('filter')), select)));
    if (!items.length) {
      body.append(h('p', { class: 'empty-state', 'data-state': 'inbox-empty' }, st.status ? s('emptyFilter') : s('empty')));
      return;
    }
    body.append(h('ul', { class: 'inbox-list', id: 'inbox-list' }, items.map(itemRow)));
    if ((list.pages || 1) > 1) {
      body.append(h('nav', { class: 'pager', 'aria-label': tc('pagination_label') },
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', disabled: st.page <= 1, on: { click: () => { st.page -= 1; load(); } } }, s('prev')),
        h('span', {}, s('pageOf', { page: formatNumber(st.page), pages: formatNumber(list.pages) })),
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', disabled: st.page >= list.pages, on: { click: () => { st.page += 1; load(); } } }, s('next'))));
    }
  }

  function contactBlock(contact) {
    if (!contact) return h('p', { class: 'muted' }, s('contactErased'));
    const row = (label, value) => value && h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));
    return h('dl', { class: 'profile-facts inbox-contact' },
      row(s('contactName'), contact.name),
      row(s('contactCompany'), contact.company),
      row(s('contactEmail'), contact.email && h('a', { class: 'break', href: mailtoHref(contact.email) }, contact.email)),
      row(s('contactPhone'), contact.phone && h('a', { href: telHref(contact.phone) }, formatPhone(contact.phone))));
  }

  function replyForm(item) {
    const textarea = h('textarea', { name: 'message', rows: '6', required: true }, st.draft);
    textarea.id = 'inbox-reply';
    textarea.setAttribute('aria-describedby', 'inbox-reply-hint');
    textarea.addEventListener('input', () => { st.draft = textarea.value; });
    const alertBox = h('div', { class: 'form-alert', id: 'inbox-reply-alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, s('send'));
    const form = h('form', { id: 'inbox-reply-form', class: 'stack-sm', novalidate: true, on: { submit: (event) => { event.preventDefault(); sendReply(item, form, submit); } } },
      alertBox,
      h('div', { class: 'field' },
        h('label', { for: 'inbox-reply' }, s('replyLabel')),
        textarea,
        h('p', { class: 'field-hint', id: 'inbox-reply-hint' }, s('replyHint')),
        charCounter(textarea, REPLY_MAX)),
      h('div', { class: 'form-actions' }, submit,
        h('button', { type: 'button', class: 'btn btn-danger-outline', id: 'inbox-decline', on: { click: askDecline } }, s('decline'))));
    return form;
  }

  function renderItem(body) {
    const item = st.item;
    const lang = getLang();
    const fact = (label, value) => value && h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));
    const open = item.request_status === 'open';
    let answer;
    if (item.status === 'replied') {
      answer = h('div', { class: 'stack-sm', 'data-state': 'replied' },
        h('p', { class: 'muted small' }, s('yourReply', { date: formatDateTime(item.replied_at) })),
        h('blockquote', { class: 'reply-message inbox-reply-text' }, item.reply));
    } else if (item.status === 'declined') {
      answer = h('p', { class: 'muted', 'data-state': 'declined' }, s('declined'));
    } else if (!open) {
      answer = h('p', { class: 'muted', 'data-state': 'closed' }, s('closedNote', { status: q(`request_${item.request_status}`) }));
    } else {
      answer = replyForm(item);
    }
    body.append(
      h('p', {}, h('button', { type: 'button', class: 'btn btn-link', id: 'inbox-back', on: { click: backToList } }, `← ${s('back')}`)),
      h('article', { class: 'stack inbox-detail', 'aria-labelledby': 'inbox-item-title', 'data-uuid': item.uuid },
        h('div', { class: 'stack-sm' },
          h('h3', { id: 'inbox-item-title', class: 'break', tabindex: '-1' }, item.title),
          h('p', { class: 'cluster' }, statusBadge(item.status), item.request_status !== 'open' && requestBadge(item.request_status),
            h('span', { class: 'muted small' }, s('received', { date: formatDateTime(item.notified_at) })))),
        h('dl', { class: 'profile-facts' },
          fact(q('category'), item.product?.name),
          fact(q('place'), placeLabel(item.place)),
          fact(q('neededBy'), item.needed_by && formatDay(item.needed_by, lang)),
          fact(q('budget'), budgetLabel(item.budget_band))),
        h('div', {}, h('h4', { class: 'card-subheading' }, s('need')), h('p', { class: 'quote-description' }, item.description)),
        h('div', {}, h('h4', { class: 'card-subheading' }, s('buyer')), contactBlock(item.contact)),
        h('div', { class: 'stack-sm' }, h('h4', { class: 'card-subheading' }, s('reply')), h('div', { id: 'inbox-flash' }), answer)),
      declineDialog(item));
    if (st.flash) showAlert(qs('#inbox-flash', body), st.flash.kind, s(st.flash.key), { focus: false });
  }

  function render() {
    clear(element);
    element.append(h('h2', { id: 'inbox-title', class: 'card-heading' }, s('heading')));
    if (st.view !== 'item') element.append(h('p', { class: 'muted small' }, s('intro')));
    const body = h('div', { class: 'stack', id: 'inbox-body' });
    element.append(body);
    if (st.view === 'loading') {
      body.append(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tc('loading')));
    } else if (st.view === 'error') {
      body.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
        s('loadError', { message: st.error?.message || '' }),
        h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: () => (st.item ? openItem(st.item.uuid) : load()) } }, s('retry'))))));
    } else if (st.view === 'item') {
      renderItem(body);
    } else {
      renderList(body);
    }
  }

  async function load() {
    st.view = 'loading';
    render();
    try {
      st.list = await api(BASE, { query: { status: st.status, page: st.page } });
      st.view = 'list';
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      st.error = err;
      st.view = 'error';
    }
    render();
  }

  async function openItem(uuid) {
    st.flash = null;
    st.draft = '';
    try {
      st.item = await api(`${BASE}/${encodeURIComponent(uuid)}`);
      st.view = 'item';
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      st.error = err;
      st.view = 'error';
    }
    render();
    if (st.view === 'item') {
      qs('#inbox-item-title', element)?.focus();
      // Opened, it is read: the list shows that when it comes back.
      const listed = st.list?.items?.find((i) => i.uuid === uuid);
      if (listed) Object.assign(listed, { status: st.item.status });
    }
  }

  function backToList() {
    const uuid = st.item?.uuid;
    st.item = null;
    st.flash = null;
    st.view = st.list ? 'list' : 'loading';
    if (!st.list) {
      load();
      return;
    }
    render();
    qs(`[data-uuid="${uuid}"] .inbox-open`, element)?.focus();
  }

  function replaceItem(item) {
    st.item = item;
    const listed = st.list?.items?.findIndex((i) => i.uuid === item.uuid);
    if (listed !== undefined && listed >= 0) st.list.items[listed] = item;
  }

  async function sendReply(item, form, button) {
    const alertBox = qs('#inbox-reply-alert', form);
    clear(alertBox);
    clearFieldErrors(form);
    const message = form.elements.namedItem('message').value.trim();
    let problem = null;
    if (!message) problem = s('required');
    else if (message.length > REPLY_MAX) problem = s('tooLong');
    else if ((message.match(/\b(?:https?:\/\/|www\.)/gi) || []).length > 2) problem = s('tooManyLinks');
    if (problem) {
      setFieldErrors(form, { message: problem })?.focus();
      return;
    }
    setBusy(button, true);
    try {
      await answered(item.uuid, await api(`${BASE}/${encodeURIComponent(item.uuid)}/reply`, { method: 'POST', json: { message } }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 422 && err.fieldErrors?.message) {
        const text = /link/i.test(err.fieldErrors.message) ? s('tooManyLinks') : (/at most|too long/i.test(err.fieldErrors.message) ? s('tooLong') : err.fieldErrors.message);
        setFieldErrors(form, { message: text })?.focus();
      } else {
        showAlert(alertBox, 'error', errorText(err));
        if (err.status === 409) await refreshItem(item.uuid);
      }
      return;
    } finally {
      setBusy(button, false);
    }
    st.draft = '';
    st.flash = { kind: 'success', key: 'sent' };
    render();
    qs('#inbox-flash .alert', element)?.focus();
  }

  // The answer's response is the item as it is now; anything else, and the item is read again.
  async function answered(uuid, response) {
    if (response?.uuid === uuid && response.status) replaceItem(response);
    else await refreshItem(uuid);
    onAnswered();
  }

  async function refreshItem(uuid) {
    try {
      replaceItem(await api(`${BASE}/${encodeURIComponent(uuid)}`));
    } catch {
      // The message above already says what happened.
    }
  }

  function declineDialog(item) {
    const status = h('div', { class: 'form-alert' });
    const confirm = h('button', { type: 'button', class: 'btn btn-danger', id: 'confirm-decline' }, s('declineConfirm'));
    const dialog = h('dialog', { id: 'decline-dialog', 'aria-labelledby': 'decline-title', 'aria-describedby': 'decline-text' },
      h('div', { class: 'dialog-body' },
        h('h2', { id: 'decline-title' }, s('declineTitle')),
        h('p', { id: 'decline-text' }, s('declineText')),
        status,
        h('div', { class: 'form-actions dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => dialog.close() } }, s('cancel')),
          confirm)));
    confirm.addEventListener('click', async () => {
      setBusy(confirm, true);
      try {
        await answered(item.uuid, await api(`${BASE}/${encodeURIComponent(item.uuid)}/decline`, { method: 'POST' }));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        showAlert(status, 'error', errorText(err));
        return;
      } finally {
        setBusy(confirm, false);
      }
      dialog.close();
      st.flash = null;
      render();
      qs('#inbox-item-title', element)?.focus();
    });
    dialog.addEventListener('close', () => clear(status));
    return dialog;
  }

  function askDecline() {
    const dialog = qs('#decline-dialog', element);
    dialog.showModal();
    qs('.btn-secondary', dialog).focus();
  }

  function followHash() {
    const hash = window.location.hash.slice(1);
    const params = new URLSearchParams(hash);
    const uuid = params.get('quote-request');
    if (uuid) {
      element.scrollIntoView({ block: 'start' });
      openItem(uuid);
      return true;
    }
    if (hash === 'quote-requests') {
      element.scrollIntoView({ block: 'start' });
      element.focus({ preventScroll: true });
    }
    return false;
  }

  onLangChange(() => {
    const draft = qs('#inbox-reply', element)?.value;
    if (draft !== undefined) st.draft = draft;
    const dialogOpen = qs('#decline-dialog', element)?.open;
    render();
    if (dialogOpen) askDecline();
  });
  window.addEventListener('hashchange', followHash);

  render();
  const started = load().then(() => followHash());
  return { element, ready: started };
}
