import { ApiError, api } from '../api.js';
import { clearAlert, clearFieldErrors, qs, setBusy, setFieldErrors, showAlert } from '../dom.js';
import { getLang, onLangChange, t } from '../i18n.js';
import { initPage } from '../layout.js';
import { PASSWORD_STRINGS, applyStrings, checkEmail } from '../forms.js';

const STRINGS = {
  es: {
    ...PASSWORD_STRINGS.es,
    title: 'Recuperar contraseña',
    heading: '¿Olvidaste tu contraseña?',
    subheading: 'Escribe tu correo y te enviaremos un enlace para crear una nueva.',
    email_label: 'Correo electrónico',
    submit: 'Enviar enlace',
    back_login: 'Volver a iniciar sesión',
    sent: 'Si {email} tiene una cuenta, te enviamos un enlace para crear una contraseña nueva. Revisa tu correo (y la carpeta de spam).',
  },
  en: {
    ...PASSWORD_STRINGS.en,
    title: 'Forgot password',
    heading: 'Forgot your password?',
    subheading: 'Enter your email and we will send you a link to create a new one.',
    email_label: 'Email',
    submit: 'Send link',
    back_login: 'Back to log in',
    sent: 'If {email} has an account, we sent it a link to create a new password. Check your inbox (and spam folder).',
  },
};

const form = qs('#forgot-form');
const alertBox = qs('#forgot-alert');
let sentTo = null;

function render() {
  applyStrings(STRINGS);
  if (sentTo) showAlert(alertBox, 'success', t(STRINGS, 'sent', { email: sentTo }), { focus: false });
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearAlert(alertBox);
  sentTo = null;
  const email = form.elements.email.value.trim();
  const emailError = checkEmail(STRINGS, email);
  if (emailError) {
    setFieldErrors(form, { email: emailError })?.focus();
    return;
  }
  clearFieldErrors(form);
  const button = form.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    await api('/users/password-reset/request', { method: 'POST', json: { email, lang: getLang() } });
    sentTo = email;
    showAlert(alertBox, 'success', t(STRINGS, 'sent', { email }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showAlert(alertBox, 'error', error.message);
  } finally {
    setBusy(button, false);
  }
});

const prefill = new URLSearchParams(window.location.search).get('email');
if (prefill) form.elements.email.value = prefill;
render();
onLangChange(render);
initPage({ titleKey: 'title', strings: STRINGS });
