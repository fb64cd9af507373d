// The verification result page (served by the API with both languages): show the reader's.
import { qsa } from '../dom.js';
import { getLang, onLangChange } from '../i18n.js';
import { initPage } from '../layout.js';

function show() {
  const lang = getLang();
  const sections = qsa('.verify-lang');
  const match = sections.some((section) => section.dataset.lang === lang);
  for (const section of sections) section.hidden = match && section.dataset.lang !== lang;
  const heading = sections.find((section) => !section.hidden)?.querySelector('h1');
  if (heading) document.title = `${heading.textContent} · Proveo`;
}

show();
// After initPage: its own language listener resets the title, this one sets it again.
initPage().then(() => {
  show();
  onLangChange(show);
});
