// Audit log: every admin write, newest first, filtered by actor (chosen by email) and action;
// each entry shows only the fields its before/after snapshots disagree on, named and valued in
// the console's language, so an edit reads as "Comuna: Providencia → Ñuñoa".

import { api, apiList } from '/js/api.js';
import { formatDateTime, getLang } from '/js/i18n.js';
import { setFieldErrors, clearFieldErrors } from '/js/dom.js';
import {
  s, h, clear, put, countText, tc, showAlert, errorText, isForbidden, idChip, spinnerRow, dataTable, pager, field,
  emailText, shortId,
} from './ui.js';
import { AUDIT_ACTIONS } from './strings.js';

const LIMIT = 25;
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const MAX_VALUE = 140;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
// A uuid field says nothing a reader can use when its name is in the same entry.
const NAMED_BY = { product_uuid: 'product_name_es', commune_uuid: 'commune_name' };
// Fields whose values are codes with a label of their own (`value_<field>_<code>`).
const CODED = new Set(['role', 'status', 'lang', 'description_original_lang', 'description_es_source', 'description_en_source', 'size_band']);
const DATES = new Set(['deleted_at', 'created_at', 'updated_at', 'decided_at']);
const IMAGES = new Set(['image_key', 'logo', 'photo']);
const SCORES = new Set(['nsfw_score']);
// Fields an action records to say what it acted on, not as a change: shown plainly, not struck
// through, and left out when the target's name already says it.
const CONTEXT = { 'quote_request.remove': new Set(['title']) };

export function createAuditTab(ctx) {
  const state = { actor: '', actorEmail: '', action: '', offset: 0 };
  let results = null;
  let form = null;
  let suggestTimer = null;

  function actorInput() {
    return form.elements.namedItem('actor');
  }

  async function suggest(list, q) {
    try {
      const actors = await api('/admin/audit-log/actors', { query: { q } });
      clear(list);
      for (const actor of actors) list.append(h('option', { value: actor.email }, actor.name));
    } catch {
      // Suggestions are a convenience: typing the whole address still filters.
    }
  }

  function show(panel) {
    clear(panel);
    const action = h('select', {},
      h('option', { value: '' }, s('f_action_any')),
      AUDIT_ACTIONS.map((a) => h('option', { value: a, selected: a === state.action }, actionLabel(a))));
    const list = h('datalist', { id: 'audit-actor-list' });
    const actor = h('input', {
      type: 'text', inputmode: 'email', value: state.actorEmail || state.actor, autocomplete: 'off', spellcheck: 'false',
      list: 'audit-actor-list', placeholder: s('f_actor_placeholder'),
      on: { input: () => {
        clearTimeout(suggestTimer);
        suggestTimer = setTimeout(() => suggest(list, actor.value.trim()), 150);
      } },
    });
    form = h('form', { id: 'audit-filters', class: 'admin-toolbar', novalidate: true, on: { submit: (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      const value = actor.value.trim();
      // An email (what the list offers), or a uuid pasted from elsewhere.
      if (value && !UUID_RE.test(value) && !value.includes('@')) {
        setFieldErrors(form, { actor: s('f_actor_invalid') });
        actor.focus();
        return;
      }
      state.actor = UUID_RE.test(value) ? value : '';
      state.actorEmail = UUID_RE.test(value) ? '' : value;
      state.action = action.value;
      state.offset = 0;
      load();
    } } },
    field({ id: 'audit-action', name: 'action', label: s('f_action'), input: action }),
    field({ id: 'audit-actor', name: 'actor', label: s('f_actor'), input: actor }),
    list,
    h('div', { class: 'toolbar-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, s('filter_apply')),
      h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => {
        clearFieldErrors(form);
        state.actor = '';
        state.actorEmail = '';
        state.action = '';
        state.offset = 0;
        show(panel);
      } } }, s('filter_clear'))));
    results = h('div', { class: 'panel-results' });
    panel.append(form, results);
    suggest(list, '');
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    const query = { limit: LIMIT, offset: state.offset };
    if (state.actor) query.actor = state.actor;
    if (state.actorEmail) query.actor_email = state.actorEmail;
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
      { label: s('col_actor'), className: 'col-actor' },
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
    const email = entry.actor_email;
    const label = email ? emailText(email) : shortId(entry.actor_uuid);
    return h('button', {
      type: 'button', class: 'btn-link actor-link', title: email || entry.actor_uuid,
      'aria-label': s('filter_by_actor', { actor: email || entry.actor_uuid }),
      on: { click: () => {
        state.actor = email ? '' : entry.actor_uuid;
        state.actorEmail = email || '';
        state.offset = 0;
        actorInput().value = email || entry.actor_uuid;
        load();
      } },
    }, self ? [s('actor_you'), ' · '] : null, label);
  }

  function row(entry) {
    return h('tr', { 'data-action': entry.action },
      h('td', { class: 'cell-nowrap' }, h('time', { datetime: entry.created_at }, formatDateTime(entry.created_at))),
      h('td', {}, h('span', { class: `badge badge-${actionTone(entry.action)}`, title: entry.action }, actionLabel(entry.action))),
      h('td', { class: 'col-target' }, h('div', {}, targetLabel(entry.target_type)), targetName(entry),
        entry.target_uuid ? h('div', { class: 'cell-sub' }, idChip(entry.target_uuid)) : null),
      h('td', { class: 'col-changes' }, changesView(entry)),
      h('td', { class: 'col-actor' }, actorCell(entry)),
      h('td', { class: 'cell-nowrap cell-sub' }, entry.ip || '—'));
  }

  return { show };
}

function targetName(entry) {
  const name = getLang() === 'en' && entry.target_name_en ? entry.target_name_en : entry.target_name;
  if (!name) return null;
  const text = entry.target_type === 'user' ? emailText(name) : name;
  return h('div', { class: 'cell-title target-name' }, text);
}

function actionLabel(action) {
  const key = `action_${action}`;
  const label = s(key);
  return label === key ? action : label;
}

function fieldLabel(key) {
  const label = s(`field_${key}`);
  if (label !== `field_${key}`) return label;
  // A field this console does not know yet: its words, not its code.
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function targetLabel(type) {
  const key = `target_${type}`;
  const label = s(key);
  return label === key ? type : label;
}

function isContext(entry, key) {
  return Boolean(CONTEXT[entry.action]?.has(key));
}

function actionTone(action) {
  if (action.endsWith('.delete') || action.endsWith('.reject') || action.endsWith('.remove')) return 'danger';
  if (action.endsWith('.create') || action.endsWith('.approve')) return 'success';
  return 'info';
}

function clip(text) {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

// A value as the console's language says it: yes/no, labelled codes, dates, rounded scores,
// short ids; lists joined; anything else as text.
function display(key, value) {
  if (value === null || value === undefined || value === '') return s('value_empty');
  if (Array.isArray(value)) return value.length ? clip(value.map((item) => display(key, item)).join(', ')) : s('value_empty');
  if (typeof value === 'boolean') return s(value ? 'value_yes' : 'value_no');
  if (SCORES.has(key) && typeof value === 'number') {
    return new Intl.NumberFormat(getLang() === 'en' ? 'en-US' : 'es-CL', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
  }
  if (DATES.has(key) && typeof value === 'string') return formatDateTime(value);
  if (CODED.has(key)) {
    const label = s(`value_${key}_${value}`);
    if (label !== `value_${key}_${value}`) return label;
  }
  if (isCode(key)) return shortId(value);
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return clip(text);
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

// The fields whose values differ between the snapshots (all of them for a create or delete),
// less the ids whose names are shown beside them.
function changedFields(entry) {
  const changes = entry.changes || {};
  const before = changes.before || {};
  const after = changes.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((key) => !same(before[key], after[key]))
    .filter((key) => !(NAMED_BY[key] && keys.includes(NAMED_BY[key])))
    .filter((key) => !(key === 'company_uuid' && entry.target_name))
    .filter((key) => !(isContext(entry, key) && same(before[key] ?? after[key], entry.target_name)))
    .map((key) => ({ key, before: before[key], after: after[key], hasBefore: key in before, hasAfter: key in after }));
}

// Ids and image keys are codes: they never wrap inside.
function isCode(key) {
  return IMAGES.has(key) || key === 'uuid' || key.endsWith('_uuid');
}

function changeValue(tag, key, label, value) {
  return h(tag, { class: isCode(key) ? 'diff-code' : null, title: typeof value === 'string' ? value : null },
    label ? h('span', { class: 'visually-hidden' }, `${label}: `) : null, display(key, value));
}

function changesView(entry) {
  const fields = changedFields(entry);
  if (!fields.length) return h('span', { class: 'cell-muted' }, s('change_none'));
  return h('dl', { class: 'diff' }, fields.map((f) => {
    // A score recorded on one side only is context (what the model said), not a change.
    const context = (SCORES.has(f.key) && f.hasBefore !== f.hasAfter) || isContext(entry, f.key);
    return h('div', { class: 'diff-row', 'data-field': f.key },
      h('dt', { title: f.key }, fieldLabel(f.key)),
      context
        ? h('dd', {}, changeValue('span', f.key, null, f.hasBefore ? f.before : f.after))
        : h('dd', {},
          f.hasBefore ? changeValue('del', f.key, s('change_before'), f.before) : null,
          f.hasBefore && f.hasAfter ? h('span', { class: 'diff-arrow', 'aria-hidden': 'true' }, ' → ') : null,
          f.hasAfter ? changeValue('ins', f.key, s('change_after'), f.after) : null));
  }));
}
