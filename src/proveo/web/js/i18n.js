// Language: Spanish and English. The toggle's choice persists in localStorage; without one, the
// browser's language decides when it is es or en, else Spanish. A change is announced with the
// `proveo:lang` window event so the header and each page re-render their text.

const STORAGE_KEY = 'proveo.lang';
const LANGS = ['es', 'en'];
const LOCALES = { es: 'es-CL', en: 'en-US' };

function storedLang() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

// A page the server rendered in one language says so (`<html data-page-lang>`): its address
// holds the language, and the toggle goes to the other language's address.
function pageLang() {
  const lang = document.documentElement.dataset.pageLang;
  return LANGS.includes(lang) ? lang : null;
}

function alternateHref(lang) {
  return document.querySelector(`link[rel="alternate"][hreflang="${lang}"]`)?.href || null;
}

export function getLang() {
  const fixed = pageLang();
  if (fixed) return fixed;
  const stored = storedLang();
  if (LANGS.includes(stored)) return stored;
  const nav = (navigator.language || '').slice(0, 2).toLowerCase();
  return LANGS.includes(nav) ? nav : 'es';
}

export function setLang(lang) {
  if (!LANGS.includes(lang)) return;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Private mode without storage: the choice lasts for this page only.
  }
  const fixed = pageLang();
  if (fixed) {
    const href = alternateHref(lang);
    if (fixed !== lang && href) window.location.assign(href);
    return;
  }
  document.documentElement.lang = lang;
  window.dispatchEvent(new CustomEvent('proveo:lang', { detail: { lang } }));
}

export function onLangChange(fn) {
  window.addEventListener('proveo:lang', (event) => fn(event.detail.lang));
}

export function t(strings, key, params = {}) {
  const lang = getLang();
  let text = strings?.[lang]?.[key] ?? strings?.es?.[key] ?? key;
  for (const [name, value] of Object.entries(params)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

export const COMMON = {
  es: {
    brand_tagline: 'Proveedores B2B de Chile',
    skip_to_content: 'Saltar al contenido',
    nav_label: 'Principal',
    nav_search: 'Buscar',
    nav_publish: 'Publicar',
    nav_my_company: 'Mi empresa',
    nav_admin: 'Admin',
    nav_login: 'Ingresar',
    nav_signup: 'Crear cuenta',
    nav_account: 'Cuenta',
    nav_logout: 'Salir',
    nav_menu: 'Menú',
    user_menu_label: 'Cuenta de {name}',
    lang_toggle_label: 'Idioma',
    lang_es: 'Español',
    lang_en: 'English',
    footer_about: 'Proveo conecta empresas con proveedores verificados en todo Chile.',
    footer_api: 'API',
    footer_rights: '© {year} Proveo',
    btn_save: 'Guardar',
    btn_cancel: 'Cancelar',
    btn_delete: 'Eliminar',
    btn_edit: 'Editar',
    btn_close: 'Cerrar',
    btn_retry: 'Reintentar',
    btn_back: 'Volver',
    btn_continue: 'Continuar',
    btn_confirm: 'Confirmar',
    loading: 'Cargando…',
    page_previous: 'Anterior',
    page_next: 'Siguiente',
    page_of: 'Página {page} de {pages}',
    pagination_label: 'Paginación',
    show_password: 'Mostrar',
    hide_password: 'Ocultar',
    show_password_label: 'Mostrar contraseña',
    err_network: 'No pudimos conectar con Proveo. Revisa tu conexión e inténtalo de nuevo.',
    err_generic: 'Algo salió mal. Inténtalo de nuevo en un momento.',
    err_not_authenticated: 'Tu sesión terminó. Ingresa de nuevo.',
    err_forbidden: 'No tienes permiso para hacer esto.',
    err_csrf_failed: 'Tu sesión cambió en otra pestaña. Recarga la página e inténtalo de nuevo.',
    err_not_found: 'No encontramos lo que buscas.',
    err_validation_error: 'Revisa los campos marcados.',
    err_rate_limited: 'Demasiados intentos. Espera un momento e inténtalo de nuevo.',
    err_rate_limited_wait: 'Demasiados intentos. Inténtalo de nuevo en {minutes} min.',
    err_service_unavailable: 'El servicio está ocupado. Inténtalo de nuevo en un momento.',
    err_busy: 'El servicio está ocupado. Inténtalo de nuevo en un momento.',
    err_database_busy: 'El servicio está ocupado. Inténtalo de nuevo en un momento.',
    err_database_unavailable: 'El servicio no está disponible. Inténtalo más tarde.',
    err_payload_too_large: 'El archivo es demasiado grande.',
    err_unsupported_media_type: 'Ese tipo de archivo no es compatible.',
    err_invalid_credentials: 'Correo o contraseña incorrectos.',
    err_email_taken: 'Ya existe una cuenta con ese correo.',
    err_email_not_verified: 'Primero confirma tu correo con el enlace que te enviamos.',
    err_wrong_password: 'La contraseña actual no es correcta.',
    err_invalid_token: 'El enlace no es válido, ya se usó o expiró.',
    err_admin_required: 'Esta sección es solo para administradores.',
    err_company_exists: 'Ya tienes una empresa publicada.',
    err_company_not_found: 'No encontramos esa empresa.',
    err_image_rejected: 'La imagen fue rechazada.',
    err_image_too_large: 'La imagen es demasiado grande.',
    err_unsupported_image: 'Ese formato de imagen no es compatible.',
    err_image_service_unavailable: 'No pudimos procesar la imagen ahora. Inténtalo más tarde.',
    err_storage_unavailable: 'No pudimos guardar el archivo ahora. Inténtalo más tarde.',
  },
  en: {
    brand_tagline: 'B2B suppliers in Chile',
    skip_to_content: 'Skip to content',
    nav_label: 'Main',
    nav_search: 'Search',
    nav_publish: 'Publish',
    nav_my_company: 'My company',
    nav_admin: 'Admin',
    nav_login: 'Log in',
    nav_signup: 'Sign up',
    nav_account: 'Account',
    nav_logout: 'Log out',
    nav_menu: 'Menu',
    user_menu_label: "{name}'s account",
    lang_toggle_label: 'Language',
    lang_es: 'Español',
    lang_en: 'English',
    footer_about: 'Proveo connects businesses with verified suppliers across Chile.',
    footer_api: 'API',
    footer_rights: '© {year} Proveo',
    btn_save: 'Save',
    btn_cancel: 'Cancel',
    btn_delete: 'Delete',
    btn_edit: 'Edit',
    btn_close: 'Close',
    btn_retry: 'Try again',
    btn_back: 'Back',
    btn_continue: 'Continue',
    btn_confirm: 'Confirm',
    loading: 'Loading…',
    page_previous: 'Previous',
    page_next: 'Next',
    page_of: 'Page {page} of {pages}',
    pagination_label: 'Pagination',
    show_password: 'Show',
    hide_password: 'Hide',
    show_password_label: 'Show password',
    err_network: 'We could not reach Proveo. Check your connection and try again.',
    err_generic: 'Something went wrong. Please try again in a moment.',
    err_not_authenticated: 'Your session ended. Please log in again.',
    err_forbidden: 'You are not allowed to do this.',
    err_csrf_failed: 'Your session changed in another tab. Reload the page and try again.',
    err_not_found: 'We could not find what you are looking for.',
    err_validation_error: 'Please check the highlighted fields.',
    err_rate_limited: 'Too many attempts. Wait a moment and try again.',
    err_rate_limited_wait: 'Too many attempts. Try again in {minutes} min.',
    err_service_unavailable: 'The service is busy. Please try again in a moment.',
    err_busy: 'The service is busy. Please try again in a moment.',
    err_database_busy: 'The service is busy. Please try again in a moment.',
    err_database_unavailable: 'The service is unavailable. Please try again later.',
    err_payload_too_large: 'The file is too large.',
    err_unsupported_media_type: 'That file type is not supported.',
    err_invalid_credentials: 'Wrong email or password.',
    err_email_taken: 'An account with that email already exists.',
    err_email_not_verified: 'First confirm your email with the link we sent you.',
    err_wrong_password: 'The current password is not correct.',
    err_invalid_token: 'The link is invalid, already used or expired.',
    err_admin_required: 'This section is for administrators only.',
    err_company_exists: 'You already have a published company.',
    err_company_not_found: 'We could not find that company.',
    err_image_rejected: 'The image was rejected.',
    err_image_too_large: 'The image is too large.',
    err_unsupported_image: 'That image format is not supported.',
    err_image_service_unavailable: 'We could not process the image right now. Try again later.',
    err_storage_unavailable: 'We could not store the file right now. Try again later.',
  },
};

export function tc(key, params = {}) {
  return t(COMMON, key, params);
}

function locale() {
  return LOCALES[getLang()];
}

// Building an Intl formatter costs far more than using one (about 1 ms each on a phone): one per
// locale and kind, made when first needed.
const formatters = new Map();

function formatter(kind, options) {
  const key = `${kind}:${locale()}`;
  if (!formatters.has(key)) {
    const Make = kind === 'number' ? Intl.NumberFormat : Intl.DateTimeFormat;
    formatters.set(key, new Make(locale(), options));
  }
  return formatters.get(key);
}

export function formatDate(isoString) {
  if (!isoString) return '';
  const date = new Date(isoString);
  if (Number.isNaN(date.getTime())) return '';
  return formatter('date', { day: 'numeric', month: 'long', year: 'numeric' }).format(date);
}

export function formatDateTime(isoString) {
  if (!isoString) return '';
  const date = new Date(isoString);
  if (Number.isNaN(date.getTime())) return '';
  return formatter('datetime', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

// Whole numbers (counts) are grouped by hand, as Intl would for es-CL (1.234) and en-US
// (1,234): the first Intl formatter of a page costs tens of milliseconds on a phone.
const GROUP = { es: '.', en: ',' };

export function formatNumber(n) {
  if (Number.isSafeInteger(n)) {
    const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, GROUP[getLang()]);
    return n < 0 ? `-${digits}` : digits;
  }
  return formatter('number').format(n);
}
