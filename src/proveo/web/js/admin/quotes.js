// Quote requests: every request newest first (status filter, paging), with its place, buyer and
// answers counted; removal after a confirmation (providers no longer see it; audit-logged).
// And the directory's weekly totals: requests, replies, reply rate, views and contact clicks.

import { api } from '/js/api.js';
import { t, formatDateTime, getLang } from '/js/i18n.js';
import {
  h, clear, put, tc, showAlert, errorText, isForbidden, badge, shortDate, spinnerRow, dataTable, pager,
  confirmAction, emailText, formatNumber,
} from './ui.js';
import { placeLabel, budgetLabel } from '/js/quotes/common.js';

const STRINGS = {
  es: {
    intro: 'Solicitudes de cotización de compradores. Elimina las que sean abuso o spam: los proveedores dejan de verlas.',
    status: 'Estado',
    all: 'Todas',
    status_pending: 'Por confirmar',
    status_open: 'Abierta',
    status_closed: 'Cerrada',
    status_expired: 'Vencida',
    status_removed: 'Eliminada',
    caption: 'Solicitudes de cotización',
    col_request: 'Solicitud',
    col_buyer: 'Comprador',
    col_answers: 'Respuestas',
    col_created: 'Creada',
    col_status: 'Estado',
    col_actions: 'Acciones',
    answers_notified: '{n} enviadas',
    answers_notifiedOne: '1 enviada',
    answers_replied: '{n} respondidas',
    answers_repliedOne: '1 respondida',
    answers_declined: '{n} rechazadas',
    answers_declinedOne: '1 rechazada',
    erased: 'Datos borrados',
    remove: 'Eliminar',
    removeLabel: 'Eliminar «{title}»',
    removeTitle: '¿Eliminar «{title}»?',
    removeBody: 'Los proveedores dejarán de verla y no podrán responderla. Queda en la auditoría.',
    removed: 'Solicitud «{title}» eliminada.',
    empty: 'No hay solicitudes con ese estado.',
    count: '{n} solicitudes',
    countOne: '1 solicitud',
    weeklyTitle: 'Totales semanales del directorio',
    weeklyHint: 'Semanas de lunes a domingo (UTC), la actual primero.',
    weeklyCaption: 'Totales por semana',
    col_week: 'Semana del',
    col_requests: 'Solicitudes',
    col_replies: 'Respuestas',
    col_rate: 'Tasa de respuesta',
    col_views: 'Visitas',
    col_impressions: 'Apariciones',
    col_contacts: 'Contactos',
    noRate: '—',
  },
  en: {
    intro: 'Buyers’ quote requests. Remove abuse or spam: providers stop seeing them.',
    status: 'Status',
    all: 'All',
    status_pending: 'To confirm',
    status_open: 'Open',
    status_closed: 'Closed',
    status_expired: 'Expired',
    status_removed: 'Removed',
    caption: 'Quote requests',
    col_request: 'Request',
    col_buyer: 'Buyer',
    col_answers: 'Answers',
    col_created: 'Created',
    col_status: 'Status',
    col_actions: 'Actions',
    answers_notified: '{n} sent',
    answers_notifiedOne: '1 sent',
    answers_replied: '{n} replied',
    answers_repliedOne: '1 replied',
    answers_declined: '{n} declined',
    answers_declinedOne: '1 declined',
    erased: 'Details erased',
    remove: 'Remove',
    removeLabel: 'Remove “{title}”',
    removeTitle: 'Remove “{title}”?',
    removeBody: 'Providers will no longer see it or be able to reply. It stays in the audit log.',
    removed: 'Request “{title}” removed.',
    empty: 'No requests with that status.',
    count: '{n} requests',
    countOne: '1 request',
    weeklyTitle: 'Directory weekly totals',
    weeklyHint: 'Weeks from Monday to Sunday (UTC), this one first.',
    weeklyCaption: 'Totals per week',
    col_week: 'Week of',
    col_requests: 'Requests',
    col_replies: 'Replies',
    col_rate: 'Reply rate',
    col_views: 'Views',
    col_impressions: 'Appearances',
    col_contacts: 'Contacts',
    noRate: '—',
  },
};

const s = (key, params) => t(STRINGS, key, params);
const STATUSES = ['pending', 'open', 'closed', 'expired', 'removed'];
const TONES = { pending: 'warning', open: 'success', closed: 'neutral', expired: 'neutral', removed: 'danger' };
const PAGE_SIZE = 20;

// "1 enviada · 2 respondidas · 0 rechazadas": each count agrees with its number.
function answersText(item) {
  return ['notified', 'replied', 'declined'].map((kind) => {
    const n = item[kind] || 0;
    return n === 1 ? s(`answers_${kind}One`) : s(`answers_${kind}`, { n: formatNumber(n) });
  }).join(' · ');
}

export function createQuotesTab(ctx) {
  const state = { status: '', page: 1 };
  let results = null;
  let notice = null;

  function show(panel) {
    clear(panel);
    const select = h('select', { id: 'quotes-status', on: { change: (event) => { state.status = event.target.value; state.page = 1; load(); } } },
      h('option', { value: '' }, s('all')),
      STATUSES.map((status) => h('option', { value: status, selected: state.status === status }, s(`status_${status}`))));
    notice = h('div', { class: 'panel-notice' });
    results = h('div', { class: 'panel-results' });
    panel.append(
      h('div', { class: 'admin-toolbar admin-toolbar-split' },
        h('p', { class: 'panel-intro' }, s('intro')),
        h('div', { class: 'field field-inline' }, h('label', { for: 'quotes-status' }, s('status')), select)),
      notice, results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    try {
      const data = await api('/admin/quote-requests', { query: { status: state.status, page: state.page, lang: getLang() } });
      render(data);
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      clear(results);
      showAlert(results, 'error', [errorText(err)], { focus: false });
      results.append(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: load } }, tc('btn_retry')));
    }
  }

  function render(data) {
    clear(results);
    const items = data.items || [];
    const total = data.total ?? items.length;
    const size = data.page_size || PAGE_SIZE;
    put(results,
      h('p', { class: 'panel-meta' }, total === 1 ? s('countOne') : s('count', { n: formatNumber(total) })),
      dataTable({
        caption: s('caption'),
        emptyText: s('empty'),
        columns: [
          { label: s('col_request') }, { label: s('col_buyer') }, { label: s('col_answers') },
          { label: s('col_created') }, { label: s('col_status') }, { label: s('col_actions'), className: 'col-actions' },
        ],
        rows: items.map(row),
      }),
      total > size ? pager({ offset: (state.page - 1) * size, limit: size, total, onChange: (offset) => { state.page = Math.floor(offset / size) + 1; load(); } }) : null);
  }

  function row(item) {
    const contact = item.contact;
    const removed = item.status === 'removed';
    return h('tr', { 'data-uuid': item.uuid, class: removed ? 'row-deleted' : null },
      h('td', {},
        h('div', { class: 'cell-title' }, item.title),
        h('div', { class: 'cell-sub' }, [item.product?.name, placeLabel(item.place), item.budget_band && budgetLabel(item.budget_band)].filter(Boolean).join(' · '))),
      h('td', {}, contact
        ? [h('div', {}, contact.name), h('div', { class: 'cell-sub cell-email' }, emailText(contact.email))]
        : h('span', { class: 'cell-muted' }, s('erased'))),
      h('td', { class: 'cell-sub' }, answersText(item)),
      h('td', { class: 'cell-nowrap' }, h('time', { datetime: item.created_at, title: formatDateTime(item.created_at) }, shortDate(item.created_at))),
      h('td', {}, badge(s(`status_${item.status}`), TONES[item.status] || 'neutral')),
      h('td', { class: 'col-actions' }, removed ? h('span', { class: 'cell-muted' }, '—') : h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', 'aria-label': s('removeLabel', { title: item.title }),
          on: { click: () => remove(item) } }, s('remove')))));
  }

  function remove(item) {
    confirmAction({
      title: s('removeTitle', { title: item.title }),
      body: s('removeBody'),
      confirmLabel: s('remove'),
      focusCancel: true,
      run: () => api(`/admin/quote-requests/${encodeURIComponent(item.uuid)}`, { method: 'DELETE' }),
    }).then((done) => {
      if (!done) return;
      showAlert(notice, 'success', s('removed', { title: item.title }));
      load();
    });
  }

  return { show };
}

export function createWeeklyTab(ctx) {
  let results = null;

  function show(panel) {
    clear(panel);
    results = h('div', { class: 'panel-results' });
    panel.append(h('div', { class: 'admin-toolbar' }, h('p', { class: 'panel-intro' }, s('weeklyHint'))), results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    try {
      render(await api('/admin/insights/weekly', { query: { weeks: 12 } }));
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      clear(results);
      showAlert(results, 'error', [errorText(err)], { focus: false });
      results.append(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: load } }, tc('btn_retry')));
    }
  }

  function render(data) {
    clear(results);
    const num = (n) => h('td', { class: 'num' }, formatNumber(n || 0));
    results.append(h('section', { class: 'card stats-card', 'aria-labelledby': 'weekly-title' },
      h('h2', { class: 'card-title', id: 'weekly-title' }, s('weeklyTitle')),
      dataTable({
        caption: s('weeklyCaption'),
        columns: ['col_week', 'col_requests', 'col_replies', 'col_rate', 'col_views', 'col_impressions', 'col_contacts']
          .map((key, i) => ({ label: s(key), className: i ? 'num' : null })),
        rows: (data.weeks || []).map((w) => h('tr', { 'data-week': w.week_start },
          h('th', { scope: 'row', class: 'cell-nowrap' }, shortDate(`${w.week_start}T12:00:00Z`)),
          num(w.quote_requests), num(w.replies),
          h('td', { class: 'num' }, w.reply_rate === null || w.reply_rate === undefined ? s('noRate') : `${Math.round(w.reply_rate * 100)} %`),
          num(w.views), num(w.impressions), num(w.contacts))),
      })));
  }

  return { show };
}
