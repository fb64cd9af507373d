// Products and communes: the public lists, with create, rename and delete. The API answers 409
// `duplicate_name` for a taken name and 400 `in_use` while companies reference an entry.

import { api } from '/js/api.js';
import { setFieldErrors, clearFieldErrors } from '/js/dom.js';
import {
  s, h, clear, put, countText, tc, showAlert, clearAlert, setBusy, errorText, isForbidden, spinnerRow, dataTable,
  pager, modal, confirmAction, field, loadCatalog, localName, sortByName, fold,
  formatNumber,
} from './ui.js';

const LIMIT = 25;

const KINDS = {
  products: {
    path: 'products',
    caption: 'products_caption',
    newTitle: 'product_new',
    created: 'product_created',
    renameTitle: 'rename_product_title',
    renameLabel: 'rename_product',
    display: localName,
    searchText: (p) => `${p.name_es} ${p.name_en}`,
    columns: () => [{ label: s('col_name_es') }, { label: s('col_name_en') }],
    cells: (p) => [h('td', { class: 'cell-title' }, p.name_es), h('td', {}, p.name_en)],
    fields: (prefix, entry) => [
      field({ id: `${prefix}-name-es`, name: 'name_es', label: s('f_name_es'),
        input: h('input', { type: 'text', required: true, maxlength: '100', autocomplete: 'off', value: entry ? entry.name_es : '' }) }),
      field({ id: `${prefix}-name-en`, name: 'name_en', label: s('f_name_en'),
        input: h('input', { type: 'text', required: true, maxlength: '100', autocomplete: 'off', value: entry ? entry.name_en : '' }) }),
    ],
    body: (form) => ({ name_es: form.elements.name_es.value.trim(), name_en: form.elements.name_en.value.trim() }),
    nameFields: ['name_es', 'name_en'],
  },
  communes: {
    path: 'communes',
    caption: 'communes_caption',
    newTitle: 'commune_new',
    created: 'commune_created',
    renameTitle: 'rename_commune_title',
    renameLabel: 'rename_commune',
    display: (c) => c.name,
    searchText: (c) => `${c.name} ${c.region}`,
    columns: () => [{ label: s('col_name') }, { label: s('col_region') }],
    cells: (c) => [h('td', { class: 'cell-title' }, c.name), h('td', {}, c.region)],
    fields: (prefix, entry, regions) => [
      field({ id: `${prefix}-name`, name: 'name', label: s('f_commune_name'),
        input: h('input', { type: 'text', required: true, maxlength: '100', autocomplete: 'off', value: entry ? entry.name : '' }) }),
      field({ id: `${prefix}-region`, name: 'region', label: s('f_region'),
        input: h('select', { required: true },
          h('option', { value: '' }, s('f_region_choose')),
          regions.map((r) => h('option', { value: r, selected: Boolean(entry) && entry.region === r }, r))) }),
    ],
    body: (form) => ({ name: form.elements.name.value.trim(), region: form.elements.region.value }),
    nameFields: ['name'],
  },
};

export function createCatalogTab(ctx, kindName) {
  const kind = KINDS[kindName];
  const state = { filter: '', offset: 0 };
  let items = [];
  let results = null;
  let notice = null;
  let createBox = null;

  function show(panel) {
    clear(panel);
    notice = h('div', { class: 'panel-notice' });
    createBox = h('div', { class: 'card catalog-create' });
    const filterInput = h('input', { type: 'search', value: state.filter, placeholder: s('catalog_filter_placeholder'), autocomplete: 'off',
      on: { input: (event) => { state.filter = event.target.value; state.offset = 0; renderList(); } } });
    results = h('div', { class: 'panel-results' });
    panel.append(notice, h('div', { class: 'catalog-layout' },
      createBox,
      h('div', { class: 'catalog-list' },
        h('div', { class: 'admin-toolbar admin-toolbar-compact' },
          field({ id: `${kindName}-filter`, name: 'filter', label: s('catalog_filter_label'), input: filterInput })),
        results)));
    load();
  }

  async function load({ refresh = false } = {}) {
    clear(results).append(spinnerRow());
    try {
      items = await loadCatalog(kind.path, { refresh });
      // Once per visit: a reload after an action must not wipe what the admin is typing.
      if (!createBox.firstChild) renderCreate(kindName === 'communes' ? items : null);
      renderList();
    } catch (err) {
      if (isForbidden(err)) { ctx.forbidden(); return; }
      clear(results);
      showAlert(results, 'error', [s('load_failed'), ' ', errorText(err)], { focus: false });
      results.append(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => load({ refresh: true }) } }, tc('btn_retry')));
    }
  }

  function regionsOf(communes) {
    return sortByName([...new Set((communes || []).map((c) => c.region))], (r) => r);
  }

  function renderCreate(communes) {
    clear(createBox);
    const alertBox = h('div', {});
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, s('btn_add'));
    const form = h('form', { id: `${kindName}-create`, class: 'stack', novalidate: true },
      h('h2', { class: 'card-title' }, s(kind.newTitle)),
      alertBox,
      kind.fields(`${kindName}-new`, null, regionsOf(communes)),
      h('div', {}, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearAlert(alertBox);
      clearFieldErrors(form);
      const body = kind.body(form);
      const missing = Object.fromEntries(Object.entries(body).filter(([, v]) => !v).map(([k]) => [k, s('f_required')]));
      if (Object.keys(missing).length) {
        const first = setFieldErrors(form, missing);
        if (first) first.focus();
        return;
      }
      setBusy(submit, true);
      try {
        const created = await api(`/${kind.path}/`, { method: 'POST', json: body });
        form.reset();
        showAlert(notice, 'success', s(kind.created, { name: kind.display(created) }));
        load({ refresh: true });
      } catch (err) {
        if (isForbidden(err)) { ctx.forbidden(); return; }
        showFormError(form, alertBox, err);
      } finally {
        setBusy(submit, false);
      }
    });
    createBox.append(form);
  }

  function showFormError(form, alertBox, err) {
    const fieldErrors = { ...(err.fieldErrors || {}) };
    if (err.code === 'duplicate_name') {
      for (const name of kind.nameFields) fieldErrors[name] = s('err_duplicate_name');
    }
    setFieldErrors(form, fieldErrors);
    showAlert(alertBox, 'error', errorText(err));
  }

  function renderList() {
    if (!results) return;
    clear(results);
    const needle = fold(state.filter.trim());
    const sorted = sortByName(items, kind.display);
    const shown = needle ? sorted.filter((item) => fold(kind.searchText(item)).includes(needle)) : sorted;
    const page = shown.slice(state.offset, state.offset + LIMIT);
    const columns = [...kind.columns(), { label: s('actions'), className: 'col-actions' }];
    const rows = page.map((entry) => h('tr', { 'data-uuid': entry.uuid },
      kind.cells(entry),
      h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': s(kind.renameLabel, { name: kind.display(entry) }),
          on: { click: () => rename(entry) } }, s('btn_rename')),
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-sm', 'aria-label': s('delete_entry', { name: kind.display(entry) }),
          on: { click: () => remove(entry) } }, tc('btn_delete'))))));
    put(results,
      h('p', { class: 'panel-meta', 'aria-live': 'polite' }, needle
        ? countText(shown.length)
        : s('catalog_total', { total: formatNumber(items.length) })),
      dataTable({ caption: s(kind.caption), columns, rows }),
      shown.length > LIMIT ? pager({ offset: state.offset, limit: LIMIT, total: shown.length, onChange: (offset) => { state.offset = offset; renderList(); } }) : null,
    );
  }

  function rename(entry) {
    const regions = kindName === 'communes' ? regionsOf(items) : [];
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, tc('btn_save'));
    const form = h('form', { id: `${kindName}-rename`, class: 'dialog-body stack', novalidate: true },
      kind.fields(`${kindName}-rename`, entry, regions),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => m.close() } }, tc('btn_cancel')),
        submit));
    const m = modal({ title: s(kind.renameTitle), content: form });
    const first = form.querySelector('input');
    first.focus();
    first.select();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearAlert(m.alertBox);
      clearFieldErrors(form);
      setBusy(submit, true);
      try {
        const saved = await api(`/${kind.path}/${encodeURIComponent(entry.uuid)}`, { method: 'PUT', json: kind.body(form) });
        m.close();
        showAlert(notice, 'success', s('entry_renamed', { name: kind.display(saved) }));
        load({ refresh: true });
      } catch (err) {
        setBusy(submit, false);
        if (isForbidden(err)) { m.close(); ctx.forbidden(); return; }
        showFormError(form, m.alertBox, err);
      }
    });
  }

  function remove(entry) {
    const name = kind.display(entry);
    confirmAction({
      title: s('confirm_delete_entry_title', { name }),
      body: s('confirm_delete_entry_body'),
      confirmLabel: tc('btn_delete'),
      errorParams: { name },
      run: () => api(`/${kind.path}/${encodeURIComponent(entry.uuid)}`, { method: 'DELETE' }),
    }).then((done) => {
      if (!done) return;
      showAlert(notice, 'success', s('entry_deleted', { name }));
      load({ refresh: true });
    });
  }

  return { show };
}
