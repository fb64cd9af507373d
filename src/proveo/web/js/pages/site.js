// The pages the server renders (company profiles, landing pages, the 404 page): they work
// without scripts; this adds the header's user menu and the language toggle, which on these
// pages goes to the other language's address (the page's `hreflang` alternate).
import { initPage } from '/js/layout.js';

await initPage();
