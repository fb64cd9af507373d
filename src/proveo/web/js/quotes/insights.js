// My company's "Insights" section: the last 30 days of profile views, appearances in search
// results, contact clicks by kind and quote requests, as totals, a bar chart (inline SVG built
// with DOM calls, described by its caption) and the same figures in a table behind "view as a
// table". Counts arrive in batches a few seconds apart: "refresh" reads them again.
import { h, clear } from '/js/dom.js';
import { getLang, onLangChange, t, tc, formatNumber } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { formatDay, formatShortDay } from '/js/quotes/common.js';

const STRINGS = {
  es: {
    heading: 'Estadísticas',
    period: 'Últimos {days} días',
    refresh: 'Actualizar',
    views: 'Visitas al perfil',
    impressions: 'Apariciones en búsquedas',
    contacts: 'Clics de contacto',
    phone: 'Teléfono',
    whatsapp: 'WhatsApp',
    email: 'Correo',
    website: 'Sitio web',
    quotesReceived: 'Solicitudes recibidas',
    quotesReplied: 'Solicitudes respondidas',
    contactsBreakdown: 'Teléfono {phone} · WhatsApp {whatsapp} · Correo {email} · Sitio web {website}',
    chartTitle: 'Visitas al perfil y clics de contacto por día, del {from} al {to}',
    chartSummary: 'Día con más visitas: {day} ({n}). Los datos de cada día están en la tabla.',
    chartEmpty: 'Aún no hay visitas ni clics en este período.',
    legend: 'Leyenda',
    table: 'Ver como tabla',
    tableCaption: 'Cifras diarias de los últimos {days} días',
    day: 'Día',
    total: 'Total',
    note: 'No contamos tus propias visitas ni las de robots. Las cifras se actualizan cada pocos segundos.',
    loadError: 'No pudimos cargar las estadísticas. {message}',
    retry: 'Reintentar',
  },
  en: {
    heading: 'Insights',
    period: 'Last {days} days',
    refresh: 'Refresh',
    views: 'Profile views',
    impressions: 'Appearances in search',
    contacts: 'Contact clicks',
    phone: 'Phone',
    whatsapp: 'WhatsApp',
    email: 'Email',
    website: 'Website',
    quotesReceived: 'Quote requests received',
    quotesReplied: 'Quote requests replied',
    contactsBreakdown: 'Phone {phone} · WhatsApp {whatsapp} · Email {email} · Website {website}',
    chartTitle: 'Profile views and contact clicks per day, {from} to {to}',
    chartSummary: 'Busiest day for views: {day} ({n}). Each day’s figures are in the table.',
    chartEmpty: 'No views or clicks in this period yet.',
    legend: 'Legend',
    table: 'View as a table',
    tableCaption: 'Daily figures for the last {days} days',
    day: 'Day',
    total: 'Total',
    note: 'Your own visits and robots are not counted. Figures are updated every few seconds.',
    loadError: 'Insights could not be loaded. {message}',
    retry: 'Try again',
  },
};

const s = (key, params) => t(STRINGS, key, params);
const DAYS = 30;
const KINDS = ['phone', 'whatsapp', 'email', 'website'];
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child);
  return el;
}

function contactsOf(day) {
  const c = day.contacts || {};
  return KINDS.reduce((sum, kind) => sum + (c[kind] || 0), 0);
}

function shortDay(value, lang) {
  const [, m, d] = String(value).split('-').map(Number);
  return lang === 'en' ? `${m}/${d}` : `${d}/${m}`;
}

// Two bars a day (views, contact clicks) on a shared scale. The SVG holds only the bars and
// grid lines and stretches to any width; the scale's top and the first, middle and last days are
// HTML beside it, so their text keeps its size on a phone.
function chart(series, lang) {
  const width = 600;
  const height = 200;
  // An even top, so the middle line is a whole number too.
  const highest = Math.max(0, ...series.map((d) => Math.max(d.views || 0, contactsOf(d))));
  const max = Math.max(2, Math.ceil(highest / 2) * 2);
  const step = width / Math.max(1, series.length);
  const barW = Math.max(1, step / 2 - 1);
  const y = (n) => height - (n / max) * height;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'insights-chart-svg', 'aria-hidden': 'true', focusable: 'false' });
  for (const fraction of [0, 0.5, 1]) {
    const at = Math.min(height - 0.5, Math.max(0.5, y(max * fraction)));
    root.append(svg('line', { x1: 0, x2: width, y1: at, y2: at, class: 'chart-grid', 'vector-effect': 'non-scaling-stroke' }));
  }
  series.forEach((d, i) => {
    const x = i * step + 0.5;
    const views = d.views || 0;
    const contacts = contactsOf(d);
    if (views) root.append(svg('rect', { x, y: y(views), width: barW, height: height - y(views), class: 'chart-bar chart-views', 'data-day': d.day }));
    if (contacts) root.append(svg('rect', { x: x + barW + 0.5, y: y(contacts), width: barW, height: height - y(contacts), class: 'chart-bar chart-contacts', 'data-day': d.day }));
  });
  const middle = series[Math.floor((series.length - 1) / 2)];
  return h('div', { class: 'chart-frame', 'aria-hidden': 'true' },
    h('div', { class: 'chart-scale' }, h('span', {}, formatNumber(max)), h('span', {}, formatNumber(max / 2)), h('span', {}, '0')),
    h('div', { class: 'chart-plot' }, root,
      h('div', { class: 'chart-days' },
        series.length ? [series[0], middle, series[series.length - 1]].map((d) => h('span', {}, shortDay(d.day, lang))) : null)));
}

export function insightsSection() {
  const element = h('section', { class: 'card insights', id: 'insights', 'aria-labelledby': 'insights-title', tabindex: '-1' });
  const st = { view: 'loading', data: null, error: null, tableOpen: false };

  function tile(key, value, detail = null) {
    return h('div', { class: 'insight-tile', 'data-total': key },
      h('dt', {}, s(key)),
      h('dd', {}, h('span', { class: 'insight-value' }, formatNumber(value)), detail && h('span', { class: 'insight-detail muted small' }, detail)));
  }

  function table(data, lang) {
    const head = ['day', 'views', 'impressions', ...KINDS, 'quotesReceived', 'quotesReplied'];
    const cells = (d) => [d.views, d.impressions, ...KINDS.map((k) => d.contacts?.[k] || 0), d.quote_requests?.received || 0, d.quote_requests?.replied || 0];
    const details = h('details', { class: 'insights-table', open: st.tableOpen, on: { toggle: () => { st.tableOpen = details.open; } } },
      h('summary', {}, s('table')),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': s('tableCaption', { days: data.days }) }, h('table', { class: 'table', id: 'insights-table' },
        h('caption', { class: 'visually-hidden' }, s('tableCaption', { days: data.days })),
        h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col' }, s(key))))),
        h('tbody', {}, [...data.series].reverse().map((d) => h('tr', { 'data-day': d.day },
          h('th', { scope: 'row' }, h('time', { datetime: d.day }, formatShortDay(d.day, lang))),
          cells(d).map((n) => h('td', { class: 'num' }, formatNumber(n || 0)))))),
        h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, s('total')), cells(data.totals).map((n) => h('td', { class: 'num' }, formatNumber(n || 0))))))));
    return details;
  }

  function renderData(body) {
    const data = st.data;
    const lang = getLang();
    const totals = data.totals || {};
    const contacts = totals.contacts || {};
    const series = data.series || [];
    const busiest = series.reduce((best, d) => ((d.views || 0) > (best?.views || 0) ? d : best), null);
    const anything = series.some((d) => (d.views || 0) + contactsOf(d) > 0);
    const captionId = 'insights-chart-caption';
    body.append(
      h('dl', { class: 'insight-tiles', id: 'insights-totals' },
        tile('views', totals.views || 0),
        tile('impressions', totals.impressions || 0),
        tile('contacts', contactsOf(totals), s('contactsBreakdown', Object.fromEntries(KINDS.map((k) => [k, formatNumber(contacts[k] || 0)])))),
        tile('quotesReceived', totals.quote_requests?.received || 0),
        tile('quotesReplied', totals.quote_requests?.replied || 0)),
      h('figure', { class: 'insights-chart', 'aria-labelledby': captionId },
        h('figcaption', { id: captionId, class: 'small' },
          h('span', { class: 'chart-title' }, s('chartTitle', { from: formatDay(data.from, lang), to: formatDay(data.to, lang) })), ' ',
          h('span', { class: 'muted' }, anything && busiest ? s('chartSummary', { day: formatDay(busiest.day, lang), n: formatNumber(busiest.views) }) : s('chartEmpty'))),
        chart(series, lang),
        h('ul', { class: 'chart-legend cluster', 'aria-label': s('legend') },
          h('li', {}, h('span', { class: 'legend-swatch chart-views', 'aria-hidden': 'true' }), s('views')),
          h('li', {}, h('span', { class: 'legend-swatch chart-contacts', 'aria-hidden': 'true' }), s('contacts')))),
      table(data, lang),
      h('p', { class: 'muted small' }, s('note')));
  }

  function render() {
    clear(element);
    element.append(h('div', { class: 'cluster cluster-between' },
      h('h2', { id: 'insights-title', class: 'card-heading' }, s('heading'), ' ', h('span', { class: 'muted small' }, s('period', { days: DAYS }))),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'insights-refresh', on: { click: () => load({ quiet: true }) } }, s('refresh'))));
    const body = h('div', { class: 'stack', id: 'insights-body', 'aria-busy': st.view === 'loading' ? 'true' : 'false' });
    element.append(body);
    if (st.view === 'loading' && !st.data) {
      body.append(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tc('loading')));
    } else if (st.view === 'error') {
      body.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
        s('loadError', { message: st.error?.message || '' }),
        h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: () => load() } }, s('retry'))))));
    } else if (st.data) {
      renderData(body);
    }
  }

  async function load({ quiet = false } = {}) {
    st.view = 'loading';
    if (!quiet) render();
    try {
      st.data = await api('/companies/user/my-company/insights', { query: { days: DAYS } });
      st.view = 'data';
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      st.error = err;
      st.view = 'error';
    }
    render();
  }

  onLangChange(() => render());
  render();
  return { element, ready: load(), refresh: () => load({ quiet: true }) };
}
