// The upload panel of 上传与任务: files chosen or dropped are checked by name, queued, and sent
// one at a time, one file per request, through XMLHttpRequest (fetch reports no upload
// progress), each with its own row: size, progress bar, status and a cancel button.
import { ApiError, errorText, uploadFile } from '../api.js';
import { $, h, setText, show } from '../dom.js';
import { formatMB, progressBar, setProgress } from './format.js';

// Books, bundles, and the audio and video the server transcodes (services/ingest/common.c).
const ACCEPTED =
  /\.(epub|txt|pdf|zip|tar|tgz|tar\.gz|mp3|m4a|m4b|aac|flac|ogg|oga|opus|wav|mp4|m4v|mov|mkv|webm|avi|ts|flv|ogv)$/i;
const ACCEPTED_HINT = 'EPUB、TXT、PDF、音频、视频或 ZIP/TAR 批量包';

/**
 * Wire the upload panel. `isActive()`: uploads may start (signed in with the right role);
 * `authLost(e)`: handles a 401; `onSending()`: an upload starts; `onUploaded(uploads, name)`:
 * the server took a file (its "uploads" answer), returns the job labels ("#12") to show.
 * Returns {busy(), abortAll()}.
 */
export function createUploadQueue({ isActive, authLost, onSending, onUploaded }) {
  const els = {
    drop: $('drop-zone'),
    pick: $('pick-files'),
    fileInput: $('file-input'),
    uploadError: $('upload-error'),
    uploadList: $('upload-list'),
  };
  let queue = [];
  let uploading = null;

  function showUploadError(message) {
    setText(els.uploadError, message);
    show(els.uploadError, !!message);
  }

  function busy() {
    return !!uploading || queue.length > 0;
  }

  function newUploadItem(file) {
    const item = {
      file,
      state: 'waiting',
      xhr: null,
      li: null,
      status: null,
      bar: null,
      actions: null,
      abort() {
        if (item.state === 'waiting') {
          queue = queue.filter((x) => x !== item);
          setUploadState(item, 'aborted', '已取消上传');
        } else if (item.state === 'uploading' && item.xhr) {
          item.xhr.abort();
        }
      },
    };
    item.status = h('span', { class: 'up-upload__status', role: 'status', 'data-testid': 'upload-status' });
    item.bar = progressBar(0, '上传进度：' + file.name, 'upload-progress');
    item.actions = h('span', { class: 'up-upload__actions' });
    item.li = h(
      'li',
      { class: 'up-upload', 'data-testid': 'upload-item' },
      h(
        'div',
        { class: 'up-upload__head' },
        h('span', { class: 'up-upload__name', 'data-testid': 'upload-name' }, file.name),
        h('span', { class: 'up-upload__size', 'data-testid': 'upload-size' }, formatMB(file.size)),
        item.actions,
      ),
      item.bar,
      item.status,
    );
    return item;
  }

  function setUploadState(item, state, message) {
    item.state = state;
    item.li.dataset.state = state;
    item.li.className = 'up-upload up-upload_' + state;
    setText(item.status, message);
    item.actions.replaceChildren();
    if (state === 'waiting' || state === 'uploading') {
      const b = h(
        'button',
        { type: 'button', class: 'st-btn st-btn_small', 'aria-label': '取消上传 ' + item.file.name },
        '取消上传',
      );
      b.addEventListener('click', () => item.abort());
      item.actions.append(b);
    } else {
      const b = h(
        'button',
        { type: 'button', class: 'up-upload__dismiss', 'aria-label': '从列表移除 ' + item.file.name, title: '移除' },
        '×',
      );
      b.addEventListener('click', () => {
        item.li.remove();
        els.pick.focus();
      });
      item.actions.append(b);
    }
    show(item.bar, state === 'waiting' || state === 'uploading');
  }

  function addFiles(fileList) {
    const files = Array.from(fileList || []);
    if (files.length === 0) return;
    showUploadError('');
    const refused = [];
    for (const file of files) {
      if (!ACCEPTED.test(file.name)) {
        refused.push(file.name);
        continue;
      }
      if (file.size === 0) {
        refused.push(file.name + '（空文件）');
        continue;
      }
      const item = newUploadItem(file);
      setUploadState(item, 'waiting', '等待上传');
      els.uploadList.prepend(item.li);
      queue.push(item);
    }
    if (refused.length) {
      showUploadError('不支持的文件：' + refused.join('、') + '。只接受 ' + ACCEPTED_HINT + '。');
    }
    pump();
  }

  async function pump() {
    if (uploading) return;
    while (queue.length && isActive()) {
      const item = queue.shift();
      uploading = item;
      onSending();
      try {
        await runUpload(item);
      } finally {
        uploading = null;
      }
    }
  }

  async function runUpload(item) {
    setUploadState(item, 'uploading', '正在上传…');
    const { promise, abort } = uploadFile(item.file, (loaded, total) => {
      const pct = total > 0 ? (loaded * 100) / total : 0;
      setProgress(item.bar, pct);
      setText(item.status, pct >= 100 ? '已发送，等待服务器确认…' : '正在上传 ' + formatMB(loaded) + ' / ' + formatMB(total));
    });
    item.xhr = { abort };
    try {
      const data = await promise;
      const ups = (data && Array.isArray(data.uploads) && data.uploads) || [];
      const ids = onUploaded(ups, item.file.name);
      setProgress(item.bar, 100);
      setUploadState(
        item,
        'done',
        '已上传（' + formatMB(ups[0] && ups[0].bytes != null ? ups[0].bytes : item.file.size) + '）' +
          (ids.length ? '，已加入任务 ' + ids.join('、') : ''),
      );
    } catch (e) {
      if (e instanceof ApiError && e.code === 'aborted') {
        setUploadState(item, 'aborted', '已取消上传');
      } else {
        authLost(e);
        setUploadState(item, 'failed', '上传失败：' + errorText(e, '请稍后再试'));
      }
    } finally {
      item.xhr = null;
    }
  }

  els.pick.addEventListener('click', () => els.fileInput.click());
  els.fileInput.addEventListener('change', () => {
    addFiles(els.fileInput.files);
    els.fileInput.value = '';
  });

  let dragDepth = 0;
  els.drop.addEventListener('dragenter', (e) => {
    e.preventDefault();
    dragDepth++;
    els.drop.classList.add('up-drop_active');
  });
  els.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  els.drop.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) els.drop.classList.remove('up-drop_active');
  });
  els.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    dragDepth = 0;
    els.drop.classList.remove('up-drop_active');
    if (e.dataTransfer) addFiles(e.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser navigate away to it.
  for (const type of ['dragover', 'drop']) {
    window.addEventListener(type, (e) => {
      if (!els.drop.contains(e.target)) e.preventDefault();
    });
  }
  window.addEventListener('beforeunload', (e) => {
    if (busy()) {
      e.preventDefault();
      e.returnValue = '';
    }
  });

  return {
    busy,
    /** Sign-out: stop the upload under way and drop the waiting ones. */
    abortAll() {
      for (const item of [uploading, ...queue]) if (item) item.abort();
    },
  };
}
