// Publish a company: verified users only (others are told how to verify), one per user (those
// who have one are sent to it), then the outcome: published, or published with the logo held.
import { h, clear, qs, showAlert, clearFieldErrors, setBusy } from '/js/dom.js';
import { getLang, onLangChange, t, tc } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';
import { loadCommunes, loadProducts } from '/js/market/catalog.js';
import {
  companyForm, readValues, validate, serverFieldErrors, imageErrorMessage, showFieldErrors,
  appendValue, rutTakenMessage,
} from '/js/market/company-form.js';
import { companyHref } from '/js/market/company-view.js';

const STRINGS = {
  es: {
    title: 'Publicar empresa',
    heading: 'Publica tu empresa',
    lead: 'Aparece en las búsquedas de compradores de todo Chile. Completa tu ficha en pocos minutos.',
    submit: 'Publicar empresa',
    verifyTitle: 'Confirma tu correo para publicar',
    verifyText: 'Te enviamos un enlace a {email}. Ábrelo y vuelve a esta página para publicar tu empresa.',
    resend: 'Reenviar el correo',
    resent: 'Listo. Si la cuenta existe, el correo va en camino: revisa también la carpeta de spam.',
    existsTitle: 'Ya tienes una empresa publicada',
    existsText: 'Cada cuenta puede publicar una empresa. Puedes editarla o eliminarla desde Mi empresa.',
    existsLink: 'Ir a Mi empresa',
    checkFields: 'Revisa los campos marcados.',
    publishedTitle: '¡Tu empresa está publicada!',
    publishedText: '{name} ya aparece en las búsquedas.',
    heldTitle: 'Tu empresa está publicada; el logo está en revisión',
    heldText: '{name} ya aparece en las búsquedas, por ahora sin logo. Un administrador revisará la imagen y, si la aprueba, se mostrará automáticamente.',
    viewPublic: 'Ver la página pública',
    manage: 'Ir a Mi empresa',
    loadError: 'No pudimos cargar el formulario. {message}',
    retry: 'Reintentar',
    photosUploading: 'Subiendo tus fotos ({done} de {total})…',
    photosDone: 'Subimos {n} fotos a tu galería.',
    photosHeld: '{n} fotos están en revisión y se mostrarán cuando un administrador las apruebe.',
    photosFailed: 'No pudimos subir {n} fotos: agrégalas desde Mi empresa.',
  },
  en: {
    title: 'Publish company',
    heading: 'Publish your company',
    lead: 'Show up in searches by buyers across Chile. Fill in your profile in a few minutes.',
    submit: 'Publish company',
    verifyTitle: 'Confirm your email to publish',
    verifyText: 'We sent a link to {email}. Open it, then come back to this page to publish your company.',
    resend: 'Send the email again',
    resent: 'Done. If the account exists, the email is on its way: check your spam folder too.',
    existsTitle: 'You already have a published company',
    existsText: 'Each account can publish one company. You can edit or delete it from My company.',
    existsLink: 'Go to My company',
    checkFields: 'Please check the highlighted fields.',
    publishedTitle: 'Your company is published!',
    publishedText: '{name} now shows up in searches.',
    heldTitle: 'Your company is published; the logo is under review',
    heldText: '{name} now shows up in searches, without a logo for now. An administrator will review the image and, if approved, it will appear automatically.',
    viewPublic: 'View the public page',
    manage: 'Go to My company',
    loadError: 'The form could not be loaded. {message}',
    retry: 'Try again',
    photosUploading: 'Uploading your photos ({done} of {total})…',
    photosDone: 'We added {n} photos to your gallery.',
    photosHeld: '{n} photos are under review and will show once an administrator approves them.',
    photosFailed: '{n} photos could not be uploaded: add them from My company.',
  },
};

const s = (key, params) => t(STRINGS, key, params);

let user = null;
let view = 'loading'; // loading | verify | exists | form | done | error
let catalog = null;
let published = null;
let loadErr = null;
let formValues = null;
const fileState = { file: null, url: null };
const galleryState = { files: [] };
let photoReport = null; // {done, held, failed} once the queued photos were sent

function root() {
  return qs('#publish-root');
}

function header() {
  return h('div', { class: 'page-header' },
    h('h1', {}, s('heading')),
    h('p', { class: 'lead' }, s('lead')));
}

function verifyPanel() {
  const status = h('div', { class: 'form-alert' });
  const button = h('button', { type: 'button', class: 'btn btn-primary', on: { click: async () => {
    setBusy(button, true);
    try {
      await api('/users/resend-verification', { method: 'POST', json: { email: user.email, lang: getLang() } });
      showAlert(status, 'success', s('resent'));
    } catch (err) {
      showAlert(status, 'error', err.message);
    } finally {
      setBusy(button, false);
    }
  } } }, s('resend'));
  return h('section', { class: 'card notice-card', 'aria-labelledby': 'verify-title', 'data-state': 'verify' },
    h('span', { class: 'notice-icon notice-warning', 'aria-hidden': 'true' }, '@'),
    h('h2', { id: 'verify-title' }, s('verifyTitle')),
    h('p', {}, s('verifyText', { email: user.email })),
    status,
    h('div', { class: 'form-actions' }, button));
}

function existsPanel() {
  return h('section', { class: 'card notice-card', 'aria-labelledby': 'exists-title', 'data-state': 'exists' },
    h('span', { class: 'notice-icon notice-info', 'aria-hidden': 'true' }, 'i'),
    h('h2', { id: 'exists-title' }, s('existsTitle')),
    h('p', {}, s('existsText')),
    h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-primary', href: '/my-company/' }, s('existsLink'))));
}

function donePanel() {
  const held = published.image_pending_review;
  return h('section', { class: 'card notice-card', 'aria-labelledby': 'done-title', 'data-state': held ? 'held' : 'published', tabindex: '-1', id: 'done' },
    h('span', { class: `notice-icon ${held ? 'notice-warning' : 'notice-success'}`, 'aria-hidden': 'true' }, held ? '…' : '✓'),
    h('h2', { id: 'done-title' }, s(held ? 'heldTitle' : 'publishedTitle')),
    h('p', {}, s(held ? 'heldText' : 'publishedText', { name: published.name })),
    h('div', { id: 'photo-report', 'aria-live': 'polite' }, photoLines()),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn btn-primary', href: companyHref(published) }, s('viewPublic')),
      h('a', { class: 'btn btn-secondary', href: '/my-company/' }, s('manage'))));
}

function photoLines() {
  if (!photoReport) return null;
  const { done, held, failed, total } = photoReport;
  if (done + failed < total) return h('p', { class: 'muted' }, s('photosUploading', { done: done + failed, total }));
  return [
    done - held > 0 && h('p', {}, s('photosDone', { n: done - held })),
    held > 0 && h('p', {}, s('photosHeld', { n: held })),
    failed > 0 && h('p', { class: 'field-error' }, s('photosFailed', { n: failed })),
  ];
}

// The queued photos, one at a time (each account has one upload in progress at once).
async function uploadPhotos() {
  const queued = galleryState.files.splice(0);
  if (!queued.length) return;
  photoReport = { done: 0, held: 0, failed: 0, total: queued.length };
  const report = () => qs('#photo-report')?.replaceChildren(...[photoLines()].flat().filter(Boolean));
  report();
  for (const item of queued) {
    const body = new FormData();
    body.append('image', item.file);
    try {
      const company = await api('/companies/user/my-company/photos', { method: 'POST', form: body });
      photoReport.done += 1;
      if (company.photos[company.photos.length - 1]?.pending_review) photoReport.held += 1;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      photoReport.failed += 1;
    }
    URL.revokeObjectURL(item.url);
    report();
  }
}

function render() {
  const el = root();
  const old = qs('#publish-form');
  if (old) formValues = readValues(old);
  clear(el);
  if (view === 'loading') {
    el.append(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tc('loading')));
    return;
  }
  el.append(header());
  if (view === 'verify') el.append(verifyPanel());
  else if (view === 'exists') el.append(existsPanel());
  else if (view === 'done') el.append(donePanel());
  else if (view === 'error') {
    el.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
      s('loadError', { message: loadErr?.message || '' }),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: start } }, s('retry'))))));
  } else {
    el.append(companyForm({
      id: 'publish-form',
      mode: 'create',
      products: catalog.products,
      communes: catalog.communes,
      values: formValues || { email: user.email, lang: getLang() },
      fileState,
      galleryState,
      submitLabel: s('submit'),
      onSubmit,
    }));
  }
}

function formAlert(form) {
  return qs('#publish-form-alert', form);
}

async function onSubmit(form, button) {
  const alertBox = formAlert(form);
  clear(alertBox);
  clearFieldErrors(form);
  const values = readValues(form);
  const errors = validate(values, { mode: 'create', file: fileState.file });
  if (Object.keys(errors).length) {
    showAlert(alertBox, 'error', s('checkFields'), { focus: false });
    showFieldErrors(form, errors);
    return;
  }
  const body = new FormData();
  for (const name of ['name', 'product_uuid', 'commune_uuid', 'address', 'phone', 'email', 'lang']) body.append(name, values[name]);
  for (const name of ['description_es', 'description_en', 'website', 'rut', 'year_founded', 'size_band']) {
    if (values[name]) body.append(name, values[name]);
  }
  for (const name of ['extra_product_uuids', 'served_regions']) {
    for (const item of values[name]) body.append(name, item);
  }
  if (values.serves_all_chile) appendValue(body, 'serves_all_chile', true);
  body.append('image', fileState.file);
  setBusy(button, true);
  try {
    published = await api('/companies', { method: 'POST', form: body });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    handleError(form, alertBox, err);
    return;
  } finally {
    setBusy(button, false);
  }
  if (fileState.url) URL.revokeObjectURL(fileState.url);
  fileState.file = null;
  fileState.url = null;
  view = 'done';
  render();
  qs('#done')?.focus();
  await uploadPhotos();
}

function handleError(form, alertBox, err) {
  const imageMessage = imageErrorMessage(err);
  if (imageMessage) {
    showAlert(alertBox, 'error', imageMessage, { focus: false });
    showFieldErrors(form, { image: imageMessage });
  } else if (err.status === 422) {
    showAlert(alertBox, 'error', s('checkFields'), { focus: false });
    showFieldErrors(form, serverFieldErrors(err.fieldErrors, err.detail));
  } else if (rutTakenMessage(err)) {
    showAlert(alertBox, 'error', s('checkFields'), { focus: false });
    showFieldErrors(form, { rut: rutTakenMessage(err) });
  } else if (err.code === 'company_exists') {
    showAlert(alertBox, 'warning', [s('existsTitle'), h('a', { href: '/my-company/' }, s('existsLink'))]);
  } else if (err.code === 'email_not_verified') {
    view = 'verify';
    render();
  } else {
    showAlert(alertBox, 'error', err.message);
  }
}

async function start() {
  view = 'loading';
  render();
  try {
    if (!user.email_verified) {
      view = 'verify';
      return;
    }
    const [mine, products, communes] = await Promise.all([
      // `/users/me` says whether there is one: without it, asking would be a 404 in the console.
      user.has_company === false ? null : api('/companies/user/my-company').catch((err) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
      loadProducts(),
      loadCommunes(),
    ]);
    catalog = { products, communes };
    view = mine ? 'exists' : 'form';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    loadErr = err;
    view = 'error';
  } finally {
    render();
  }
}

({ user } = await initPage({ titleKey: 'title', strings: STRINGS, auth: 'user' }));
await start();
onLangChange(render);
