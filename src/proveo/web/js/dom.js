// DOM helpers shared by every page. Nothing here parses HTML: user content only ever becomes
// text nodes or attribute values, which the strict CSP and XSS rules rely on.

const BOOLEAN_ATTRS = new Set(['hidden', 'disabled', 'checked', 'selected', 'required', 'readonly', 'multiple', 'autofocus', 'open']);

function append(el, child) {
  if (child === null || child === undefined || child === false || child === true) return;
  if (Array.isArray(child)) {
    child.forEach((c) => append(el, c));
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === 'on') {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (key === 'class') {
      if (value) el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'value' && 'value' in el) {
      el.value = value;
    } else if (BOOLEAN_ATTRS.has(key)) {
      if (value) el.setAttribute(key, '');
      if (key in el) el[key] = Boolean(value);
    } else if (value === false) {
      continue;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function qs(sel, root = document) {
  return root.querySelector(sel);
}

export function qsa(sel, root = document) {
  return Array.from(root.querySelectorAll(sel));
}

const ALERT_ICONS = { error: '!', warning: '!', success: '✓', info: 'i' };

// `message` may be a string or a Node / array of nodes (e.g. text plus a link to another page).
export function showAlert(container, kind, message, { focus = true } = {}) {
  clear(container);
  const box = h(
    'div',
    {
      class: `alert alert-${kind}`,
      role: kind === 'error' ? 'alert' : 'status',
      tabindex: '-1',
    },
    h('span', { class: 'alert-icon', 'aria-hidden': 'true' }, ALERT_ICONS[kind] || 'i'),
    h('div', { class: 'alert-body' }, message),
  );
  container.appendChild(box);
  container.hidden = false;
  if (focus) box.focus();
  return box;
}

export function clearAlert(container) {
  clear(container);
}

// The error goes after the field's direct child that holds the input, not after the input itself:
// an input inside a wrapper (the password field with its Show button) would otherwise get its
// error inside the wrapper, overlapping the button.
function errorAnchor(input) {
  const field = input.closest('.field');
  if (!field) return input;
  let anchor = input;
  while (anchor.parentElement && anchor.parentElement !== field) anchor = anchor.parentElement;
  return anchor;
}

export function setFieldErrors(form, fieldErrors = {}) {
  clearFieldErrors(form);
  let first = null;
  for (const [name, message] of Object.entries(fieldErrors)) {
    const input = form.elements.namedItem(name);
    if (!input || !(input instanceof Element)) continue;
    if (!input.id) input.id = `${form.id || 'form'}-${name}`;
    const errorId = `${input.id}-error`;
    let error = document.getElementById(errorId);
    if (!error) {
      error = h('p', { class: 'field-error', id: errorId });
      errorAnchor(input).insertAdjacentElement('afterend', error);
    }
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    const described = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!described.includes(errorId)) described.push(errorId);
    input.setAttribute('aria-describedby', described.join(' '));
    if (!first) first = input;
  }
  return first;
}

export function clearFieldErrors(form) {
  for (const input of qsa('[aria-invalid="true"]', form)) {
    input.removeAttribute('aria-invalid');
    const errorId = `${input.id}-error`;
    const described = (input.getAttribute('aria-describedby') || '')
      .split(' ')
      .filter((id) => id && id !== errorId);
    if (described.length) input.setAttribute('aria-describedby', described.join(' '));
    else input.removeAttribute('aria-describedby');
  }
  for (const error of qsa('.field-error', form)) {
    error.textContent = '';
    error.hidden = true;
  }
}

export function setBusy(button, busy) {
  if (!button) return;
  button.disabled = Boolean(busy);
  if (busy) button.setAttribute('aria-busy', 'true');
  else button.removeAttribute('aria-busy');
}
