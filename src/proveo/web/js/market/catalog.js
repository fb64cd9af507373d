// The catalogue lists (products, communes) for pickers and filter labels. The server sends them
// with validators, so the browser cache answers repeated loads; one fetch per page here.
import { api } from '/js/api.js';

let products = null;
let communes = null;

export function loadProducts() {
  products ??= api('/products/').catch((err) => {
    products = null; // a failure is not cached: the next call tries again
    throw err;
  });
  return products;
}

export function loadCommunes() {
  communes ??= api('/communes/').catch((err) => {
    communes = null;
    throw err;
  });
  return communes;
}

export function productName(product, lang) {
  return lang === 'en' ? product.name_en : product.name_es;
}

const collator = (lang) => new Intl.Collator(lang === 'en' ? 'en' : 'es', { sensitivity: 'base' });

export function sortedProducts(list, lang) {
  const c = collator(lang);
  return [...list].sort((a, b) => c.compare(productName(a, lang), productName(b, lang)));
}

// Communes grouped by region (regions and communes alphabetical) for <optgroup>s.
export function communesByRegion(list, lang) {
  const c = collator(lang);
  const groups = new Map();
  for (const commune of list) {
    if (!groups.has(commune.region)) groups.set(commune.region, []);
    groups.get(commune.region).push(commune);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => c.compare(a, b))
    .map(([region, items]) => ({ region, items: items.sort((a, b) => c.compare(a.name, b.name)) }));
}
