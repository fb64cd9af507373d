// Users: every account (deleted ones marked), its company, and deletion with the full cascade.
// An admin cannot delete their own account here (the API refuses it with 400).

import { apiList, api } from '/js/api.js';
import { formatDateTime } from '/js/i18n.js';
import {
  s, h, clear, put, countText, tc, showAlert, errorText, isForbidden, idChip, badge, shortDate, spinnerRow, dataTable, pager,
  confirmAction, emailText,
} from './ui.js';

const LIMIT = 25;

export function createUsersTab(ctx) {
  const state = { offset: 0 };
  let results = null;
  let notice = null;

  function show(panel) {
    clear(panel);
    notice = h('div', { class: 'panel-notice' });
    results = h('div', { class: 'panel-results' });
    panel.append(notice, results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    try {
      const { items, total } = await apiList('/users/admin/all-users', { query: { limit: LIMIT, offset: state.offset } });
      if (!items.length && total > 0 && state.offset > 0) {
        state.offset = Math.max(0, Math.floor((total - 1) / LIMIT) * LIMIT);
        load();
        return;
      }
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
      { label: s('col_user') },
      { label: s('col_role') },
      { label: s('col_verified') },
      { label: s('col_company') },
      { label: s('col_created') },
      { label: s('col_status') },
      { label: s('actions'), className: 'col-actions' },
    ];
    put(results,
      h('p', { class: 'panel-meta' }, countText(total)),
      dataTable({ caption: s('users_caption'), columns, rows: items.map(row) }),
      total > LIMIT ? pager({ offset: state.offset, limit: LIMIT, total, onChange: (offset) => { state.offset = offset; load(); } }) : null,
    );
  }

  function row(user) {
    const self = user.uuid === ctx.user.uuid;
    const deleted = Boolean(user.deleted_at);
    const hintId = `user-hint-${user.uuid}`;
    let action;
    if (self || deleted) {
      action = h('div', { class: 'row-actions row-actions-explained' },
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', disabled: true, 'aria-describedby': hintId }, tc('btn_delete')),
        h('p', { class: 'cell-sub cell-hint', id: hintId }, s(self ? 'self_delete_hint' : 'deleted_user_hint')));
    } else {
      action = h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', 'aria-label': s('delete_user', { name: user.name }),
          on: { click: () => remove(user) } }, tc('btn_delete')));
    }
    return h('tr', { class: deleted ? 'row-deleted' : null, 'data-uuid': user.uuid },
      h('td', {}, h('div', { class: 'cell-title' }, user.name, self ? [' ', badge(s('badge_you'), 'info')] : null),
        h('div', { class: 'cell-sub cell-email' }, emailText(user.email)),
        h('div', { class: 'cell-sub' }, idChip(user.uuid))),
      h('td', {}, user.role === 'admin' ? badge(s('role_admin'), 'brand') : badge(s('role_user'), 'neutral')),
      h('td', {}, user.email_verified ? badge(s('badge_verified'), 'success') : badge(s('badge_unverified'), 'warning')),
      h('td', {}, user.company_uuid
        ? h('a', { href: `/company/?id=${encodeURIComponent(user.company_uuid)}` }, s('company_link'))
        : h('span', { class: 'cell-muted' }, s('no_company'))),
      h('td', { class: 'cell-nowrap' }, h('time', { datetime: user.created_at, title: formatDateTime(user.created_at) }, shortDate(user.created_at))),
      h('td', {}, deleted
        ? h('div', { class: 'cell-badges' }, badge(s('badge_user_deleted'), 'danger'),
          h('span', { class: 'cell-sub' }, s('deleted_on', { date: shortDate(user.deleted_at) })))
        : h('span', { class: 'cell-muted' }, '—')),
      h('td', { class: 'col-actions' }, action));
  }

  function remove(user) {
    confirmAction({
      title: s('confirm_delete_user_title', { name: user.name }),
      body: s('confirm_delete_user_body', { email: user.email }),
      confirmLabel: tc('btn_delete'),
      run: () => api(`/users/admin/users/${encodeURIComponent(user.uuid)}`, { method: 'DELETE' }),
    }).then((done) => {
      if (!done) return;
      showAlert(notice, 'success', s('user_deleted', { name: user.name }));
      load();
    });
  }

  return { show };
}
