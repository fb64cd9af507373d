// The owner's company: view it, edit it (only changed fields are sent), replace the logo,
// manage the gallery (add with a file input or drag and drop, reorder, remove), and delete it
// after confirming in a dialog.
import { h, clear, qs, showAlert, clearFieldErrors, setBusy } from '/js/dom.js';
import { getLang, onLangChange, t, tc, formatDateTime } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';
import { loadCommunes, loadProducts } from '/js/market/catalog.js';
import { logo, icon, productLabel, formatPhone, profileFacts, companyHref } from '/js/market/company-view.js';
import {
  companyForm, readValues, validate, serverFieldErrors, imageErrorMessage, showFieldErrors,
  appendValue, rutTakenMessage, dropZone, imageProblem, IMAGE_TYPES, MAX_PHOTOS,
} from '/js/market/company-form.js';
import { quoteInbox } from '/js/quotes/inbox.js';
import { insightsSection } from '/js/quotes/insights.js';

const STRINGS = {
  es: {
    title: 'Mi empresa',
    heading: 'Mi empresa',
    editHeading: 'Editar mi empresa',
    noneTitle: 'Aún no has publicado tu empresa',
    noneText: 'Publícala gratis y aparece en las búsquedas de compradores de todo Chile.',
    publish: 'Publicar mi empresa',
    verifyFirst: 'Primero confirma tu correo ({email}) con el enlace que te enviamos; después podrás publicar.',
    edit: 'Editar',
    viewPublic: 'Ver página pública',
    delete: 'Eliminar empresa',
    save: 'Guardar cambios',
    cancel: 'Cancelar',
    live: 'Publicada',
    held: 'Logo en revisión',
    heldText: 'Un administrador está revisando tu nuevo logo. Mientras tanto se muestra el anterior (o ninguno).',
    details: 'Datos de la empresa',
    product: 'Producto o servicio',
    commune: 'Comuna',
    address: 'Dirección',
    phone: 'Teléfono',
    email: 'Correo',
    descriptions: 'Descripciones',
    descEs: 'Español',
    descEn: 'Inglés',
    source_original: 'Original',
    source_human: 'Escrita por ti',
    source_machine: 'Traducción automática',
    source_pending: 'Sin traducir',
    pendingHint: 'Quien lea en {lang} ve tu texto original. Puedes escribir tú la versión en {lang}.',
    pendingWrite: 'Escribir la versión en {lang}',
    lang_es: 'español',
    lang_en: 'inglés',
    updated: 'Última actualización: {date}',
    noChanges: 'No hay cambios que guardar.',
    saved: 'Cambios guardados.',
    savedHeld: 'Cambios guardados. El nuevo logo está en revisión y se mostrará cuando un administrador lo apruebe.',
    checkFields: 'Revisa los campos marcados.',
    confirmTitle: '¿Eliminar {name}?',
    confirmText: 'Tu empresa dejará de aparecer en Proveo y se borrará su logo. Esta acción no se puede deshacer.',
    confirmDelete: 'Sí, eliminar',
    deletedTitle: 'Tu empresa fue eliminada',
    deletedText: 'Ya no aparece en las búsquedas. Puedes publicar una nueva cuando quieras.',
    loadError: 'No pudimos cargar tu empresa. {message}',
    retry: 'Reintentar',
    profile: 'Perfil',
    gallery: 'Galería',
    galleryCount: '{n} de 6 fotos',
    galleryEmpty: 'Aún no tienes fotos. Muestra tu trabajo, tu local o tu equipo.',
    galleryAdd: 'Agregar fotos',
    galleryHint: 'JPEG, PNG o WebP, hasta 5 MB cada una; o arrástralas aquí.',
    galleryFull: 'Tu galería ya tiene 6 fotos: quita una para agregar otra.',
    galleryUploading: 'Subiendo {name}…',
    galleryAdded: 'Foto agregada.',
    galleryHeld: 'La foto está en revisión: se mostrará cuando un administrador la apruebe.',
    photoAlt: 'Foto {n}',
    photoPending: 'En revisión',
    photoLeft: 'Mover la foto {n} antes',
    photoRight: 'Mover la foto {n} después',
    photoRemove: 'Quitar la foto {n}',
    photoRemoved: 'Foto quitada.',
    jumpLabel: 'Secciones',
    jumpQuotes: 'Solicitudes de cotización',
    jumpInsights: 'Estadísticas',
  },
  en: {
    title: 'My company',
    heading: 'My company',
    editHeading: 'Edit my company',
    noneTitle: 'You have not published your company yet',
    noneText: 'Publish it for free and show up in searches by buyers across Chile.',
    publish: 'Publish my company',
    verifyFirst: 'First confirm your email ({email}) with the link we sent you; then you can publish.',
    edit: 'Edit',
    viewPublic: 'View public page',
    delete: 'Delete company',
    save: 'Save changes',
    cancel: 'Cancel',
    live: 'Published',
    held: 'Logo under review',
    heldText: 'An administrator is reviewing your new logo. Until then the previous one (or none) is shown.',
    details: 'Company details',
    product: 'Product or service',
    commune: 'Commune',
    address: 'Address',
    phone: 'Phone',
    email: 'Email',
    descriptions: 'Descriptions',
    descEs: 'Spanish',
    descEn: 'English',
    source_original: 'Original',
    source_human: 'Written by you',
    source_machine: 'Machine translation',
    source_pending: 'Not translated',
    pendingHint: 'Readers in {lang} see your original text. You can write the {lang} version yourself.',
    pendingWrite: 'Write the {lang} version',
    lang_es: 'Spanish',
    lang_en: 'English',
    updated: 'Last updated: {date}',
    noChanges: 'There are no changes to save.',
    saved: 'Changes saved.',
    savedHeld: 'Changes saved. The new logo is under review and will show once an administrator approves it.',
    checkFields: 'Please check the highlighted fields.',
    confirmTitle: 'Delete {name}?',
    confirmText: 'Your company will no longer appear on Proveo and its logo will be erased. This cannot be undone.',
    confirmDelete: 'Yes, delete',
    deletedTitle: 'Your company was deleted',
    deletedText: 'It no longer shows up in searches. You can publish a new one whenever you like.',
    loadError: 'Your company could not be loaded. {message}',
    retry: 'Try again',
    profile: 'Profile',
    gallery: 'Gallery',
    galleryCount: '{n} of 6 photos',
    galleryEmpty: 'No photos yet. Show your work, your premises or your team.',
    galleryAdd: 'Add photos',
    galleryHint: 'JPEG, PNG or WebP, up to 5 MB each; or drag them here.',
    galleryFull: 'Your gallery has 6 photos: remove one to add another.',
    galleryUploading: 'Uploading {name}…',
    galleryAdded: 'Photo added.',
    galleryHeld: 'The photo is under review: it will show once an administrator approves it.',
    photoAlt: 'Photo {n}',
    photoPending: 'Under review',
    photoLeft: 'Move photo {n} earlier',
    photoRight: 'Move photo {n} later',
    photoRemove: 'Remove photo {n}',
    photoRemoved: 'Photo removed.',
    jumpLabel: 'Sections',
    jumpQuotes: 'Quote requests',
    jumpInsights: 'Insights',
  },
};

const s = (key, params) => t(STRINGS, key, params);

let user = null;
let company = null;
let view = 'loading'; // loading | none | view | edit | deleted | error
let catalog = null;
let loadErr = null;
let flash = null; // {kind, key} shown once above the view
let editValues = null;
const fileState = { file: null, url: null };
// The quote-request inbox and the insights: made once the company is known, then moved (not
// rebuilt) by each render, so their state survives an edit or a language change.
let sections = null;

function ownerSections() {
  if (!sections) {
    const insights = insightsSection();
    // Found by the newcomer: "replied" stayed at 0 until the page was reloaded.
    sections = { inbox: quoteInbox({ onAnswered: () => insights.refresh() }), insights };
  }
  return [sections.inbox.element, sections.insights.element];
}

function root() {
  return qs('#my-company-root');
}

// What the edit form starts from: a description still pending translation starts empty (the
// API shows the original there), so leaving it alone sends nothing.
function initialValues(c) {
  return {
    name: c.name,
    product_uuid: c.product_uuid,
    commune_uuid: c.commune_uuid,
    address: c.address,
    phone: c.phone,
    email: c.email,
    description_es: c.description_es_source === 'pending' ? '' : c.description_es,
    description_en: c.description_en_source === 'pending' ? '' : c.description_en,
    website: c.website || '',
    rut: c.rut_formatted || '',
    year_founded: c.year_founded ? String(c.year_founded) : '',
    size_band: c.size_band || '',
    extra_product_uuids: (c.extra_products || []).map((p) => p.uuid),
    serves_all_chile: Boolean(c.serves_all_chile),
    // Besides the commune's own region, which the API lists first.
    served_regions: c.serves_all_chile ? [] : (c.served_regions || []).slice(1),
  };
}

function sameValue(now, before) {
  if (Array.isArray(now)) return now.join('|') === (before || []).join('|');
  if (typeof now === 'boolean') return now === Boolean(before);
  return now === String(before ?? '').trim();
}

// --- Gallery -----------------------------------------------------------------------------

let galleryStatus = null; // {kind, text} shown in the gallery card

async function galleryCall(action) {
  try {
    company = await action();
    return true;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    galleryStatus = { kind: 'error', text: imageErrorMessage(err) || err.message };
    return false;
  }
}

async function addPhotos(files) {
  for (const file of files) {
    if ((company.photos || []).length >= MAX_PHOTOS) {
      galleryStatus = { kind: 'error', text: s('galleryFull') };
      break;
    }
    const problem = imageProblem(file);
    if (problem) {
      galleryStatus = { kind: 'error', text: problem };
      continue;
    }
    galleryStatus = { kind: 'info', text: s('galleryUploading', { name: file.name }) };
    renderGalleryOnly();
    const body = new FormData();
    body.append('image', file);
    if (await galleryCall(() => api('/companies/user/my-company/photos', { method: 'POST', form: body }))) {
      const last = company.photos[company.photos.length - 1];
      galleryStatus = { kind: 'success', text: s(last?.pending_review ? 'galleryHeld' : 'galleryAdded') };
    }
  }
  renderGalleryOnly();
  qs('#gallery-input')?.focus();
}

async function movePhoto(index, step) {
  const order = company.photos.map((p) => p.uuid);
  const [moved] = order.splice(index, 1);
  order.splice(index + step, 0, moved);
  galleryStatus = null;
  await galleryCall(() => api('/companies/user/my-company/photos/order', { method: 'PUT', json: { photos: order } }));
  renderGalleryOnly();
  const target = index + step;
  qs(`[data-photo-index="${target}"] [data-move="${step < 0 ? 'left' : 'right'}"]`)?.focus();
}

async function removePhoto(photo) {
  if (await galleryCall(() => api(`/companies/user/my-company/photos/${encodeURIComponent(photo.uuid)}`, { method: 'DELETE' }))) {
    galleryStatus = { kind: 'success', text: s('photoRemoved') };
  }
  renderGalleryOnly();
  qs('#gallery-input')?.focus();
}

function galleryCard() {
  const photos = company.photos || [];
  const input = h('input', { type: 'file', id: 'gallery-input', accept: IMAGE_TYPES.join(','), multiple: true,
    class: 'file-input', 'aria-describedby': 'gallery-hint', disabled: photos.length >= MAX_PHOTOS });
  input.addEventListener('change', () => {
    const files = [...(input.files || [])];
    input.value = '';
    if (files.length) addPhotos(files);
  });
  const status = h('div', { class: 'form-alert', id: 'gallery-status' });
  const card = h('section', { class: 'card owner-gallery', id: 'gallery-card', 'aria-labelledby': 'gallery-title' },
    h('h2', { id: 'gallery-title', class: 'card-heading cluster' }, s('gallery'),
      h('span', { class: 'muted small' }, s('galleryCount', { n: photos.length }))),
    photos.length
      ? h('ol', { class: 'gallery-grid gallery-owner' }, photos.map((photo, i) => h('li', { 'data-photo-index': String(i), class: 'gallery-item' },
        photo.thumbnail_url
          ? h('img', { src: photo.thumbnail_url, alt: s('photoAlt', { n: i + 1 }), width: '256', height: '256' })
          : h('span', { class: 'gallery-pending', role: 'img', 'aria-label': s('photoAlt', { n: i + 1 }) }, s('photoPending')),
        h('div', { class: 'gallery-tools' },
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-move': 'left', disabled: i === 0,
            'aria-label': s('photoLeft', { n: i + 1 }), on: { click: () => movePhoto(i, -1) } }, '←'),
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-move': 'right', disabled: i === photos.length - 1,
            'aria-label': s('photoRight', { n: i + 1 }), on: { click: () => movePhoto(i, 1) } }, '→'),
          h('button', { type: 'button', class: 'btn btn-danger-outline btn-sm', 'data-remove': photo.uuid,
            'aria-label': s('photoRemove', { n: i + 1 }), on: { click: () => removePhoto(photo) } }, '×')))))
      : h('p', { class: 'muted' }, s('galleryEmpty')),
    dropZone(h('div', { class: 'drop-zone field', 'data-drop': 'gallery' },
      h('label', { for: 'gallery-input', class: 'label' }, s('galleryAdd')),
      h('p', { class: 'field-hint', id: 'gallery-hint' }, photos.length >= MAX_PHOTOS ? s('galleryFull') : s('galleryHint')),
      input), input),
    status);
  if (galleryStatus) showAlert(status, galleryStatus.kind, galleryStatus.text, { focus: false });
  return card;
}

function renderGalleryOnly() {
  // One outcome at a time: a gallery action makes an earlier "saved" message stale.
  flash = null;
  const flashBox = qs('#my-company-flash');
  if (flashBox) clear(flashBox);
  const old = qs('#gallery-card');
  if (old && view === 'view') old.replaceWith(galleryCard());
}

function sourceBadge(source) {
  const kind = { original: 'badge-brand', human: 'badge-brand', machine: 'badge-warning', pending: 'badge-warning' }[source] || '';
  return h('span', { class: `badge ${kind}` }, s(`source_${source}`));
}

// Without a translator a pending translation never arrives: instead of promising one, the owner
// is offered to write that language themselves.
function pendingNote(c, side) {
  if (c[`description_${side}_source`] !== 'pending') return null;
  const lang = s(`lang_${side}`);
  return h('div', { class: 'pending-translation' },
    h('p', { class: 'muted small' }, s('pendingHint', { lang })),
    h('button', {
      type: 'button',
      class: 'btn btn-secondary btn-sm',
      'data-write': side,
      on: { click: () => startEdit({ focus: `description_${side}` }) },
    }, s('pendingWrite', { lang })));
}

function renderView(el) {
  const lang = getLang();
  const c = company;
  el.append(...[
    h('div', { class: 'page-header my-company-head cluster cluster-between' },
      h('h1', {}, s('heading')),
      h('nav', { class: 'cluster owner-jump', 'aria-label': s('jumpLabel') },
        h('a', { href: '#quote-requests' }, s('jumpQuotes')),
        h('a', { href: '#insights' }, s('jumpInsights')))),
    flash && h('div', { id: 'my-company-flash' }),
    h('section', { class: 'card owner-card', 'aria-labelledby': 'owner-name' },
      logo(c, { size: 'xl' }),
      h('div', { class: 'owner-main' },
        h('div', { class: 'cluster' },
          h('span', { class: 'badge badge-success' }, s('live')),
          c.image_pending_review && h('span', { class: 'badge badge-warning' }, s('held'))),
        h('h2', { id: 'owner-name', class: 'company-name' }, c.name),
        h('p', { class: 'card-meta' },
          h('span', { class: 'badge badge-product' }, icon('tag', 'icon icon-sm'), productLabel(c, lang)),
          h('span', { class: 'card-commune' }, icon('pin', 'icon icon-sm'), c.commune_name)),
        c.image_pending_review && h('p', { class: 'muted small' }, s('heldText')),
        h('p', { class: 'muted small' }, s('updated', { date: formatDateTime(c.updated_at) })),
        h('div', { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-primary', id: 'edit-company', on: { click: () => startEdit() } }, s('edit')),
          h('a', { class: 'btn btn-secondary', href: companyHref(c) }, s('viewPublic')),
          h('button', { type: 'button', class: 'btn btn-danger-outline', id: 'delete-company', on: { click: confirmDelete } }, s('delete'))))),
    h('div', { class: 'owner-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'details-title' },
        h('h2', { id: 'details-title', class: 'card-heading' }, s('details')),
        h('dl', { class: 'details details-stacked' },
          h('dt', {}, s('product')), h('dd', {}, productLabel(c, lang)),
          h('dt', {}, s('commune')), h('dd', {}, [c.commune_name, c.commune_region].filter(Boolean).join(', ')),
          h('dt', {}, s('address')), h('dd', {}, c.address),
          h('dt', {}, s('phone')), h('dd', {}, formatPhone(c.phone)),
          h('dt', {}, s('email')), h('dd', { class: 'break' }, c.email)),
        h('h3', { class: 'card-subheading' }, s('profile')),
        h('dl', { class: 'profile-facts' }, profileFacts(c, lang))),
      h('section', { class: 'card', 'aria-labelledby': 'desc-title' },
        h('h2', { id: 'desc-title', class: 'card-heading' }, s('descriptions')),
        ['es', 'en'].map((side) => h('div', { class: 'owner-desc' },
          h('h3', { class: 'cluster' }, s(side === 'es' ? 'descEs' : 'descEn'), sourceBadge(c[`description_${side}_source`])),
          pendingNote(c, side) || h('p', { class: 'company-description', lang: side }, c[`description_${side}`]))))),
    galleryCard(),
    ...ownerSections(),
    deleteDialog(),
  ].filter(Boolean));
  if (flash) showAlert(qs('#my-company-flash', el), flash.kind, s(flash.key), { focus: false });
}

function renderEdit(el) {
  el.append(
    h('div', { class: 'page-header' }, h('h1', {}, s('editHeading'))),
    companyForm({
      id: 'edit-form',
      mode: 'edit',
      products: catalog.products,
      communes: catalog.communes,
      values: editValues || initialValues(company),
      company,
      fileState,
      submitLabel: s('save'),
      onSubmit,
      extraActions: [h('button', { type: 'button', class: 'btn btn-secondary', on: { click: cancelEdit } }, s('cancel'))],
    }),
  );
}

function render() {
  const el = root();
  const oldForm = qs('#edit-form');
  editValues = oldForm ? readValues(oldForm) : null;
  clear(el);
  if (view === 'loading') {
    el.append(h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), tc('loading')));
  } else if (view === 'none') {
    el.append(h('div', { class: 'page-header' }, h('h1', {}, s('heading'))),
      h('div', { class: 'empty-state card', 'data-state': 'none' },
        h('p', { class: 'empty-title' }, s('noneTitle')),
        h('p', {}, user.email_verified ? s('noneText') : s('verifyFirst', { email: user.email })),
        h('a', { class: 'btn btn-primary', href: '/publish/' }, s('publish'))));
  } else if (view === 'deleted') {
    el.append(h('div', { class: 'page-header' }, h('h1', {}, s('heading'))),
      h('section', { class: 'card notice-card', 'data-state': 'deleted', tabindex: '-1', id: 'deleted', 'aria-labelledby': 'deleted-title' },
        h('span', { class: 'notice-icon notice-success', 'aria-hidden': 'true' }, '✓'),
        h('h2', { id: 'deleted-title' }, s('deletedTitle')),
        h('p', {}, s('deletedText')),
        h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-primary', href: '/publish/' }, s('publish')))));
  } else if (view === 'error') {
    el.append(h('div', { class: 'alert alert-error', role: 'alert' }, h('div', { class: 'alert-body' },
      s('loadError', { message: loadErr?.message || '' }),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: load } }, s('retry'))))));
  } else if (view === 'edit') {
    renderEdit(el);
  } else {
    renderView(el);
  }
}

async function startEdit({ focus = 'name' } = {}) {
  if (!catalog) {
    try {
      const [products, communes] = await Promise.all([loadProducts(), loadCommunes()]);
      catalog = { products, communes };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      flash = null;
      showAlert(qs('#my-company-flash') || root(), 'error', err.message);
      return;
    }
  }
  flash = null;
  editValues = null;
  view = 'edit';
  render();
  qs('#edit-form')?.elements.namedItem(focus)?.focus();
}

function resetFile() {
  if (fileState.url) URL.revokeObjectURL(fileState.url);
  fileState.file = null;
  fileState.url = null;
}

function cancelEdit() {
  resetFile();
  qs('#edit-form')?.remove(); // its values are not to be kept
  view = 'view';
  render();
  qs('#edit-company')?.focus();
}

async function onSubmit(form, button) {
  const alertBox = qs('#edit-form-alert', form);
  clear(alertBox);
  clearFieldErrors(form);
  const values = readValues(form);
  const before = initialValues(company);
  const changed = new Set(Object.keys(before).filter((name) => !sameValue(values[name], before[name])));
  // All of Chile says it all: the list of regions is not sent with it.
  if (values.serves_all_chile) changed.delete('served_regions');
  // Emptying a description is not an edit the API knows (at least one must stay); sending ''
  // would be refused, so an emptied description is left as it was.
  for (const side of ['description_es', 'description_en']) if (!values[side]) changed.delete(side);
  if (!changed.size && !fileState.file) {
    showAlert(alertBox, 'info', s('noChanges'));
    return;
  }
  const errors = validate(values, { mode: 'edit', file: fileState.file, only: changed });
  if (Object.keys(errors).length) {
    showAlert(alertBox, 'error', s('checkFields'), { focus: false });
    showFieldErrors(form, errors);
    return;
  }
  const body = new FormData();
  for (const name of changed) appendValue(body, name, values[name]);
  if (fileState.file) body.append('image', fileState.file);
  const sentImage = Boolean(fileState.file);
  setBusy(button, true);
  try {
    company = await api('/companies/user/my-company', { method: 'PATCH', form: body });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
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
    } else {
      showAlert(alertBox, 'error', err.message);
    }
    return;
  } finally {
    setBusy(button, false);
  }
  resetFile();
  form.remove();
  flash = { kind: 'success', key: sentImage && company.image_pending_review ? 'savedHeld' : 'saved' };
  galleryStatus = null; // an earlier gallery message ("Foto quitada.") is stale beside this one
  view = 'view';
  render();
  qs('#my-company-flash .alert')?.focus();
}

function deleteDialog() {
  const status = h('div', { class: 'form-alert' });
  const confirm = h('button', { type: 'button', class: 'btn btn-danger', id: 'confirm-delete' }, s('confirmDelete'));
  const dialog = h('dialog', { id: 'delete-dialog', 'aria-labelledby': 'delete-title', 'aria-describedby': 'delete-text' },
    h('div', { class: 'dialog-body' },
      h('h2', { id: 'delete-title' }, s('confirmTitle', { name: company.name })),
      h('p', { id: 'delete-text' }, s('confirmText')),
      status,
      h('div', { class: 'form-actions dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', value: 'cancel', on: { click: () => dialog.close() } }, s('cancel')),
        confirm)));
  confirm.addEventListener('click', async () => {
    setBusy(confirm, true);
    try {
      await api('/companies/user/my-company', { method: 'DELETE' });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showAlert(status, 'error', err.message);
      return;
    } finally {
      setBusy(confirm, false);
    }
    dialog.close();
    company = null;
    view = 'deleted';
    render();
    qs('#deleted')?.focus();
  });
  dialog.addEventListener('close', () => {
    clear(status);
    if (view === 'view') qs('#delete-company')?.focus();
  });
  return dialog;
}

function confirmDelete() {
  const dialog = qs('#delete-dialog');
  dialog.showModal();
  // The safe choice has the focus first.
  qs('.btn-secondary', dialog).focus();
}

async function load() {
  view = 'loading';
  render();
  try {
    company = await api('/companies/user/my-company');
    view = 'view';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 404) view = 'none';
    else {
      loadErr = err;
      view = 'error';
    }
  }
  render();
}

({ user } = await initPage({ titleKey: 'title', strings: STRINGS, auth: 'user' }));
await load();
onLangChange(() => {
  const open = qs('#delete-dialog')?.open;
  render();
  if (open) confirmDelete();
});
