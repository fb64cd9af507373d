// The verification result page (served by the API with both languages): show the reader's.
// On another device (`needs_proof`), the account's password typed here confirms the address and
// signs this browser in (POST /users/verify-email/{token}); the page then shows its `verified`
// sections, which the server sent hidden.
import { ApiError, api, currentUser } from '../api.js';
import { clearAlert, clearFieldErrors, h, qs, qsa, setBusy, setFieldErrors, showAlert } from '../dom.js';
import { getLang, onLangChange, t } from '../i18n.js';
import { initPage } from '../layout.js';
import { addPasswordToggles } from '../forms.js';

const STRINGS = {
  es: {
    required: 'Escribe la contraseña de tu cuenta.',
    invalid: 'La contraseña no es correcta.',
    locked: 'Demasiados intentos fallidos. Inténtalo de nuevo en {minutes} min, o restablece la contraseña.',
    gone: 'Este enlace ya no sirve. Pide uno nuevo.',
    ask_again: 'Pedir un enlace nuevo',
    reset: 'Restablecer la contraseña',
    already: 'Tu correo ya está confirmado. Inicia sesión.',
    login: 'Iniciar sesión',
  },
  en: {
    required: "Enter your account's password.",
    invalid: 'The password is not correct.',
    locked: 'Too many failed attempts. Try again in {minutes} min, or reset the password.',
    gone: 'This link no longer works. Ask for a new one.',
    ask_again: 'Ask for a new link',
    reset: 'Reset the password',
    already: 'Your email is already confirmed. Log in.',
    login: 'Log in',
  },
};

const card = qs('[data-outcome]');
let state = card?.dataset.outcome;
// The link's token, as the address bar has it (still URL-encoded).
const tokenSegment = window.location.pathname.split('/').pop();

function show() {
  const lang = getLang();
  const sections = qsa('.verify-lang').filter((section) => section.dataset.state === state);
  const match = sections.some((section) => section.dataset.lang === lang);
  for (const section of qsa('.verify-lang')) {
    section.hidden = section.dataset.state !== state || (match && section.dataset.lang !== lang);
  }
  for (const form of qsa('.verify-form')) form.hidden = false;
  const heading = sections.find((section) => !section.hidden)?.querySelector('h1');
  if (heading) document.title = `${heading.textContent} · Proveo`;
  return heading;
}

function formAlert(form, kind, message) {
  showAlert(form.querySelector('.verify-alert'), kind, message);
}

async function confirm(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const input = form.elements.password;
  clearAlert(form.querySelector('.verify-alert'));
  clearFieldErrors(form);
  if (!input.value) {
    setFieldErrors(form, { password: t(STRINGS, 'required') })?.focus();
    return;
  }
  const button = form.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    await api(`/users/verify-email/${tokenSegment}`, { method: 'POST', json: { password: input.value } });
  } catch (error) {
    setBusy(button, false);
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) {
      setFieldErrors(form, { password: t(STRINGS, 'invalid') });
      input.select();
      input.focus();
    } else if (error.status === 429 && error.code === 'rate_limited' && error.retryAfter) {
      const minutes = Math.max(1, Math.ceil(error.retryAfter / 60));
      formAlert(form, 'error', [
        h('p', {}, t(STRINGS, 'locked', { minutes })),
        h('p', {}, h('a', { href: '/forgot-password/' }, t(STRINGS, 'reset'))),
      ]);
    } else if (error.code === 'already_verified') {
      formAlert(form, 'info', [h('p', {}, t(STRINGS, 'already')), h('p', {}, h('a', { href: '/login/' }, t(STRINGS, 'login')))]);
    } else if (error.code === 'invalid_token') {
      formAlert(form, 'error', [h('p', {}, t(STRINGS, 'gone')), h('p', {}, h('a', { href: '/signup/?resend=1' }, t(STRINGS, 'ask_again')))]);
    } else {
      formAlert(form, 'error', error.message);
    }
    return;
  }
  input.value = '';
  state = 'verified';
  const icon = card.querySelector('.result-icon');
  if (icon) {
    icon.className = 'result-icon result-icon-success';
    icon.textContent = '✓';
  }
  card.dataset.outcome = state;
  // The header learns who is signed in now.
  await currentUser({ refresh: true });
  await initPage();
  const heading = show();
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

for (const form of qsa('.verify-form')) form.addEventListener('submit', confirm);
addPasswordToggles();
show();
// After initPage: its own language listener resets the title, this one sets it again.
initPage().then(() => {
  show();
  onLangChange(show);
});
