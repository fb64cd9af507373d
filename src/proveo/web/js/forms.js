// Helpers for the form pages (sign up, log in, password and account pages).

import { h, qsa } from './dom.js';
import { t, tc } from './i18n.js';

// Fill every [data-i18n] element's text, [data-i18n-label] aria-label and
// [data-i18n-placeholder] placeholder from the page's STRINGS (keys missing there come from COMMON).
export function applyStrings(strings, root = document) {
  const text = (key) => {
    const value = t(strings, key);
    return value === key ? tc(key) : value;
  };
  for (const el of qsa('[data-i18n]', root)) el.textContent = text(el.dataset.i18n);
  for (const el of qsa('[data-i18n-label]', root)) el.setAttribute('aria-label', text(el.dataset.i18nLabel));
  for (const el of qsa('[data-i18n-placeholder]', root)) el.setAttribute('placeholder', text(el.dataset.i18nPlaceholder));
}

// A "Show / Hide" button inside each password input's .password-wrap.
export function addPasswordToggles(root = document) {
  for (const input of qsa('input[type="password"]', root)) {
    const wrap = input.closest('.password-wrap');
    if (!wrap || wrap.querySelector('.password-toggle')) continue;
    const button = h('button', {
      type: 'button',
      class: 'password-toggle',
      'aria-controls': input.id,
      'aria-pressed': 'false',
      on: {
        click: () => {
          const show = input.type === 'password';
          input.type = show ? 'text' : 'password';
          button.setAttribute('aria-pressed', String(show));
          label();
        },
      },
    });
    const label = () => {
      button.textContent = input.type === 'password' ? tc('show_password') : tc('hide_password');
      button.setAttribute('aria-label', tc('show_password_label'));
    };
    label();
    wrap.appendChild(button);
    window.addEventListener('proveo:lang', label);
  }
}

// A same-site path to go to after logging in: never another origin (`//evil`, `https://…`).
// The check is on the resolved URL, not the raw string: dot segments (`/.//evil/x`,
// `/..//evil/x`, `/./\\evil/x`) resolve to a path starting with `//`, which
// `location.assign` would then read as another host.
export function safeNext(value) {
  if (typeof value !== 'string' || !value.startsWith('/')) return null;
  try {
    const url = new URL(value, window.location.origin);
    if (url.origin !== window.location.origin) return null;
    if (url.pathname.startsWith('//') || url.pathname.startsWith('/\\')) return null;
    return url.pathname + url.search + url.hash;
  } catch {
    return null;
  }
}

// The server's English pydantic messages become the page's own words for the common cases.
export function passwordMessage(strings, message) {
  if (/at least 8|too short|should have at least/i.test(message)) return t(strings, 'pw_too_short');
  if (/at most|too long/i.test(message)) return t(strings, 'pw_too_long');
  if (/two kinds|passphrase/i.test(message)) return t(strings, 'pw_weak');
  if (/differ/i.test(message)) return t(strings, 'pw_same');
  return message;
}

export const PASSWORD_STRINGS = {
  es: {
    pw_hint: 'Mínimo 8 caracteres, mezclando al menos dos tipos (letras, números, símbolos), o una frase de 16 o más.',
    pw_too_short: 'Usa al menos 8 caracteres.',
    pw_too_long: 'Usa como máximo 128 caracteres.',
    pw_weak: 'Mezcla al menos dos tipos de caracteres, o usa una frase de 16 o más caracteres.',
    pw_same: 'La nueva contraseña debe ser distinta de la actual.',
    pw_mismatch: 'Las contraseñas no coinciden.',
    email_invalid: 'Escribe un correo válido, como nombre@empresa.cl.',
    required: 'Completa este campo.',
  },
  en: {
    pw_hint: 'At least 8 characters mixing two kinds (letters, digits, symbols), or a passphrase of 16 or more.',
    pw_too_short: 'Use at least 8 characters.',
    pw_too_long: 'Use at most 128 characters.',
    pw_weak: 'Mix at least two kinds of characters, or use a passphrase of 16 or more characters.',
    pw_same: 'The new password must differ from the current one.',
    pw_mismatch: 'The passwords do not match.',
    email_invalid: 'Enter a valid email, like name@company.com.',
    required: 'Fill in this field.',
  },
};

// Client-side checks mirroring the server's password policy, so a person sees them at once.
export function checkPassword(strings, value) {
  if (!value) return t(strings, 'required');
  if (value.length < 8) return t(strings, 'pw_too_short');
  if (value.length > 128) return t(strings, 'pw_too_long');
  if (value.length < 16) {
    const kinds = new Set();
    for (const ch of value) {
      if (/\d/.test(ch)) kinds.add('d');
      else if (ch.toLowerCase() !== ch.toUpperCase()) kinds.add(ch === ch.toUpperCase() ? 'u' : 'l');
      else kinds.add('o');
    }
    if (kinds.size < 2) return t(strings, 'pw_weak');
  }
  return null;
}

export function checkEmail(strings, value) {
  if (!value) return t(strings, 'required');
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) ? null : t(strings, 'email_invalid');
}
