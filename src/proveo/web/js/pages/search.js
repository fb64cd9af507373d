// The front page: keyword search with suggestions, commune and product filters with counts,
// result cards and paging. The whole search lives in the URL (`?q&commune&product&page`), so a
// search can be shared and Back / Forward replay it.
import { h, clear, qs, showAlert } from '/js/dom.js';
import { getLang, onLangChange, t, formatNumber } from '/js/i18n.js';
import { api, apiList } from '/js/api.js';
import { initPage } from '/js/layout.js';
import { logo, icon, productLabel, description, companyHref } from '/js/market/company-view.js';
import { loadCommunes, loadProducts, productName } from '/js/market/catalog.js';
import { regionTitle } from '/js/market/regions.js';

const STRINGS = {
  es: {
    title: 'Buscar proveedores',
    heroTitle: 'Encuentra proveedores B2B en todo Chile',
    heroLead: 'Empresas verificadas por producto, servicio y comuna. Contacta directo por teléfono, correo o WhatsApp.',
    searchLabel: 'Buscar empresas, productos o comunas',
    placeholder: 'Ej.: imprenta, transporte, Providencia…',
    searchButton: 'Buscar',
    suggestions: 'Sugerencias',
    suggestionsCount: '{count} sugerencias disponibles. Usa las flechas para elegir.',
    suggestionOne: '1 sugerencia disponible. Usa las flechas para elegir.',
    kind_company: 'Empresa',
    kind_product: 'Producto',
    kind_commune: 'Comuna',
    filters: 'Filtros',
    filtersActive: 'Filtros ({count})',
    product: 'Producto o servicio',
    commune: 'Comuna',
    region: 'Región',
    anyProduct: 'Todos los productos',
    anyCommune: 'Todas las comunas',
    anyRegion: 'Todo Chile',
    servesRegion: 'Atiende tu región',
    placeGreaterSantiago: 'Buscando en el Gran Santiago (34 comunas).',
    placeRegion: 'Buscando en la {region}.',
    placeKept: 'Buscando en {place}, el filtro elegido, no en {named} de tu búsqueda.',
    placeSwitch: 'Buscar en {named}',
    theRegion: 'la {region}',
    theGreaterSantiago: 'el Gran Santiago',
    regionOffer: 'Pocos resultados en {commune}.',
    regionOfferLink: 'Ver {count} en la {region}',
    regionOfferLinkMore: 'Ver más de {count} en la {region}',
    helpTitle: 'Prueba con:',
    relatedTitle: 'Rubros relacionados',
    popularTitle: 'Rubros más buscados',
    removeOne: 'Quitar «{name}»',
    headingRegion: 'Proveedores en la {region}',
    showMore: 'Ver todas ({count})',
    showLess: 'Ver menos',
    clearFilters: 'Quitar filtros',
    removeFilter: 'Quitar filtro: {name}',
    allCompanies: 'Todos los proveedores',
    headingProduct: '{product}',
    headingCommune: 'Proveedores en {commune}',
    headingBoth: '{product} en {commune}',
    pastEndTitle: 'No hay más resultados',
    pastEndHint: 'Esta búsqueda tiene {count} en {pages}.',
    pagesOne: '1 página',
    pagesMany: '{count} páginas',
    backToFirst: 'Volver a la página 1',
    resultsFor: 'Resultados para «{q}»',
    correctedNote: 'Ninguna empresa coincide con «{q}»: mostramos resultados para «{corrected}».',
    similarNote: 'Ninguna empresa coincide con «{q}». Estas tienen nombres parecidos.',
    unknownFilterNote: 'Ese filtro ya no existe: mostramos la búsqueda sin él.',
    count: '{count} empresas',
    countMore: 'Más de {count} empresas',
    countOne: '1 empresa',
    approx: 'aprox. {count}',
    loading: 'Buscando…',
    noResults: 'No encontramos empresas para tu búsqueda',
    noResultsHint: 'Revisa la ortografía, usa palabras más generales o quita algún filtro.',
    emptyTitle: 'Aún no hay empresas publicadas',
    emptyHint: 'Sé la primera: publica tu empresa y aparece en las búsquedas.',
    publishCta: 'Publicar mi empresa',
    error: 'No pudimos completar la búsqueda. {message}',
    retry: 'Reintentar',
    popular: 'Populares:',
    statCompanies: 'empresas publicadas',
    statProducts: 'rubros',
    statCommunes: 'comunas',
    pagination: 'Paginación',
    prev: 'Anterior',
    next: 'Siguiente',
    pageN: 'Página {n}',
    pageOf: 'Página {n} de {total}',
    depthNote: 'Mostramos los primeros {count} resultados: agrega palabras o filtros para ver otros.',
    view: 'Ver {name}',
    quoteLead: '¿Prefieres no llamar a cada uno? Describe lo que necesitas y los proveedores te envían su cotización.',
    quoteCta: 'Pedir cotizaciones',
  },
  en: {
    title: 'Find suppliers',
    heroTitle: 'Find B2B suppliers all over Chile',
    heroLead: 'Verified companies by product, service and commune. Contact them directly by phone, email or WhatsApp.',
    searchLabel: 'Search companies, products or communes',
    placeholder: 'E.g.: printing, transport, Providencia…',
    searchButton: 'Search',
    suggestions: 'Suggestions',
    suggestionsCount: '{count} suggestions available. Use the arrow keys to choose.',
    suggestionOne: '1 suggestion available. Use the arrow keys to choose.',
    kind_company: 'Company',
    kind_product: 'Product',
    kind_commune: 'Commune',
    filters: 'Filters',
    filtersActive: 'Filters ({count})',
    product: 'Product or service',
    commune: 'Commune',
    region: 'Region',
    anyProduct: 'All products',
    anyCommune: 'All communes',
    anyRegion: 'All of Chile',
    servesRegion: 'Serves your region',
    placeGreaterSantiago: 'Searching Greater Santiago (34 communes).',
    placeRegion: 'Searching the {region}.',
    placeKept: 'Searching {place}, the filter chosen, not {named} in your search.',
    placeSwitch: 'Search {named}',
    theRegion: 'the {region}',
    theGreaterSantiago: 'Greater Santiago',
    regionOffer: 'Few results in {commune}.',
    regionOfferLink: 'See {count} in the {region}',
    regionOfferLinkMore: 'See more than {count} in the {region}',
    helpTitle: 'Try:',
    relatedTitle: 'Related categories',
    popularTitle: 'Most searched categories',
    removeOne: 'Remove “{name}”',
    headingRegion: 'Suppliers in the {region}',
    showMore: 'Show all ({count})',
    showLess: 'Show less',
    clearFilters: 'Clear filters',
    removeFilter: 'Remove filter: {name}',
    allCompanies: 'All suppliers',
    headingProduct: '{product}',
    headingCommune: 'Suppliers in {commune}',
    headingBoth: '{product} in {commune}',
    pastEndTitle: 'No more results',
    pastEndHint: 'This search has {count} on {pages}.',
    pagesOne: '1 page',
    pagesMany: '{count} pages',
    backToFirst: 'Back to page 1',
    resultsFor: 'Results for “{q}”',
    correctedNote: 'No company matches “{q}”: showing results for “{corrected}”.',
    similarNote: 'No company matches “{q}”. These have similar names.',
    unknownFilterNote: 'That filter no longer exists: showing the search without it.',
    count: '{count} companies',
    countMore: 'More than {count} companies',
    countOne: '1 company',
    approx: 'about {count}',
    loading: 'Searching…',
    noResults: 'No companies match your search',
    noResultsHint: 'Check the spelling, try more general words or remove a filter.',
    emptyTitle: 'No companies published yet',
    emptyHint: 'Be the first: publish your company and show up in searches.',
    publishCta: 'Publish my company',
    error: 'The search could not be completed. {message}',
    retry: 'Try again',
    popular: 'Popular:',
    statCompanies: 'published companies',
    statProducts: 'categories',
    statCommunes: 'communes',
    pagination: 'Pagination',
    prev: 'Previous',
    next: 'Next',
    pageN: 'Page {n}',
    pageOf: 'Page {n} of {total}',
    depthNote: 'Showing the first {count} results: add words or filters to see others.',
    view: 'View {name}',
    quoteLead: 'Rather not call each one? Describe what you need and the providers send you their quotes.',
    quoteCta: 'Request quotes',
  },
};

const PAGE_SIZE = 20;
// The API pages through the first 1000 results only (offset + limit at most 1000).
const MAX_RESULTS = 1000;
const MAX_PAGE = Math.floor(MAX_RESULTS / PAGE_SIZE);
const FACET_PREVIEW = 6;
const SUGGEST_DELAY_MS = 180;
const SUGGEST_MIN_CHARS = 2;

const s = (key, params) => t(STRINGS, key, params);

// ---- URL state ----

function readState() {
  const params = new URLSearchParams(window.location.search);
  const page = Number.parseInt(params.get('page') || '1', 10);
  return {
    q: (params.get('q') || '').trim(),
    commune: params.get('commune') || '',
    region: params.get('region') || '',
    product: params.get('product') || '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

function urlFor(state) {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.commune) params.set('commune', state.commune);
  if (state.region) params.set('region', state.region);
  if (state.product) params.set('product', state.product);
  if (state.page > 1) params.set('page', String(state.page));
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

// The quote request form, prefilled with the search's category and place.
function quoteHref(current) {
  const params = new URLSearchParams();
  if (current.product) params.set('product', current.product);
  if (current.commune) params.set('commune', current.commune);
  else if (current.region) params.set('region', current.region);
  const query = params.toString();
  return query ? `/quote-requests/?${query}` : '/quote-requests/';
}

function apiQuery(state, extra = {}) {
  const query = { lang: getLang(), ...extra };
  if (state.q) query.q = state.q;
  if (state.commune) query.commune = state.commune;
  if (state.region) query.region = state.region;
  if (state.product) query.product = state.product;
  return query;
}

// ---- page state ----

let state = readState();
let els = {};
let expanded = { communes: false, products: false, regions: false };
// The filters a search runs with: each a query-string field (the panel lists them all).
const FILTERS = ['product', 'region', 'commune'];
const NO_FILTERS = { product: '', region: '', commune: '' };
let lastFacets = null;
let searchSeq = 0;
let searchAbort = null;

function navigate(next, { replace = false } = {}) {
  state = next;
  const url = urlFor(state);
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  runSearch();
}

// A plain click on one of our links changes the search in place; other clicks (new tab, ...)
// keep their normal meaning, since every link carries a real URL.
function linkTo(next, attrs, ...children) {
  return h('a', {
    ...attrs,
    href: urlFor(next),
    on: {
      click: (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(next);
        if (attrs['data-focus-results']) focusResults();
      },
    },
  }, ...children);
}

function focusResults() {
  els.resultsTitle.focus({ preventScroll: true });
  els.resultsTitle.scrollIntoView({ block: 'start', behavior: 'smooth' });
}

// ---- skeleton ----

function render() {
  const root = qs('#search-root');
  clear(root);
  const input = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    class: 'search-input',
    value: state.q,
    placeholder: s('placeholder'),
    autocomplete: 'off',
    spellcheck: 'false',
    enterkeyhint: 'search',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': 'q-suggestions',
    maxlength: '200',
  });
  const listbox = h('ul', { id: 'q-suggestions', class: 'suggestions', role: 'listbox', 'aria-label': s('suggestions'), hidden: true });
  const suggestStatus = h('div', { class: 'visually-hidden', 'aria-live': 'polite', id: 'suggest-status' });
  const form = h('form', { class: 'search-form', role: 'search', on: { submit: onSubmit } },
    h('label', { for: 'q', class: 'visually-hidden' }, s('searchLabel')),
    h('div', { class: 'combobox' }, icon('search', 'icon search-icon'), input, listbox),
    h('button', { type: 'submit', class: 'btn btn-primary btn-search' },
      icon('search', 'icon btn-search-icon'), h('span', { class: 'btn-search-label' }, s('searchButton'))));

  const resultsTitle = h('h2', { id: 'results-title', class: 'results-title', tabindex: '-1' });
  const filtersPanel = h('details', { class: 'filters-panel', open: window.matchMedia('(min-width: 900px)').matches });
  root.append(
    h('section', { class: 'hero', id: 'hero', 'aria-labelledby': 'hero-title' },
      h('div', { class: 'container hero-inner' },
        h('div', { class: 'hero-main' },
          h('h1', { id: 'hero-title', class: 'hero-title' }, s('heroTitle')),
          h('p', { class: 'hero-lead' }, s('heroLead')),
          form,
          suggestStatus,
          h('div', { class: 'popular', id: 'popular', hidden: true })),
        h('dl', { class: 'hero-stats', id: 'hero-stats', hidden: true }))),
    h('div', { class: 'container search-layout' },
      h('aside', { class: 'filters', 'aria-label': s('filters') }, filtersPanel),
      h('section', { class: 'results', 'aria-labelledby': 'results-title' },
        h('div', { class: 'results-head' },
          h('div', {}, resultsTitle, h('p', { class: 'results-count', id: 'results-count' })),
          h('div', { class: 'active-filters cluster', id: 'active-filters' })),
        h('div', { id: 'results-alert' }),
        h('div', { id: 'results-body', class: 'results-body' }),
        h('nav', { class: 'pagination', 'aria-label': s('pagination'), id: 'pagination', hidden: true }),
        // Shown once the first results are in: appearing below them shifts nothing on screen,
        // where moving up from below the skeleton cards would.
        h('div', { class: 'quote-cta', id: 'quote-cta', hidden: !resultsShown },
          h('p', {}, s('quoteLead')),
          h('a', { class: 'btn btn-primary', id: 'quote-cta-link', href: quoteHref(state) }, s('quoteCta'))))),
  );
  els = {
    input, listbox, suggestStatus, form, resultsTitle, filtersPanel,
    count: qs('#results-count'),
    activeFilters: qs('#active-filters'),
    alert: qs('#results-alert'),
    body: qs('#results-body'),
    pagination: qs('#pagination'),
    popular: qs('#popular'),
    stats: qs('#hero-stats'),
    hero: qs('#hero'),
  };
  compactHero();
  renderPopular();
  initCombobox();
  renderSkeletonCards();
  if (lastFacets) renderFacets(lastFacets);
}

// A new query keeps the filters the panel shows as active, and only those.
function shownFilters() {
  const shown = { ...NO_FILTERS };
  for (const link of els.filtersPanel.querySelectorAll('.facet-link.is-selected[data-filter]')) {
    shown[link.dataset.filter] = link.dataset.value;
  }
  return shown;
}

function onSubmit(event) {
  event.preventDefault();
  closeSuggestions();
  const q = els.input.value.trim();
  navigate({ ...state, ...shownFilters(), q, page: 1 });
}

// With a query or a filter the hero is a compact search bar: the results start on the first
// screen of a phone.
function compactHero() {
  els.hero?.classList.toggle('hero-compact', Boolean(state.q || hasFilters()));
}

// ---- suggestions (ARIA 1.2 combobox with a listbox popup) ----

let suggestTimer = null;
let suggestAbort = null;
let suggestions = [];
let activeIndex = -1;

function suggestionText(item) {
  if (typeof item === 'string') return item;
  return item.text ?? item.label ?? item.value ?? item.name ?? '';
}

function suggestionKind(item) {
  return typeof item === 'string' ? null : (item.kind ?? item.type ?? null);
}

function initCombobox() {
  const { input } = els;
  input.addEventListener('input', () => {
    window.clearTimeout(suggestTimer);
    const q = input.value.trim();
    if (q.length < SUGGEST_MIN_CHARS) {
      closeSuggestions();
      return;
    }
    suggestTimer = window.setTimeout(() => fetchSuggestions(q), SUGGEST_DELAY_MS);
  });
  input.addEventListener('keydown', onComboKeydown);
  input.addEventListener('blur', () => {
    // Let a click on an option land first (options keep focus in the input on mousedown).
    window.setTimeout(closeSuggestions, 120);
  });
}

async function fetchSuggestions(q) {
  suggestAbort?.abort();
  const controller = new AbortController();
  suggestAbort = controller;
  let items;
  try {
    items = await api('/companies/search/suggest', { query: { q, lang: getLang() }, signal: controller.signal });
  } catch {
    if (!controller.signal.aborted) closeSuggestions();
    return; // suggestions are a convenience: a failure leaves the plain search box
  }
  if (controller.signal.aborted || els.input.value.trim() !== q || document.activeElement !== els.input) return;
  showSuggestions(Array.isArray(items) ? items : (items?.items || []), q);
}

function highlighted(text, q) {
  // Marks the typed text where it appears as typed (case-insensitive); the rest stays plain.
  const at = text.toLocaleLowerCase().indexOf(q.toLocaleLowerCase());
  if (at < 0 || !q) return [text];
  return [text.slice(0, at), h('mark', {}, text.slice(at, at + q.length)), text.slice(at + q.length)];
}

function showSuggestions(items, q) {
  suggestions = items.filter((item) => suggestionText(item));
  activeIndex = -1;
  clear(els.listbox);
  if (!suggestions.length) {
    closeSuggestions();
    return;
  }
  suggestions.forEach((item, index) => {
    const kind = suggestionKind(item);
    const kindLabel = kind && STRINGS.es[`kind_${kind}`] ? s(`kind_${kind}`) : null;
    els.listbox.append(h('li', {
      id: `q-option-${index}`,
      role: 'option',
      class: 'suggestion',
      'aria-selected': 'false',
      on: {
        mousedown: (event) => event.preventDefault(),
        click: () => chooseSuggestion(index),
      },
    },
    h('span', { class: 'suggestion-text' }, highlighted(suggestionText(item), q)),
    kindLabel && h('span', { class: `suggestion-kind kind-${kind}` }, kindLabel)));
  });
  els.listbox.hidden = false;
  els.input.setAttribute('aria-expanded', 'true');
  els.suggestStatus.textContent = suggestions.length === 1
    ? s('suggestionOne')
    : s('suggestionsCount', { count: suggestions.length });
}

function closeSuggestions() {
  suggestAbort?.abort();
  window.clearTimeout(suggestTimer);
  if (!els.listbox) return;
  els.listbox.hidden = true;
  els.input.setAttribute('aria-expanded', 'false');
  els.input.removeAttribute('aria-activedescendant');
  activeIndex = -1;
}

function setActive(index) {
  const options = [...els.listbox.children];
  options.forEach((option, i) => option.setAttribute('aria-selected', i === index ? 'true' : 'false'));
  activeIndex = index;
  if (index >= 0) {
    els.input.setAttribute('aria-activedescendant', options[index].id);
    options[index].scrollIntoView({ block: 'nearest' });
  } else {
    els.input.removeAttribute('aria-activedescendant');
  }
}

function onComboKeydown(event) {
  const open = !els.listbox.hidden;
  const count = suggestions.length;
  switch (event.key) {
    case 'ArrowDown':
      if (!count) return;
      event.preventDefault();
      if (!open) {
        els.listbox.hidden = false;
        els.input.setAttribute('aria-expanded', 'true');
      }
      setActive((activeIndex + 1) % count);
      break;
    case 'ArrowUp':
      if (!open || !count) return;
      event.preventDefault();
      setActive(activeIndex <= 0 ? count - 1 : activeIndex - 1);
      break;
    case 'Enter':
      if (open && activeIndex >= 0) {
        event.preventDefault();
        chooseSuggestion(activeIndex);
      }
      break;
    case 'Escape':
      if (open) {
        event.preventDefault();
        closeSuggestions();
      }
      break;
    case 'Tab':
      closeSuggestions();
      break;
    default:
  }
}

// A company goes straight to its profile; a product or commune becomes that filter; anything
// else is searched as typed.
function chooseSuggestion(index) {
  const item = suggestions[index];
  const text = suggestionText(item);
  const kind = suggestionKind(item);
  closeSuggestions();
  suggestions = [];
  if (kind === 'company' && item.uuid) {
    window.location.assign(`/company/?id=${encodeURIComponent(item.uuid)}`);
  } else if ((kind === 'product' || kind === 'commune') && item.uuid) {
    els.input.value = '';
    const place = kind === 'commune' ? { region: '' } : {};
    navigate({ ...state, ...place, q: '', [kind]: item.uuid, page: 1 });
  } else {
    els.input.value = text;
    navigate({ ...state, q: text, page: 1 });
  }
}

// ---- search ----

async function runSearch() {
  const seq = ++searchSeq;
  searchAbort?.abort();
  const controller = new AbortController();
  searchAbort = controller;
  if (els.input && els.input.value.trim() !== state.q) els.input.value = state.q;
  document.title = state.q ? `${state.q} · Proveo` : `${s('title')} · Proveo`;
  els.body.setAttribute('aria-busy', 'true');
  els.body.classList.add('is-loading');
  if (state.page > MAX_PAGE) {
    navigate({ ...state, page: MAX_PAGE }, { replace: true });
    return;
  }
  renderHeading(null);
  compactHero();
  qs('#quote-cta-link')?.setAttribute('href', quoteHref(state));
  const offset = (state.page - 1) * PAGE_SIZE;
  try {
    const [page, facets] = await Promise.all([
      apiList('/companies/search', { query: apiQuery(state, { limit: PAGE_SIZE, offset }), signal: controller.signal }),
      loadFacets(controller.signal),
    ]);
    if (seq !== searchSeq) return;
    lastFacets = facets;
    clear(els.alert);
    renderSearchNote(page.headers, facets.full);
    renderFacets(facets);
    renderActiveFilters(facets);
    // Counting stops at 1,000: past it the API says how many at least ("más de 1.000").
    const exact = page.headers.get('X-Total-Count-Exact') !== 'false';
    renderHeading(page.total, exact);
    renderResults(page.items, page.total, facets.full, exact);
    renderPagination(page.total);
    showQuoteCta();
  } catch (err) {
    if (seq !== searchSeq || controller.signal.aborted) return;
    // A shared link may name a commune or product that was since removed: search without it.
    const stale = err.status === 422 ? FILTERS.filter((f) => state[f] && err.fieldErrors?.[f]) : [];
    if (stale.length) {
      pendingNote = 'unknownFilterNote';
      const next = { ...state, page: 1 };
      for (const field of stale) next[field] = '';
      navigate(next, { replace: true });
      return;
    }
    renderHeading(undefined);
    clear(els.body);
    els.pagination.hidden = true;
    showAlert(els.alert, 'error', [
      s('error', { message: err.message || '' }), ' ',
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: runSearch } }, s('retry')),
    ], { focus: false });
  } finally {
    if (seq === searchSeq) {
      els.body.removeAttribute('aria-busy');
      els.body.classList.remove('is-loading');
    }
  }
}

let resultsShown = false;

function showQuoteCta() {
  resultsShown = true;
  const cta = qs('#quote-cta');
  if (cta) cta.hidden = false;
}

// How the results were found, when it is not the plain way; and a note left by the last run.
let pendingNote = null;

function renderSearchNote(headers, full) {
  const match = headers?.get('X-Search-Match');
  const notes = [];
  if (match === 'corrected') {
    notes.push(s('correctedNote', { q: state.q, corrected: headers.get('X-Search-Corrected') || '' }));
  } else if (match === 'similar') {
    notes.push(s('similarNote', { q: state.q }));
  } else if (pendingNote) {
    notes.push(s(pendingNote));
  }
  pendingNote = null;
  const place = full?.place;
  if (place?.from_query) {
    notes.push(place.kind === 'greater_santiago' ? s('placeGreaterSantiago') : s('placeRegion', { region: regionTitle(place.name, getLang()) }));
  }
  if (place?.words_place_kind) {
    // A filter holds and the words name another place: say which one was searched, and offer
    // the other (the same words without the filter, whose place they then name).
    const lang = getLang();
    const theRegion = (name) => s('theRegion', { region: regionTitle(name, lang) });
    const named = place.words_place_kind === 'region' ? theRegion(place.words_place_name) : s('theGreaterSantiago');
    const searched = place.kind === 'region' ? theRegion(place.name) : place.name;
    notes.push(h('span', { 'data-place-kept': place.words_place_kind },
      s('placeKept', { place: searched, named }), ' ',
      linkTo({ ...state, commune: '', region: '', page: 1 }, { class: 'region-offer-link' },
        s('placeSwitch', { named }))));
  }
  const offer = full?.region_offer;
  if (offer) {
    // Few results in a commune: the same search in its region, one click away.
    notes.push(h('span', { class: 'region-offer', 'data-region-offer': offer.slug },
      s('regionOffer', { commune: offer.commune }), ' ',
      linkTo({ ...state, q: offer.q, commune: '', region: offer.slug, page: 1 }, { class: 'region-offer-link' },
        regionOfferLabel(offer))));
  }
  if (notes.length) {
    showAlert(els.alert, 'info', notes.flatMap((note, i) => (i ? [' ', note] : [note])), { focus: false });
  }
}

// Each facet list is counted without its own filter (but with the keywords and the other
// filters), so after choosing a commune the other communes stay listed and switching is one
// click; regions without the commune either (a region replaces a commune). The search's own
// facets (`full`) carry the help: the place searched, a region offer, related categories.
async function loadFacets(signal) {
  const forProducts = apiQuery({ ...state, product: '' });
  const forCommunes = apiQuery({ ...state, commune: '' });
  const forRegions = apiQuery({ ...state, region: '', commune: '' });
  const cache = new Map();
  const get = (query) => {
    const key = JSON.stringify(query);
    if (!cache.has(key)) cache.set(key, api('/companies/search/facets', { query, signal }));
    return cache.get(key);
  };
  const [products, communes, regions, full] = await Promise.all(
    [forProducts, forCommunes, forRegions, apiQuery(state)].map(get));
  // Past 10,000 matches a list's counts are estimates, scaled from the first matches.
  const estimated = (answer) => answer.counts_exact === false;
  return {
    products: products.products || [],
    communes: communes.communes || [],
    regions: regions.regions || [],
    estimated: { product: estimated(products), commune: estimated(communes), region: estimated(regions) },
    full,
  };
}

function hasFilters() {
  return FILTERS.some((kind) => Boolean(state[kind]));
}

function countText(total, exact = true) {
  if (!exact) return s('countMore', { count: formatNumber(total) });
  return total === 1 ? s('countOne') : s('count', { count: formatNumber(total) });
}

function renderHeading(total, exact = true) {
  if (state.q) els.resultsTitle.textContent = s('resultsFor', { q: state.q });
  else if (!hasFilters()) els.resultsTitle.textContent = s('allCompanies');
  // With filters and no keywords, renderActiveFilters names them once their names are known.
  if (total === null) els.count.textContent = s('loading');
  else if (total === undefined) els.count.textContent = '';
  else els.count.textContent = countText(total, exact);
}

function renderSkeletonCards() {
  clear(els.body);
  els.body.append(h('ul', { class: 'results-grid', 'aria-hidden': 'true' },
    Array.from({ length: 6 }, () => h('li', { class: 'company-card skeleton' },
      h('span', { class: 'logo logo-md skeleton-block' }),
      h('div', { class: 'card-text' }, h('span', { class: 'skeleton-line w-60' }), h('span', { class: 'skeleton-line w-40' }), h('span', { class: 'skeleton-line w-80' }))))));
}

function resultCard(company, index) {
  const lang = getLang();
  const product = productLabel(company, lang);
  const text = company.description ?? description(company, lang).text;
  return h('li', {},
    h('article', { class: 'company-card' },
      logo(company, { eager: index < 6 }),
      h('div', { class: 'card-text' },
        h('h3', { class: 'result-title' },
          h('a', { class: 'card-link', href: companyHref(company) }, company.name)),
        h('p', { class: 'card-meta' },
          product && h('span', { class: 'badge badge-product' }, icon('tag', 'icon icon-sm'), product),
          company.commune_name && h('span', { class: 'card-commune' }, icon('pin', 'icon icon-sm'), company.commune_name),
          company.match === 'serves' && h('span', { class: 'badge badge-serves' }, s('servesRegion'))),
        text && h('p', { class: 'card-desc' }, text))));
}

function renderResults(items, total, full, exact = true) {
  clear(els.body);
  if (items.length) {
    els.body.append(h('ul', { class: 'results-grid' }, items.map(resultCard)));
    return;
  }
  if (total > 0) {
    // A page past the last one (an old link, a shrunken result set): not "nothing found".
    const pages = Math.ceil(total / PAGE_SIZE);
    els.body.append(h('div', { class: 'empty-state', 'data-state': 'past-end' },
      icon('search', 'icon empty-icon'),
      h('p', { class: 'empty-title' }, s('pastEndTitle')),
      h('p', {}, s('pastEndHint', {
        count: countText(total, exact),
        pages: pages === 1 ? s('pagesOne') : s('pagesMany', { count: formatNumber(pages) }),
      })),
      linkTo({ ...state, page: 1 }, { class: 'btn btn-primary', 'data-focus-results': 'true' }, s('backToFirst'))));
    return;
  }
  if (!state.q && !hasFilters() && state.page === 1) {
    els.body.append(h('div', { class: 'empty-state' },
      h('p', { class: 'empty-title' }, s('emptyTitle')),
      h('p', {}, s('emptyHint')),
      h('a', { class: 'btn btn-primary', href: '/publish/' }, s('publishCta'))));
    return;
  }
  els.body.append(h('div', { class: 'empty-state', 'data-state': 'no-results' },
    icon('search', 'icon empty-icon'),
    h('p', { class: 'empty-title' }, s('noResults')),
    h('p', {}, s('noResultsHint')),
    zeroResultsHelp(full)));
}

// Counting stops at 1,000: an offer past it says "more than".
function regionOfferLabel(offer) {
  const key = offer.count_exact === false ? 'regionOfferLinkMore' : 'regionOfferLink';
  return s(key, { count: formatNumber(offer.count), region: regionTitle(offer.name, getLang()) });
}

// Nothing found is not a dead end: the commune's region, each active filter removed, related
// categories.
function zeroResultsHelp(full) {
  const offers = [];
  const offer = full?.region_offer;
  if (offer) {
    offers.push(linkTo({ ...state, q: offer.q, commune: '', region: offer.slug, page: 1 },
      { class: 'btn btn-primary', 'data-help': 'region' },
      regionOfferLabel(offer)));
  }
  for (const chip of currentChips) {
    offers.push(linkTo({ ...state, [chip.kind]: '', page: 1 }, { class: 'btn btn-secondary', 'data-help': `remove-${chip.kind}` },
      s('removeOne', { name: chip.name })));
  }
  if (hasFilters()) {
    offers.push(linkTo({ ...state, ...NO_FILTERS, page: 1 }, { class: 'btn btn-secondary' }, s('clearFilters')));
  }
  const related = full?.related_products || [];
  return h('div', { class: 'zero-help stack' },
    offers.length > 0 && h('div', { class: 'cluster zero-help-actions' }, ...offers),
    related.length > 0 && h('div', { class: 'zero-help-related' },
      // Without a category related to the words, the API offers the most searched ones.
      h('h3', { class: 'facet-title' }, s(full.related_with_query ? 'relatedTitle' : 'popularTitle')),
      h('ul', { class: 'cluster related-list' }, related.map((product) => h('li', {},
        linkTo({ q: full.related_with_query ? state.q : '', ...NO_FILTERS, product: product.uuid, page: 1 },
          { class: 'related-link', 'data-product': product.uuid }, product.name))))));
}

function pageNumbers(current, last) {
  const pages = new Set([1, last, current - 1, current, current + 1]);
  const sorted = [...pages].filter((n) => n >= 1 && n <= last).sort((a, b) => a - b);
  const out = [];
  sorted.forEach((n, i) => {
    if (i && n - sorted[i - 1] > 1) out.push(null);
    out.push(n);
  });
  return out;
}

function renderPagination(total) {
  const last = Math.min(MAX_PAGE, Math.max(1, Math.ceil(total / PAGE_SIZE)));
  clear(els.pagination);
  if ((last <= 1 && state.page === 1) || state.page > last) {
    els.pagination.hidden = true;
    return;
  }
  const go = (n) => ({ ...state, page: n });
  const focus = { 'data-focus-results': 'true' };
  els.pagination.append(h('ul', { class: 'pagination-list' },
    h('li', {}, state.page > 1
      ? linkTo(go(state.page - 1), { class: 'page-link page-prev', rel: 'prev', ...focus }, s('prev'))
      : h('span', { class: 'page-link page-prev is-disabled', 'aria-disabled': 'true' }, s('prev'))),
    pageNumbers(Math.min(state.page, last), last).map((n) => h('li', { class: 'page-number' }, n === null
      ? h('span', { class: 'page-gap', 'aria-hidden': 'true' }, '…')
      : linkTo(go(n), {
        class: ['page-link', n === state.page && 'is-current'],
        'aria-current': n === state.page ? 'page' : null,
        'aria-label': s('pageN', { n }),
        ...focus,
      }, formatNumber(n)))),
    h('li', { class: 'page-status' }, s('pageOf', { n: formatNumber(state.page), total: formatNumber(last) })),
    h('li', {}, state.page < last
      ? linkTo(go(state.page + 1), { class: 'page-link page-next', rel: 'next', ...focus }, s('next'))
      : h('span', { class: 'page-link page-next is-disabled', 'aria-disabled': 'true' }, s('next')))));
  if (total > MAX_RESULTS) {
    els.pagination.append(h('p', { class: 'page-depth-note' }, s('depthNote', { count: formatNumber(MAX_RESULTS) })));
  }
  els.pagination.hidden = false;
}

// ---- facets ----

// A place filter replaces the other place filter: a region or a commune, not both.
const REPLACES = { region: { commune: '' }, commune: { region: '' }, product: {} };
const FACET_KEYS = { commune: 'communes', product: 'products', region: 'regions' };

function facetGroup(kind, title, anyLabel, items, selected, selectedName) {
  const key = FACET_KEYS[kind];
  const id = (item) => (kind === 'region' ? item.slug : item.uuid);
  const sorted = [...items].sort((a, b) => b.count - a.count);
  // The active filter always shows as active, even when the search finds none of its
  // companies (then with 0): the panel and the chips never disagree.
  if (selected && !sorted.some((item) => id(item) === selected || sameRegion(kind, item, selected))) {
    sorted.push(kind === 'region' ? { slug: selected, name: selectedName || selected, count: 0 } : { uuid: selected, name: selectedName || selected, count: 0 });
  }
  const isSelected = (item) => id(item) === selected || sameRegion(kind, item, selected);
  const selectedIndex = sorted.findIndex(isSelected);
  const visible = expanded[key] ? sorted : sorted.filter((item, i) => i < FACET_PREVIEW || i === selectedIndex);
  const headingId = `facet-${kind}-title`;
  return h('div', { class: 'facet-group', 'data-facet': kind },
    h('h3', { class: 'facet-title', id: headingId }, title),
    h('ul', { class: 'facet-list', 'aria-labelledby': headingId },
      h('li', {}, linkTo({ ...state, [kind]: '', page: 1 }, {
        class: ['facet-link', !selected && 'is-selected'], 'aria-current': selected ? null : 'true',
      }, h('span', { class: 'facet-name' }, anyLabel))),
      visible.map((item) => h('li', {}, linkTo({ ...state, ...REPLACES[kind], [kind]: id(item), page: 1 }, {
        class: ['facet-link', isSelected(item) && 'is-selected'],
        'aria-current': isSelected(item) ? 'true' : null,
        'data-filter': kind,
        'data-value': isSelected(item) ? selected : id(item),
      }, h('span', { class: 'facet-name' }, item.name), h('span', { class: 'facet-count' }, facetCount(kind, item.count)))))),
    sorted.length > FACET_PREVIEW && h('button', {
      type: 'button', class: 'btn-link facet-more', 'aria-expanded': expanded[key] ? 'true' : 'false',
      on: { click: () => { expanded[key] = !expanded[key]; renderFacets(lastFacets); } },
    }, expanded[key] ? s('showLess') : s('showMore', { count: formatNumber(sorted.length) })));
}

function facetCount(kind, count) {
  return lastFacets?.estimated?.[kind] ? s('approx', { count: formatNumber(count) }) : formatNumber(count);
}

// `?region=` takes any of a region's names: the facet matches it by the slug the API echoes.
function sameRegion(kind, item, selected) {
  return kind === 'region' && Boolean(selected) && lastFacets?.full?.place?.kind === 'region'
    && lastFacets.full.place.slug === item.slug && !lastFacets.full.place.from_query;
}

let currentChips = []; // [{kind, name}] of the active filters, as the chips show them

function renderFacets(facets) {
  const panel = els.filtersPanel;
  const active = FILTERS.filter((kind) => state[kind]).length;
  const hadFocus = panel.contains(document.activeElement) ? document.activeElement.className : null;
  const names = Object.fromEntries(currentChips.map((chip) => [chip.kind, chip.name]));
  clear(panel);
  panel.append(
    h('summary', { class: 'filters-summary' }, active ? s('filtersActive', { count: active }) : s('filters')),
    h('div', { class: 'filters-body' },
      facetGroup('product', s('product'), s('anyProduct'), facets.products || [], state.product, names.product),
      facetGroup('region', s('region'), s('anyRegion'), facets.regions || [], state.region, names.region),
      facetGroup('commune', s('commune'), s('anyCommune'), facets.communes || [], state.commune, names.commune)));
  if (hadFocus && hadFocus.includes('facet-more')) qs('.facet-more', panel)?.focus();
}

// The chip shows the filter's name: from the facets when there, else from the catalogue.
async function filterName(kind, value, facets) {
  if (kind === 'region') {
    const place = facets.full?.place;
    if (place?.kind === 'region' && !place.from_query) return place.name;
    return (facets.regions || []).find((r) => r.slug === value)?.name || value;
  }
  const fromFacets = (kind === 'commune' ? facets.communes : facets.products || []).find((f) => f.uuid === value);
  if (fromFacets) return fromFacets.name;
  try {
    if (kind === 'commune') return (await loadCommunes()).find((c) => c.uuid === value)?.name || value;
    const product = (await loadProducts()).find((p) => p.uuid === value);
    return product ? productName(product, getLang()) : value;
  } catch {
    return value;
  }
}

async function renderActiveFilters(facets) {
  const seq = searchSeq;
  const chips = [];
  const named = [];
  for (const kind of FILTERS) {
    if (!state[kind]) continue;
    const name = await filterName(kind, state[kind], facets);
    named.push({ kind, name });
    chips.push(linkTo({ ...state, [kind]: '', page: 1 }, { class: 'chip', 'data-chip': kind, 'aria-label': s('removeFilter', { name }) },
      h('span', {}, name), h('span', { class: 'chip-x', 'aria-hidden': 'true' }, '×')));
  }
  if (seq !== searchSeq) return;
  currentChips = named;
  if (!state.q && hasFilters()) {
    const get = (kind) => named.find((chip) => chip.kind === kind)?.name || '';
    const product = get('product');
    const commune = get('commune') || get('region');
    const key = product && commune ? 'headingBoth' : (product ? 'headingProduct' : (get('commune') ? 'headingCommune' : 'headingRegion'));
    els.resultsTitle.textContent = s(key, { product, commune, region: regionTitle(get('region'), getLang()) });
  }
  clear(els.activeFilters);
  els.activeFilters.append(...chips);
  if (chips.length > 1) {
    els.activeFilters.append(linkTo({ ...state, ...NO_FILTERS, page: 1 }, { class: 'btn-link' }, s('clearFilters')));
  }
  // The names are known now: the panel shows an active filter without matches by its name.
  renderFacets(facets);
  const empty = els.body.querySelector('[data-state="no-results"] .zero-help');
  if (empty) empty.replaceWith(zeroResultsHelp(facets.full));
}

// ---- popular categories under the search box ----

let popular = null; // {lang, items, total, products, communes}
const POPULAR_COUNT = 4;

// "Populares": the categories buyers search most (the API falls back to those with most
// companies); the hero's figures come from the unfiltered facets.
async function renderPopular() {
  const lang = getLang();
  if (popular?.lang !== lang) {
    try {
      const [items, facets] = await Promise.all([
        api('/companies/search/popular', { query: { lang, limit: POPULAR_COUNT } }),
        api('/companies/search/facets', { query: { lang } }),
      ]);
      popular = {
        lang,
        items: Array.isArray(items) ? items : [],
        total: facets.total,
        products: (facets.products || []).length,
        communes: (facets.communes || []).length,
      };
    } catch {
      return; // a shortcut only: without it the page is complete
    }
  }
  const box = els.popular;
  if (!box || !popular.items.length) return;
  clear(box);
  box.append(h('span', { class: 'popular-label' }, s('popular')),
    ...popular.items.map((item) => linkTo({ q: '', ...NO_FILTERS, product: item.uuid, page: 1 }, { class: 'popular-link', 'data-product': item.uuid }, item.name)));
  box.hidden = false;
  const stat = (value, label) => h('div', { class: 'hero-stat' }, h('dt', {}, label), h('dd', {}, formatNumber(value)));
  clear(els.stats);
  els.stats.append(
    stat(popular.total, s('statCompanies')),
    stat(popular.products, s('statProducts')),
    stat(popular.communes, s('statCommunes')));
  els.stats.hidden = false;
}

// ---- start ----

window.addEventListener('popstate', () => {
  state = readState();
  closeSuggestions();
  runSearch();
});

await initPage({ titleKey: 'title', strings: STRINGS });
render();
runSearch();
onLangChange(() => {
  lastFacets = null;
  render();
  runSearch();
});
