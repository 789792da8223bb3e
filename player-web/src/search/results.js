// One search hit as a list item, and the result groups (电子书 / 有声书 / 视频 / 纸本图书).
// Titles and snippets carry the API's highlight ranges (highlight.js); every string goes in as
// text, never markup.
import { h } from '../dom.js';
import { authorsText, formatClock } from '../uploads/format.js';
import { appendHighlighted } from './highlight.js';
import { KIND_ORDER, kindName } from './labels.js';

const COVER_COLOURS = 6; // sx-cover-none_c0 … _c5 in search.css

/** Where a title leads: the resource's page (a placeholder until the resource page exists). */
export function resourceHref(id) {
  return '/?resource=' + encodeURIComponent(id);
}

/** Where a snippet leads: the reader, opened at the passage (the chapter and character offset). */
export function readHref(id, snippet) {
  const p = new URLSearchParams();
  p.set('id', String(id));
  if (snippet && snippet.href) p.set('href', snippet.href);
  if (snippet && Number.isFinite(snippet.offset)) p.set('offset', String(snippet.offset));
  return '/read/?' + p.toString();
}

function cover(res) {
  const thumb = res.cover && res.cover.thumb;
  if (thumb && thumb.url) {
    const img = h('img', {
      class: 'sx-hit__cover',
      src: thumb.url,
      width: thumb.width || 300,
      height: thumb.height || 450,
      alt: '',
      loading: 'lazy',
      decoding: 'async',
    });
    if (!thumb.webp) return img;
    return h('picture', null, h('source', { type: 'image/webp', srcset: thumb.webp }), img);
  }
  const first = Array.from(res.title || '书')[0];
  const colour = Math.abs(Number(res.id) || 0) % COVER_COLOURS;
  return h('div', { class: 'sx-hit__cover sx-cover-none sx-cover-none_c' + colour, 'data-testid': 'hit-nocover' }, first);
}

function metaLine(res) {
  const parts = [kindName(res.kind)];
  if (res.category && res.category.name) parts.push(res.category.name);
  if ((res.kind === 'audiobook' || res.kind === 'video') && Number(res.duration_ms) > 0) {
    parts.push('时长 ' + formatClock(res.duration_ms / 1000));
  }
  return parts.filter(Boolean).join(' · ');
}

/** The <li> of one hit. */
export function hitItem(hit) {
  const res = hit.resource || {};
  const title = h('a', { class: 'sx-hit__title-link', href: resourceHref(res.id), 'data-testid': 'hit-title' });
  if (hit.title && typeof hit.title.text === 'string') appendHighlighted(title, hit.title.text, hit.title.highlights);
  else title.textContent = res.title || '（无题名）';

  let snippet = null;
  if (hit.snippet && typeof hit.snippet.text === 'string' && hit.snippet.text) {
    const quote = h('span', { class: 'sx-hit__snippet-text' }, h('span', { class: 'sx-hit__snippet-label' }, '书中'));
    appendHighlighted(quote, hit.snippet.text, hit.snippet.highlights);
    snippet = h('a', { class: 'sx-hit__snippet', href: readHref(res.id, hit.snippet), 'data-testid': 'hit-snippet' }, quote);
  }

  const authors = authorsText(res.authors);
  return h(
    'li',
    { class: 'sx-hit', 'data-testid': 'hit', 'data-resource-id': res.id, 'data-kind': res.kind },
    h('a', { class: 'sx-hit__cover-link', href: resourceHref(res.id), tabindex: '-1', 'aria-hidden': 'true' }, cover(res)),
    h(
      'div',
      { class: 'sx-hit__body' },
      h('h3', { class: 'sx-hit__title' }, title),
      authors ? h('p', { class: 'sx-hit__authors', 'data-testid': 'hit-authors' }, authors) : null,
      h('p', { class: 'sx-hit__meta', 'data-testid': 'hit-meta' }, metaLine(res)),
      snippet,
    ),
  );
}

/**
 * The result list: one section per kind, made as hits of that kind arrive. `groups` is the API's
 * count per kind for the whole result (not just the pages shown).
 */
export function createGroups(container) {
  const sections = new Map(); // kind -> {section, list, count}
  let groups = {};

  function order(kind) {
    const i = KIND_ORDER.indexOf(kind);
    return i < 0 ? KIND_ORDER.length : i;
  }

  function sectionFor(kind) {
    let g = sections.get(kind);
    if (g) return g;
    const count = h('span', { class: 'sx-group__count', 'data-testid': 'group-count' });
    const heading = h('h2', { class: 'sx-group__title', id: 'group-' + kind }, kindName(kind) || '其他', count);
    const list = h('ul', { class: 'sx-hits' });
    const section = h(
      'section',
      { class: 'sx-group', 'data-kind': kind, 'data-testid': 'group', 'aria-labelledby': 'group-' + kind },
      heading,
      list,
    );
    g = { section, list, count };
    sections.set(kind, g);
    // Keep the sections in KIND_ORDER whatever order their first hits came in.
    const after = [...sections.entries()]
      .filter(([k]) => k !== kind && order(k) > order(kind))
      .sort((a, b) => order(a[0]) - order(b[0]))[0];
    container.insertBefore(section, after ? after[1].section : null);
    return g;
  }

  function updateCounts() {
    for (const [kind, g] of sections) {
      const n = Number(groups[kind]) || g.list.children.length;
      g.count.textContent = n + ' 条';
    }
  }

  return {
    clear() {
      sections.clear();
      groups = {};
      container.replaceChildren();
    },
    /** Add a page of hits; `pageGroups` from the same answer. */
    append(hits, pageGroups) {
      if (pageGroups && typeof pageGroups === 'object') groups = pageGroups;
      for (const hit of hits) {
        const kind = (hit.resource && hit.resource.kind) || 'other';
        sectionFor(kind).list.append(hitItem(hit));
      }
      updateCounts();
    },
  };
}
