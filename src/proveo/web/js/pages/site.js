// The pages the server renders (company profiles, landing pages, the 404 page): they work
// without scripts; this adds the header's user menu and the language toggle, which on these
// pages goes to the other language's address (the page's `hreflang` alternate), and on a
// company's page counts clicks on its contact links.
import { initPage } from '/js/layout.js';
import { trackContactClicks } from '/js/market/contact-clicks.js';

trackContactClicks(document.querySelector('[data-company-uuid]'));
await initPage();
