// Suggestions under the search box as the reader types (WAI-ARIA combobox with a listbox):
// debounced requests to /api/v1/search/suggest, answers that arrive late are dropped; ↑/↓ move,
// Enter picks (or submits the form when nothing is chosen), Esc closes; a tap picks.
import { h } from '../dom.js';
import { suggest } from './api.js';

const DEBOUNCE_MS = 150;
const TYPE_NAMES = { author: '作者', title: '书名', series: '丛书' };

/**
 * Wire the suggestion list. `onPick(text)` runs when one is chosen.
 * Returns {quiet()}: closes the list and forgets pending requests (after a search).
 */
export function createSuggest({ input, list, onPick }) {
  let items = [];
  let active = -1;
  let timer = 0;
  let seq = 0; // the latest request; older answers are ignored
  let composing = false;

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (!open) setActive(-1);
  }

  function setActive(i) {
    active = i;
    const options = list.children;
    for (let k = 0; k < options.length; k++) {
      const on = k === i;
      options[k].setAttribute('aria-selected', on ? 'true' : 'false');
      options[k].classList.toggle('sx-suggest__item_active', on);
    }
    if (i >= 0 && options[i]) {
      input.setAttribute('aria-activedescendant', options[i].id);
      options[i].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function render(suggestions) {
    const seen = new Set();
    items = [];
    for (const s of suggestions) {
      if (!s || typeof s.text !== 'string' || !s.text) continue;
      const key = s.type + '\u0000' + s.text;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(s);
    }
    list.replaceChildren(
      ...items.map((s, i) =>
        h(
          'li',
          {
            id: 'sx-suggest-' + i,
            class: 'sx-suggest__item',
            role: 'option',
            'aria-selected': 'false',
            'data-index': i,
            'data-type': s.type,
            'data-testid': 'suggestion',
          },
          h('span', { class: 'sx-suggest__text' }, s.text),
          h('span', { class: 'sx-suggest__type sx-suggest__type_' + s.type }, TYPE_NAMES[s.type] || s.type || ''),
        ),
      ),
    );
    setOpen(items.length > 0 && document.activeElement === input);
  }

  async function fetchFor(q) {
    const mine = ++seq;
    let suggestions = [];
    try {
      suggestions = await suggest(q);
    } catch (e) {
      suggestions = []; // suggestions are a convenience: a failure just shows none
    }
    if (mine === seq && input.value.trim() === q) render(suggestions);
  }

  function schedule() {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      seq++;
      items = [];
      list.replaceChildren();
      setOpen(false);
      return;
    }
    timer = setTimeout(() => fetchFor(q), DEBOUNCE_MS);
  }

  function pick(i) {
    const s = items[i];
    if (!s) return;
    quiet();
    input.value = s.text;
    onPick(s.text);
  }

  function quiet() {
    clearTimeout(timer);
    seq++;
    setOpen(false);
    items = [];
    list.replaceChildren();
  }

  input.addEventListener('compositionstart', () => {
    composing = true;
  });
  input.addEventListener('compositionend', () => {
    composing = false;
    schedule();
  });
  input.addEventListener('input', () => {
    if (!composing) schedule();
  });
  input.addEventListener('keydown', (e) => {
    if (e.isComposing || e.keyCode === 229) return; // the input method's own keys
    const open = !list.hidden;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!items.length) return;
      e.preventDefault();
      if (!open) setOpen(true);
      const step = e.key === 'ArrowDown' ? 1 : -1;
      const n = items.length;
      setActive(active < 0 ? (step > 0 ? 0 : n - 1) : (active + step + n) % n);
    } else if (e.key === 'Enter' && open && active >= 0) {
      e.preventDefault();
      pick(active);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
    }
  });
  input.addEventListener('focus', () => {
    if (items.length && input.value.trim()) setOpen(true);
  });
  input.addEventListener('blur', () => setOpen(false));
  // Keep the focus in the box while a suggestion is pressed, so blur does not close the list
  // before the click arrives.
  list.addEventListener('mousedown', (e) => e.preventDefault());
  list.addEventListener('click', (e) => {
    const li = e.target.closest('[role=option]');
    if (li) pick(Number(li.dataset.index));
  });

  return { quiet };
}
