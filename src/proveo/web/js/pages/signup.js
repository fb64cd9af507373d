import { ApiError, api } from '../api.js';
import { clearAlert, clearFieldErrors, h, qs, setBusy, setFieldErrors, showAlert } from '../dom.js';
import { getLang, onLangChange, t } from '../i18n.js';
import { initPage } from '../layout.js';
import { PASSWORD_STRINGS, addPasswordToggles, applyStrings, checkEmail, checkPassword, passwordMessage } from '../forms.js';

const STRINGS = {
  es: {
    ...PASSWORD_STRINGS.es,
    title: 'Crear cuenta',
    heading: 'Crea tu cuenta',
    subheading: 'Publica tu empresa y llega a compradores de todo Chile.',
    name_label: 'Nombre',
    email_label: 'Correo electrónico',
    password_label: 'Contraseña',
    submit: 'Crear cuenta',
    have_account: '¿Ya tienes cuenta?',
    login_link: 'Ingresa',
    taken: 'Ya existe una cuenta con {email}.',
    taken_login: 'Ingresar con ese correo',
    taken_reset: 'Restablecer la contraseña',
    done_heading: 'Revisa tu correo',
    done_text: 'Te enviamos un enlace para confirmar',
    done_hint: 'Abre el enlace en este mismo navegador. Si no llega en unos minutos, revisa la carpeta de spam o pide uno nuevo.',
    resend_heading: 'Pide un enlace nuevo',
    resend_text: 'Escribe el correo con que creaste la cuenta',
    resend: 'Enviar un enlace nuevo',
    resent: 'Si esa dirección tiene una cuenta sin confirmar, le enviamos un enlace nuevo.',
    go_login: 'Ir a iniciar sesión',
  },
  en: {
    ...PASSWORD_STRINGS.en,
    title: 'Sign up',
    heading: 'Create your account',
    subheading: 'Publish your company and reach buyers across Chile.',
    name_label: 'Name',
    email_label: 'Email',
    password_label: 'Password',
    submit: 'Create account',
    have_account: 'Already have an account?',
    login_link: 'Log in',
    taken: 'An account with {email} already exists.',
    taken_login: 'Log in with that email',
    taken_reset: 'Reset the password',
    done_heading: 'Check your email',
    done_text: 'We sent a confirmation link to',
    done_hint: 'Open the link in this same browser. If it does not arrive within a few minutes, check your spam folder or ask for a new one.',
    resend_heading: 'Ask for a new link',
    resend_text: 'Enter the email you signed up with',
    resend: 'Send a new link',
    resent: 'If that address has an unconfirmed account, a new link is on its way.',
    go_login: 'Go to log in',
  },
};

const form = qs('#signup-form');
const alertBox = qs('#signup-alert');
const resendForm = qs('#resend-form');
const resendAlert = qs('#resend-alert');
let signedUpEmail = null;

function render() {
  applyStrings(STRINGS);
  // Opened as "ask for a new link" (from an expired verification link) there is no address yet.
  if (!signedUpEmail && !qs('#signup-done').hidden) {
    qs('[data-i18n="done_heading"]').textContent = t(STRINGS, 'resend_heading');
    qs('[data-i18n="done_text"]').textContent = t(STRINGS, 'resend_text');
  }
}

function takenMessage(email) {
  const params = new URLSearchParams({ email });
  return [
    h('p', {}, t(STRINGS, 'taken', { email })),
    h(
      'p',
      { class: 'cluster' },
      h('a', { href: `/login/?${params}` }, t(STRINGS, 'taken_login')),
      h('a', { href: `/forgot-password/?${params}` }, t(STRINGS, 'taken_reset')),
    ),
  ];
}

function showDone(email) {
  signedUpEmail = email;
  qs('#signup-panel').hidden = true;
  qs('#signup-done').hidden = false;
  qs('#signup-done-email').textContent = email || '';
  qs('#resend-email').value = email || '';
  qs('#resend-email-field').hidden = Boolean(email);
  render();
  qs('#signup-done-heading').focus();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearAlert(alertBox);
  const data = {
    name: form.elements.name.value.trim(),
    email: form.elements.email.value.trim(),
    password: form.elements.password.value,
  };
  const errors = {};
  if (!data.name) errors.name = t(STRINGS, 'required');
  const emailError = checkEmail(STRINGS, data.email);
  if (emailError) errors.email = emailError;
  const passwordError = checkPassword(STRINGS, data.password);
  if (passwordError) errors.password = passwordError;
  if (Object.keys(errors).length) {
    setFieldErrors(form, errors)?.focus();
    return;
  }
  clearFieldErrors(form);
  const button = form.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    await api('/users/signup', { method: 'POST', json: { ...data, lang: getLang() } });
    showDone(data.email);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409) {
      showAlert(alertBox, 'warning', takenMessage(data.email));
    } else if (error.status === 422) {
      const fields = { ...error.fieldErrors };
      if (fields.password) fields.password = passwordMessage(STRINGS, fields.password);
      if (fields.email) fields.email = t(STRINGS, 'email_invalid');
      showAlert(alertBox, 'error', error.message, { focus: false });
      setFieldErrors(form, fields)?.focus();
    } else {
      showAlert(alertBox, 'error', error.message);
    }
  } finally {
    setBusy(button, false);
  }
});

resendForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearAlert(resendAlert);
  const email = resendForm.elements.email.value.trim();
  const emailError = checkEmail(STRINGS, email);
  if (emailError) {
    setFieldErrors(resendForm, { email: emailError })?.focus();
    return;
  }
  clearFieldErrors(resendForm);
  const button = resendForm.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    await api('/users/resend-verification', { method: 'POST', json: { email, lang: getLang() } });
    showAlert(resendAlert, 'success', t(STRINGS, 'resent'));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showAlert(resendAlert, 'error', error.message);
  } finally {
    setBusy(button, false);
  }
});

render();
addPasswordToggles();
onLangChange(render);
if (new URLSearchParams(window.location.search).has('resend')) showDone(null);
initPage({ titleKey: 'title', strings: STRINGS });
