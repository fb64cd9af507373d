// The frame of every page: header (brand, navigation, language toggle, user menu) and footer.

import { ApiError, currentUser, logout, requireUser } from './api.js';
import { clear, h, qs } from './dom.js';
import { getLang, onLangChange, setLang, t, tc } from './i18n.js';

let state = { user: null, titleKey: null, strings: null };

function navLink(href, label, current) {
  const here = window.location.pathname === href;
  return h(
    'a',
    { class: ['nav-link', current || here ? 'is-current' : ''], href, 'aria-current': here ? 'page' : null },
    label,
  );
}

function langToggle() {
  const lang = getLang();
  const button = (code, label) =>
    h(
      'button',
      {
        type: 'button',
        class: 'lang-option',
        lang: code,
        'aria-pressed': String(lang === code),
        'aria-label': tc(`lang_${code}`),
        'data-lang': code,
        on: { click: () => setLang(code) },
      },
      label,
    );
  return h(
    'div',
    { class: 'lang-toggle', role: 'group', 'aria-label': tc('lang_toggle_label') },
    button('es', 'ES'),
    h('span', { class: 'lang-sep', 'aria-hidden': 'true' }, '|'),
    button('en', 'EN'),
  );
}

async function doLogout(event) {
  event.preventDefault();
  try {
    await logout();
  } finally {
    window.location.assign('/');
  }
}

function renderHeader() {
  const header = qs('#site-header');
  if (!header) return;
  const { user } = state;
  const links = [navLink('/', tc('nav_search'))];
  if (user) links.push(navLink('/my-company/', tc('nav_my_company')));
  else links.push(navLink('/publish/', tc('nav_publish')));
  if (user?.role === 'admin') links.push(navLink('/admin/', tc('nav_admin')));

  const account = user
    ? h(
        'div',
        { class: 'user-menu', role: 'group', 'aria-label': tc('user_menu_label', { name: user.name }) },
        h(
          'a',
          { class: 'user-chip', href: '/account/', title: user.email },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, (user.name || '?').trim().charAt(0).toUpperCase()),
          h('span', { class: 'user-chip-label' }, tc('nav_account')),
        ),
        h('button', { type: 'button', class: 'btn btn-link nav-logout', on: { click: doLogout } }, tc('nav_logout')),
      )
    : h(
        'div',
        { class: 'auth-links' },
        h('a', { class: 'btn btn-link', href: '/login/' }, tc('nav_login')),
        h('a', { class: 'btn btn-primary btn-sm', href: '/signup/' }, tc('nav_signup')),
      );

  const nav = h('nav', { class: 'site-nav', id: 'site-nav', 'aria-label': tc('nav_label') }, links);
  const menuButton = h(
    'button',
    {
      type: 'button',
      class: 'menu-toggle',
      'aria-expanded': 'false',
      'aria-controls': 'site-menu',
      on: {
        click: () => {
          const open = menuButton.getAttribute('aria-expanded') !== 'true';
          menuButton.setAttribute('aria-expanded', String(open));
          menu.classList.toggle('is-open', open);
        },
      },
    },
    h('span', { class: 'menu-icon', 'aria-hidden': 'true' }),
    h('span', { class: 'visually-hidden' }, tc('nav_menu')),
  );
  const menu = h('div', { class: 'site-menu', id: 'site-menu' }, nav, h('div', { class: 'header-actions' }, langToggle(), account));

  clear(header);
  header.className = 'site-header';
  header.appendChild(
    h(
      'div',
      { class: 'container header-inner' },
      h(
        'a',
        { class: 'brand', href: '/' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'),
        h('span', { class: 'brand-name' }, 'Proveo'),
      ),
      menuButton,
      menu,
    ),
  );
}

function renderFooter() {
  const footer = qs('#site-footer');
  if (!footer) return;
  clear(footer);
  footer.className = 'site-footer';
  footer.appendChild(
    h(
      'div',
      { class: 'container footer-inner' },
      h(
        'div',
        { class: 'footer-brand' },
        h('span', { class: 'brand-mark brand-mark-sm', 'aria-hidden': 'true' }, 'P'),
        h('p', {}, tc('footer_about')),
      ),
      h(
        'p',
        { class: 'footer-meta' },
        tc('footer_rights', { year: new Date().getFullYear() }),
        ' · ',
        h('a', { href: '/docs' }, tc('footer_api')),
      ),
    ),
  );
}

function renderSkipLink() {
  const skip = qs('.skip-link');
  if (skip) skip.textContent = tc('skip_to_content');
}

function applyTitle() {
  const { titleKey, strings } = state;
  // Without a key the page's own <title> stays (the server wrote it, or the static page's).
  if (!titleKey) return;
  const title = titleKey ? t(strings, titleKey) : '';
  document.title = title && title !== titleKey ? `${title} · Proveo` : 'Proveo';
}

function renderFrame() {
  document.documentElement.lang = getLang();
  renderSkipLink();
  renderHeader();
  renderFooter();
  applyTitle();
}

async function resolveUser(auth) {
  if (auth === 'user') return requireUser();
  if (auth === 'verified') return requireUser({ verified: true });
  if (auth === 'admin') return requireUser({ admin: true });
  try {
    return await currentUser();
  } catch (error) {
    // An anonymous page still renders when /users/me cannot answer.
    if (error instanceof ApiError) return null;
    throw error;
  }
}

export async function initPage({ titleKey = null, strings = null, auth = 'none' } = {}) {
  // A form's submit button is disabled in the HTML until its page's script runs: submitted
  // natively before then, a login form would put the password in the address (a GET) and a
  // fast click found no handler (seen in a loaded CI run).
  for (const button of document.querySelectorAll('[data-needs-script]')) {
    button.disabled = false;
    button.removeAttribute('data-needs-script');
  }
  state = { user: null, titleKey, strings };
  renderFrame();
  onLangChange(() => renderFrame());
  let user = null;
  let failure = null;
  try {
    user = await resolveUser(auth);
  } catch (error) {
    // admin / verified refused: the header still shows who is logged in, the page shows why.
    failure = error;
    user = await currentUser().catch(() => null);
  }
  state.user = user;
  renderHeader();
  if (failure) throw failure;
  return { user, lang: getLang() };
}
