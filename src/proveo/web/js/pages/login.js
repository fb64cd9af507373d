import { ApiError, api, currentUser } from '../api.js';
import { clearAlert, clearFieldErrors, h, qs, setBusy, setFieldErrors, showAlert } from '../dom.js';
import { getLang, onLangChange, t } from '../i18n.js';
import { initPage } from '../layout.js';
import { PASSWORD_STRINGS, addPasswordToggles, applyStrings, checkEmail, safeNext } from '../forms.js';

const STRINGS = {
  es: {
    ...PASSWORD_STRINGS.es,
    title: 'Ingresar',
    heading: 'Ingresa a Proveo',
    subheading: 'Administra tu empresa y tu cuenta.',
    email_label: 'Correo electrónico',
    password_label: 'Contraseña',
    forgot: '¿Olvidaste tu contraseña?',
    submit: 'Ingresar',
    no_account: '¿No tienes cuenta?',
    signup_link: 'Crea una gratis',
    expired: 'Tu sesión expiró. Ingresa de nuevo para continuar.',
    invalid: 'Correo o contraseña incorrectos.',
    locked: 'Demasiados intentos fallidos. Inténtalo de nuevo en {minutes} min, o restablece tu contraseña ahora.',
    locked_reset: 'Restablecer la contraseña',
    already: 'Ya ingresaste como {name}.',
    continue: 'Continuar',
  },
  en: {
    ...PASSWORD_STRINGS.en,
    title: 'Log in',
    heading: 'Log in to Proveo',
    subheading: 'Manage your company and your account.',
    email_label: 'Email',
    password_label: 'Password',
    forgot: 'Forgot your password?',
    submit: 'Log in',
    no_account: 'No account yet?',
    signup_link: 'Create one for free',
    expired: 'Your session expired. Log in again to continue.',
    invalid: 'Wrong email or password.',
    locked: 'Too many failed attempts. Try again in {minutes} min, or reset your password now.',
    locked_reset: 'Reset the password',
    already: 'You are logged in as {name}.',
    continue: 'Continue',
  },
};

const params = new URLSearchParams(window.location.search);
// An explicit (same-site) `next` wins; otherwise a provider without a company goes to Publish.
const askedNext = safeNext(params.get('next'));
const next = askedNext || '/';
const form = qs('#login-form');
const alertBox = qs('#login-alert');
let notice = params.get('reason') === 'expired' ? 'expired' : null;

function destination(session) {
  if (askedNext) return askedNext;
  if (session?.user?.role !== 'admin' && session?.has_company === false) return '/publish/';
  return next;
}

function forgotHref() {
  const email = form.elements.email.value.trim();
  return email ? `/forgot-password/?${new URLSearchParams({ email })}` : '/forgot-password/';
}

function renderNotice() {
  if (notice === 'expired') showAlert(alertBox, 'info', t(STRINGS, 'expired'), { focus: false });
}

function render() {
  applyStrings(STRINGS);
  renderNotice();
}

form.elements.email.addEventListener('input', () => {
  qs('#forgot-link').href = forgotHref();
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  notice = null;
  clearAlert(alertBox);
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  const errors = {};
  const emailError = checkEmail(STRINGS, email);
  if (emailError) errors.email = emailError;
  if (!password) errors.password = t(STRINGS, 'required');
  if (Object.keys(errors).length) {
    setFieldErrors(form, errors)?.focus();
    return;
  }
  clearFieldErrors(form);
  const button = form.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    const session = await api('/users/login', { method: 'POST', json: { email, password, lang: getLang() } });
    window.location.assign(destination(session));
  } catch (error) {
    setBusy(button, false);
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) {
      showAlert(alertBox, 'error', t(STRINGS, 'invalid'));
      form.elements.password.select();
    } else if (error.status === 429) {
      const minutes = Math.max(1, Math.ceil((error.retryAfter || 60) / 60));
      showAlert(alertBox, 'error', [
        h('p', {}, t(STRINGS, 'locked', { minutes })),
        h('p', {}, h('a', { href: forgotHref(), id: 'locked-reset' }, t(STRINGS, 'locked_reset'))),
      ]);
    } else {
      showAlert(alertBox, 'error', error.message);
    }
  }
});

render();
addPasswordToggles();
onLangChange(render);
const prefill = params.get('email');
if (prefill) {
  form.elements.email.value = prefill;
  qs('#forgot-link').href = forgotHref();
}
initPage({ titleKey: 'title', strings: STRINGS }).then(async () => {
  const user = await currentUser();
  if (user && !notice) {
    showAlert(
      alertBox,
      'info',
      [h('p', {}, t(STRINGS, 'already', { name: user.name })), h('p', {}, h('a', { href: next }, t(STRINGS, 'continue')))],
      { focus: false },
    );
  }
});
