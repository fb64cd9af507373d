// The company form shared by publishing and editing: fields, pickers from the catalogue (the
// commune a type-to-filter combobox), the profile (website, RUT, year, size, more categories,
// regions served), the logo and the gallery (a file input, or drag and drop, with previews),
// the client-side checks that mirror the server's, and server errors shown per field.
import { h, setFieldErrors } from '/js/dom.js';
import { getLang, t } from '/js/i18n.js';
import { communesByRegion, productName, sortedProducts } from '/js/market/catalog.js';
import { logo } from '/js/market/company-view.js';
import { combobox } from '/js/market/combobox.js';
import { byRegionOrder } from '/js/market/regions.js';

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
    langHint: 'Si escribes una sola descripción, la otra se traduce automáticamente cuando el sitio tiene un traductor; si no, se muestra la original.',
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
    communeType: 'Escribe para buscar, por ejemplo Ñuñoa',
    communeNone: 'Ninguna comuna coincide.',
    communeHint: 'Escribe parte del nombre y elige con las flechas y Enter.',
    sectionProfile: 'Perfil',
    website: 'Sitio web',
    websiteHint: 'Por ejemplo https://www.tuempresa.cl',
    websiteInvalid: 'Escribe una dirección web que empiece con http:// o https://.',
    rut: 'RUT de la empresa',
    rutHint: 'Con dígito verificador, por ejemplo 76.086.428-5.',
    rutInvalid: 'Ese RUT no es válido: revisa el número y el dígito verificador.',
    rutTaken: 'Otra empresa en Proveo ya tiene ese RUT.',
    yearFounded: 'Año de fundación',
    yearInvalid: 'Escribe un año entre 1800 y {year}.',
    sizeBand: 'Tamaño (personas)',
    sizePick: 'Elige un tamaño',
    extraProducts: 'Otras categorías',
    extraProductsHint: 'Hasta dos más, además de la principal.',
    extraProduct1: 'Segunda categoría',
    extraProduct2: 'Tercera categoría',
    extraNone: 'Ninguna',
    extraDuplicate: 'Elige categorías distintas de la principal y entre sí.',
    servedRegions: 'Regiones que atiendes',
    servedRegionsHint: 'La región de tu comuna se incluye siempre.',
    allChile: 'Atiendo todo Chile',
    otherRegions: 'Otras regiones',
    sectionGallery: 'Fotos',
    galleryHint: 'Hasta 6 fotos de tu trabajo, tu local o tu equipo: JPEG, PNG o WebP, hasta 5 MB cada una.',
    galleryPick: 'Agregar fotos',
    galleryFull: 'Ya elegiste 6 fotos.',
    galleryRemove: 'Quitar la foto {n}',
    galleryPreview: 'Foto {n}',
    drop: 'Elígela o arrástrala aquí.',
    dropMany: 'Elígelas o arrástralas aquí.',
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
    langHint: 'If you write only one description, the other is translated automatically when the site has a translator; otherwise the original is shown.',
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
    communeType: 'Type to search, e.g. Ñuñoa',
    communeNone: 'No commune matches.',
    communeHint: 'Type part of the name, then choose with the arrow keys and Enter.',
    sectionProfile: 'Profile',
    website: 'Website',
    websiteHint: 'For example https://www.yourcompany.cl',
    websiteInvalid: 'Enter a web address starting with http:// or https://.',
    rut: 'Company RUT',
    rutHint: 'With its check digit, e.g. 76.086.428-5.',
    rutInvalid: 'That RUT is not valid: check the number and its check digit.',
    rutTaken: 'Another company on Proveo already has that RUT.',
    yearFounded: 'Year founded',
    yearInvalid: 'Enter a year from 1800 to {year}.',
    sizeBand: 'Size (people)',
    sizePick: 'Choose a size',
    extraProducts: 'Other categories',
    extraProductsHint: 'Up to two more, besides the main one.',
    extraProduct1: 'Second category',
    extraProduct2: 'Third category',
    extraNone: 'None',
    extraDuplicate: 'Choose categories different from the main one and from each other.',
    servedRegions: 'Regions you serve',
    servedRegionsHint: 'Your commune’s region is always included.',
    allChile: 'I serve all of Chile',
    otherRegions: 'Other regions',
    sectionGallery: 'Photos',
    galleryHint: 'Up to 6 photos of your work, premises or team: JPEG, PNG or WebP, up to 5 MB each.',
    galleryPick: 'Add photos',
    galleryFull: 'You have chosen 6 photos already.',
    galleryRemove: 'Remove photo {n}',
    galleryPreview: 'Photo {n}',
    drop: 'Choose it or drag it here.',
    dropMany: 'Choose them or drag them here.',
  },
};

const s = (key, params) => t(FORM_STRINGS, key, params);

export const LIMITS = { name: 100, address: 200, email: 254, phone: 40, description: 1000, website: 300 };
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
export const MAX_PHOTOS = 6;
export const SIZE_BANDS = ['1-9', '10-49', '50-199', '200+'];
const TEXT_FIELDS = ['name', 'product_uuid', 'commune_uuid', 'address', 'phone', 'email', 'description_es', 'description_en',
  'website', 'rut', 'year_founded', 'size_band'];
// Optional profile fields: an edit that empties one removes it.
export const CLEARABLE = ['website', 'rut', 'year_founded', 'size_band'];

// Módulo 11, as the server checks it: 12.345.678-5, 12345678-5, 123456785, lower-case k.
export function rutIsValid(value) {
  const m = /^0*([1-9]\d{0,7})-?([\dkK])$/.exec(String(value || '').replace(/[\s.]/g, ''));
  if (!m) return false;
  let sum = 0;
  let factor = 2;
  for (const digit of m[1].split('').reverse()) {
    sum += Number(digit) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const expected = { 11: '0', 10: 'K' }[11 - (sum % 11)] || String(11 - (sum % 11));
  return m[2].toUpperCase() === expected;
}

export function websiteLooksValid(value) {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(value) ? value : `https://${value}`;
  try {
    const parsed = new URL(url);
    return ['http:', 'https:'].includes(parsed.protocol) && parsed.hostname.includes('.') && !/\s/.test(value);
  } catch {
    return false;
  }
}

// Drag and drop onto `zone` puts the files into `input` (which keyboard users use directly)
// and lets its `change` handler take them from there.
export function dropZone(zone, input) {
  const over = (event) => {
    if (!event.dataTransfer?.types?.includes('Files')) return;
    event.preventDefault();
    zone.classList.add('is-dragover');
  };
  zone.addEventListener('dragenter', over);
  zone.addEventListener('dragover', over);
  zone.addEventListener('dragleave', (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove('is-dragover');
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('is-dragover');
    const files = [...(event.dataTransfer?.files || [])];
    if (!files.length) return;
    const transfer = new DataTransfer();
    for (const file of input.multiple ? files : files.slice(0, 1)) transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  return zone;
}

// The catalogue's regions north to south, as the server lists them.
function regionsOf(communes) {
  return [...new Set(communes.map((c) => c.region))].sort(byRegionOrder);
}

// The gallery queued while publishing (uploaded once the company exists): previews, removal.
function galleryQueue(formId, galleryState) {
  const inputId = `${formId}-photos`;
  const input = h('input', { type: 'file', id: inputId, accept: IMAGE_TYPES.join(','), multiple: true, class: 'file-input',
    'aria-describedby': `${inputId}-hint` });
  const previews = h('ul', { class: 'gallery-previews', 'aria-live': 'polite' });
  const error = h('p', { class: 'field-error', id: `${inputId}-error`, hidden: true });
  const show = () => {
    previews.replaceChildren(...galleryState.files.map((item, i) => h('li', { class: 'gallery-preview' },
      h('img', { src: item.url, alt: s('galleryPreview', { n: i + 1 }) }),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm gallery-remove', 'aria-label': s('galleryRemove', { n: i + 1 }),
        on: { click: () => { URL.revokeObjectURL(item.url); galleryState.files.splice(i, 1); show(); input.focus(); } } }, '×'))));
  };
  input.addEventListener('change', () => {
    let problem = null;
    for (const file of [...(input.files || [])]) {
      if (galleryState.files.length >= MAX_PHOTOS) { problem = s('galleryFull'); break; }
      const wrong = imageProblem(file);
      if (wrong) { problem = wrong; continue; }
      galleryState.files.push({ file, url: URL.createObjectURL(file) });
    }
    input.value = '';
    error.textContent = problem || '';
    error.hidden = !problem;
    show();
  });
  show();
  return h('fieldset', { class: 'form-section card' },
    h('legend', { class: 'form-section-title' }, s('sectionGallery'), h('span', { class: 'optional' }, ` ${s('optional')}`)),
    dropZone(h('div', { class: 'drop-zone field', 'data-drop': 'gallery' },
      h('label', { for: inputId, class: 'label' }, s('galleryPick')),
      h('p', { class: 'field-hint', id: `${inputId}-hint` }, s('galleryHint'), ' ', s('dropMany')),
      input, error), input),
    previews);
}

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
function communeField(formId, box) {
  const id = box.input.id;
  box.input.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' },
    h('label', { for: id }, s('commune')),
    box.element,
    h('p', { class: 'field-hint', id: `${id}-hint` }, s('communeHint')),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

// `galleryState` ({files: [{file, url}]}), when given, adds the photos to queue (publishing).
export function companyForm({ id, mode, products, communes, values = {}, company = null, fileState, galleryState = null, onSubmit, submitLabel, extraActions = [] }) {
  const lang = getLang();
  const productSelect = h('select', { name: 'product_uuid', required: true },
    h('option', { value: '' }, s('productPick')),
    sortedProducts(products, lang).map((p) => h('option', { value: p.uuid }, productName(p, lang))));
  const communeBox = combobox({
    id: fieldId(id, 'commune_uuid'),
    name: 'commune_uuid',
    required: true,
    placeholder: s('communeType'),
    emptyText: s('communeNone'),
    options: communesByRegion(communes, lang).flatMap(({ region, items }) => items.map((c) => ({ value: c.uuid, label: c.name, group: region }))),
    onChange: () => syncRegions(),
  });
  const communeInput = communeBox.input;
  const extraSelect = (n) => h('select', { name: `extra_product_${n}` },
    h('option', { value: '' }, s('extraNone')),
    sortedProducts(products, lang).map((p) => h('option', { value: p.uuid }, productName(p, lang))));
  const sizeSelect = h('select', { name: 'size_band' },
    h('option', { value: '' }, s('sizePick')), SIZE_BANDS.map((band) => h('option', { value: band }, band)));
  const allChile = h('input', { type: 'checkbox', name: 'serves_all_chile', value: 'true', id: `${id}-serves-all-chile` });
  const regionBoxes = regionsOf(communes).map((region) => h('label', { class: 'choice' },
    h('input', { type: 'checkbox', name: 'served_regions', value: region }), h('span', {}, region)));
  // The commune's own region is always served: its box shows that, checked and locked.
  const regionOfCommune = new Map(communes.map((c) => [c.uuid, c.region]));
  function syncRegions() {
    const own = regionOfCommune.get(communeInput.dataset.value || '') || '';
    for (const label of regionBoxes) {
      const box = label.querySelector('input');
      const isOwn = box.value === own;
      if (isOwn) box.checked = true;
      else if (box.dataset.own !== undefined) box.checked = false;
      box.toggleAttribute('data-own', isOwn);
      box.disabled = allChile.checked || isOwn;
    }
  }
  allChile.addEventListener('change', syncRegions);
  communeInput.addEventListener('input', syncRegions);
  communeInput.addEventListener('blur', syncRegions);
  const thisYear = new Date().getFullYear();
  const descEs = h('textarea', { name: 'description_es', rows: '5', maxlength: String(LIMITS.description) });
  const descEn = h('textarea', { name: 'description_en', rows: '5', maxlength: String(LIMITS.description) });

  const fileInput = h('input', {
    type: 'file', name: 'image', accept: IMAGE_TYPES.join(','), class: 'file-input', required: mode === 'create',
  });
  const previewBox = h('div', { class: 'logo-preview', 'aria-live': 'polite' });
  const logoZone = h('div', { class: 'logo-field drop-zone', 'data-drop': 'logo' });
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
  const form = h('form', { id, class: 'company-form stack stack-lg', novalidate: true, on: { submit: (event) => { event.preventDefault(); onSubmit(form, submit); }, 'regions:sync': syncRegions } },
    h('div', { id: `${id}-alert`, class: 'form-alert' }),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionCompany')),
      h('div', { class: 'form-grid' },
        h('div', { class: 'span-2' }, field(id, 'name', s('name'), h('input', { type: 'text', name: 'name', maxlength: String(LIMITS.name), autocomplete: 'organization', required: true }))),
        field(id, 'product_uuid', s('product'), productSelect),
        communeField(id, communeBox))),
    h('fieldset', { class: 'form-section card' },
      h('legend', { class: 'form-section-title' }, s('sectionProfile'), h('span', { class: 'optional' }, ` ${s('optional')}`)),
      h('div', { class: 'form-grid' },
        h('div', { class: 'span-2' }, field(id, 'website', s('website'), h('input', { type: 'url', name: 'website', maxlength: String(LIMITS.website), autocomplete: 'url', inputmode: 'url' }), { hint: s('websiteHint'), optional: true })),
        field(id, 'rut', s('rut'), h('input', { type: 'text', name: 'rut', maxlength: '14', autocomplete: 'off', spellcheck: 'false' }), { hint: s('rutHint'), optional: true }),
        field(id, 'year_founded', s('yearFounded'), h('input', { type: 'number', name: 'year_founded', min: '1800', max: String(thisYear), step: '1', inputmode: 'numeric' }), { optional: true }),
        field(id, 'size_band', s('sizeBand'), sizeSelect, { optional: true }),
        h('div', {}),
        h('p', { class: 'field-hint span-2', id: `${id}-extra-hint` }, h('strong', {}, s('extraProducts')), ' — ', s('extraProductsHint')),
        field(id, 'extra_product_1', s('extraProduct1'), extraSelect(1), { optional: true }),
        field(id, 'extra_product_2', s('extraProduct2'), extraSelect(2), { optional: true })),
      h('fieldset', { class: 'field choice-group regions-field' },
        h('legend', { class: 'label' }, s('servedRegions')),
        h('p', { class: 'field-hint', id: `${id}-regions-hint` }, s('servedRegionsHint')),
        h('label', { class: 'choice' }, allChile, h('span', {}, s('allChile'))),
        h('p', { class: 'field-error', id: `${id}-serves-all-chile-error`, hidden: true }),
        h('details', { class: 'regions-more' },
          h('summary', {}, s('otherRegions')),
          h('div', { class: 'regions-grid' }, regionBoxes)))),
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
      dropZone(logoZone, fileInput)),
    galleryState && galleryQueue(id, galleryState),
    h('div', { class: 'form-actions' }, submit, extraActions));
  logoZone.append(
    previewBox,
    h('div', { class: 'field' },
      h('label', { for: imageId, class: 'label' }, mode === 'create' ? s('image') : s('imageReplace'),
        mode !== 'create' && h('span', { class: 'optional' }, ` ${s('optional')}`)),
      h('p', { class: 'field-hint', id: `${imageId}-hint` }, s('imageHint'), ' ', s('drop')),
      fileInput,
      h('p', { class: 'field-error', id: `${imageId}-error`, hidden: true })));

  for (const el of [descEs, descEn]) {
    el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') || ''} ${id}-desc-hint`.trim());
  }
  setValues(form, values);
  syncRegions();
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
    if (name === 'extra_product_uuids') {
      ['extra_product_1', 'extra_product_2'].forEach((n, i) => { form.elements.namedItem(n).value = value[i] || ''; });
      continue;
    }
    const el = form.elements.namedItem(name);
    if (!el || value === undefined || value === null) continue;
    if (name === 'served_regions') {
      const chosen = new Set(value);
      for (const box of form.querySelectorAll('input[name="served_regions"]')) {
        box.removeAttribute('data-own'); // the sync below marks the commune's region again
        box.checked = chosen.has(box.value);
      }
      if (value.length) form.querySelector('.regions-more')?.setAttribute('open', '');
    } else if (name === 'serves_all_chile') {
      el.checked = Boolean(value);
    } else if (el.getAttribute?.('role') === 'combobox') {
      el.dispatchEvent(new CustomEvent('combobox:set', { detail: value }));
    } else if (el instanceof RadioNodeList) {
      for (const radio of el) radio.checked = radio.value === value;
    } else if (el.type !== 'file') {
      el.value = value;
    }
  }
  form.dispatchEvent(new Event('regions:sync')); // the commune may have changed: its region with it
}

export function readValues(form) {
  const values = {};
  for (const name of [...TEXT_FIELDS, 'lang']) {
    const el = form.elements.namedItem(name);
    if (!el) continue;
    values[name] = el.getAttribute?.('role') === 'combobox' ? (el.dataset.value || '') : (el.value || '').trim();
  }
  values.extra_product_uuids = ['extra_product_1', 'extra_product_2']
    .map((name) => form.elements.namedItem(name)?.value || '').filter(Boolean);
  const allChile = form.elements.namedItem('serves_all_chile');
  values.serves_all_chile = Boolean(allChile?.checked);
  values.served_regions = values.serves_all_chile ? []
    : [...form.querySelectorAll('input[name="served_regions"]:checked:not([data-own])')].map((box) => box.value);
  return values;
}

// The form's values as the API's form parts: list fields one part per item.
export function appendValue(body, name, value) {
  if (Array.isArray(value)) {
    if (!value.length) body.append(name, ''); // an empty list: one empty part
    for (const item of value) body.append(name, item);
  } else if (typeof value === 'boolean') {
    body.append(name, value ? 'true' : 'false');
  } else {
    body.append(name, value);
  }
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
  if (check('website') && values.website && (values.website.length > LIMITS.website || !websiteLooksValid(values.website))) {
    errors.website = s('websiteInvalid');
  }
  if (check('rut') && values.rut && !rutIsValid(values.rut)) errors.rut = s('rutInvalid');
  if (check('year_founded') && values.year_founded) {
    const year = Number(values.year_founded);
    const thisYear = new Date().getFullYear();
    if (!Number.isInteger(year) || year < 1800 || year > thisYear) errors.year_founded = s('yearInvalid', { year: thisYear });
  }
  if (check('extra_product_uuids')) {
    const extras = values.extra_product_uuids || [];
    if (new Set(extras).size !== extras.length || extras.includes(values.product_uuid)) errors.extra_product_1 = s('extraDuplicate');
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
const SERVER_FIELD = {
  commune_name: 'commune_uuid', product_name: 'product_uuid', extra_product_uuids: 'extra_product_1',
  served_regions: 'serves_all_chile',
};
const LOCAL_MESSAGE = { phone: 'phoneInvalid', email: 'emailInvalid', website: 'websiteInvalid', rut: 'rutInvalid' };

export function serverFieldErrors(fieldErrors, detail) {
  const errors = {};
  for (const [name, message] of Object.entries(fieldErrors || {})) {
    const target = SERVER_FIELD[name] || name;
    let text = message;
    if (LOCAL_MESSAGE[target]) text = s(LOCAL_MESSAGE[target]);
    const item = Array.isArray(detail) ? detail.find((d) => Array.isArray(d?.loc) && d.loc[d.loc.length - 1] === name) : null;
    if (item?.type === 'unknown_commune') text = s('unknownCommune');
    if (item?.type === 'unknown_product') text = s('unknownProduct');
    if (item?.type === 'duplicate_category') text = s('extraDuplicate');
    if (item?.type === 'year_out_of_range') text = s('yearInvalid', { year: new Date().getFullYear() });
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

// A 409 `rut_taken` shown on the RUT field.
export function rutTakenMessage(err) {
  return err.status === 409 && err.code === 'rut_taken' ? s('rutTaken') : null;
}
