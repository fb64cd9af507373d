// A type-to-filter combobox (WAI-ARIA "combobox with listbox popup", list autocomplete):
// typing filters the options without accents or case; ArrowDown/ArrowUp move through them
// (aria-activedescendant; focus stays in the input), Enter chooses, Escape closes the list
// (or, when closed, clears the text), Alt+ArrowDown opens it. The chosen value is kept in
// `input.dataset.value`; the text alone never counts as a choice unless it names one option.
import { h } from '/js/dom.js';

export function fold(text) {
  return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
}

const MAX_SHOWN = 60;

// `options`: [{value, label, group}] in display order. `name` and `id` go to the input.
export function combobox({ id, name, options, placeholder = '', required = false, emptyText = '', onChange = null }) {
  const listId = `${id}-listbox`;
  const input = h('input', {
    type: 'text', id, name, role: 'combobox', autocomplete: 'off', spellcheck: 'false',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
    placeholder, required, class: 'combobox-input',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'combobox-list', hidden: true });
  const wrapper = h('div', { class: 'combobox' }, input, list);
  let shown = [];
  let active = -1;

  const byValue = new Map(options.map((option) => [option.value, option]));

  function setActive(index) {
    const items = list.querySelectorAll('[role="option"]');
    items.forEach((item, i) => {
      item.setAttribute('aria-selected', String(i === index));
      item.classList.toggle('is-active', i === index);
    });
    active = index;
    if (index >= 0 && items[index]) {
      input.setAttribute('aria-activedescendant', items[index].id);
      items[index].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function open() {
    const query = fold(input.value);
    const chosen = byValue.get(input.dataset.value || '');
    // With a choice made and its label shown, the whole list is offered again.
    const filtering = query && !(chosen && fold(chosen.label) === query);
    shown = options.filter((option) => !filtering || fold(option.label).includes(query)
      || fold(option.group).includes(query));
    // Names that start with the text first.
    if (filtering) {
      shown.sort((a, b) => Number(!fold(a.label).startsWith(query)) - Number(!fold(b.label).startsWith(query)));
    }
    list.replaceChildren(...shown.slice(0, MAX_SHOWN).map((option, i) => h('li', {
      id: `${id}-option-${i}`, role: 'option', 'aria-selected': 'false', class: 'combobox-option',
      'data-value': option.value,
      on: {
        // mousedown, not click: the input keeps the focus (no blur closing the list first).
        mousedown: (event) => { event.preventDefault(); choose(option); close(); },
      },
    }, option.label, option.group && h('span', { class: 'combobox-group' }, ` · ${option.group}`))));
    if (!shown.length && emptyText) list.append(h('li', { class: 'combobox-empty', role: 'presentation' }, emptyText));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    setActive(shown.length && filtering ? 0 : -1);
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function choose(option) {
    const before = input.dataset.value || '';
    input.value = option ? option.label : '';
    input.dataset.value = option ? option.value : '';
    if (onChange && before !== input.dataset.value) onChange(input.dataset.value);
  }

  input.addEventListener('input', () => {
    // Typing undoes a choice unless the text still names it.
    const chosen = byValue.get(input.dataset.value || '');
    if (!chosen || fold(chosen.label) !== fold(input.value)) input.dataset.value = '';
    open();
  });
  input.addEventListener('keydown', (event) => {
    const count = Math.min(shown.length, MAX_SHOWN);
    const isOpen = !list.hidden;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!isOpen || event.altKey) { open(); if (event.altKey) return; }
      if (count) setActive(active < count - 1 ? active + 1 : 0);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      if (!isOpen) open();
      if (count) setActive(active > 0 ? active - 1 : count - 1);
    } else if (event.key === 'Enter') {
      if (isOpen && active >= 0 && shown[active]) {
        event.preventDefault(); // choosing is not submitting the form
        choose(shown[active]);
        close();
      }
    } else if (event.key === 'Escape') {
      if (isOpen) {
        event.preventDefault();
        close();
      } else if (input.value) {
        event.preventDefault();
        choose(null);
      }
    } else if (event.key === 'Tab' && isOpen) {
      close();
    }
  });
  input.addEventListener('blur', () => {
    // Text that names exactly one option (without accents or case) is that choice.
    if (!input.dataset.value && input.value.trim()) {
      const exact = options.filter((option) => fold(option.label) === fold(input.value));
      if (exact.length === 1) choose(exact[0]);
    }
    close();
  });
  input.addEventListener('click', () => { if (list.hidden) open(); });

  function setValue(value) {
    const option = byValue.get(value);
    input.value = option ? option.label : '';
    input.dataset.value = option ? option.value : '';
  }
  // What the form's setValues uses, knowing only the input.
  input.addEventListener('combobox:set', (event) => setValue(event.detail));

  return { element: wrapper, input, setValue };
}
