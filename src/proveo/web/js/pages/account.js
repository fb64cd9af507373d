import { ApiError, api, currentUser } from '../api.js';
import { clearAlert, clearFieldErrors, qs, setBusy, setFieldErrors, showAlert } from '../dom.js';
import { formatDate, getLang, onLangChange, t } from '../i18n.js';
import { initPage } from '../layout.js';
import { PASSWORD_STRINGS, addPasswordToggles, applyStrings, checkPassword, passwordMessage } from '../forms.js';

const STRINGS = {
  es: {
    ...PASSWORD_STRINGS.es,
    title: 'Tu cuenta',
    heading: 'Tu cuenta',
    subheading: 'Tus datos, tu contraseña y tu cuenta.',
    profile_heading: 'Perfil',
    name_label: 'Nombre',
    email_label: 'Correo electrónico',
    role_label: 'Tipo de cuenta',
    since_label: 'Miembro desde',
    role_user: 'Empresa',
    role_admin: 'Administrador',
    verified: 'Correo confirmado',
    unverified: 'Correo sin confirmar',
    verify_hint: 'Confirma tu correo para publicar tu empresa.',
    resend: 'Reenviar el enlace',
    resent: 'Te enviamos un enlace nuevo. Ábrelo en este navegador.',
    password_heading: 'Cambiar contraseña',
    password_sub: 'Se cerrarán tus sesiones en otros dispositivos.',
    current_label: 'Contraseña actual',
    new_label: 'Contraseña nueva',
    confirm_label: 'Repite la contraseña nueva',
    password_submit: 'Cambiar contraseña',
    password_done: 'Tu contraseña cambió. Cerramos tus sesiones en otros dispositivos.',
    delete_heading: 'Eliminar cuenta',
    delete_sub: 'Se eliminarán tu cuenta y tu empresa publicada. No se puede deshacer.',
    delete_button: 'Eliminar mi cuenta',
    dialog_heading: '¿Eliminar tu cuenta?',
    dialog_text: 'Se eliminarán tu cuenta, tu empresa y sus imágenes. Escribe tu correo para confirmar.',
    dialog_label: 'Tu correo',
    dialog_submit: 'Eliminar definitivamente',
    dialog_mismatch: 'Escribe exactamente {email} para confirmar.',
    deleted_heading: 'Tu cuenta fue eliminada',
    deleted_text: 'Gracias por usar Proveo.',
    go_home: 'Ir al inicio',
  },
  en: {
    ...PASSWORD_STRINGS.en,
    title: 'Your account',
    heading: 'Your account',
    subheading: 'Your details, your password and your account.',
    profile_heading: 'Profile',
    name_label: 'Name',
    email_label: 'Email',
    role_label: 'Account type',
    since_label: 'Member since',
    role_user: 'Business',
    role_admin: 'Administrator',
    verified: 'Email confirmed',
    unverified: 'Email not confirmed',
    verify_hint: 'Confirm your email to publish your company.',
    resend: 'Resend the link',
    resent: 'We sent you a new link. Open it in this browser.',
    password_heading: 'Change password',
    password_sub: 'Your sessions on other devices will be logged out.',
    current_label: 'Current password',
    new_label: 'New password',
    confirm_label: 'Repeat the new password',
    password_submit: 'Change password',
    password_done: 'Your password changed. We logged out your sessions on other devices.',
    delete_heading: 'Delete account',
    delete_sub: 'Your account and your published company will be deleted. This cannot be undone.',
    delete_button: 'Delete my account',
    dialog_heading: 'Delete your account?',
    dialog_text: 'Your account, your company and its images will be deleted. Type your email to confirm.',
    dialog_label: 'Your email',
    dialog_submit: 'Delete permanently',
    dialog_mismatch: 'Type exactly {email} to confirm.',
    deleted_heading: 'Your account was deleted',
    deleted_text: 'Thank you for using Proveo.',
    go_home: 'Go to the home page',
  },
};

let user = null;
let passwordChanged = false;
const passwordForm = qs('#password-form');
const dialog = qs('#delete-dialog');
const deleteForm = qs('#delete-form');

function renderProfile() {
  if (!user) return;
  qs('#profile-name').textContent = user.name;
  qs('#profile-email').textContent = user.email;
  qs('#profile-role').textContent = t(STRINGS, user.role === 'admin' ? 'role_admin' : 'role_user');
  qs('#profile-since').textContent = formatDate(user.created_at);
  const status = qs('#profile-status');
  status.textContent = t(STRINGS, user.email_verified ? 'verified' : 'unverified');
  status.className = `badge ${user.email_verified ? 'badge-success' : 'badge-warning'}`;
  qs('#verify-box').hidden = user.email_verified;
}

function render() {
  applyStrings(STRINGS);
  renderProfile();
  if (passwordChanged) showAlert(qs('#password-alert'), 'success', t(STRINGS, 'password_done'), { focus: false });
}

qs('#resend-button').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  const box = qs('#verify-alert');
  setBusy(button, true);
  try {
    await api('/users/resend-verification', { method: 'POST', json: { email: user.email, lang: getLang() } });
    showAlert(box, 'success', t(STRINGS, 'resent'));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showAlert(box, 'error', error.message);
  } finally {
    setBusy(button, false);
  }
});

passwordForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const box = qs('#password-alert');
  clearAlert(box);
  passwordChanged = false;
  const current = passwordForm.elements.current_password.value;
  const next = passwordForm.elements.new_password.value;
  const confirm = passwordForm.elements.confirm.value;
  const errors = {};
  if (!current) errors.current_password = t(STRINGS, 'required');
  const nextError = checkPassword(STRINGS, next);
  if (nextError) errors.new_password = nextError;
  else if (next === current) errors.new_password = t(STRINGS, 'pw_same');
  else if (next !== confirm) errors.confirm = t(STRINGS, 'pw_mismatch');
  if (Object.keys(errors).length) {
    setFieldErrors(passwordForm, errors)?.focus();
    return;
  }
  clearFieldErrors(passwordForm);
  const button = passwordForm.querySelector('button[type=submit]');
  setBusy(button, true);
  try {
    await api('/users/me/password', { method: 'POST', json: { current_password: current, new_password: next } });
    passwordForm.reset();
    passwordChanged = true;
    showAlert(box, 'success', t(STRINGS, 'password_done'));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === 'wrong_password') {
      setFieldErrors(passwordForm, { current_password: error.message })?.focus();
    } else if (error.status === 422 && error.fieldErrors.new_password) {
      setFieldErrors(passwordForm, { new_password: passwordMessage(STRINGS, error.fieldErrors.new_password) })?.focus();
    } else {
      showAlert(box, 'error', error.message);
    }
  } finally {
    setBusy(button, false);
  }
});

qs('#delete-open').addEventListener('click', () => {
  deleteForm.reset();
  clearFieldErrors(deleteForm);
  clearAlert(qs('#delete-alert'));
  dialog.showModal();
  qs('#delete-confirm').focus();
});
qs('#delete-cancel').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => qs('#delete-open').focus());

deleteForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const typed = deleteForm.elements.confirm.value.trim().toLowerCase();
  if (typed !== user.email.toLowerCase()) {
    setFieldErrors(deleteForm, { confirm: t(STRINGS, 'dialog_mismatch', { email: user.email }) })?.focus();
    return;
  }
  clearFieldErrors(deleteForm);
  const button = qs('#delete-submit');
  setBusy(button, true);
  try {
    await api('/users/me', { method: 'DELETE' });
    dialog.close();
    qs('#account-content').hidden = true;
    qs('#account-deleted').hidden = false;
    await currentUser({ refresh: true });
    await initPage({ titleKey: 'title', strings: STRINGS });
    qs('#deleted-heading').focus();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showAlert(qs('#delete-alert'), 'error', error.message);
  } finally {
    setBusy(button, false);
  }
});

render();
addPasswordToggles();
onLangChange(render);
initPage({ titleKey: 'title', strings: STRINGS, auth: 'user' })
  .then((result) => {
    user = result.user;
    qs('#account-loading').hidden = true;
    qs('#account-content').hidden = false;
    renderProfile();
  })
  .catch((error) => {
    qs('#account-loading').hidden = true;
    showAlert(qs('#account-alert'), 'error', error instanceof ApiError ? error.message : String(error));
  });
