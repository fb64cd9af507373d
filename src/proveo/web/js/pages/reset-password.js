import { ApiError, api } from '../api.js';
import { clearAlert, clearFieldErrors, h, qs, setBusy, setFieldErrors, showAlert } from '../dom.js';
import { onLangChange, t } from '../i18n.js';
import { initPage } from '../layout.js';
import { PASSWORD_STRINGS, addPasswordToggles, applyStrings, checkPassword, passwordMessage } from '../forms.js';

const STRINGS = {
  es: {
    ...PASSWORD_STRINGS.es,
    title: 'Nueva contraseña',
    heading: 'Crea una contraseña nueva',
    subheading: 'Al guardarla se cerrarán todas tus sesiones abiertas.',
    password_label: 'Contraseña nueva',
    confirm_label: 'Repite la contraseña',
    submit: 'Guardar contraseña',
    back_login: 'Volver a iniciar sesión',
    missing: 'Este enlace está incompleto. Abre el enlace del correo tal como llegó, o pide uno nuevo.',
    invalid: 'Este enlace no es válido, ya se usó o venció.',
    used: 'Este enlace ya se usó: sirve una sola vez, y deja de servir si la contraseña cambió después de enviarlo.',
    expired: 'Este enlace venció: sirve durante 1 hora.',
    checking: 'Revisando el enlace…',
    ask_again: 'Pedir un enlace nuevo',
    done: 'Listo: tu contraseña cambió y se cerraron todas tus sesiones.',
    done_login: 'Iniciar sesión con la contraseña nueva',
  },
  en: {
    ...PASSWORD_STRINGS.en,
    title: 'New password',
    heading: 'Create a new password',
    subheading: 'Saving it logs out every open session.',
    password_label: 'New password',
    confirm_label: 'Repeat the password',
    submit: 'Save password',
    back_login: 'Back to log in',
    missing: 'This link is incomplete. Open the link from the email as it arrived, or ask for a new one.',
    invalid: 'This link is invalid, already used or expired.',
    used: 'This link was already used: it works once, and stops working if the password changed after it was sent.',
    expired: 'This link expired: it works for 1 hour.',
    checking: 'Checking the link…',
    ask_again: 'Ask for a new link',
    done: 'Done: your password changed and every session was logged out.',
    done_login: 'Log in with the new password',
  },
};

const form = qs('#reset-form');
const alertBox = qs('#reset-alert');
// The token travels in the fragment (never sent to a server); it is taken out of the address bar
// so it stays out of history and screenshots.
const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
if (token) window.history.replaceState(null, '', window.location.pathname);
// The link is checked (without using it) before the form shows: a used or expired one says so.
let state = token ? 'checking' : 'missing';
const LINK_STATES = { invalid_token: 'invalid', reset_link_used: 'used', reset_link_expired: 'expired' };

function askAgain() {
  return h('p', {}, h('a', { href: '/forgot-password/' }, t(STRINGS, 'ask_again')));
}

function renderState({ focus = false } = {}) {
  form.hidden = state !== 'form';
  if (state === 'missing') showAlert(alertBox, 'error', [h('p', {}, t(STRINGS, 'missing')), askAgain()], { focus });
  if (state === 'checking') showAlert(alertBox, 'info', t(STRINGS, 'checking'), { focus: false });
  for (const bad of ['invalid', 'used', 'expired']) {
    if (state === bad) showAlert(alertBox, 'error', [h('p', { id: `reset-${bad}` }, t(STRINGS, bad)), askAgain()], { focus });
  }
  if (state === 'done') {
    showAlert(
      alertBox,
      'success',
      [h('p', {}, t(STRINGS, 'done')), h('p', {}, h('a', { href: '/login/', class: 'btn btn-primary' }, t(STRINGS, 'done_login')))],
      { focus },
    );
  }
}

function render() {
  applyStrings(STRINGS);
  renderState();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearAlert(alertBox);
  const password = form.elements.password.value;
  const confirm = form.elements.confirm.value;
  const errors = {};
  const passwordError = checkPassword(STRINGS, password);
  if (passwordError) errors.password = passwordError;
  else if (password !== confirm) errors.confirm = t(STRINGS, 'pw_mismatch');
  if (Object.keys(errors).length) {
    setFieldErrors(form, errors)?.focus();
    return;
  }
  clearFieldErrors(form);
  const button = form.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    await api('/users/password-reset/confirm', { method: 'POST', json: { token, password } });
    state = 'done';
    renderState({ focus: true });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code in LINK_STATES) {
      state = LINK_STATES[error.code];
      renderState({ focus: true });
    } else if (error.status === 422 && error.fieldErrors.password) {
      setFieldErrors(form, { password: passwordMessage(STRINGS, error.fieldErrors.password) })?.focus();
    } else {
      showAlert(alertBox, 'error', error.message);
    }
  } finally {
    setBusy(button, false);
  }
});

async function checkLink() {
  try {
    await api('/users/password-reset/check', { method: 'POST', json: { token } });
    state = 'form';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // Anything but a verdict on the link (the network, a 503): the form, which will tell.
    state = LINK_STATES[error.code] || 'form';
  }
  if (state === 'form') clearAlert(alertBox);
  renderState({ focus: state !== 'form' });
}

render();
addPasswordToggles();
onLangChange(render);
initPage({ titleKey: 'title', strings: STRINGS });
if (token) checkLink();
