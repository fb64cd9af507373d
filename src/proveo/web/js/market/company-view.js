// Pieces that show a company the same way on the search, detail and my-company pages.
import { h } from '/js/dom.js';
import { getLang } from '/js/i18n.js';

// The company page's readable address in the interface's language (server-rendered, shareable);
// `/company/?id=` (a redirect there) only for a company read without its slug.
export function companyHref(company) {
  if (!company.slug) return `/company/?id=${encodeURIComponent(company.uuid)}`;
  const slug = encodeURIComponent(company.slug);
  return getLang() === 'en' ? `/en/companies/${slug}` : `/empresas/${slug}`;
}

// Up to two initials for the placeholder logo; taken from the name as text, never parsed.
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  const letters = words.slice(0, 2).map((w) => Array.from(w.replace(/[^\p{L}\p{N}]/gu, ''))[0] || '');
  return letters.join('').toUpperCase() || '·';
}

// A stable hue per name, so placeholder logos differ but never flicker between renders.
function hueClass(name) {
  let sum = 0;
  for (const ch of String(name || '')) sum = (sum * 31 + ch.codePointAt(0)) % 9973;
  return `logo-hue-${sum % 6}`;
}

// Search hits carry only the full logo; its 256 px thumbnail sits beside it in the image store
// (`<key>_thumb.webp`, companies/service.py), and lists load that instead.
function thumbnailOf(url) {
  return /^\/images\/[^/]+(?<!_thumb)\.webp$/.test(url) ? url.replace(/\.webp$/, '_thumb.webp') : url;
}

// The logo (decorative next to the name, so empty alt) or the initials placeholder.
export function logo(company, { size = 'md', src = null, eager = true } = {}) {
  const full = company.image_url;
  const url = src || company.thumbnail_url || (full && thumbnailOf(full));
  if (url) {
    const img = h('img', { src: url, alt: '', loading: eager ? 'eager' : 'lazy', decoding: 'async', width: '256', height: '256' });
    if (full && url !== full) img.addEventListener('error', () => { img.src = full; }, { once: true });
    return h('span', { class: `logo logo-${size}` }, img);
  }
  return h('span', { class: `logo logo-${size} logo-placeholder ${hueClass(company.name)}`, 'aria-hidden': 'true' },
    initials(company.name));
}

export function phoneDigits(phone) {
  return String(phone || '').replace(/\D/g, '');
}

// E.164 as people read it: Chilean mobiles `+56 9 1234 5678`, other Chilean numbers
// `+56 2 2345 6789`; anything else as stored.
export function formatPhone(phone) {
  const m = /^\+56(9|2)(\d{4})(\d{4})$/.exec(phone || '');
  if (m) return `+56 ${m[1]} ${m[2]} ${m[3]}`;
  const m2 = /^\+56(\d{2})(\d{3})(\d{4})$/.exec(phone || '');
  if (m2) return `+56 ${m2[1]} ${m2[2]} ${m2[3]}`;
  return phone || '';
}

export function telHref(phone) {
  return `tel:${String(phone || '').replace(/[^\d+]/g, '')}`;
}

export function mailtoHref(email) {
  return `mailto:${encodeURIComponent(email || '').replace(/%40/g, '@')}`;
}

// WhatsApp lives on mobiles: in Chile those are +56 9…; a Chilean landline (+56 2…, +56 71…)
// gets no button. Foreign numbers cannot be told apart here, so they keep it.
export function hasWhatsapp(phone) {
  const digits = phoneDigits(phone);
  if (!digits) return false;
  return !digits.startsWith('56') || digits.startsWith('569');
}

export function whatsappHref(phone) {
  return `https://wa.me/${phoneDigits(phone)}`;
}

export function mapsHref(company) {
  const query = [company.address, company.commune_name, 'Chile'].filter(Boolean).join(', ');
  return `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(query)}`;
}

// Small inline icons (SVG built with DOM calls; no markup strings).
const ICONS = {
  phone: 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z',
  mail: 'M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2zm0 2v.5l8 5 8-5V7H4zm16 2.8-8 5-8-5V17h16V9.8z',
  whatsapp: 'M12 2a10 10 0 0 0-8.6 15.1L2 22l5-1.3A10 10 0 1 0 12 2zm0 18.2a8.2 8.2 0 0 1-4.2-1.2l-.3-.2-3 .8.8-2.9-.2-.3A8.2 8.2 0 1 1 12 20.2zm4.5-6.1c-.25-.12-1.46-.72-1.69-.8-.23-.08-.39-.12-.56.12-.17.25-.64.8-.78.97-.14.17-.29.19-.54.06a6.7 6.7 0 0 1-3.3-2.9c-.25-.43.25-.4.71-1.33.08-.17.04-.31-.02-.43-.06-.12-.56-1.34-.76-1.84-.2-.48-.4-.41-.56-.42h-.48a.92.92 0 0 0-.66.31 2.8 2.8 0 0 0-.87 2.07 4.85 4.85 0 0 0 1.02 2.57 11.1 11.1 0 0 0 4.25 3.76c1.58.68 2.2.74 2.99.62.48-.07 1.46-.6 1.67-1.18.2-.58.2-1.07.14-1.18-.06-.1-.23-.17-.48-.29z',
  pin: 'M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z',
  tag: 'M21.4 11.6 12.4 2.6A2 2 0 0 0 11 2H4a2 2 0 0 0-2 2v7a2 2 0 0 0 .6 1.4l9 9a2 2 0 0 0 2.8 0l7-7a2 2 0 0 0 0-2.8zM6.5 8A1.5 1.5 0 1 1 8 6.5 1.5 1.5 0 0 1 6.5 8z',
  search: 'M10 2a8 8 0 0 1 6.3 12.9l5.4 5.4-1.4 1.4-5.4-5.4A8 8 0 1 1 10 2zm0 2a6 6 0 1 0 0 12 6 6 0 0 0 0-12z',
  back: 'M20 11H7.8l5.6-5.6L12 4l-8 8 8 8 1.4-1.4L7.8 13H20z',
  globe: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm6.9 6h-3a15.7 15.7 0 0 0-1.4-3.6A8 8 0 0 1 18.9 8zM12 4a14 14 0 0 1 1.9 4h-3.8A14 14 0 0 1 12 4zM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4zm.8 2h3a15.7 15.7 0 0 0 1.4 3.6A8 8 0 0 1 5.1 16zm3-8h-3a8 8 0 0 1 4.3-3.6A15.7 15.7 0 0 0 8.1 8zM12 20a14 14 0 0 1-1.9-4h3.8A14 14 0 0 1 12 20zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4zm.3 5.6a15.7 15.7 0 0 0 1.4-3.6h3a8 8 0 0 1-4.4 3.6zM16.3 14a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4z',
};

export function icon(name, cls = 'icon') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.appendChild(path);
  return svg;
}

// The description in `lang` and whether it is a machine translation (or still pending one,
// in which case the API already shows the original text).
export function description(company, lang) {
  const text = lang === 'en' ? company.description_en : company.description_es;
  const source = lang === 'en' ? company.description_en_source : company.description_es_source;
  return { text: text || '', source: source || 'original' };
}

export function productLabel(company, lang) {
  if (company.product_name) return company.product_name;
  return lang === 'en' ? company.product_name_en : company.product_name_es;
}

// Call / email / WhatsApp buttons. `labels` = {call, email, whatsapp, callAria, ...}.
export function contactButtons(company, labels) {
  return h('div', { class: 'contact-actions' },
    company.phone && h('a', { class: 'btn btn-primary btn-contact', href: telHref(company.phone), 'aria-label': labels.callAria },
      icon('phone'), h('span', {}, labels.call)),
    hasWhatsapp(company.phone) && h('a', {
      class: 'btn btn-whatsapp btn-contact', href: whatsappHref(company.phone), target: '_blank', rel: 'noopener noreferrer',
      'aria-label': labels.whatsappAria,
    }, icon('whatsapp'), h('span', {}, labels.whatsapp)),
    company.email && h('a', { class: 'btn btn-secondary btn-contact', href: mailtoHref(company.email), 'aria-label': labels.emailAria },
      icon('mail'), h('span', {}, labels.email)),
  );
}

// --- The richer profile: website, RUT, categories, year, size, regions served, gallery ---

export const PROFILE_STRINGS = {
  es: {
    website: 'Sitio web',
    rut: 'RUT',
    categories: 'Categorías',
    yearFounded: 'Fundada en',
    sizeBand: 'Tamaño',
    sizePeople: '{band} personas',
    serves: 'Atiende',
    allChile: 'todo Chile',
    gallery: 'Fotos',
    photo: 'Foto {n} de {name}',
    photoPending: 'En revisión',
  },
  en: {
    website: 'Website',
    rut: 'RUT',
    categories: 'Categories',
    yearFounded: 'Founded in',
    sizeBand: 'Size',
    sizePeople: '{band} people',
    serves: 'Serves',
    allChile: 'all of Chile',
    gallery: 'Photos',
    photo: 'Photo {n} of {name}',
    photoPending: 'Under review',
  },
};

function ps(lang, key, params = {}) {
  const text = (PROFILE_STRINGS[lang] || PROFILE_STRINGS.es)[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

// The website as people read it (no scheme, no trailing slash).
export function websiteLabel(url) {
  return String(url || '').replace(/^https?:\/\//i, '').replace(/\/$/, '');
}

// A link to the company's own site: user content, so search engines are told not to vouch for
// it (nofollow ugc) and the new tab gets no handle on this page (noopener).
export function websiteLink(url) {
  return h('a', { href: url, rel: 'nofollow ugc noopener', target: '_blank', class: 'break website-link' },
    icon('globe', 'icon icon-sm'), websiteLabel(url));
}

export function categoryNames(company, lang) {
  const extra = (company.extra_products || []).map((p) => (lang === 'en' ? p.name_en : p.name_es));
  return [productLabel(company, lang), ...extra].filter(Boolean);
}

export function servedRegionsText(company, lang) {
  if (company.serves_all_chile) return ps(lang, 'allChile');
  return (company.served_regions || [company.commune_region]).filter(Boolean).join(', ');
}

// `<div><dt/><dd/></div>` rows for a `<dl>`: only what the company filled in.
export function profileFacts(company, lang) {
  const row = (key, value, cls = 'fact') => h('div', { class: cls, 'data-fact': key }, h('dt', {}, ps(lang, key)), h('dd', {}, value));
  const categories = categoryNames(company, lang);
  return [
    company.website && row('website', websiteLink(company.website)),
    company.rut_formatted && row('rut', company.rut_formatted),
    categories.length > 1 && row('categories', categories.join(' · ')),
    company.year_founded && row('yearFounded', String(company.year_founded)),
    company.size_band && row('sizeBand', ps(lang, 'sizePeople', { band: company.size_band })),
    row('serves', servedRegionsText(company, lang)),
  ].filter(Boolean);
}

// The public gallery: thumbnails that open the full photo.
export function gallery(company, lang) {
  const photos = (company.photos || []).filter((p) => p.image_url);
  if (!photos.length) return null;
  return h('section', { class: 'card profile-gallery', 'aria-labelledby': 'gallery-title' },
    h('h2', { id: 'gallery-title' }, ps(lang, 'gallery')),
    h('ul', { class: 'gallery-grid' }, photos.map((photo, i) => h('li', {},
      h('a', { href: photo.image_url, class: 'gallery-link' },
        h('img', { src: photo.thumbnail_url || photo.image_url, alt: ps(lang, 'photo', { n: i + 1, name: company.name }),
          loading: 'lazy', decoding: 'async', width: '256', height: '256' }))))));
}
