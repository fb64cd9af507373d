// Chile's 16 regions as the catalogue names them, north to south, and how each is named in a
// sentence ("Región de Valparaíso", "Santiago Metropolitan Region"). A mirror of REGIONS and
// REGION_TITLES in `catalog/data.py` (`tests/catalog/test_regions_mirror.py` keeps them equal).
export const REGION_TITLES = {
  'Arica y Parinacota': { es: 'Región de Arica y Parinacota', en: 'Arica y Parinacota Region' },
  'Tarapacá': { es: 'Región de Tarapacá', en: 'Tarapacá Region' },
  'Antofagasta': { es: 'Región de Antofagasta', en: 'Antofagasta Region' },
  'Atacama': { es: 'Región de Atacama', en: 'Atacama Region' },
  'Coquimbo': { es: 'Región de Coquimbo', en: 'Coquimbo Region' },
  'Valparaíso': { es: 'Región de Valparaíso', en: 'Valparaíso Region' },
  'Metropolitana de Santiago': { es: 'Región Metropolitana de Santiago', en: 'Santiago Metropolitan Region' },
  "Libertador General Bernardo O'Higgins": { es: "Región de O'Higgins", en: "O'Higgins Region" },
  'Maule': { es: 'Región del Maule', en: 'Maule Region' },
  'Ñuble': { es: 'Región de Ñuble', en: 'Ñuble Region' },
  'Biobío': { es: 'Región del Biobío', en: 'Biobío Region' },
  'La Araucanía': { es: 'Región de La Araucanía', en: 'La Araucanía Region' },
  'Los Ríos': { es: 'Región de Los Ríos', en: 'Los Ríos Region' },
  'Los Lagos': { es: 'Región de Los Lagos', en: 'Los Lagos Region' },
  'Aysén del General Carlos Ibáñez del Campo': { es: 'Región de Aysén', en: 'Aysén Region' },
  'Magallanes y de la Antártica Chilena': { es: 'Región de Magallanes', en: 'Magallanes Region' },
};

// North to south (the object's insertion order).
export const REGIONS = Object.keys(REGION_TITLES);

// "Región de Valparaíso" / "Valparaíso Region"; a name we do not know stays as it is.
export function regionTitle(name, lang) {
  return REGION_TITLES[name]?.[lang === 'en' ? 'en' : 'es'] || name;
}

// Sorts region names north to south; unknown ones go last, alphabetically.
export function byRegionOrder(a, b) {
  const ia = REGIONS.indexOf(a);
  const ib = REGIONS.indexOf(b);
  if (ia !== ib) return (ia < 0 ? REGIONS.length : ia) - (ib < 0 ? REGIONS.length : ib);
  return a.localeCompare(b, 'es');
}
