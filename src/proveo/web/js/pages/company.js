// A company's public profile at `/company/?id=<uuid>`: logo, description in the chosen
// language, contact buttons, and schema.org data for search engines.
import { h, clear, qs } from '/js/dom.js';
import { getLang, onLangChange, t, formatDate } from '/js/i18n.js';
import { api, ApiError } from '/js/api.js';
import { initPage } from '/js/layout.js';
import {
  logo, icon, contactButtons, description, productLabel, formatPhone, telHref, mailtoHref, mapsHref,
  profileFacts, gallery,
} from '/js/market/company-view.js';
import { trackContactClicks } from '/js/market/contact-clicks.js';

const STRINGS = {
  es: {
    title: 'Empresa',
    back: 'Volver a la búsqueda',
    about: 'Sobre la empresa',
    contact: 'Contacto',
    address: 'Dirección',
    phone: 'Teléfono',
    email: 'Correo',
    location: 'Ubicación',
    openMap: 'Ver en el mapa',
    call: 'Llamar',
    callAria: 'Llamar a {name}',
    whatsapp: 'WhatsApp',
    whatsappAria: 'Escribir a {name} por WhatsApp (se abre en una pestaña nueva)',
    emailBtn: 'Correo',
    emailAria: 'Escribir un correo a {name}',
    machine: 'Traducción automática del original en inglés.',
    pending: '(original en inglés)',
    since: 'En Proveo desde {date}',
    updated: 'Actualizado el {date}',
    notFoundTitle: 'No encontramos esta empresa',
    notFoundHint: 'Puede que se haya eliminado o que el enlace esté incompleto.',
    searchCta: 'Buscar proveedores',
    error: 'No pudimos cargar la empresa. {message}',
    retry: 'Reintentar',
    similar: 'Más proveedores de {product}',
    inCommune: 'Más empresas en {commune}',
  },
  en: {
    title: 'Company',
    back: 'Back to search',
    about: 'About the company',
    contact: 'Contact',
    address: 'Address',
    phone: 'Phone',
    email: 'Email',
    location: 'Location',
    openMap: 'View on map',
    call: 'Call',
    callAria: 'Call {name}',
    whatsapp: 'WhatsApp',
    whatsappAria: 'Message {name} on WhatsApp (opens in a new tab)',
    emailBtn: 'Email',
    emailAria: 'Send an email to {name}',
    machine: 'Machine translation of the Spanish original.',
    pending: '(original in Spanish)',
    since: 'On Proveo since {date}',
    updated: 'Updated {date}',
    notFoundTitle: 'We could not find this company',
    notFoundHint: 'It may have been removed, or the link is incomplete.',
    searchCta: 'Find suppliers',
    error: 'The company could not be loaded. {message}',
    retry: 'Try again',
    similar: 'More {product} suppliers',
    inCommune: 'More companies in {commune}',
  },
};

const s = (key, params) => t(STRINGS, key, params);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let company = null;
let failure = null;

function companyId() {
  return (new URLSearchParams(window.location.search).get('id') || '').trim();
}

// schema.org data as a JSON-LD block. It is data, never executed, so the CSP allows it; built
// with textContent from JSON.stringify. `<`, `>` and `&` are written as JSON escapes, so even a
// serialised copy of the page (a crawler's, a saved page) never holds a `</script>` from
// company text that would close the element there.
function injectJsonLd(c, lang) {
  document.getElementById('company-jsonld')?.remove();
  const desc = description(c, lang).text;
  const data = {
    '@context': 'https://schema.org',
    '@type': 'LocalBusiness',
    '@id': window.location.href,
    name: c.name,
    url: `${window.location.origin}/company/?id=${c.uuid}`,
    description: desc || undefined,
    telephone: c.phone || undefined,
    email: c.email || undefined,
    image: c.image_url ? new URL(c.image_url, window.location.origin).href : undefined,
    logo: c.image_url ? new URL(c.image_url, window.location.origin).href : undefined,
    address: {
      '@type': 'PostalAddress',
      streetAddress: c.address,
      addressLocality: c.commune_name,
      addressRegion: c.commune_region,
      addressCountry: 'CL',
    },
    knowsAbout: [productLabel(c, lang), ...(c.extra_products || []).map((p) => (lang === 'en' ? p.name_en : p.name_es))],
    sameAs: c.website || undefined,
    foundingDate: c.year_founded ? String(c.year_founded) : undefined,
    taxID: c.rut_formatted || undefined,
    areaServed: c.serves_all_chile ? { '@type': 'Country', name: 'Chile' }
      : (c.served_regions || []).map((name) => ({ '@type': 'AdministrativeArea', name })),
    inLanguage: lang,
  };
  const script = document.createElement('script');
  script.type = 'application/ld+json';
  script.id = 'company-jsonld';
  script.textContent = JSON.stringify(data).replace(
    /[<>&]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  document.head.appendChild(script);
}

function descriptionBlock(c, lang) {
  const { text, source } = description(c, lang);
  const original = c.description_original_lang;
  const note = (source === 'machine' || source === 'pending') && original !== lang
    ? h('p', { class: 'translation-note' }, icon('globe', 'icon icon-sm'), s(source === 'machine' ? 'machine' : 'pending'))
    : null;
  // Line breaks the owner wrote stay line breaks, as text (CSS `white-space: pre-line`).
  return [h('p', { class: 'company-description', lang: note ? original : lang }, text), note];
}

function renderCompany(root, c) {
  const lang = getLang();
  const product = productLabel(c, lang);
  const names = { name: c.name };
  document.title = `${c.name} · Proveo`;
  injectJsonLd(c, lang);
  root.append(
    h('p', { class: 'back-link' }, h('a', { href: '/', on: { click: goBack } }, icon('back', 'icon icon-sm'), s('back'))),
    h('article', { class: 'company-profile', 'aria-labelledby': 'company-name' },
      h('header', { class: 'profile-head card' },
        logo(c, { size: 'xl' }),
        h('div', { class: 'profile-title' },
          h('h1', { id: 'company-name', class: 'company-name' }, c.name),
          h('p', { class: 'card-meta' },
            product && h('a', { class: 'badge badge-product', href: `/?product=${encodeURIComponent(c.product_uuid)}`, 'aria-label': s('similar', { product }) },
              icon('tag', 'icon icon-sm'), product),
            c.commune_name && h('a', { class: 'card-commune', href: `/?commune=${encodeURIComponent(c.commune_uuid)}`, 'aria-label': s('inCommune', { commune: c.commune_name }) },
              icon('pin', 'icon icon-sm'), [c.commune_name, c.commune_region].filter(Boolean).join(', '))),
          contactButtons(c, {
            call: s('call'), callAria: s('callAria', names),
            whatsapp: s('whatsapp'), whatsappAria: s('whatsappAria', names),
            email: s('emailBtn'), emailAria: s('emailAria', names),
          }))),
      h('div', { class: 'profile-body' },
        h('section', { class: 'card profile-about', 'aria-labelledby': 'about-title' },
          h('h2', { id: 'about-title' }, s('about')),
          descriptionBlock(c, lang),
          h('dl', { class: 'profile-facts' }, profileFacts(c, lang)),
          h('p', { class: 'muted small' }, s('since', { date: formatDate(c.created_at) }))),
        h('aside', { class: 'card profile-contact', 'aria-labelledby': 'contact-title' },
          h('h2', { id: 'contact-title' }, s('contact')),
          h('dl', { class: 'contact-list' },
            h('div', {}, h('dt', {}, icon('pin', 'icon icon-sm'), s('address')),
              h('dd', {}, c.address, h('br'), [c.commune_name, c.commune_region].filter(Boolean).join(', '), h('br'),
                h('a', { href: mapsHref(c), target: '_blank', rel: 'noopener noreferrer' }, s('openMap')))),
            c.phone && h('div', {}, h('dt', {}, icon('phone', 'icon icon-sm'), s('phone')),
              h('dd', {}, h('a', { href: telHref(c.phone) }, formatPhone(c.phone)))),
            c.email && h('div', {}, h('dt', {}, icon('mail', 'icon icon-sm'), s('email')),
              h('dd', { class: 'break' }, h('a', { href: mailtoHref(c.email) }, c.email)))))),
      gallery(c, lang)),
  );
}

function goBack(event) {
  // Back to the very search that led here (its URL holds the query and the page), if it did.
  const ref = document.referrer ? new URL(document.referrer) : null;
  if (ref && ref.origin === window.location.origin && ref.pathname === '/' && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
}

function renderNotFound(root) {
  document.title = `${s('notFoundTitle')} · Proveo`;
  root.append(h('div', { class: 'empty-state' },
    h('h1', { class: 'empty-title' }, s('notFoundTitle')),
    h('p', {}, s('notFoundHint')),
    h('a', { class: 'btn btn-primary', href: '/' }, s('searchCta'))));
}

function render() {
  const root = qs('#company-root');
  clear(root);
  if (company) {
    root.dataset.companyUuid = company.uuid;
    renderCompany(root, company);
  }
  else if (failure?.status === 404 || failure?.status === 422 || failure === 'bad-id') renderNotFound(root);
  else if (failure) {
    root.append(h('div', { class: 'alert alert-error', role: 'alert' },
      h('div', { class: 'alert-body' }, s('error', { message: failure.message || '' }),
        h('p', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', on: { click: load } }, s('retry'))))));
  }
}

async function load() {
  const id = companyId();
  failure = null;
  if (!UUID_RE.test(id)) {
    failure = 'bad-id';
    render();
    return;
  }
  try {
    company = await api(`/companies/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    failure = err;
  }
  render();
}

trackContactClicks(qs('#company-root'));
await initPage({ titleKey: 'title', strings: STRINGS });
await load();
onLangChange(render);
