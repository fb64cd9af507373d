// Companies: every company (soft-deleted ones with a badge), a name/email filter, editing any
// company (multipart PATCH: the contact fields, the profile — website, RUT, year, size, more
// categories, regions served — and the logo; gallery photos removed one by one) and
// soft-deletion.

import { apiList, api } from '/js/api.js';
import { formatDateTime, getLang } from '/js/i18n.js';
import { setFieldErrors, clearFieldErrors } from '/js/dom.js';
import {
  s, h, clear, put, countText, tc, showAlert, clearAlert, setBusy, errorText, isForbidden, idChip, badge,
  shortDate, spinnerRow, dataTable, pager, modal, confirmAction, field, loadCatalog, localName, sortByName, emailText,
} from './ui.js';
import { formatPhone } from '/js/market/company-view.js';
import { SIZE_BANDS } from '/js/market/company-form.js';
import { byRegionOrder } from '/js/market/regions.js';

const LIMIT = 20;
const TEXT_FIELDS = ['name', 'address', 'phone', 'email', 'description_es', 'description_en'];

export function createCompaniesTab(ctx) {
  const state = { q: '', offset: 0 };
  let panel = null;
  let results = null;
  let notice = null;

  function show(target) {
    panel = target;
    clear(panel);
    const input = h('input', { type: 'search', value: state.q, placeholder: s('companies_search_placeholder'), autocomplete: 'off', maxlength: '100' });
    const form = h('form', { class: 'admin-toolbar', role: 'search', on: { submit: (event) => {
      event.preventDefault();
      state.q = input.value.trim();
      state.offset = 0;
      load();
    } } },
    field({ id: 'companies-q', name: 'q', label: s('companies_search_label'), input }),
    h('div', { class: 'toolbar-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, s('filter_apply')),
      h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => {
        input.value = '';
        state.q = '';
        state.offset = 0;
        load();
      } } }, s('filter_clear'))));
    notice = h('div', { class: 'panel-notice' });
    results = h('div', { class: 'panel-results' });
    panel.append(form, notice, results);
    load();
  }

  async function load() {
    clear(results).append(spinnerRow());
    try {
      const { items, total } = await apiList('/companies/admin/all-companies', {
        query: { limit: LIMIT, offset: state.offset, ...(state.q ? { q: state.q } : {}) },
      });
      if (!items.length && total > 0 && state.offset > 0) {
        state.offset = Math.max(0, Math.floor((total - 1) / LIMIT) * LIMIT);
        load();
        return;
      }
      renderTable(items, total);
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      clear(results);
      showAlert(results, 'error', [s('load_failed'), ' ', errorText(err)], { focus: false });
      results.append(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: load } }, tc('btn_retry')));
    }
  }

  function renderTable(items, total) {
    clear(results);
    const columns = [
      { label: s('col_company') },
      { label: s('col_category') },
      { label: s('col_contact') },
      { label: s('col_status') },
      { label: s('col_updated') },
      { label: s('actions'), className: 'col-actions' },
    ];
    const rows = items.map((company) => row(company));
    put(results,
      h('p', { class: 'panel-meta' }, countText(total)),
      dataTable({ caption: s('companies_caption'), columns, rows, className: 'companies-table' }),
      total > LIMIT ? pager({ offset: state.offset, limit: LIMIT, total, onChange: (offset) => { state.offset = offset; load(); } }) : null,
    );
  }

  function row(company) {
    const deleted = Boolean(company.deleted_at);
    const logo = company.thumbnail_url
      ? h('img', { class: 'company-thumb', src: company.thumbnail_url, alt: '', width: '40', height: '40' })
      : h('span', { class: 'company-thumb company-thumb-empty', 'aria-hidden': 'true' }, initials(company.name));
    const status = [
      deleted
        ? badge(s('badge_deleted'), 'danger')
        : badge(s('badge_live'), 'success'),
      company.image_pending_review ? badge(s('badge_pending_logo'), 'warning') : null,
      deleted ? h('span', { class: 'cell-sub' }, s('deleted_on', { date: shortDate(company.deleted_at) })) : null,
    ];
    const actions = deleted ? h('span', { class: 'cell-muted' }, '—') : h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': s('edit_company', { name: company.name }),
        on: { click: () => openEditor(company) } }, tc('btn_edit')),
      h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', 'aria-label': s('delete_company', { name: company.name }),
        on: { click: () => remove(company) } }, tc('btn_delete')));
    return h('tr', { class: deleted ? 'row-deleted' : null, 'data-uuid': company.uuid },
      h('td', {}, h('div', { class: 'cell-company' }, logo, h('div', {},
        h('div', { class: 'cell-title' }, deleted
          ? company.name
          : h('a', { href: `/company/?id=${encodeURIComponent(company.uuid)}` }, company.name)),
        h('div', { class: 'cell-sub' }, idChip(company.uuid))))),
      h('td', {}, h('div', {}, getLang() === 'en' ? company.product_name_en : company.product_name_es),
        h('div', { class: 'cell-sub' }, `${company.commune_name} · ${company.commune_region}`)),
      h('td', { class: 'col-contact' }, h('div', { class: 'cell-email' }, emailText(company.email)), h('div', { class: 'cell-sub cell-nowrap' }, formatPhone(company.phone))),
      h('td', {}, h('div', { class: 'cell-badges' }, status)),
      h('td', { class: 'cell-nowrap' }, h('time', { datetime: company.updated_at, title: formatDateTime(company.updated_at) }, shortDate(company.updated_at))),
      h('td', { class: 'col-actions' }, actions));
  }

  async function openEditor(company) {
    let products;
    let communes;
    try {
      [products, communes] = await Promise.all([loadCatalog('products'), loadCatalog('communes')]);
    } catch (err) {
      showAlert(notice, 'error', errorText(err));
      return;
    }
    const text = (name, value, attrs = {}) => h('input', { type: 'text', value: value ?? '', ...attrs });
    const productSelect = h('select', {}, sortByName(products, localName).map((p) =>
      h('option', { value: p.uuid, selected: p.uuid === company.product_uuid }, localName(p))));
    const byRegion = new Map();
    for (const c of sortByName(communes, (x) => x.name)) {
      if (!byRegion.has(c.region)) byRegion.set(c.region, []);
      byRegion.get(c.region).push(c);
    }
    const communeSelect = h('select', {}, [...byRegion.entries()].map(([region, list]) =>
      h('optgroup', { label: region }, list.map((c) =>
        h('option', { value: c.uuid, selected: c.uuid === company.commune_uuid }, c.name)))));
    const inputs = {
      name: text('name', company.name, { maxlength: '100', required: true, autocomplete: 'off' }),
      address: text('address', company.address, { maxlength: '200', required: true, autocomplete: 'off' }),
      phone: h('input', { type: 'tel', value: company.phone, required: true, autocomplete: 'off' }),
      email: h('input', { type: 'email', value: company.email, required: true, autocomplete: 'off' }),
      description_es: h('textarea', { rows: '4', maxlength: '1000' }, company.description_es || ''),
      description_en: h('textarea', { rows: '4', maxlength: '1000' }, company.description_en || ''),
    };
    // The profile: optional fields (emptied means removed), more categories, regions served.
    const profile = {
      website: h('input', { type: 'url', value: company.website || '', maxlength: '300', autocomplete: 'off' }),
      rut: h('input', { type: 'text', value: company.rut_formatted || company.rut || '', maxlength: '14', autocomplete: 'off', spellcheck: 'false' }),
      year_founded: h('input', { type: 'number', value: company.year_founded ?? '', min: '1800', max: String(new Date().getFullYear()), step: '1' }),
      size_band: h('select', {}, h('option', { value: '' }, s('f_none')),
        SIZE_BANDS.map((band) => h('option', { value: band, selected: band === company.size_band }, band))),
    };
    const profileBefore = Object.fromEntries(Object.entries(profile).map(([name, el]) => [name, el.value.trim()]));
    const extrasBefore = (company.extra_products || []).map((p) => p.uuid);
    const extraSelects = [0, 1].map((i) => h('select', {}, h('option', { value: '' }, s('f_none')),
      sortByName(products, localName).map((p) => h('option', { value: p.uuid, selected: p.uuid === extrasBefore[i] }, localName(p)))));
    const allChile = h('input', { type: 'checkbox', id: 'ce-serves-all-chile', checked: company.serves_all_chile });
    const servedBefore = company.serves_all_chile ? [] : (company.served_regions || []).slice(1);
    const regionBoxes = [...new Set(communes.map((c) => c.region))].sort(byRegionOrder).map((region) =>
      h('input', { type: 'checkbox', name: 'served_regions', value: region, checked: servedBefore.includes(region) }));
    const regionOfCommune = new Map(communes.map((c) => [c.uuid, c.region]));
    const chosenRegions = () => (allChile.checked ? [] : regionBoxes.filter((b) => b.checked && !b.hasAttribute('data-own')).map((b) => b.value));
    // The commune's own region is always served: its box is checked and locked.
    const syncRegions = () => {
      const own = regionOfCommune.get(communeSelect.value);
      for (const box of regionBoxes) {
        const isOwn = box.value === own;
        if (isOwn) box.checked = true;
        else if (box.hasAttribute('data-own')) box.checked = false;
        box.toggleAttribute('data-own', isOwn);
        box.disabled = allChile.checked || isOwn;
      }
    };
    allChile.addEventListener('change', syncRegions);
    communeSelect.addEventListener('change', syncRegions);
    syncRegions();
    const regionsField = h('fieldset', { class: 'field admin-regions' },
      h('legend', {}, s('f_regions')),
      h('p', { class: 'field-hint' }, s('f_regions_hint')),
      h('label', { class: 'admin-check' }, allChile, ' ', s('f_all_chile')),
      h('div', { class: 'admin-regions-grid' }, regionBoxes.map((box) => h('label', { class: 'admin-check' }, box, ' ', box.value))));
    // The gallery: each photo removed at once (DELETE), as the owner's page does.
    const gallery = h('ul', { class: 'admin-gallery', role: 'list' });
    const showGallery = (photos) => {
      gallery.replaceChildren(...(photos.length ? photos.map((photo, i) => {
        const remove = h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', 'data-remove-photo': photo.uuid }, s('photo_remove', { n: i + 1 }));
        remove.addEventListener('click', async () => {
          setBusy(remove, true);
          try {
            const saved = await api(`/companies/admin/companies/${encodeURIComponent(company.uuid)}/photos/${encodeURIComponent(photo.uuid)}`, { method: 'DELETE' });
            showGallery(saved.photos || []);
            showAlert(m.alertBox, 'success', s('photo_removed', { name: company.name }), { focus: false });
            changedOutside = true;
            gallery.querySelector('button')?.focus();
          } catch (err) {
            setBusy(remove, false);
            if (isForbidden(err)) { m.close(); ctx.forbidden(); return; }
            showAlert(m.alertBox, 'error', errorText(err));
          }
        });
        return h('li', { class: 'admin-gallery-item' },
          photo.thumbnail_url
            ? h('img', { src: photo.thumbnail_url, alt: s('photo_alt', { n: i + 1 }), width: '96', height: '96' })
            : h('span', { class: 'admin-gallery-pending' }, s('photo_pending')),
          remove);
      }) : [h('li', { class: 'cell-muted' }, s('gallery_empty'))]));
    };
    let changedOutside = false;
    showGallery(company.photos || []);
    const image = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, tc('btn_save'));
    const form = h('form', { id: 'company-edit', class: 'dialog-body', novalidate: true },
      h('div', { class: 'form-grid' },
        field({ id: 'ce-name', name: 'name', label: s('f_name'), input: inputs.name }),
        field({ id: 'ce-email', name: 'email', label: s('f_email'), input: inputs.email }),
        field({ id: 'ce-product', name: 'product_uuid', label: s('f_product'), input: productSelect }),
        field({ id: 'ce-commune', name: 'commune_uuid', label: s('f_commune'), input: communeSelect }),
        field({ id: 'ce-address', name: 'address', label: s('f_address'), input: inputs.address }),
        field({ id: 'ce-phone', name: 'phone', label: s('f_phone'), input: inputs.phone }),
        field({ id: 'ce-website', name: 'website', label: s('f_website'), hint: s('f_optional_hint'), input: profile.website }),
        field({ id: 'ce-rut', name: 'rut', label: s('f_rut'), hint: s('f_optional_hint'), input: profile.rut }),
        field({ id: 'ce-year-founded', name: 'year_founded', label: s('f_year'), input: profile.year_founded }),
        field({ id: 'ce-size-band', name: 'size_band', label: s('f_size'), input: profile.size_band }),
        field({ id: 'ce-extra-1', name: 'extra_product_uuids', label: s('f_extra_1'), input: extraSelects[0] }),
        field({ id: 'ce-extra-2', name: 'extra_product_2', label: s('f_extra_2'), input: extraSelects[1] })),
      regionsField,
      field({ id: 'ce-description-es', name: 'description_es', label: s('f_description_es'), input: inputs.description_es }),
      field({ id: 'ce-description-en', name: 'description_en', label: s('f_description_en'), input: inputs.description_en }),
      field({ id: 'ce-image', name: 'image', label: s('f_image'), hint: s('f_image_hint'), input: image }),
      h('div', { class: 'field' }, h('h3', { class: 'label', id: 'ce-gallery-title' }, s('f_gallery')), gallery),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => m.close() } }, tc('btn_cancel')),
        submit));
    const m = modal({ title: s('edit_title'), content: form, wide: true });
    m.dialog.addEventListener('close', () => { if (changedOutside) load(); }); // a photo went: refresh the row
    inputs.name.focus();

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearAlert(m.alertBox);
      clearFieldErrors(form);
      const data = new FormData();
      for (const name of TEXT_FIELDS) {
        const value = inputs[name].value.trim();
        if (value !== (company[name] || '').trim()) data.append(name, value);
      }
      if (productSelect.value !== company.product_uuid) data.append('product_uuid', productSelect.value);
      if (communeSelect.value !== company.commune_uuid) data.append('commune_uuid', communeSelect.value);
      for (const [name, el] of Object.entries(profile)) {
        if (el.value.trim() !== profileBefore[name]) data.append(name, el.value.trim()); // '' removes it
      }
      const extras = extraSelects.map((el) => el.value).filter(Boolean);
      if (extras.join() !== extrasBefore.join()) {
        if (!extras.length) data.append('extra_product_uuids', '');
        for (const uuid of extras) data.append('extra_product_uuids', uuid);
      }
      if (allChile.checked !== company.serves_all_chile) data.append('serves_all_chile', allChile.checked ? 'true' : 'false');
      const regions = chosenRegions();
      if (!allChile.checked && regions.join() !== servedBefore.filter((r) => r !== regionOfCommune.get(communeSelect.value)).join()) {
        if (!regions.length) data.append('served_regions', '');
        for (const region of regions) data.append('served_regions', region);
      }
      if (image.files.length) data.append('image', image.files[0]);
      if ([...data.keys()].length === 0) {
        showAlert(m.alertBox, 'info', s('edit_no_changes'));
        return;
      }
      setBusy(submit, true);
      try {
        const saved = await api(`/companies/admin/companies/${encodeURIComponent(company.uuid)}`, { method: 'PATCH', form: data });
        m.close();
        const held = image.files.length && saved && saved.image_pending_review;
        showAlert(notice, 'success', s(held ? 'company_saved_held' : 'company_saved', { name: saved ? saved.name : company.name }));
        load();
      } catch (err) {
        setBusy(submit, false);
        if (isForbidden(err)) { m.close(); ctx.forbidden(); return; }
        const fieldErrors = { ...(err.fieldErrors || {}) };
        if (['image_rejected', 'image_too_large', 'unsupported_image', 'payload_too_large'].includes(err.code)) {
          fieldErrors.image = errorText(err);
        }
        const first = setFieldErrors(form, fieldErrors);
        showAlert(m.alertBox, 'error', errorText(err), { focus: !first });
        if (first) first.focus();
      }
    });
  }

  function remove(company) {
    confirmAction({
      title: s('confirm_delete_company_title', { name: company.name }),
      body: s('confirm_delete_company_body'),
      confirmLabel: tc('btn_delete'),
      run: () => api(`/companies/admin/companies/${encodeURIComponent(company.uuid)}`, { method: 'DELETE' }),
    }).then((done) => {
      if (!done) return;
      showAlert(notice, 'success', s('company_deleted', { name: company.name }));
      load();
    });
  }

  return { show };
}

function initials(name) {
  return String(name || '?').trim().split(/\s+/).slice(0, 2).map((w) => w[0] || '').join('').toUpperCase() || '?';
}
