// Request quotes: a buyer describes a need once (category, place, what, when, budget, contact);
// the server emails a confirmation link and nothing reaches a provider before it is opened.
// Prefilled from the address (`?product=<uuid>&region=<name|slug>|commune=<uuid>|place=<site
// slug>`: the search, a landing page, a company page) and, signed in, with the user's name and
// email.
import { h, clear, qs, showAlert, clearFieldErrors, setFieldErrors, setBusy } from '/js/dom.js';
import { getLang, onLangChange, t, tc } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';
import { combobox } from '/js/market/combobox.js';
import { loadCommunes, loadProducts, productName, sortedProducts, communesByRegion } from '/js/market/catalog.js';
import { checkEmail, PASSWORD_STRINGS } from '/js/forms.js';
import { BUDGET_BANDS, budgetLabel, charCounter, field, matchRegion, regionsOf, slugify } from '/js/quotes/common.js';

const STRINGS = {
  es: {
    title: 'Pedir cotizaciones',
    heading: 'Pedir cotizaciones',
    lead: 'Describe una vez lo que necesitas y lo enviamos a los proveedores del rubro que atienden tu zona (hasta 25). Cada uno te responde directamente.',
    sectionNeed: 'Qué necesitas',
    sectionPlace: 'Dónde',
    sectionContact: 'Tus datos de contacto',
    category: 'Rubro',
    categoryType: 'Escribe para buscar un rubro',
    categoryNone: 'Ningún rubro coincide',
    categoryHint: 'El tipo de proveedor que buscas, por ejemplo Construcción o Contabilidad.',
    requestTitle: 'Título',
    titleHint: 'En una línea, por ejemplo «Remodelación de oficina de 80 m²».',
    description: 'Descripción',
    descriptionHint: 'Qué necesitas, cantidades, plazos y condiciones. Hasta 2 enlaces.',
    neededBy: 'Lo necesitas para',
    budget: 'Presupuesto aproximado (CLP)',
    optional: '(opcional)',
    placeKind: '¿Dónde lo necesitas?',
    placeChile: 'Todo Chile',
    placeRegion: 'Una región',
    placeCommune: 'Una comuna',
    region: 'Región',
    regionPick: 'Elige una región',
    commune: 'Comuna',
    communeType: 'Escribe para buscar tu comuna',
    communeNone: 'Ninguna comuna coincide',
    contactName: 'Nombre',
    contactEmail: 'Correo',
    contactEmailHint: 'Te enviaremos un enlace para confirmar la solicitud, y ahí llegan las respuestas.',
    contactPhone: 'Teléfono',
    contactCompany: 'Empresa',
    honeypot: 'Deja este campo vacío',
    privacy: 'Los proveedores elegidos verán tu nombre y tus datos de contacto para responderte. Nada se envía hasta que confirmes desde tu correo.',
    submit: 'Enviar solicitud',
    sending: 'Enviando…',
    checkFields: 'Revisa los campos marcados.',
    required: 'Completa este campo.',
    pickCategory: 'Elige un rubro de la lista.',
    pickRegion: 'Elige una región.',
    pickCommune: 'Elige una comuna de la lista.',
    tooLong: 'Usa como máximo {max} caracteres.',
    tooManyLinks: 'Incluye como máximo 2 enlaces.',
    pastDate: 'Elige una fecha desde hoy.',
    phoneInvalid: 'Escribe un teléfono válido, por ejemplo +56 9 8231 4576.',
    doneTitle: 'Revisa tu correo para confirmar',
    doneText: 'Te enviamos un enlace a {email}. Ábrelo para confirmar tu solicitud: hasta entonces ningún proveedor la recibe.',
    doneHint: '¿No llegó? Revisa la carpeta de spam, o vuelve a enviar la solicitud.',
    another: 'Pedir otra cotización',
    loadError: 'No pudimos cargar el formulario. {message}',
    retry: 'Reintentar',
  },
  en: {
    title: 'Request quotes',
    heading: 'Request quotes',
    lead: 'Describe what you need once and we send it to the providers of that category who serve your area (up to 25). Each one answers you directly.',
    sectionNeed: 'What you need',
    sectionPlace: 'Where',
    sectionContact: 'Your contact details',
    category: 'Category',
    categoryType: 'Type to find a category',
    categoryNone: 'No category matches',
    categoryHint: 'The kind of provider you are looking for, e.g. Construction or Accounting.',
    requestTitle: 'Title',
    titleHint: 'One line, e.g. “Refurbishing an 80 m² office”.',
    description: 'Description',
    descriptionHint: 'What you need, quantities, deadlines and conditions. Up to 2 links.',
    neededBy: 'Needed by',
    budget: 'Approximate budget (CLP)',
    optional: '(optional)',
    placeKind: 'Where do you need it?',
    placeChile: 'All of Chile',
    placeRegion: 'A region',
    placeCommune: 'A commune',
    region: 'Region',
    regionPick: 'Choose a region',
    commune: 'Commune',
    communeType: 'Type to find your commune',
    communeNone: 'No commune matches',
    contactName: 'Name',
    contactEmail: 'Email',
    contactEmailHint: 'We will send you a link to confirm the request; the replies arrive there too.',
    contactPhone: 'Phone',
    contactCompany: 'Company',
    honeypot: 'Leave this field empty',
    privacy: 'The chosen providers will see your name and contact details to answer you. Nothing is sent until you confirm from your email.',
    submit: 'Send request',
    sending: 'Sending…',
    checkFields: 'Please check the highlighted fields.',
    required: 'Fill in this field.',
    pickCategory: 'Choose a category from the list.',
    pickRegion: 'Choose a region.',
    pickCommune: 'Choose a commune from the list.',
    tooLong: 'Use at most {max} characters.',
    tooManyLinks: 'Include at most 2 links.',
    pastDate: 'Choose a date from today on.',
    phoneInvalid: 'Enter a valid phone number, e.g. +56 9 8231 4576.',
    doneTitle: 'Check your email to confirm',
    doneText: 'We sent a link to {email}. Open it to confirm your request: until then no provider receives it.',
    doneHint: 'Not there? Check your spam folder, or send the request again.',
    another: 'Request another quote',
    loadError: 'The form could not be loaded. {message}',
    retry: 'Try again',
  },
};

const s = (key, params) => t(STRINGS, key, params);
const LIMITS = { title: 120, description: 2000, contact_name: 100, contact_email: 254, contact_company: 100, contact_phone: 40 };
const FIELDS = ['product_uuid', 'region', 'commune_uuid', 'title', 'description', 'needed_by', 'budget_band',
  'contact_name', 'contact_email', 'contact_phone', 'contact_company'];

let user = null;
let catalog = null; // {products, communes, regions}
let view = 'loading'; // loading | form | done | error
let values = null; // the form's values across re-renders (language change)
let sentTo = '';
let loadErr = null;

function root() {
  return qs('#quote-root');
}

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// What the address asks for: a category and a place.
function initialValues() {
  const params = new URLSearchParams(window.location.search);
  const out = { place_kind: 'chile' };
  const product = params.get('product');
  if (product && catalog.products.some((p) => p.uuid === product)) out.product_uuid = product;
  const commune = params.get('commune');
  const place = params.get('place');
  const region = params.get('region') || (place && place.startsWith('region-') ? place : '');
  if (commune && catalog.communes.some((c) => c.uuid === commune)) {
    out.place_kind = 'commune';
    out.commune_uuid = commune;
  } else if (region && matchRegion(region, catalog.regions)) {
    out.place_kind = 'region';
    out.region = matchRegion(region, catalog.regions);
  } else if (place) {
    const found = catalog.communes.find((c) => slugify(c.name) === place);
    if (found) {
      out.place_kind = 'commune';
      out.commune_uuid = found.uuid;
    }
  }
  if (user) {
    out.contact_name = user.name || '';
    out.contact_email = user.email || '';
  }
  return out;
}

function readForm(form) {
  const get = (name) => {
    const el = form.elements.namedItem(name);
    if (!el) return '';
    if (el.getAttribute?.('role') === 'combobox') return el.dataset.value || '';
    return String(el.value || '').trim();
  };
  const out = {};
  for (const name of FIELDS) out[name] = get(name);
  out.place_kind = form.querySelector('input[name="place_kind"]:checked')?.value || 'chile';
  out.website = form.elements.namedItem('website')?.value || '';
  // The combobox's text, to restore what was typed without a choice.
  out.product_text = form.elements.namedItem('product_uuid')?.value || '';
  return out;
}

function linkCount(text) {
  return (text.match(/\b(?:https?:\/\/|www\.)\S+/gi) || []).length;
}

function validate(v) {
  const errors = {};
  if (!v.product_uuid) errors.product_uuid = v.product_text ? s('pickCategory') : s('required');
  if (v.place_kind === 'region' && !v.region) errors.region = s('pickRegion');
  if (v.place_kind === 'commune' && !v.commune_uuid) errors.commune_uuid = s('pickCommune');
  for (const name of ['title', 'description', 'contact_name', 'contact_email']) {
    if (!v[name]) errors[name] = s('required');
  }
  for (const [name, max] of Object.entries(LIMITS)) {
    if (!errors[name] && v[name].length > max) errors[name] = s('tooLong', { max });
  }
  if (!errors.description && linkCount(v.description) > 2) errors.description = s('tooManyLinks');
  if (v.needed_by && v.needed_by < today()) errors.needed_by = s('pastDate');
  if (!errors.contact_email && checkEmail(PASSWORD_STRINGS, v.contact_email)) errors.contact_email = t(PASSWORD_STRINGS, 'email_invalid');
  if (v.contact_phone && !/^\+?\d{8,15}$/.test(v.contact_phone.replace(/[\s().-]/g, ''))) errors.contact_phone = s('phoneInvalid');
  return errors;
}

// The server's English messages, in the page's words where a rule is known.
function serverErrors(fieldErrors) {
  const out = {};
  for (const [name, message] of Object.entries(fieldErrors || {})) {
    const target = name === 'region' || name === 'commune_uuid' || FIELDS.includes(name) ? name : null;
    if (!target) continue;
    let text = message;
    if (/at most (\d+) char|too long|ensure this value has at most/i.test(message)) text = s('tooLong', { max: LIMITS[target] || '' });
    else if (/link/i.test(message)) text = s('tooManyLinks');
    else if (/phone/i.test(message)) text = s('phoneInvalid');
    else if (target === 'needed_by' && /past/i.test(message)) text = s('pastDate');
    else if (/field required|missing/i.test(message)) text = s('required');
    out[target] = text;
  }
  return out;
}

function placeFields(v) {
  const lang = getLang();
  const choice = (value, label) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'place_kind', value, checked: v.place_kind === value, on: { change: syncPlace } }), label);
  const regionSelect = h('select', { name: 'region' },
    h('option', { value: '' }, s('regionPick')),
    catalog.regions.map((name) => h('option', { value: name, selected: v.region === name }, name)));
  const communeBox = combobox({
    id: 'quote-commune',
    name: 'commune_uuid',
    placeholder: s('communeType'),
    emptyText: s('communeNone'),
    options: communesByRegion(catalog.communes, lang).flatMap(({ region, items }) => items.map((c) => ({ value: c.uuid, label: c.name, group: region }))),
  });
  if (v.commune_uuid) communeBox.setValue(v.commune_uuid);
  return h('fieldset', { class: 'form-section card' },
    h('legend', { class: 'form-section-title' }, s('sectionPlace')),
    h('fieldset', { class: 'choice-group' },
      h('legend', { class: 'label' }, s('placeKind')),
      h('div', { class: 'cluster' }, choice('chile', s('placeChile')), choice('region', s('placeRegion')), choice('commune', s('placeCommune')))),
    h('div', { class: 'place-region', 'data-place': 'region' }, field('quote-region', s('region'), regionSelect)),
    h('div', { class: 'place-commune', 'data-place': 'commune' }, h('div', { class: 'field' },
      h('label', { for: 'quote-commune' }, s('commune')), communeBox.element)));
}

// Only the chosen kind of place shows its picker.
function syncPlace() {
  const form = qs('#quote-form');
  if (!form) return;
  const kind = form.querySelector('input[name="place_kind"]:checked')?.value || 'chile';
  for (const box of form.querySelectorAll('[data-place]')) box.hidden = box.dataset.place !== kind;
}

function renderForm(el) {
  const v = values || initialValues();
  const lang = getLang();
  const productBox = combobox({
    id: 'quote-product',
    name: 'product_uuid',
    required: true,
    placeholder: s('categoryType'),
    emptyText: s('categoryNone'),
    options: sortedProducts(catalog.products, lang).map((p) => ({ value: p.uuid, label: productName(p, lang) })),
  });
  if (v.product_uuid) productBox.setValue(v.product_uuid);
  else if (v.product_text) productBox.input.value = v.product_text;
  const title = h('input', { type: 'text', id: 'quote-title', name: 'title', maxlength: String(LIMITS.title + 20), required: true, value: v.title || '' });
  const description = h('textarea', { id: 'quote-description', name: 'description', rows: '7', required: true }, v.description || '');
  const input = (name, attrs = {}) => h('input', { name, value: v[name] || '', ...attrs });
  const budget = h('select', { name: 'budget_band' },
    h('option', { value: '' }, budgetLabel(null)),
    BUDGET_BANDS.map((band) => h('option', { value: band, selected: v.budget_band === band }, budgetLabel(band))));
  const alertBox = h('div', { id: 'quote-form-alert', class: 'form-alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-lg' }, s('submit'));
  const form = h('form', { id: 'quote-form', class: 'stack', novalidate: true, on: { submit: (event) => { event.preventDefault(); onSubmit(form, submit); } } },
    alertBox,
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionNeed')),
      h('div', { class: 'form-grid' },
        h('div', { class: 'span-2 field' },
          h('label', { for: 'quote-product' }, s('category')),
          productBox.element,
          h('p', { class: 'field-hint', id: 'quote-product-hint' }, s('categoryHint'))),
        h('div', { class: 'span-2' }, field('quote-title', s('requestTitle'), title, { hint: s('titleHint'), extra: charCounter(title, LIMITS.title) })),
        h('div', { class: 'span-2' }, field('quote-description', s('description'), description, { hint: s('descriptionHint'), extra: charCounter(description, LIMITS.description) })),
        field('quote-needed-by', s('neededBy'), input('needed_by', { type: 'date', class: 'input', min: today() }), { optional: s('optional') }),
        field('quote-budget', s('budget'), budget, { optional: s('optional') }))),
    placeFields(v),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionContact')),
      h('div', { class: 'form-grid' },
        field('quote-contact-name', s('contactName'), input('contact_name', { type: 'text', autocomplete: 'name', required: true, maxlength: '120' })),
        field('quote-contact-email', s('contactEmail'), input('contact_email', { type: 'email', autocomplete: 'email', required: true, maxlength: '254' }), { hint: s('contactEmailHint') }),
        field('quote-contact-phone', s('contactPhone'), input('contact_phone', { type: 'tel', autocomplete: 'tel', inputmode: 'tel', maxlength: '40' }), { optional: s('optional') }),
        field('quote-contact-company', s('contactCompany'), input('contact_company', { type: 'text', autocomplete: 'organization', maxlength: '120' }), { optional: s('optional') }))),
    // The honeypot: people never see or reach it; a bot filling every field gives itself away.
    h('div', { class: 'hp-field', 'aria-hidden': 'true' },
      h('label', { for: 'quote-website' }, s('honeypot')),
      h('input', { type: 'text', id: 'quote-website', name: 'website', tabindex: '-1', autocomplete: 'off', value: v.website || '' })),
    h('p', { class: 'muted small' }, s('privacy')),
    h('div', { class: 'form-actions' }, submit));
  productBox.input.setAttribute('aria-describedby', 'quote-product-hint');
  el.append(h('div', { class: 'page-header' }, h('h1', {}, s('heading')), h('p', { class: 'lead' }, s('lead'))), form);
  syncPlace();
}

async function onSubmit(form, button) {
  const alertBox = qs('#quote-form-alert', form);
  clear(alertBox);
  clearFieldErrors(form);
  const v = readForm(form);
  const errors = validate(v);
  if (Object.keys(errors).length) {
    showAlert(alertBox, 'error', s('checkFields'), { focus: false });
    setFieldErrors(form, errors)?.focus();
    return;
  }
  const body = {
    product_uuid: v.product_uuid,
    title: v.title,
    description: v.description,
    contact_name: v.contact_name,
    contact_email: v.contact_email,
    lang: getLang(),
    website: v.website,
  };
  if (v.place_kind === 'region') body.region = v.region;
  if (v.place_kind === 'commune') body.commune_uuid = v.commune_uuid;
  for (const name of ['needed_by', 'budget_band', 'contact_phone', 'contact_company']) if (v[name]) body[name] = v[name];
  setBusy(button, true);
  try {
    await api('/quote-requests', { method: 'POST', json: body });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const fields = err.status === 422 ? serverErrors(err.fieldErrors) : {};
    if (Object.keys(fields).length) {
      showAlert(alertBox, 'error', s('checkFields'), { focus: false });
      setFieldErrors(form, fields)?.focus();
    } else {
      showAlert(alertBox, 'error', err.message);
    }
    return;
  } finally {
    setBusy(button, false);
  }
  sentTo = v.contact_email;
  values = null;
  view = 'done';
  render();
  qs('#quote-done')?.focus();
}

function render() {
  const el = root();
  const form = qs('#quote-form');
  if (form) values = readForm(form);
  clear(el);
  if (view === 'loading') {
    el.append(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tc('loading')));
  } else if (view === 'error') {
    el.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
      s('loadError', { message: loadErr?.message || '' }),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: load } }, s('retry'))))));
  } else if (view === 'done') {
    el.append(h('section', { class: 'card notice-card', id: 'quote-done', 'data-state': 'sent', tabindex: '-1', 'aria-labelledby': 'quote-done-title' },
      h('span', { class: 'notice-icon notice-info', 'aria-hidden': 'true' }, '✉'),
      h('h1', { id: 'quote-done-title' }, s('doneTitle')),
      h('p', {}, s('doneText', { email: sentTo })),
      h('p', { class: 'muted small' }, s('doneHint')),
      h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-secondary', href: '/quote-requests/' }, s('another')))));
  } else {
    renderForm(el);
  }
}

async function load() {
  view = 'loading';
  render();
  try {
    const [products, communes] = await Promise.all([loadProducts(), loadCommunes()]);
    catalog = { products, communes, regions: regionsOf(communes) };
    view = 'form';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    loadErr = err;
    view = 'error';
  }
  render();
}

({ user } = await initPage({ titleKey: 'title', strings: STRINGS }));
await load();
onLangChange(() => render());
