// The resources panel of 上传与任务: the newest resources with cover, title and authors, page by
// page; reloaded shortly after a job that made resources ends. A title opens its dialog
// (#resource-<id>, resource-dialog.js).
import { errorText, resources as resApi } from '../api.js';
import { $, busy, h, setText, show } from '../dom.js';
import { authorsText, FORMAT_LABELS, resourceHref } from './format.js';

const RES_PAGE = 24;

/** A resource's cover ('thumb' for the list, 'cover' for the dialog), or its first letter. */
export function coverImg(res, which, cls) {
  const c = res.cover;
  const img = c && (which === 'thumb' ? c.thumb : c);
  if (!img || !img.url) {
    return h('div', { class: cls + ' up-nocover', 'aria-hidden': 'true' }, (res.title || '书').slice(0, 1));
  }
  return h('img', {
    class: cls,
    src: img.url,
    width: img.width || null,
    height: img.height || null,
    alt: which === 'thumb' ? '' : '《' + (res.title || '') + '》封面',
    loading: 'lazy',
    decoding: 'async',
    'data-testid': which === 'thumb' ? 'resource-cover' : 'resource-dialog-cover',
  });
}

function resourceCard(res) {
  const format = FORMAT_LABELS[res.format] || res.format || '';
  const meta = [format, res.category && res.category.name].filter(Boolean).join(' · ');
  return h(
    'li',
    { class: 'up-res', 'data-testid': 'resource', 'data-resource-id': res.id },
    h('a', { class: 'up-res__cover-link', href: resourceHref(res.id), tabindex: '-1', 'aria-hidden': 'true' }, coverImg(res, 'thumb', 'up-res__cover')),
    h(
      'div',
      { class: 'up-res__body' },
      h('a', { class: 'up-res__title', href: resourceHref(res.id), 'data-testid': 'resource-title' }, res.title || '（无题名）'),
      h('p', { class: 'up-res__authors', 'data-testid': 'resource-authors' }, authorsText(res.authors) || '佚名'),
      meta ? h('p', { class: 'up-res__meta' }, meta) : null,
    ),
  );
}

/**
 * Wire the resources panel. `authLost(e)`: handles a 401.
 * Returns {load(more), refreshSoon(), replace(resource)}.
 */
export function createResourceList({ authLost }) {
  const els = {
    resRefresh: $('res-refresh'),
    resError: $('res-error'),
    resLoading: $('res-loading'),
    resEmpty: $('res-empty'),
    resList: $('resource-list'),
    resMore: $('res-more'),
  };
  let items = [];
  let cursor = null;
  let loading = false;
  let refreshTimer = 0;

  function showResError(message) {
    setText(els.resError, message);
    show(els.resError, !!message);
  }

  function render() {
    els.resList.replaceChildren(...items.map(resourceCard));
    show(els.resEmpty, items.length === 0 && !els.resError.textContent);
    show(els.resMore, !!cursor);
  }

  async function load(more) {
    if (loading) return;
    loading = true;
    try {
      const data = await resApi.list({ limit: RES_PAGE, cursor: more ? cursor : undefined });
      const page = (data && Array.isArray(data.items) && data.items) || [];
      items = more ? items.concat(page) : page;
      cursor = data ? data.next_cursor : null;
      showResError('');
    } catch (e) {
      if (authLost(e)) return;
      showResError('资源列表加载失败：' + errorText(e, '无法连接服务器'));
    } finally {
      loading = false;
      show(els.resLoading, false);
    }
    render();
  }

  /** After a job ends: reload the first page (and as many more as were shown). */
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      const shown = Math.max(items.length, RES_PAGE);
      await load(false);
      while (cursor && items.length < shown && !els.resError.textContent) await load(true);
    }, 300);
  }

  els.resMore.addEventListener('click', () => busy(els.resMore, () => load(true)));
  els.resRefresh.addEventListener('click', () => busy(els.resRefresh, () => load(false)));

  return {
    load,
    refreshSoon,
    /** An edited resource: show its new fields where it is listed. */
    replace(updated) {
      items = items.map((r) => (r.id === updated.id ? updated : r));
      render();
    },
  };
}
