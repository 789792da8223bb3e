// Staff page 上传与任务 (/staff/uploads/): upload e-books and monthly bundles, follow their
// ingest jobs, read a bundle's per-row report, and look at (and correct) the resources made.
//
// Uploads go through XMLHttpRequest (fetch reports no upload progress), one file per request,
// one at a time. The job list polls GET /api/v1/staff/jobs: every 1.5 s while anything is
// queued, running or uploading, every 10 s otherwise, every 30 s while the tab is hidden.
// Nothing here writes style="" attributes (CSP); progress bars set element.style.width from
// script, which the CSP allows.
import 'weui/dist/style/weui.min.css';
import './staff.css';
import './uploads.css';
import { ApiError, auth, jobs as jobsApi, resources as resApi, uploadFile } from './api.js';
import { $, busy, h, setText, show } from './dom.js';
import { bindLoginForm } from './login-form.js';

const READER_REFUSED = '此页面仅限馆员使用（Staff only）';
const SESSION_ENDED = '登录已失效，请重新登录';

const ACCEPTED = /\.(epub|txt|pdf|zip|tar|tgz|tar\.gz)$/i;
const ACCEPTED_HINT = 'EPUB、TXT、PDF 或 ZIP/TAR 批量包';

const STATE_LABELS = { queued: '排队中', running: '处理中', done: '已完成', failed: '失败', cancelled: '已取消' };
const JOB_KIND_LABELS = { ingest: '单个文件', bundle: '批量包', transcode: '转码' };
const ROW_STATUS_LABELS = { ok: '成功', duplicate: '重复', failed: '失败' };
const AUTHOR_ROLES = { aut: '著', trl: '译', edt: '编', ill: '绘', nrt: '播讲' };
const FORMAT_LABELS = { epub: 'EPUB', txt: 'TXT', pdf: 'PDF', audio: '音频', video: '视频' };
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

const POLL_FAST = 1500;
const POLL_SLOW = 10000;
const POLL_HIDDEN = 30000;
const JOB_PAGE = 100;
const RES_PAGE = 24;
const NAMES_KEY = 'sx.uploads.jobNames';

const els = {
  loading: $('loading'),
  loginPanel: $('login-panel'),
  loginForm: $('login-form'),
  login: $('login'),
  password: $('password'),
  loginSubmit: $('login-submit'),
  loginError: $('login-error'),
  denied: $('denied-panel'),
  workspace: $('workspace'),
  headerUser: $('header-user'),
  logout: $('logout'),
  drop: $('drop-zone'),
  pick: $('pick-files'),
  fileInput: $('file-input'),
  uploadError: $('upload-error'),
  uploadList: $('upload-list'),
  jobsState: $('jobs-state'),
  jobsRefresh: $('jobs-refresh'),
  jobsError: $('jobs-error'),
  jobsLive: $('jobs-live'),
  jobsLoading: $('jobs-loading'),
  jobsEmpty: $('jobs-empty'),
  jobList: $('job-list'),
  jobsMore: $('jobs-more'),
  resRefresh: $('res-refresh'),
  resError: $('res-error'),
  resLoading: $('res-loading'),
  resEmpty: $('res-empty'),
  resList: $('resource-list'),
  resMore: $('res-more'),
  dialog: $('res-dialog'),
  dialogTitle: $('res-dialog-title'),
  dialogClose: $('res-dialog-close'),
  dialogError: $('res-dialog-error'),
  dialogBody: $('res-dialog-body'),
  form: $('res-form'),
  formMsg: $('res-form-msg'),
  formSubmit: $('res-form-submit'),
};

const st = {
  signedIn: false,
  jobs: new Map(), // id -> job (top-level and children)
  jobEls: new Map(), // id -> {li, sig}
  jobsCursor: null, // cursor for older jobs than the ones shown ("加载更早的任务")
  jobsLoaded: false,
  jobFilter: '',
  openReports: new Set(),
  failedOnly: new Set(),
  names: loadNames(),
  pollTimer: 0,
  polling: false,
  pollAgain: false,
  uploadQueue: [],
  uploading: null,
  resItems: [],
  resCursor: null,
  resLoading: false,
  resRefreshTimer: 0,
  dialogRes: null,
};

// ---------------------------------------------------------------------------------------------
// Small formatting helpers

function formatMB(bytes) {
  const mb = (Number(bytes) || 0) / (1024 * 1024);
  if (mb >= 100) return mb.toFixed(0) + ' MB';
  if (mb >= 1) return mb.toFixed(1) + ' MB';
  return (mb < 0.01 && bytes > 0 ? '0.01' : mb.toFixed(2)) + ' MB';
}

function pad2(n) {
  return String(n).padStart(2, '0');
}

function formatTime(sec) {
  if (!sec) return '';
  const d = new Date(sec * 1000);
  const now = new Date();
  const hms = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  if (d.toDateString() === now.toDateString()) return hms;
  const md = pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  return (d.getFullYear() === now.getFullYear() ? '' : d.getFullYear() + '-') + md + ' ' + hms;
}

function authorsText(authors) {
  if (!Array.isArray(authors) || authors.length === 0) return '';
  return authors
    .map((a) => {
      const role = a && a.role && a.role !== 'aut' ? AUTHOR_ROLES[a.role] || a.role : '';
      return (a && a.name ? a.name : '') + (role ? '（' + role + '）' : '');
    })
    .filter(Boolean)
    .join('、');
}

function clampPct(p) {
  const n = Math.round(Number(p) || 0);
  return Math.max(0, Math.min(100, n));
}

function errorText(e, fallback) {
  return e instanceof ApiError ? e.message : fallback;
}

function loadNames() {
  try {
    const o = JSON.parse(sessionStorage.getItem(NAMES_KEY) || '{}');
    return o && typeof o === 'object' ? o : {};
  } catch (e) {
    return {};
  }
}

function rememberName(id, name) {
  st.names[id] = name;
  try {
    const keys = Object.keys(st.names);
    // Keep the newest 200 names only.
    if (keys.length > 200) {
      keys.sort((a, b) => Number(a) - Number(b));
      for (const k of keys.slice(0, keys.length - 200)) delete st.names[k];
    }
    sessionStorage.setItem(NAMES_KEY, JSON.stringify(st.names));
  } catch (e) {
    /* private mode: names last until reload */
  }
}

/** A WeUI progress bar with progressbar semantics; update with setProgress. */
function progressBar(pct, label, testid) {
  const inner = h('div', { class: 'weui-progress__inner-bar' });
  const text = h('span', { class: 'up-progress__pct', 'aria-hidden': 'true' });
  const wrap = h(
    'div',
    {
      class: 'weui-progress up-progress',
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-label': label,
      'data-testid': testid,
    },
    h('div', { class: 'weui-progress__bar' }, inner),
    text,
  );
  setProgress(wrap, pct);
  return wrap;
}

function setProgress(wrap, pct) {
  const p = clampPct(pct);
  wrap.setAttribute('aria-valuenow', String(p));
  wrap.querySelector('.weui-progress__inner-bar').style.width = p + '%';
  wrap.querySelector('.up-progress__pct').textContent = p + '%';
}

function resourceHref(id) {
  return '#resource-' + encodeURIComponent(id);
}

// ---------------------------------------------------------------------------------------------
// Sign-in

function showLoginError(message) {
  setText(els.loginError, message);
  show(els.loginError, !!message);
}

function stopPolling() {
  clearTimeout(st.pollTimer);
  st.pollTimer = 0;
}

function showLogin(message) {
  st.signedIn = false;
  stopPolling();
  if (els.dialog.open) els.dialog.close();
  show(els.loading, false);
  show(els.workspace, false);
  show(els.denied, false);
  show(els.headerUser, false);
  show(els.logout, false);
  show(els.loginPanel);
  els.password.value = '';
  showLoginError(message || '');
  (els.login.value ? els.password : els.login).focus();
}

function showHeaderUser(p) {
  setText(els.headerUser, p.name || p.login || '');
  show(els.headerUser, true);
  show(els.logout, true);
}

function canUpload(p) {
  const roles = Array.isArray(p.roles) ? p.roles : [];
  return roles.includes('content') || roles.includes('admin');
}

function enter(p) {
  show(els.loading, false);
  show(els.loginPanel, false);
  showHeaderUser(p);
  if (!canUpload(p)) {
    show(els.workspace, false);
    show(els.denied, true);
    return;
  }
  show(els.denied, false);
  show(els.workspace, true);
  st.signedIn = true;
  pollJobs();
  loadResources(false);
  openFromHash();
}

async function refuseReader() {
  try {
    await auth.logout();
  } catch (e) {
    /* already gone */
  }
  els.login.value = '';
  showLogin(READER_REFUSED);
}

/** Any 401 from the API while working: the session ended (expired, signed out elsewhere). */
function handleAuthError(e) {
  if (e instanceof ApiError && e.status === 401) {
    if (st.signedIn) showLogin(SESSION_ENDED);
    return true;
  }
  return false;
}

bindLoginForm(
  { form: els.loginForm, login: els.login, password: els.password, submit: els.loginSubmit },
  {
    showError: showLoginError,
    required: { login: '请输入登录名 (login required)', password: '请输入密码 (password required)' },
    onSignedIn: async (p) => {
      if (!p || p.kind !== 'staff') await refuseReader();
      else enter(p);
    },
  },
);

els.logout.addEventListener('click', () => {
  busy(els.logout, async () => {
    try {
      await auth.logout();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        alert(errorText(e, '退出失败'));
        return;
      }
    }
    for (const item of [st.uploading, ...st.uploadQueue]) if (item) item.abort();
    els.login.value = '';
    showLogin('');
  });
});

// ---------------------------------------------------------------------------------------------
// Uploads

function showUploadError(message) {
  setText(els.uploadError, message);
  show(els.uploadError, !!message);
}

function uploadsBusy() {
  return !!st.uploading || st.uploadQueue.length > 0;
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
        st.uploadQueue = st.uploadQueue.filter((x) => x !== item);
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
    st.uploadQueue.push(item);
  }
  if (refused.length) {
    showUploadError('不支持的文件：' + refused.join('、') + '。只接受 ' + ACCEPTED_HINT + '。');
  }
  pumpUploads();
}

async function pumpUploads() {
  if (st.uploading) return;
  while (st.uploadQueue.length && st.signedIn) {
    const item = st.uploadQueue.shift();
    st.uploading = item;
    schedulePoll();
    try {
      await runUpload(item);
    } finally {
      st.uploading = null;
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
    const ids = [];
    for (const u of ups) {
      if (!u || !u.job) continue;
      rememberName(u.job.id, u.name || item.file.name);
      st.jobs.set(u.job.id, u.job);
      ids.push('#' + u.job.id);
    }
    setProgress(item.bar, 100);
    setUploadState(
      item,
      'done',
      '已上传（' + formatMB(ups[0] && ups[0].bytes != null ? ups[0].bytes : item.file.size) + '）' +
        (ids.length ? '，已加入任务 ' + ids.join('、') : ''),
    );
    renderJobs();
    schedulePoll(0);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'aborted') {
      setUploadState(item, 'aborted', '已取消上传');
    } else {
      handleAuthError(e);
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
  if (uploadsBusy()) {
    e.preventDefault();
    e.returnValue = '';
  }
});

// ---------------------------------------------------------------------------------------------
// Jobs

function jobName(job) {
  if (job.name) return job.name;
  if (job.result && typeof job.result === 'object' && job.result.name) return job.result.name;
  if (st.names[job.id]) return st.names[job.id];
  return '任务 #' + job.id;
}

function isActive(job) {
  return job.state === 'queued' || job.state === 'running';
}

function showJobsError(message) {
  setText(els.jobsError, message);
  show(els.jobsError, !!message);
}

/** Merge the newest page: jobs in its id range that it no longer holds have left the filter. */
function mergeNewest(items) {
  const seen = new Set();
  let minId = Infinity;
  for (const j of items) {
    seen.add(j.id);
    minId = Math.min(minId, j.id);
  }
  const full = items.length < JOB_PAGE;
  for (const id of [...st.jobs.keys()]) {
    if (!seen.has(id) && (full || id >= minId)) st.jobs.delete(id);
  }
  const finished = [];
  const ended = [];
  for (const j of items) {
    const old = st.jobs.get(j.id);
    if (old && isActive(old) && !isActive(j) && j.parent_id == null) ended.push(j);
    if (old && isActive(old) && j.state === 'done') finished.push(j);
    else if (!old && st.jobsLoaded && j.state === 'done') finished.push(j);
    st.jobs.set(j.id, j);
  }
  // Tell screen readers when a job of this visit ends (the list itself is not a live region).
  if (ended.length) {
    setText(els.jobsLive, ended.map((j) => jobName(j) + '：' + (STATE_LABELS[j.state] || j.state)).join('；'));
  }
  return finished;
}

async function pollJobs() {
  if (!st.signedIn) return;
  if (st.polling) {
    st.pollAgain = true;
    return;
  }
  st.polling = true;
  stopPolling();
  const filter = st.jobFilter;
  try {
    const data = await jobsApi.list({ limit: JOB_PAGE, state: filter || undefined });
    if (filter !== st.jobFilter) return; // the filter changed meanwhile; that poll is coming
    const items = (data && Array.isArray(data.items) && data.items) || [];
    const finished = mergeNewest(items);
    if (!st.jobsLoaded) st.jobsCursor = data ? data.next_cursor : null;
    st.jobsLoaded = true;
    showJobsError('');
    renderJobs();
    if (finished.some((j) => j.kind === 'ingest' || j.kind === 'bundle')) refreshResourcesSoon();
  } catch (e) {
    if (handleAuthError(e)) return;
    showJobsError('任务列表刷新失败：' + errorText(e, '无法连接服务器') + '（稍后自动重试）');
  } finally {
    st.polling = false;
    show(els.jobsLoading, false);
    if (st.pollAgain) {
      st.pollAgain = false;
      pollJobs();
    } else {
      schedulePoll();
    }
  }
}

/** Poll again after delay ms (default: fast while something moves, slow otherwise). */
function schedulePoll(delay) {
  if (!st.signedIn) return;
  if (delay === undefined) {
    const moving = uploadsBusy() || [...st.jobs.values()].some(isActive);
    delay = document.hidden ? POLL_HIDDEN : moving ? POLL_FAST : POLL_SLOW;
  }
  if (delay === 0 && st.polling) {
    st.pollAgain = true;
    return;
  }
  stopPolling();
  st.pollTimer = setTimeout(pollJobs, delay);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) schedulePoll(0);
});

function jobSignature(job, children) {
  const kids = children.map((c) => c.id + ':' + c.state + ':' + c.progress).join(',');
  return [job.state, job.progress, job.attempts, job.error, job.updated_at, jobName(job), kids].join('|');
}

function renderJobs() {
  const all = [...st.jobs.values()];
  const children = new Map();
  for (const j of all) {
    if (j.parent_id != null && st.jobs.has(j.parent_id)) {
      if (!children.has(j.parent_id)) children.set(j.parent_id, []);
      children.get(j.parent_id).push(j);
    }
  }
  const top = all.filter((j) => !(j.parent_id != null && st.jobs.has(j.parent_id))).sort((a, b) => b.id - a.id);

  const keep = new Set(top.map((j) => j.id));
  for (const [id, rec] of st.jobEls) {
    if (!keep.has(id)) {
      rec.li.remove();
      st.jobEls.delete(id);
    }
  }

  top.forEach((job, i) => {
    const kids = children.get(job.id) || [];
    const sig = jobSignature(job, kids);
    let rec = st.jobEls.get(job.id);
    if (!rec || rec.sig !== sig) {
      const li = jobItem(job, kids);
      if (rec) {
        const focused = rec.li.contains(document.activeElement) ? document.activeElement : null;
        rec.li.replaceWith(li);
        if (focused) {
          const again = focused.dataset && focused.dataset.action && li.querySelector('[data-action="' + focused.dataset.action + '"]');
          (again || li).focus();
        }
      }
      rec = { li, sig };
      st.jobEls.set(job.id, rec);
    }
    const at = els.jobList.children[i];
    if (at !== rec.li) els.jobList.insertBefore(rec.li, at || null);
  });

  show(els.jobsEmpty, st.jobsLoaded && top.length === 0);
  if (st.jobsLoaded && top.length === 0) {
    setText(
      els.jobsEmpty,
      st.jobFilter
        ? '没有「' + STATE_LABELS[st.jobFilter] + '」的任务。'
        : '暂无任务。上传文件后，入库任务会出现在这里。',
    );
  }
  show(els.jobsMore, !!st.jobsCursor);
}

function jobItem(job, kids) {
  const name = jobName(job);
  const nameId = 'job-' + job.id + '-name';
  const li = h('li', {
    class: 'up-job up-job_' + job.state,
    'data-testid': 'job',
    'data-job-id': job.id,
    'data-kind': job.kind,
    'data-state': job.state,
    'aria-labelledby': nameId,
    tabindex: '-1',
  });

  li.append(
    h(
      'div',
      { class: 'up-job__head' },
      h('span', { class: 'up-kind up-kind_' + job.kind, 'data-testid': 'job-kind' }, JOB_KIND_LABELS[job.kind] || job.kind),
      h('span', { class: 'up-job__name', id: nameId, 'data-testid': 'job-name' }, name),
      h(
        'span',
        { class: 'up-state up-state_' + job.state, 'data-testid': 'job-state' },
        STATE_LABELS[job.state] || job.state,
      ),
    ),
  );

  const meta = ['任务 #' + job.id, '提交于 ' + formatTime(job.created_at)];
  if (job.finished_at && !isActive(job)) meta.push('结束于 ' + formatTime(job.finished_at));
  if (job.attempts > 1 || (job.state === 'failed' && job.max_attempts > 1)) {
    meta.push('第 ' + job.attempts + '/' + job.max_attempts + ' 次尝试');
  }
  li.append(h('div', { class: 'up-job__meta' }, meta.join(' · ')));

  if (job.state === 'running') {
    li.append(progressBar(job.progress, '任务进度：' + name, 'job-progress'));
  } else if (job.state === 'queued') {
    li.append(h('p', { class: 'up-job__wait' }, '等待空闲的处理线程…'));
  }

  if (job.error && job.state !== 'done') {
    const prefix = job.state === 'failed' ? '失败原因：' : job.state === 'queued' ? '上次尝试失败，稍后自动重试：' : '';
    li.append(h('p', { class: 'up-job__error', 'data-testid': 'job-error' }, prefix + job.error));
  }

  if (kids.length) {
    const done = kids.filter((k) => k.state === 'done').length;
    const failed = kids.filter((k) => k.state === 'failed').length;
    li.append(
      h(
        'p',
        { class: 'up-job__kids' },
        '子任务 ' + kids.length + ' 个：已完成 ' + done + (failed ? '，失败 ' + failed : ''),
      ),
    );
  }

  if (job.state === 'done' && job.result && typeof job.result === 'object') {
    if (job.kind === 'bundle' || Array.isArray(job.result.rows)) li.append(bundleResult(job));
    else li.append(ingestResult(job.result));
  }

  const actions = h('div', { class: 'up-job__actions' });
  if (isActive(job)) {
    actions.append(jobAction(job, 'cancel', '取消', '取消任务 ' + name));
  } else if (job.state === 'failed' || job.state === 'cancelled') {
    actions.append(jobAction(job, 'retry', '重试', '重试任务 ' + name));
  }
  if (actions.childElementCount) li.append(actions);
  return li;
}

function jobAction(job, action, label, aria) {
  const b = h(
    'button',
    { type: 'button', class: 'st-btn st-btn_small', 'data-action': action, 'data-testid': 'job-' + action, 'aria-label': aria },
    label,
  );
  b.addEventListener('click', () => {
    busy(b, async () => {
      try {
        const j = action === 'retry' ? await jobsApi.retry(job.id) : await jobsApi.cancel(job.id);
        if (j) st.jobs.set(j.id, j);
        showJobsError('');
        renderJobs();
      } catch (e) {
        if (handleAuthError(e)) return;
        showJobsError((action === 'retry' ? '重试失败：' : '取消失败：') + errorText(e, '请稍后再试'));
      }
      schedulePoll(0);
    });
  });
  return b;
}

function resourceLink(res, fallback) {
  if (res && res.id != null) {
    return h('a', { href: resourceHref(res.id), 'data-resource-id': res.id }, res.title || fallback || '#' + res.id);
  }
  return fallback ? h('span', null, fallback) : h('span', { class: 'st-muted' }, '—');
}

function statusChip(status) {
  return h('span', { class: 'up-row-status up-row-status_' + status }, ROW_STATUS_LABELS[status] || status);
}

function ingestResult(r) {
  const status = r.status || 'ok';
  const p = h('p', { class: 'up-job__result', 'data-testid': 'job-result', 'data-status': status }, statusChip(status), ' ');
  if (status === 'duplicate') p.append('已在馆藏中：');
  if (r.resource) p.append('《', resourceLink(r.resource), '》');
  else if (r.name) p.append(r.name);
  return p;
}

function bundleCounts(r) {
  if (r.counts && typeof r.counts === 'object') return r.counts;
  const c = { ok: 0, duplicate: 0, failed: 0 };
  for (const row of r.rows || []) if (row && c[row.status] !== undefined) c[row.status]++;
  return c;
}

function bundleResult(job) {
  const r = job.result;
  const rows = Array.isArray(r.rows) ? r.rows : [];
  const c = bundleCounts(r);
  const wrap = h('div', { class: 'up-bundle' });
  wrap.append(
    h(
      'p',
      { class: 'up-bundle__counts', 'data-testid': 'bundle-counts' },
      h('span', { class: 'up-count up-count_ok' }, '成功 ' + (c.ok || 0)),
      ' · ',
      h('span', { class: 'up-count up-count_duplicate' }, '重复 ' + (c.duplicate || 0)),
      ' · ',
      h('span', { class: 'up-count up-count_failed' }, '失败 ' + (c.failed || 0)),
    ),
  );
  if (rows.length === 0) {
    wrap.append(h('p', { class: 'st-muted' }, '清单中没有条目。'));
    return wrap;
  }

  const details = h('details', { class: 'up-report', 'data-testid': 'bundle-report' });
  const summary = h('summary', { 'data-testid': 'bundle-report-toggle' }, '逐行结果（' + rows.length + ' 行）');
  details.append(summary);
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    details.append(reportTable(job, rows));
  };
  if (st.openReports.has(job.id)) {
    build();
    details.open = true;
  }
  details.addEventListener('toggle', () => {
    if (details.open) {
      build();
      st.openReports.add(job.id);
    } else {
      st.openReports.delete(job.id);
    }
  });
  wrap.append(details);
  return wrap;
}

function reportTable(job, rows) {
  const notOk = rows.filter((r) => r && r.status !== 'ok').length;
  const box = h('div', { class: 'up-report__body' });
  let onlyProblems = st.failedOnly.has(job.id);

  const tbody = h('tbody');
  const fill = () => {
    tbody.replaceChildren();
    for (const row of rows) {
      if (!row || (onlyProblems && row.status === 'ok')) continue;
      tbody.append(
        h(
          'tr',
          { 'data-testid': 'report-row', 'data-status': row.status },
          h('td', { class: 'up-num' }, row.line != null ? row.line : ''),
          h('td', { class: 'up-report__file' }, row.file || ''),
          h('td', null, statusChip(row.status)),
          h('td', { class: 'up-report__reason' }, row.reason || ''),
          h('td', null, resourceLink(row.resource)),
        ),
      );
    }
  };

  if (notOk > 0) {
    const cb = h('input', { type: 'checkbox', id: 'report-' + job.id + '-problems' });
    cb.checked = onlyProblems;
    cb.addEventListener('change', () => {
      onlyProblems = cb.checked;
      if (onlyProblems) st.failedOnly.add(job.id);
      else st.failedOnly.delete(job.id);
      fill();
    });
    box.append(
      h('label', { class: 'up-report__filter', for: 'report-' + job.id + '-problems' }, cb, ' 只看未成功的 ' + notOk + ' 行'),
    );
  }

  fill();
  box.append(
    h(
      'div',
      { class: 'up-report__scroll' },
      h(
        'table',
        { class: 'up-table', 'data-testid': 'report-table' },
        h('caption', { class: 'up-visually-hidden' }, jobName(job) + ' 的逐行结果'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, '行号'),
            h('th', { scope: 'col' }, '文件'),
            h('th', { scope: 'col' }, '结果'),
            h('th', { scope: 'col' }, '原因'),
            h('th', { scope: 'col' }, '题名'),
          ),
        ),
        tbody,
      ),
    ),
  );
  return box;
}

async function loadOlderJobs() {
  if (!st.jobsCursor) return;
  const filter = st.jobFilter;
  try {
    const data = await jobsApi.list({ cursor: st.jobsCursor, limit: JOB_PAGE, state: filter || undefined });
    if (filter !== st.jobFilter) return;
    for (const j of (data && data.items) || []) st.jobs.set(j.id, j);
    st.jobsCursor = data ? data.next_cursor : null;
    showJobsError('');
    renderJobs();
  } catch (e) {
    if (handleAuthError(e)) return;
    showJobsError('加载失败：' + errorText(e, '无法连接服务器'));
  }
}

els.jobsMore.addEventListener('click', () => busy(els.jobsMore, loadOlderJobs));
els.jobsRefresh.addEventListener('click', () => schedulePoll(0));
els.jobsState.addEventListener('change', () => {
  st.jobFilter = els.jobsState.value;
  st.jobs.clear();
  st.jobsLoaded = false;
  st.jobsCursor = null;
  renderJobs();
  show(els.jobsEmpty, false);
  show(els.jobsLoading, true);
  schedulePoll(0);
});

// ---------------------------------------------------------------------------------------------
// Resources

function showResError(message) {
  setText(els.resError, message);
  show(els.resError, !!message);
}

function coverImg(res, which, cls) {
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

function renderResources() {
  els.resList.replaceChildren(...st.resItems.map(resourceCard));
  show(els.resEmpty, st.resItems.length === 0 && !els.resError.textContent);
  show(els.resMore, !!st.resCursor);
}

async function loadResources(more) {
  if (st.resLoading) return;
  st.resLoading = true;
  try {
    const data = await resApi.list({ limit: RES_PAGE, cursor: more ? st.resCursor : undefined });
    const items = (data && Array.isArray(data.items) && data.items) || [];
    st.resItems = more ? st.resItems.concat(items) : items;
    st.resCursor = data ? data.next_cursor : null;
    showResError('');
  } catch (e) {
    if (handleAuthError(e)) return;
    showResError('资源列表加载失败：' + errorText(e, '无法连接服务器'));
  } finally {
    st.resLoading = false;
    show(els.resLoading, false);
  }
  renderResources();
}

/** After a job ends: reload the first page (and as many more as were shown). */
function refreshResourcesSoon() {
  clearTimeout(st.resRefreshTimer);
  st.resRefreshTimer = setTimeout(async () => {
    const shown = Math.max(st.resItems.length, RES_PAGE);
    await loadResources(false);
    while (st.resCursor && st.resItems.length < shown && !els.resError.textContent) await loadResources(true);
  }, 300);
}

els.resMore.addEventListener('click', () => busy(els.resMore, () => loadResources(true)));
els.resRefresh.addEventListener('click', () => busy(els.resRefresh, () => loadResources(false)));

// ---------------------------------------------------------------------------------------------
// One resource: details and corrections (dialog opened by #resource-<id>)

function fillCategorySelect() {
  const sel = $('rf-category');
  sel.replaceChildren(h('option', { value: '' }, '（未分类）'), ...CATEGORIES.map(([code, name]) => h('option', { value: code }, name)));
}
fillCategorySelect();

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

function renderDialog(res) {
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
  els.dialogBody.replaceChildren(body);

  for (const k of FORM_TEXT_FIELDS) field(k).value = res[k] == null ? '' : String(res[k]);
  field('authors').value = (res.authors || []).map((a) => a.name).join('; ');
  field('category').value = (res.category && res.category.code) || '';
  show(els.formMsg, false);
  show(els.form, true);
}

function showDialogError(message) {
  setText(els.dialogError, message);
  show(els.dialogError, !!message);
}

async function openResource(id) {
  if (!st.signedIn) return;
  st.dialogRes = null;
  setText(els.dialogTitle, '资源详情');
  els.dialogBody.replaceChildren(h('p', { class: 'up-empty' }, h('i', { class: 'weui-loading', 'aria-hidden': 'true' }), ' 正在加载…'));
  show(els.form, false);
  showDialogError('');
  if (!els.dialog.open) els.dialog.showModal();
  try {
    const res = await resApi.get(id);
    st.dialogRes = res;
    renderDialog(res);
  } catch (e) {
    if (handleAuthError(e)) return;
    els.dialogBody.replaceChildren();
    showDialogError(e instanceof ApiError && e.status === 404 ? '该资源不存在或已删除。' : '加载失败：' + errorText(e, '无法连接服务器'));
  }
}

function openFromHash() {
  const m = /^#resource-(\d+)$/.exec(location.hash);
  if (m) openResource(m[1]);
}

window.addEventListener('hashchange', openFromHash);
els.dialogClose.addEventListener('click', () => els.dialog.close());
els.dialog.addEventListener('close', () => {
  if (/^#resource-/.test(location.hash)) history.replaceState(null, '', location.pathname + location.search);
});

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

function showFormMsg(message, ok) {
  setText(els.formMsg, message);
  els.formMsg.className = 'up-form__msg ' + (ok ? 'up-form__msg_ok' : 'up-form__msg_error');
  show(els.formMsg, !!message);
}

els.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const res = st.dialogRes;
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
      st.dialogRes = updated;
      renderDialog(updated);
      st.resItems = st.resItems.map((r) => (r.id === updated.id ? updated : r));
      renderResources();
      showFormMsg('已保存', true);
    } catch (err) {
      if (handleAuthError(err)) return;
      showFormMsg('保存失败：' + errorText(err, '请稍后再试'), false);
    }
  });
});

// ---------------------------------------------------------------------------------------------

async function start() {
  try {
    const p = await auth.me();
    if (!p) showLogin('');
    else if (p.kind !== 'staff') showLogin(READER_REFUSED);
    else enter(p);
  } catch (e) {
    showLogin(errorText(e, '无法连接服务器，请稍后再试'));
  }
}

start();
