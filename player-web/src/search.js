// Reader search page (/search/): one box over e-books, audiobooks, videos (and, later, the paper
// catalogue). Suggestions as the reader types, hits grouped by kind with highlighted titles and
// passages, facet chips that filter, 加载更多, and the state in the URL (?q=…&kind=…) so that a
// reload, a shared link and back/forward all show the same results.
//
// The parts (search/):
//   api.js        the two API calls
//   suggest.js    the suggestion list under the box (combobox)
//   results.js    a hit, and the groups by kind
//   highlight.js  [start, length] ranges → text nodes and <mark>
//   labels.js     Chinese names for kinds, CLC classes, languages; "does this look like pinyin"
//   state.js      the URL state
// Nothing here writes style="" attributes or HTML strings (CSP; text is always text).
import './search-page.css';
import { errorText } from './api.js';
import { $, busy, h, setText, show } from './dom.js';
import { searchPage } from './search/api.js';
import { FACETS, facetLabel, looksLikePinyin } from './search/labels.js';
import { createGroups } from './search/results.js';
import { pushState, readState } from './search/state.js';
import { createSuggest } from './search/suggest.js';

const PAGE_SIZE = 20;
const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

const els = {
  form: $('search-form'),
  q: $('q'),
  clear: $('clear'),
  suggest: $('suggest-list'),
  filters: $('filters'),
  activeFilters: $('active-filters'),
  facets: $('facets'),
  status: $('status'),
  notices: $('notices'),
  error: $('search-error'),
  idle: $('idle'),
  empty: $('empty'),
  emptyText: $('empty-text'),
  emptyFilterTip: $('empty-filter-tip'),
  loading: $('loading'),
  results: $('results'),
  more: $('more'),
};

const groups = createGroups(els.results);
const categoryNames = {}; // category code -> name, from every answer seen
let state = readState(location.search); // what is shown (or being fetched)
let cursor = null; // next_cursor of the last page shown
let seq = 0; // the latest search; older answers are dropped
let refocusFilters = false; // a chip was used: give the focus back to the chips once redrawn

const suggestions = createSuggest({
  input: els.q,
  list: els.suggest,
  onPick: (text) => newSearch(text),
});

function filterLabel(param, value) {
  return facetLabel(param, value, param === 'category' ? categoryNames : null);
}

function facetTitle(param) {
  return (FACETS.find((f) => f.param === param) || {}).title || param;
}

function chip(param, value, text, count, active) {
  const label = h('span', { class: 'sx-chip__label' }, text);
  const attrs = {
    type: 'button',
    class: 'sx-chip' + (active ? ' sx-chip_active' : ''),
    'data-param': param,
    'data-value': value,
    'data-testid': active ? 'active-filter' : 'facet',
  };
  if (active) {
    attrs['aria-label'] = '取消筛选：' + facetTitle(param) + ' ' + text;
    return h(
      'button',
      attrs,
      h('span', { class: 'sx-chip__dim' }, facetTitle(param)),
      label,
      h('span', { class: 'sx-chip__x', 'aria-hidden': 'true' }, '×'),
    );
  }
  attrs['aria-label'] = facetTitle(param) + '：' + text + '，' + count + ' 条';
  return h('button', attrs, label, h('span', { class: 'sx-chip__count' }, String(count)));
}

function renderFilters(facets) {
  const active = FACETS.filter((f) => state[f.param]).map((f) =>
    chip(f.param, state[f.param], filterLabel(f.param, state[f.param]), 0, true),
  );
  els.activeFilters.replaceChildren(...active);
  show(els.activeFilters, active.length > 0);

  const rows = [];
  for (const f of FACETS) {
    const values = ((facets && facets[f.param]) || []).filter(
      (v) => v && v.value != null && String(v.value) !== state[f.param],
    );
    if (state[f.param] || values.length === 0) continue;
    rows.push(
      h(
        'div',
        { class: 'sx-facet', role: 'group', 'aria-label': f.title, 'data-param': f.param },
        h('span', { class: 'sx-facet__title', 'aria-hidden': 'true' }, f.title),
        h(
          'div',
          { class: 'sx-chips' },
          ...values.map((v) => chip(f.param, String(v.value), filterLabel(f.param, v.value), v.count, false)),
        ),
      ),
    );
  }
  els.facets.replaceChildren(...rows);
  show(els.filters, active.length > 0 || rows.length > 0);
  if (refocusFilters) {
    refocusFilters = false;
    (els.filters.querySelector('button') || els.q).focus({ preventScroll: true });
  }
}

function renderNotices(query) {
  const notes = [];
  const typed = state.q;
  const folded = query && typeof query.folded === 'string' ? query.folded.trim() : typed;
  if (folded && folded !== typed && HAN.test(typed)) notes.push('已按简体「' + folded + '」搜索');
  if (looksLikePinyin(typed)) notes.push('已同时按拼音「' + typed + '」查找书名和作者');
  if (query && query.isbn) notes.push('按 ISBN ' + query.isbn + ' 查找');
  els.notices.replaceChildren(...notes.map((t) => h('p', { class: 'sx-notice', 'data-testid': 'search-notice' }, t)));
}

function renderStatus(data) {
  const total = Number(data.total) || 0;
  // With no hits the empty state says it on screen; the status line still tells screen readers.
  els.status.classList.toggle('sx-visually-hidden', total === 0);
  if (total === 0) setText(els.status, '没有找到「' + state.q + '」');
  else setText(els.status, '找到 ' + total + (data.total_is_capped ? '+' : '') + ' 条结果');
}

/** `idle`, `loading`, `done` or `error`, with the query, on <body> (for tests and styling). */
function setPhase(phase) {
  document.body.dataset.searchState = phase;
  document.body.dataset.searchQ = state.q;
}

function showError(message) {
  setText(els.error, message);
  show(els.error, !!message);
}

function resetView() {
  groups.clear();
  cursor = null;
  show(els.more, false);
  show(els.empty, false);
  show(els.idle, false);
  showError('');
  setText(els.status, '');
  els.status.classList.remove('sx-visually-hidden');
  els.notices.replaceChildren();
}

/** Show `next` (already in the URL): the first page of its hits, or the idle state. */
async function load(next) {
  state = next;
  const mine = ++seq;
  els.q.value = state.q;
  resetView();
  if (!state.q) {
    document.title = '搜索 · 书香';
    renderFilters(null);
    show(els.loading, false);
    show(els.idle);
    setPhase('idle');
    return;
  }
  document.title = '「' + state.q + '」的搜索结果 · 书香';
  show(els.loading);
  els.results.setAttribute('aria-busy', 'true');
  setPhase('loading');
  let data;
  try {
    data = await searchPage({ ...state, limit: PAGE_SIZE });
  } catch (e) {
    if (mine !== seq) return;
    show(els.loading, false);
    els.results.removeAttribute('aria-busy');
    renderFilters(null);
    showError(errorText(e, '搜索失败，请检查网络后重试'));
    setText(els.status, '搜索失败');
    setPhase('error');
    return;
  }
  if (mine !== seq) return;
  show(els.loading, false);
  els.results.removeAttribute('aria-busy');
  showPage(data, true);
  setPhase('done');
}

function remember(facets) {
  for (const v of (facets && facets.category) || []) if (v && v.value != null && v.name) categoryNames[v.value] = v.name;
}

function showPage(data, first) {
  const hits = Array.isArray(data.hits) ? data.hits : [];
  if (first) {
    remember(data.facets);
    renderFilters(data.facets);
    renderNotices(data.query);
    renderStatus(data);
    setText(els.emptyText, '没有找到「' + state.q + '」');
    show(els.emptyFilterTip, FACETS.some((f) => state[f.param]));
    show(els.empty, hits.length === 0);
  }
  groups.append(hits, data.groups);
  cursor = data.next_cursor || null;
  show(els.more, !!cursor);
}

async function loadMore() {
  if (!cursor) return;
  const mine = seq;
  await busy(els.more, async () => {
    let data;
    try {
      data = await searchPage({ ...state, cursor, limit: PAGE_SIZE });
    } catch (e) {
      if (mine === seq) showError(errorText(e, '加载失败，请稍后再试'));
      return;
    }
    if (mine !== seq) return;
    showError('');
    showPage(data, false);
  });
}

/** Search for what the reader typed or picked: a new history entry, filters cleared. */
function newSearch(text) {
  suggestions.quiet();
  const next = { q: String(text || '').trim() };
  for (const f of FACETS) next[f.param] = '';
  go(next);
  els.q.blur(); // close the phone keyboard so the results show
}

function go(next) {
  pushState(next);
  window.scrollTo(0, 0);
  load(next);
}

els.form.addEventListener('submit', (e) => {
  e.preventDefault();
  newSearch(els.q.value);
});

els.clear.addEventListener('click', () => {
  els.q.value = '';
  els.q.dispatchEvent(new Event('input'));
  els.q.focus();
});

// A facet chip filters; an active one, tapped, removes its filter.
els.filters.addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-param]');
  if (!btn) return;
  const param = btn.dataset.param;
  const next = { ...state, [param]: btn.dataset.testid === 'active-filter' ? '' : btn.dataset.value };
  refocusFilters = true;
  go(next);
});

els.more.addEventListener('click', loadMore);

window.addEventListener('popstate', () => {
  suggestions.quiet();
  load(readState(location.search));
});

load(state);
if (!state.q) els.q.focus();
