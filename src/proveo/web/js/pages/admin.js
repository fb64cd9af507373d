// The admin console: one tab per hash (#companies … #weekly). Anonymous visitors are sent to log
// in; signed-in non-admins see why they cannot enter.

import { initPage } from '/js/layout.js';
import { onLangChange, tc } from '/js/i18n.js';
import { h, clear, qs, showAlert } from '/js/dom.js';
import { STRINGS } from '/js/admin/strings.js';
import { s } from '/js/admin/ui.js';
import { createCompaniesTab } from '/js/admin/companies.js';
import { createUsersTab } from '/js/admin/users.js';
import { createCatalogTab } from '/js/admin/catalog.js';
import { createModerationTab } from '/js/admin/moderation.js';
import { createAuditTab } from '/js/admin/audit.js';
import { createStatsTab } from '/js/admin/stats.js';
import { createQuotesTab, createWeeklyTab } from '/js/admin/quotes.js';

const TAB_IDS = ['companies', 'users', 'products', 'communes', 'moderation', 'quotes', 'audit', 'stats', 'weekly'];

function renderHeading() {
  qs('#admin-title').textContent = s('title');
  qs('#admin-subtitle').textContent = s('subtitle');
}

function renderForbidden(user) {
  const app = qs('#admin-app');
  clear(app);
  app.append(h('section', { class: 'card admin-forbidden', 'aria-labelledby': 'forbidden-title' },
    h('span', { class: 'forbidden-icon', 'aria-hidden': 'true' }, '🔒'),
    h('h2', { id: 'forbidden-title' }, s('forbidden_title')),
    h('p', {}, s('forbidden_body', { email: user.email })),
    h('p', {}, h('a', { class: 'btn btn-primary', href: '/' }, s('forbidden_home')))));
}

function startConsole(user) {
  const app = qs('#admin-app');
  let forbidden = false;
  const ctx = {
    user,
    // The role can be revoked while the page is open: the next 403 replaces the console.
    forbidden: () => {
      forbidden = true;
      renderForbidden(user);
    },
  };
  const tabs = {
    companies: createCompaniesTab(ctx),
    users: createUsersTab(ctx),
    products: createCatalogTab(ctx, 'products'),
    communes: createCatalogTab(ctx, 'communes'),
    moderation: createModerationTab(ctx),
    audit: createAuditTab(ctx),
    stats: createStatsTab(ctx),
    quotes: createQuotesTab(ctx),
    weekly: createWeeklyTab(ctx),
  };

  const tabLinks = {};
  const panels = {};
  const list = h('div', { class: 'tabs admin-tabs', role: 'tablist', 'aria-label': s('tabs_label') });
  for (const id of TAB_IDS) {
    tabLinks[id] = h('a', {
      href: `#${id}`, role: 'tab', id: `tab-${id}`, class: 'tab', 'aria-controls': `panel-${id}`,
      'aria-selected': 'false', tabindex: '-1',
    }, s(`tab_${id}`));
    panels[id] = h('section', { class: 'admin-panel', role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}`, tabindex: '-1', hidden: true });
    list.append(tabLinks[id]);
  }
  // Arrow keys move between tabs (the ARIA tabs pattern); Enter follows the focused link.
  list.addEventListener('keydown', (event) => {
    const index = TAB_IDS.indexOf(currentId());
    let next = null;
    if (event.key === 'ArrowRight') next = (index + 1) % TAB_IDS.length;
    else if (event.key === 'ArrowLeft') next = (index - 1 + TAB_IDS.length) % TAB_IDS.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = TAB_IDS.length - 1;
    if (next === null) return;
    event.preventDefault();
    window.location.hash = `#${TAB_IDS[next]}`;
    tabLinks[TAB_IDS[next]].focus();
  });
  clear(app);
  app.append(h('div', { class: 'admin-tabs-wrap' }, list), ...TAB_IDS.map((id) => panels[id]));

  function currentId() {
    const id = window.location.hash.replace(/^#/, '');
    return TAB_IDS.includes(id) ? id : 'companies';
  }

  function select() {
    if (forbidden) return;
    const id = currentId();
    for (const other of TAB_IDS) {
      const active = other === id;
      tabLinks[other].setAttribute('aria-selected', String(active));
      tabLinks[other].tabIndex = active ? 0 : -1;
      panels[other].hidden = !active;
    }
    tabLinks[id].scrollIntoView({ block: 'nearest', inline: 'nearest' });
    tabs[id].show(panels[id]);
  }

  window.addEventListener('hashchange', select);
  onLangChange(() => {
    if (forbidden) { renderForbidden(user); return; }
    list.setAttribute('aria-label', s('tabs_label'));
    for (const id of TAB_IDS) tabLinks[id].textContent = s(`tab_${id}`);
    select();
  });
  select();
}

async function main() {
  let user;
  try {
    ({ user } = await initPage({ titleKey: 'title', strings: STRINGS, auth: 'user' }));
  } catch (err) {
    renderHeading();
    showAlert(qs('#admin-app'), 'error', (err && err.message) || tc('err_generic'));
    return;
  }
  renderHeading();
  onLangChange(renderHeading);
  if (user.role !== 'admin') {
    renderForbidden(user);
    onLangChange(() => renderForbidden(user));
    return;
  }
  startConsole(user);
}

main();
