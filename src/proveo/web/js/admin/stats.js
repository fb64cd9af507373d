// Search statistics: the most frequent queries and those that found nothing, over a period.

import { api } from '/js/api.js';
import { formatNumber } from '/js/i18n.js';
import { s, h, clear, tc, showAlert, errorText, isForbidden, spinnerRow, dataTable } from './ui.js';

const DAY_CHOICES = [1, 7, 30, 90];

export function createStatsTab(ctx) {
  const state = { days: 7 };
  let results = null;

  function show(panel) {
    clear(panel);
    const select = h('select', { id: 'stats-days', on: { change: (event) => { state.days = Number(event.target.value); load(); } } },
      DAY_CHOICES.map((days) => h('option', { value: String(days), selected: days === state.days },
        days === 1 ? s('stats_day_option') : s('stats_days_option', { days }))));
    results = h('div', { class: 'panel-results' });
    panel.append(
      h('div', { class: 'admin-toolbar admin-toolbar-split' },
        h('p', { class: 'panel-intro' }, s('stats_privacy')),
        h('div', { class: 'field field-inline' }, h('label', { for: 'stats-days' }, s('stats_days_label')), select)),
      results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    try {
      const stats = await api('/admin/search-stats', { query: { days: state.days } });
      render(stats || {});
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      clear(results);
      if (err && err.status === 404) {
        showAlert(results, 'info', s('stats_unavailable'), { focus: false });
        return;
      }
      showAlert(results, 'error', [s('load_failed'), ' ', errorText(err)], { focus: false });
      results.append(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: load } }, tc('btn_retry')));
    }
  }

  function render(stats) {
    clear(results);
    results.append(h('div', { class: 'stats-grid' },
      statCard('stats-top', s('stats_top'), s('stats_top_hint'), stats.top_queries || [], 'brand'),
      statCard('stats-zero', s('stats_zero'), s('stats_zero_hint'), stats.zero_result_queries || [], 'warning')));
  }

  return { show };
}

function statCard(id, title, hint, rows, tone) {
  const max = rows.reduce((m, r) => Math.max(m, r.count), 0) || 1;
  const body = rows.length
    ? dataTable({
      caption: title,
      columns: [{ label: '#', className: 'col-rank' }, { label: s('col_query') }, { label: s('col_count'), className: 'col-count' }],
      rows: rows.map((r, i) => h('tr', {},
        h('td', { class: 'col-rank' }, String(i + 1)),
        h('td', {}, h('div', { class: 'query-text' }, r.query),
          // The bar repeats the count visually; the number in the next cell is what is read out.
          h('progress', { class: `query-bar query-bar-${tone}`, max: String(max), value: String(r.count), 'aria-hidden': 'true' })),
        h('td', { class: 'col-count' }, formatNumber(r.count)))),
      className: 'stats-table',
    })
    : h('div', { class: 'empty-state' }, h('p', {}, s('stats_empty')));
  return h('section', { class: 'card stats-card', 'aria-labelledby': `${id}-title` },
    h('h2', { class: 'card-title', id: `${id}-title` }, title),
    h('p', { class: 'card-hint' }, hint),
    body);
}
