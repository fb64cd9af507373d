// Moderation: images whose NSFW score (0.2–0.8) asks for an admin's decision. Each waiting entry
// says what it is for (`kind`: the logo or a gallery photo); approving publishes it there,
// rejecting deletes it. The preview uses whatever URL the queue
// entry carries (served only to admins).

import { apiList, api } from '/js/api.js';
import { formatDateTime, formatNumber } from '/js/i18n.js';
import {
  s, h, clear, put, countText, tc, showAlert, setBusy, errorText, isForbidden, badge, spinnerRow, pager, confirmAction,
} from './ui.js';

const LIMIT = 12;
const STATUSES = ['pending', 'approved', 'rejected', 'withdrawn'];
const STALE = ['moderation_decided', 'moderation_not_found'];
const KINDS = ['logo', 'photo'];

// The entry's own wording when the queue says what the image is for (only waiting ones do).
function byKind(entry, key, params) {
  return s(KINDS.includes(entry.kind) ? `${key}_${entry.kind}` : key, params);
}

export function createModerationTab(ctx) {
  const state = { status: 'pending', offset: 0 };
  let results = null;
  let notice = null;

  function show(panel) {
    clear(panel);
    const select = h('select', { id: 'moderation-status', on: { change: (event) => {
      state.status = event.target.value;
      state.offset = 0;
      load();
    } } }, STATUSES.map((status) => h('option', { value: status, selected: status === state.status }, s(`status_${status}`))));
    notice = h('div', { class: 'panel-notice' });
    results = h('div', { class: 'panel-results' });
    panel.append(
      h('div', { class: 'admin-toolbar admin-toolbar-split' },
        h('p', { class: 'panel-intro' }, s('moderation_intro')),
        h('div', { class: 'field field-inline' }, h('label', { for: 'moderation-status' }, s('moderation_status_label')), select)),
      notice, results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    try {
      const { items, total } = await apiList('/admin/moderation', { query: { status: state.status, limit: LIMIT, offset: state.offset } });
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
    if (!items.length) {
      results.append(h('div', { class: 'empty-state moderation-empty' },
        h('span', { class: 'empty-icon', 'aria-hidden': 'true' }, '✓'),
        h('p', {}, s(state.status === 'pending' ? 'moderation_empty' : 'moderation_empty_other'))));
      return;
    }
    put(results,
      h('p', { class: 'panel-meta' }, countText(total)),
      h('ul', { class: 'moderation-grid', role: 'list' }, items.map(card)),
      total > LIMIT ? pager({ offset: state.offset, limit: LIMIT, total, onChange: (offset) => { state.offset = offset; load(); } }) : null,
    );
  }

  function card(entry) {
    const name = entry.company_name;
    const pending = entry.status === 'pending';
    const level = entry.nsfw_score >= 0.6 ? 'danger' : entry.nsfw_score >= 0.4 ? 'warning' : 'info';
    const score = formatNumber(Math.round(entry.nsfw_score * 100) / 100);
    const preview = entry.thumbnail_url || entry.image_url;
    const approveBtn = h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'aria-label': s('approve_label', { name }) }, s('btn_approve'));
    const rejectBtn = h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', 'aria-label': s('reject_label', { name }) }, s('btn_reject'));
    approveBtn.addEventListener('click', () => approve(entry, approveBtn, rejectBtn));
    rejectBtn.addEventListener('click', () => reject(entry));
    return h('li', { class: 'card moderation-card', 'data-uuid': entry.uuid },
      h('div', { class: 'moderation-preview' },
        preview
          ? h('a', { href: entry.image_url || preview, target: '_blank', rel: 'noopener', title: s('open_full') },
            h('img', { src: preview, alt: byKind(entry, 'image_of', { name }), width: '256', height: '256', loading: 'lazy' }))
          : null),
      h('div', { class: 'moderation-body' },
        h('h3', { class: 'moderation-title' }, entry.company_deleted
          ? name
          : h('a', { href: `/company/?id=${encodeURIComponent(entry.company_uuid)}` }, name)),
        h('div', { class: 'cell-badges' },
          KINDS.includes(entry.kind) ? h('span', { class: 'badge badge-neutral moderation-kind' }, s(`kind_${entry.kind}`)) : null,
          h('span', { class: `badge badge-${level}`, title: s('score_label') }, s('score', { score })),
          entry.company_deleted ? badge(s('company_gone'), 'danger') : null,
          pending ? null : badge(s(`status_${entry.status}`), entry.status === 'approved' ? 'success' : 'neutral')),
        h('p', { class: 'cell-sub' }, s('held_on', { date: formatDateTime(entry.created_at) })),
        entry.decided_at ? h('p', { class: 'cell-sub' }, s('decided_on', { date: formatDateTime(entry.decided_at) })) : null,
        pending ? h('div', { class: 'row-actions' }, approveBtn, rejectBtn) : null));
  }

  async function approve(entry, approveBtn, rejectBtn) {
    setBusy(approveBtn, true);
    rejectBtn.disabled = true;
    try {
      await api(`/admin/moderation/${encodeURIComponent(entry.uuid)}/approve`, { method: 'POST' });
      showAlert(notice, 'success', byKind(entry, 'approved', { name: entry.company_name }));
      load();
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      showAlert(notice, 'error', errorText(err));
      if (STALE.includes(err.code)) { load(); return; }
      setBusy(approveBtn, false);
      rejectBtn.disabled = false;
    }
  }

  function reject(entry) {
    let stale = false;
    confirmAction({
      title: s('confirm_reject_title', { name: entry.company_name }),
      body: byKind(entry, 'confirm_reject_body'),
      confirmLabel: s('btn_reject'),
      run: async () => {
        try {
          await api(`/admin/moderation/${encodeURIComponent(entry.uuid)}/reject`, { method: 'POST' });
        } catch (err) {
          stale = STALE.includes(err.code);
          throw err;
        }
      },
    }).then((done) => {
      if (done) {
        showAlert(notice, 'success', s('rejected', { name: entry.company_name }));
        load();
      } else if (stale) {
        load();
      }
    });
  }

  return { show };
}
