// The company form shared by publishing and editing: fields, pickers from the catalogue, logo
// preview, the client-side checks that mirror the server's, and server errors shown per field.
import { h, setFieldErrors } from '/js/dom.js';
import { getLang, t } from '/js/i18n.js';
import { communesByRegion, productName, sortedProducts } from '/js/market/catalog.js';
import { logo } from '/js/market/company-view.js';

export const FORM_STRINGS = {
  es: {
    sectionCompany: 'Tu empresa',
    sectionContact: 'Contacto',
    sectionDescription: 'Descripción',
    sectionLogo: 'Logo',
    name: 'Nombre de la empresa',
    product: 'Producto o servicio principal',
    productPick: 'Elige un producto o servicio',
    commune: 'Comuna',
    communePick: 'Elige una comuna',
    address: 'Dirección',
    addressHint: 'Calle, número y oficina si corresponde.',
    phone: 'Teléfono',
    phoneHint: 'Con o sin +56, por ejemplo 9 8231 4576. Se usa también para WhatsApp.',
    email: 'Correo de contacto',
    lang: '¿En qué idioma escribes?',
    langHint: 'Si escribes una sola descripción, traducimos la otra automáticamente.',
    langEs: 'Español',
    langEn: 'Inglés',
    descriptionEs: 'Descripción en español',
    descriptionEn: 'Descripción en inglés',
    descriptionHint: 'Qué ofreces, a quién y dónde. Escribe al menos una de las dos.',
    optional: '(opcional)',
    counter: '{n} / {max}',
    image: 'Archivo del logo',
    imageReplace: 'Reemplazar el logo',
    imageHint: 'JPEG, PNG o WebP, hasta 5 MB. Un logo cuadrado se ve mejor.',
    imagePreview: 'Vista previa del logo',
    imageCurrent: 'Logo actual',
    required: 'Completa este campo.',
    tooLong: 'Máximo {max} caracteres.',
    productRequired: 'Elige un producto o servicio.',
    communeRequired: 'Elige una comuna.',
    phoneInvalid: 'Escribe un teléfono válido, por ejemplo +56 9 8231 4576.',
    emailInvalid: 'Escribe un correo válido, por ejemplo contacto@empresa.cl.',
    descriptionRequired: 'Escribe al menos una descripción (en español o en inglés).',
    imageRequired: 'Elige el logo de tu empresa.',
    imageType: 'El logo debe ser JPEG, PNG o WebP.',
    imageTooBig: 'El logo pesa {size} MB; el máximo es 5 MB.',
    imageEmpty: 'El archivo está vacío.',
    imageTooLargeServer: 'La imagen es demasiado grande: máximo 5 MB y 40 megapíxeles.',
    imageUnsupportedServer: 'No reconocemos esa imagen: usa un JPEG, PNG o WebP.',
    imageRejectedServer: 'Nuestra revisión de contenido rechazó esta imagen. Elige otra.',
    unknownCommune: 'Esa comuna ya no existe; elige otra.',
    unknownProduct: 'Ese producto ya no existe; elige otro.',
  },
  en: {
    sectionCompany: 'Your company',
    sectionContact: 'Contact',
    sectionDescription: 'Description',
    sectionLogo: 'Logo',
    name: 'Company name',
    product: 'Main product or service',
    productPick: 'Choose a product or service',
    commune: 'Commune',
    communePick: 'Choose a commune',
    address: 'Address',
    addressHint: 'Street, number and suite if any.',
    phone: 'Phone',
    phoneHint: 'With or without +56, e.g. 9 8231 4576. Also used for WhatsApp.',
    email: 'Contact email',
    lang: 'Which language do you write in?',
    langHint: 'If you write only one description, we translate the other automatically.',
    langEs: 'Spanish',
    langEn: 'English',
    descriptionEs: 'Description in Spanish',
    descriptionEn: 'Description in English',
    descriptionHint: 'What you offer, to whom and where. Write at least one of the two.',
    optional: '(optional)',
    counter: '{n} / {max}',
    image: 'Logo file',
    imageReplace: 'Replace the logo',
    imageHint: 'JPEG, PNG or WebP, up to 5 MB. A square logo looks best.',
    imagePreview: 'Logo preview',
    imageCurrent: 'Current logo',
    required: 'Fill in this field.',
    tooLong: 'At most {max} characters.',
    productRequired: 'Choose a product or service.',
    communeRequired: 'Choose a commune.',
    phoneInvalid: 'Enter a valid phone number, e.g. +56 9 8231 4576.',
    emailInvalid: 'Enter a valid email, e.g. contact@company.cl.',
    descriptionRequired: 'Write at least one description (in Spanish or in English).',
    imageRequired: 'Choose your company logo.',
    imageType: 'The logo must be a JPEG, PNG or WebP image.',
    imageTooBig: 'The logo is {size} MB; the limit is 5 MB.',
    imageEmpty: 'The file is empty.',
    imageTooLargeServer: 'The image is too large: at most 5 MB and 40 megapixels.',
    imageUnsupportedServer: 'We do not recognise that image: use a JPEG, PNG or WebP.',
    imageRejectedServer: 'Our content check refused this image. Please choose another.',
    unknownCommune: 'That commune no longer exists; choose another.',
    unknownProduct: 'That product no longer exists; choose another.',
  },
};

const s = (key, params) => t(FORM_STRINGS, key, params);

export const LIMITS = { name: 100, address: 200, email: 254, phone: 40, description: 1000 };
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const TEXT_FIELDS = ['name', 'product_uuid', 'commune_uuid', 'address', 'phone', 'email', 'description_es', 'description_en'];

function fieldId(form, name) {
  return `${form}-${name.replace(/_/g, '-')}`;
}

function field(formId, name, label, control, { hint = null, optional = false } = {}) {
  const id = fieldId(formId, name);
  control.id = id;
  const describedBy = [hint && `${id}-hint`].filter(Boolean).join(' ');
  if (describedBy) control.setAttribute('aria-describedby', describedBy);
  return h('div', { class: 'field' },
    h('label', { for: id }, label, optional && h('span', { class: 'optional' }, ` ${s('optional')}`)),
    control,
    hint && h('p', { class: 'field-hint', id: `${id}-hint` }, hint),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

function counter(textarea, max) {
  const out = h('p', { class: 'field-counter', 'aria-hidden': 'true' });
  const update = () => {
    out.textContent = s('counter', { n: textarea.value.length, max });
    out.classList.toggle('is-over', textarea.value.length > max);
  };
  textarea.addEventListener('input', update);
  update();
  return out;
}

// `fileState` ({file, url}) outlives a re-render (language change): the chosen file and its
// preview URL stay; the caller revokes the URL when the page is done with it.
export function companyForm({ id, mode, products, communes, values = {}, company = null, fileState, onSubmit, submitLabel, extraActions = [] }) {
  const lang = getLang();
  const productSelect = h('select', { name: 'product_uuid', required: true },
    h('option', { value: '' }, s('productPick')),
    sortedProducts(products, lang).map((p) => h('option', { value: p.uuid }, productName(p, lang))));
  const communeSelect = h('select', { name: 'commune_uuid', required: true },
    h('option', { value: '' }, s('communePick')),
    communesByRegion(communes, lang).map(({ region, items }) => h('optgroup', { label: region },
      items.map((c) => h('option', { value: c.uuid }, c.name)))));
  const descEs = h('textarea', { name: 'description_es', rows: '5', maxlength: String(LIMITS.description) });
  const descEn = h('textarea', { name: 'description_en', rows: '5', maxlength: String(LIMITS.description) });

  const fileInput = h('input', {
    type: 'file', name: 'image', accept: IMAGE_TYPES.join(','), class: 'file-input', required: mode === 'create',
  });
  const previewBox = h('div', { class: 'logo-preview', 'aria-live': 'polite' });
  const imageId = fieldId(id, 'image');
  fileInput.id = imageId;
  fileInput.setAttribute('aria-describedby', `${imageId}-hint`);

  const showPreview = () => {
    previewBox.replaceChildren();
    if (fileState.url) {
      previewBox.append(h('img', { src: fileState.url, alt: s('imagePreview'), class: 'logo-preview-img' }));
    } else if (company) {
      previewBox.append(company.image_url
        ? h('img', { src: company.image_url, alt: s('imageCurrent'), class: 'logo-preview-img' })
        : logo(company, { size: 'xl' }));
    } else {
      previewBox.append(h('span', { class: 'logo-preview-empty', 'aria-hidden': 'true' }, '+'));
    }
  };

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0] || null;
    if (fileState.url) URL.revokeObjectURL(fileState.url);
    fileState.file = file;
    fileState.url = null;
    const problem = file ? imageProblem(file) : null;
    setOneFieldError(form, 'image', problem);
    if (file && !problem) fileState.url = URL.createObjectURL(file);
    showPreview();
  });

  const langChoice = mode === 'create' && h('fieldset', { class: 'field choice-group' },
    h('legend', { class: 'label' }, s('lang')),
    h('p', { class: 'field-hint', id: `${id}-lang-hint` }, s('langHint')),
    h('div', { class: 'cluster' },
      ['es', 'en'].map((code) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'lang', value: code, 'aria-describedby': `${id}-lang-hint` }),
        h('span', {}, s(code === 'es' ? 'langEs' : 'langEn'))))));

  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-lg' }, submitLabel);
  const form = h('form', { id, class: 'company-form stack stack-lg', novalidate: true, on: { submit: (event) => { event.preventDefault(); onSubmit(form, submit); } } },
    h('div', { id: `${id}-alert`, class: 'form-alert' }),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionCompany')),
      h('div', { class: 'form-grid' },
        h('div', { class: 'span-2' }, field(id, 'name', s('name'), h('input', { type: 'text', name: 'name', maxlength: String(LIMITS.name), autocomplete: 'organization', required: true }))),
        field(id, 'product_uuid', s('product'), productSelect),
        field(id, 'commune_uuid', s('commune'), communeSelect))),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionContact')),
      h('div', { class: 'form-grid' },
        h('div', { class: 'span-2' }, field(id, 'address', s('address'), h('input', { type: 'text', name: 'address', maxlength: String(LIMITS.address), autocomplete: 'street-address', required: true }), { hint: s('addressHint') })),
        field(id, 'phone', s('phone'), h('input', { type: 'tel', name: 'phone', maxlength: String(LIMITS.phone), autocomplete: 'tel', inputmode: 'tel', required: true }), { hint: s('phoneHint') }),
        field(id, 'email', s('email'), h('input', { type: 'email', name: 'email', maxlength: String(LIMITS.email), autocomplete: 'email', required: true })))),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionDescription')),
      h('p', { class: 'field-hint', id: `${id}-desc-hint` }, s('descriptionHint')),
      langChoice,
      h('div', { class: 'form-grid' },
        h('div', { class: 'span-2' }, field(id, 'description_es', s('descriptionEs'), descEs, { optional: true }), counter(descEs, LIMITS.description)),
        h('div', { class: 'span-2' }, field(id, 'description_en', s('descriptionEn'), descEn, { optional: true }), counter(descEn, LIMITS.description)))),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionLogo')),
      h('div', { class: 'logo-field' },
        previewBox,
        h('div', { class: 'field' },
          h('label', { for: imageId, class: 'label' }, mode === 'create' ? s('image') : s('imageReplace'),
            mode !== 'create' && h('span', { class: 'optional' }, ` ${s('optional')}`)),
          h('p', { class: 'field-hint', id: `${imageId}-hint` }, s('imageHint')),
          fileInput,
          h('p', { class: 'field-error', id: `${imageId}-error`, hidden: true })))),
    h('div', { class: 'form-actions' }, submit, extraActions));

  for (const el of [descEs, descEn]) {
    el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') || ''} ${id}-desc-hint`.trim());
  }
  setValues(form, values);
  if (fileState.file) {
    // Put the chosen file back into the new input (language change re-renders the form).
    const transfer = new DataTransfer();
    transfer.items.add(fileState.file);
    fileInput.files = transfer.files;
  }
  showPreview();
  for (const el of form.querySelectorAll('textarea')) el.dispatchEvent(new Event('input'));
  return form;
}

export function setValues(form, values) {
  for (const [name, value] of Object.entries(values)) {
    const el = form.elements.namedItem(name);
    if (!el || value === undefined || value === null) continue;
    if (el instanceof RadioNodeList) {
      for (const radio of el) radio.checked = radio.value === value;
    } else if (el.type !== 'file') {
      el.value = value;
    }
  }
}

export function readValues(form) {
  const values = {};
  for (const name of [...TEXT_FIELDS, 'lang']) {
    const el = form.elements.namedItem(name);
    if (!el) continue;
    values[name] = (el.value || '').trim();
  }
  return values;
}

export function imageProblem(file) {
  if (!file.size) return s('imageEmpty');
  if (file.type && !IMAGE_TYPES.includes(file.type)) return s('imageType');
  if (file.size > MAX_IMAGE_BYTES) return s('imageTooBig', { size: (file.size / 1024 / 1024).toFixed(1) });
  return null;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function phoneLooksValid(phone) {
  const compact = phone.replace(/[\s().-]/g, '');
  return /^\+?\d{8,15}$/.test(compact);
}

// The server's rules, checked first here so most mistakes never need a round trip. `only`
// limits the check to the fields being sent (an edit sends the changed ones).
export function validate(values, { mode, file, only = null }) {
  const errors = {};
  const check = (name) => !only || only.has(name);
  const text = (name, max) => {
    if (!check(name)) return;
    if (!values[name]) errors[name] = s('required');
    else if (values[name].length > max) errors[name] = s('tooLong', { max });
  };
  text('name', LIMITS.name);
  text('address', LIMITS.address);
  if (check('product_uuid') && !values.product_uuid) errors.product_uuid = s('productRequired');
  if (check('commune_uuid') && !values.commune_uuid) errors.commune_uuid = s('communeRequired');
  if (check('phone')) {
    if (!values.phone) errors.phone = s('required');
    else if (!phoneLooksValid(values.phone)) errors.phone = s('phoneInvalid');
  }
  if (check('email')) {
    if (!values.email) errors.email = s('required');
    else if (values.email.length > LIMITS.email || !EMAIL_RE.test(values.email)) errors.email = s('emailInvalid');
  }
  for (const side of ['es', 'en']) {
    const name = `description_${side}`;
    if (check(name) && values[name].length > LIMITS.description) errors[name] = s('tooLong', { max: LIMITS.description });
  }
  if (mode === 'create' && !values.description_es && !values.description_en) {
    errors.description_es = s('descriptionRequired');
  }
  if (mode === 'create' && !file) errors.image = s('imageRequired');
  else if (file) {
    const problem = imageProblem(file);
    if (problem) errors.image = problem;
  }
  return errors;
}

// Server field names (the last element of a 422's `loc`) to this form's fields, in the user's
// language where we know what the rule was.
const SERVER_FIELD = { commune_name: 'commune_uuid', product_name: 'product_uuid' };
const LOCAL_MESSAGE = { phone: 'phoneInvalid', email: 'emailInvalid' };

export function serverFieldErrors(fieldErrors, detail) {
  const errors = {};
  for (const [name, message] of Object.entries(fieldErrors || {})) {
    const target = SERVER_FIELD[name] || name;
    let text = message;
    if (LOCAL_MESSAGE[target]) text = s(LOCAL_MESSAGE[target]);
    const item = Array.isArray(detail) ? detail.find((d) => Array.isArray(d?.loc) && d.loc[d.loc.length - 1] === name) : null;
    if (item?.type === 'unknown_commune') text = s('unknownCommune');
    if (item?.type === 'unknown_product') text = s('unknownProduct');
    if (item?.type === 'missing' && target.startsWith('description_')) text = s('descriptionRequired');
    if (item?.type === 'missing' && target === 'image') text = s('imageRequired');
    errors[target] = text;
  }
  return errors;
}

// The image errors that are not 422 field lists: 413, 415 and 422 `image_rejected`.
export function imageErrorMessage(err) {
  if (err.status === 413) return s('imageTooLargeServer');
  if (err.status === 415) return s('imageUnsupportedServer');
  if (err.status === 422 && err.code === 'image_rejected') return s('imageRejectedServer');
  return null;
}

export function setOneFieldError(form, name, message) {
  const el = form.elements.namedItem(name);
  const error = el && document.getElementById(`${el.id}-error`);
  if (!error) return;
  if (message) {
    error.textContent = message;
    error.hidden = false;
    el.setAttribute('aria-invalid', 'true');
    const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!ids.includes(error.id)) el.setAttribute('aria-describedby', [...ids, error.id].join(' '));
  } else {
    error.textContent = '';
    error.hidden = true;
    el.removeAttribute('aria-invalid');
  }
}

// Marks the fields and moves focus to the first one with a problem.
export function showFieldErrors(form, errors) {
  const first = setFieldErrors(form, errors);
  first?.focus();
  return first;
}
