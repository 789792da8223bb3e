// One resource in a dialog (opened by #resource-<id>): its details, a preview of a video's or
// an audiobook's HLS rendition (media-preview.js), and a form that sends the changed catalogue
// fields with PATCH /api/v1/staff/resources/<id>.
import { ApiError, errorText, resources as resApi } from '../api.js';
import { $, busy, h, setText, show } from '../dom.js';
import { authorsText, FORMAT_LABELS, formatMB, formatSpan, formatTime } from './format.js';
import { createMediaPreview, hasMediaPreview } from './media-preview.js';
import { coverImg } from './resource-list.js';

const RES_KIND_LABELS = { ebook: '电子书', audiobook: '有声读物', video: '视频' };
// The kiosk's categories (storage/migrations/0003_resources.sql); PATCH takes the code.
const CATEGORIES = [
  ['fiction', '小说'],
  ['classics', '名著'],
  ['humanities', '社科人文'],
  ['children', '少儿'],
  ['history', '历史'],
  ['business', '经管'],
  ['inspiration', '励志'],
  ['living', '生活'],
  ['science', '科普'],
  ['art', '艺术'],
  ['culture_video', '文化视频'],
  ['audiobook', '有声读物'],
];
const FORM_TEXT_FIELDS = ['title', 'subtitle', 'publisher', 'date', 'language', 'isbn', 'clc', 'series', 'description'];

function field(name) {
  return $('rf-' + name);
}

function dl(rows) {
  const list = h('dl', { class: 'up-dl' });
  for (const [k, v] of rows) {
    if (v == null || v === '') continue;
    list.append(h('dt', null, k), h('dd', null, v));
  }
  return list;
}

function licenceText(l) {
  if (!l || !l.model) return '';
  const days = l.loan_days ? '，借期 ' + l.loan_days + ' 天' : '';
  switch (l.model) {
    case 'open':
      return '开放获取' + days;
    case 'copies':
      return '复本 ' + (l.count != null ? l.count : '?') + ' 册' + days;
    case 'concurrent':
      return '并发 ' + (l.count ? l.count + ' 人' : '不限') + days;
    case 'metered':
      return '计次 ' + (l.count != null ? l.count : '?') + ' 次' + days;
    default:
      return l.model + days;
  }
}

/** The form's fields that differ from `res`, as PATCH wants them (null clears a field). */
function changedFields(res) {
  const out = {};
  for (const k of FORM_TEXT_FIELDS) {
    let v = field(k).value.trim();
    if (k === 'isbn') v = v.replace(/[-\s]/g, '');
    const old = res[k] == null ? '' : String(res[k]);
    if (v !== old) out[k] = v === '' ? null : v;
  }
  const names = field('authors')
    .value.split(/[;；]/)
    .map((s) => s.trim())
    .filter(Boolean);
  const oldAuthors = Array.isArray(res.authors) ? res.authors : [];
  if (names.join('\n') !== oldAuthors.map((a) => a.name).join('\n')) {
    const roles = new Map(oldAuthors.map((a) => [a.name, a.role]));
    out.authors = names.map((name) => ({ name, role: roles.get(name) || 'aut' }));
  }
  const cat = field('category').value;
  if (cat !== ((res.category && res.category.code) || '')) out.category = cat || null;
  return out;
}

/**
 * Wire the resource dialog. `isSignedIn()`: resources may be opened; `authLost(e)`: handles a
 * 401; `onSaved(resource)`: an edit was saved. Returns {openFromHash(), close()}.
 */
export function createResourceDialog({ isSignedIn, authLost, onSaved }) {
  const els = {
    dialog: $('res-dialog'),
    dialogTitle: $('res-dialog-title'),
    dialogClose: $('res-dialog-close'),
    dialogError: $('res-dialog-error'),
    dialogBody: $('res-dialog-body'),
    form: $('res-form'),
    formMsg: $('res-form-msg'),
    formSubmit: $('res-form-submit'),
  };
  let current = null; // the resource shown, once loaded
  let preview = null; // its media preview, kept while the same resource is shown
  let opening = 0; // the latest open(): an older answer that comes late is dropped

  field('category').replaceChildren(
    h('option', { value: '' }, '（未分类）'),
    ...CATEGORIES.map(([code, name]) => h('option', { value: code }, name)),
  );

  function render(res) {
    setText(els.dialogTitle, res.title || '资源详情');
    const src = res.source || {};
    const body = h(
      'div',
      { class: 'up-detail' },
      coverImg(res, 'cover', 'up-detail__cover'),
      dl([
        ['题名', res.title],
        ['副题名', res.subtitle],
        ['作者', authorsText(res.authors)],
        ['类型', [RES_KIND_LABELS[res.kind] || res.kind, FORMAT_LABELS[res.format] || res.format].filter(Boolean).join(' · ')],
        ['出版社', res.publisher],
        ['出版日期', res.date],
        ['语言', res.language],
        ['ISBN', res.isbn],
        ['中图分类号', res.clc],
        ['分类', res.category && res.category.name],
        ['丛书', res.series],
        ['时长', res.duration_ms > 0 ? formatSpan(res.duration_ms / 1000) : ''],
        ['分辨率', res.width && res.height ? res.width + '×' + res.height : ''],
        ['页数', res.pages],
        ['章节', res.chapters],
        ['授权', licenceText(res.licence)],
        ['上架月份', res.kiosk_month],
        ['源文件', src.name ? src.name + '（' + formatMB(src.bytes) + '）' : ''],
        ['SHA-256', src.sha256 ? h('code', { class: 'up-hash' }, src.sha256) : ''],
        ['入库时间', formatTime(res.created_at)],
        ['简介', res.description],
      ]),
    );
    if (hasMediaPreview(res)) {
      if (!preview || preview.id !== res.id) {
        dropPreview();
        preview = createMediaPreview(res);
      }
      els.dialogBody.replaceChildren(preview.el, body);
    } else {
      dropPreview();
      els.dialogBody.replaceChildren(body);
    }

    for (const k of FORM_TEXT_FIELDS) field(k).value = res[k] == null ? '' : String(res[k]);
    field('authors').value = (res.authors || []).map((a) => a.name).join('; ');
    field('category').value = (res.category && res.category.code) || '';
    show(els.formMsg, false);
    show(els.form, true);
  }

  /** Stop the preview's playback and free its player. */
  function dropPreview() {
    if (preview) preview.destroy();
    preview = null;
  }

  function showDialogError(message) {
    setText(els.dialogError, message);
    show(els.dialogError, !!message);
  }

  function showFormMsg(message, ok) {
    setText(els.formMsg, message);
    els.formMsg.className = 'up-form__msg ' + (ok ? 'up-form__msg_ok' : 'up-form__msg_error');
    show(els.formMsg, !!message);
  }

  async function open(id) {
    if (!isSignedIn()) return;
    current = null;
    dropPreview();
    setText(els.dialogTitle, '资源详情');
    els.dialogBody.replaceChildren(h('p', { class: 'up-empty' }, h('i', { class: 'weui-loading', 'aria-hidden': 'true' }), ' 正在加载…'));
    show(els.form, false);
    showDialogError('');
    if (!els.dialog.open) els.dialog.showModal();
    const seq = ++opening;
    try {
      const res = await resApi.get(id);
      if (seq !== opening || !els.dialog.open) return; // closed, or another resource asked for
      current = res;
      render(res);
    } catch (e) {
      if (seq !== opening || !els.dialog.open) return;
      if (authLost(e)) return;
      els.dialogBody.replaceChildren();
      showDialogError(e instanceof ApiError && e.status === 404 ? '该资源不存在或已删除。' : '加载失败：' + errorText(e, '无法连接服务器'));
    }
  }

  function openFromHash() {
    const m = /^#resource-(\d+)$/.exec(location.hash);
    if (m) open(m[1]);
  }

  window.addEventListener('hashchange', openFromHash);
  els.dialogClose.addEventListener('click', () => els.dialog.close());
  els.dialog.addEventListener('close', () => {
    dropPreview();
    els.dialogBody.replaceChildren();
    if (/^#resource-/.test(location.hash)) history.replaceState(null, '', location.pathname + location.search);
  });

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const res = current;
    if (!res) return;
    if (!field('title').value.trim()) {
      showFormMsg('题名不能为空', false);
      field('title').focus();
      return;
    }
    const fields = changedFields(res);
    if (Object.keys(fields).length === 0) {
      showFormMsg('没有需要保存的修改', true);
      return;
    }
    busy(els.formSubmit, async () => {
      try {
        const updated = await resApi.update(res.id, fields);
        current = updated;
        render(updated);
        onSaved(updated);
        showFormMsg('已保存', true);
      } catch (err) {
        if (authLost(err)) return;
        showFormMsg('保存失败：' + errorText(err, '请稍后再试'), false);
      }
    });
  });

  return {
    openFromHash,
    close() {
      if (els.dialog.open) els.dialog.close();
    },
  };
}
