// Audit log: every admin write, newest first, filtered by actor and action; each entry shows
// only the fields its before/after snapshots disagree on, so an edit reads as "field: old → new".

import { apiList } from '/js/api.js';
import { formatDateTime } from '/js/i18n.js';
import { setFieldErrors, clearFieldErrors } from '/js/dom.js';
import {
  s, h, clear, put, countText, tc, showAlert, errorText, isForbidden, idChip, spinnerRow, dataTable, pager, field,
} from './ui.js';
import { AUDIT_ACTIONS } from './strings.js';

const LIMIT = 25;
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const MAX_VALUE = 140;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export function createAuditTab(ctx) {
  const state = { actor: '', action: '', offset: 0 };
  let results = null;
  let form = null;

  function show(panel) {
    clear(panel);
    const action = h('select', {},
      h('option', { value: '' }, s('f_action_any')),
      AUDIT_ACTIONS.map((a) => h('option', { value: a, selected: a === state.action }, actionLabel(a))));
    const actor = h('input', { type: 'text', value: state.actor, autocomplete: 'off', spellcheck: 'false', placeholder: 'xxxxxxxx-xxxx-…', class: 'input-mono' });
    form = h('form', { id: 'audit-filters', class: 'admin-toolbar', novalidate: true, on: { submit: (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      const value = actor.value.trim();
      if (value && !UUID_RE.test(value)) {
        setFieldErrors(form, { actor: s('f_actor_invalid') });
        actor.focus();
        return;
      }
      state.actor = value;
      state.action = action.value;
      state.offset = 0;
      load();
    } } },
    field({ id: 'audit-action', name: 'action', label: s('f_action'), input: action }),
    field({ id: 'audit-actor', name: 'actor', label: s('f_actor'), input: actor }),
    h('div', { class: 'toolbar-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, s('filter_apply')),
      h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => {
        clearFieldErrors(form);
        state.actor = '';
        state.action = '';
        state.offset = 0;
        show(panel);
      } } }, s('filter_clear'))));
    results = h('div', { class: 'panel-results' });
    panel.append(form, results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    const query = { limit: LIMIT, offset: state.offset };
    if (state.actor) query.actor = state.actor;
    if (state.action) query.action = state.action;
    try {
      const { items, total } = await apiList('/admin/audit-log', { query });
      render(items, total);
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      clear(results);
      showAlert(results, 'error', [s('load_failed'), ' ', errorText(err)], { focus: false });
      results.append(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: load } }, tc('btn_retry')));
    }
  }

  function render(items, total) {
    clear(results);
    const columns = [
      { label: s('col_when') },
      { label: s('col_action') },
      { label: s('col_target') },
      { label: s('col_changes'), className: 'col-changes' },
      { label: s('col_actor') },
      { label: s('col_ip') },
    ];
    put(results,
      h('p', { class: 'panel-meta' }, countText(total)),
      dataTable({ caption: s('audit_caption'), columns, rows: items.map(row), emptyText: s('audit_empty'), className: 'audit-table' }),
      total > LIMIT ? pager({ offset: state.offset, limit: LIMIT, total, onChange: (offset) => { state.offset = offset; load(); } }) : null,
    );
  }

  function actorCell(entry) {
    const changes = entry.changes || {};
    if (changes.actor === 'cli' || entry.actor_uuid === NIL_UUID) return h('span', {}, s('actor_cli'));
    const self = entry.actor_uuid === ctx.user.uuid;
    const label = self ? s('actor_you') : entry.actor_uuid.slice(0, 8);
    return h('button', {
      type: 'button', class: 'btn-link actor-link', title: entry.actor_uuid,
      'aria-label': s('filter_by_actor', { actor: self ? s('actor_you') : entry.actor_uuid }),
      on: { click: () => {
        state.actor = entry.actor_uuid;
        state.offset = 0;
        const input = form.elements.namedItem('actor');
        input.value = entry.actor_uuid;
        load();
      } },
    }, label);
  }

  function row(entry) {
    return h('tr', { 'data-action': entry.action },
      h('td', { class: 'cell-nowrap' }, h('time', { datetime: entry.created_at }, formatDateTime(entry.created_at))),
      h('td', {}, h('span', { class: `badge badge-${actionTone(entry.action)}`, title: entry.action }, actionLabel(entry.action))),
      h('td', {}, h('div', {}, targetLabel(entry.target_type)), entry.target_uuid ? h('div', { class: 'cell-sub' }, idChip(entry.target_uuid)) : null),
      h('td', { class: 'col-changes' }, changesView(entry.changes)),
      h('td', { class: 'cell-nowrap' }, actorCell(entry)),
      h('td', { class: 'cell-nowrap cell-sub' }, entry.ip || '—'));
  }

  return { show };
}

function actionLabel(action) {
  const key = `action_${action}`;
  const label = s(key);
  return label === key ? action : label;
}

function fieldLabel(key) {
  const label = s(`field_${key}`);
  return label === `field_${key}` ? key : label;
}

function targetLabel(type) {
  const key = `target_${type}`;
  const label = s(key);
  return label === key ? type : label;
}

function actionTone(action) {
  if (action.endsWith('.delete') || action.endsWith('.reject')) return 'danger';
  if (action.endsWith('.create') || action.endsWith('.approve')) return 'success';
  return 'info';
}

function display(value) {
  if (value === null || value === undefined || value === '') return s('value_empty');
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

// The fields whose values differ between the snapshots (all of them for a create or delete).
function changedFields(changes) {
  const before = (changes && changes.before) || {};
  const after = (changes && changes.after) || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((key) => !same(before[key], after[key]))
    .map((key) => ({ key, before: before[key], after: after[key], hasBefore: key in before, hasAfter: key in after }));
}

function changesView(changes) {
  const fields = changedFields(changes);
  if (!fields.length) return h('span', { class: 'cell-muted' }, s('change_none'));
  return h('dl', { class: 'diff' }, fields.map((f) => h('div', { class: 'diff-row' },
    h('dt', { title: f.key }, fieldLabel(f.key)),
    h('dd', {},
      f.hasBefore ? h('del', { title: typeof f.before === 'string' ? f.before : null }, h('span', { class: 'visually-hidden' }, `${s('change_before')}: `), display(f.before)) : null,
      f.hasBefore && f.hasAfter ? h('span', { class: 'diff-arrow', 'aria-hidden': 'true' }, ' → ') : null,
      f.hasAfter ? h('ins', { title: typeof f.after === 'string' ? f.after : null }, h('span', { class: 'visually-hidden' }, `${s('change_after')}: `), display(f.after)) : null))));
}
