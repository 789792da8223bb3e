// The job list of 上传与任务: GET /api/v1/staff/jobs polled every 1.5 s while anything is
// queued, running or uploading, every 10 s otherwise, every 30 s while the tab is hidden; a
// state filter, older pages, retry and cancel. A bundle's row jobs show under their bundle,
// except its audio/video transcodes (kind "media", lane "transcode"): they take minutes, so
// each has its own item, with its percent and time left, naming the bundle it came from.
// Each job's <li> is rebuilt only when what it shows changed, so focus and open reports stay.
import { errorText, jobs as jobsApi } from '../api.js';
import { $, busy, h, setText, show } from '../dom.js';
import { formatSpan, formatTime, progressBar } from './format.js';
import { jobResult } from './job-result.js';

const STATE_LABELS = { queued: '排队中', running: '处理中', done: '已完成', failed: '失败', cancelled: '已取消' };
const JOB_KIND_LABELS = { ingest: '单个文件', bundle: '批量包', media: '音视频' };
const LANE_LABELS = { transcode: '转码' }; // the default lane has no chip
const MAKES_RESOURCES = new Set(['ingest', 'bundle', 'media']);

const POLL_FAST = 1500;
const POLL_SLOW = 10000;
const POLL_HIDDEN = 30000;
const JOB_PAGE = 100;
const NAMES_KEY = 'sx.uploads.jobNames';

function isActive(job) {
  return job.state === 'queued' || job.state === 'running';
}

/** A child job that has its own item in the list rather than only a line under its parent. */
function standsAlone(job) {
  return job.kind === 'media';
}

/** "剩余约 2 分 10 秒" from eta_seconds, or '' when the server has no estimate. */
function etaText(job) {
  const eta = job.eta_seconds;
  if (eta == null || !Number.isFinite(Number(eta))) return '';
  return Number(eta) < 1 ? '即将完成' : '剩余约 ' + formatSpan(eta);
}

/** Names of the files uploaded from this tab, by job id (jobs of old servers carry none). */
function loadNames() {
  try {
    const o = JSON.parse(sessionStorage.getItem(NAMES_KEY) || '{}');
    return o && typeof o === 'object' ? o : {};
  } catch (e) {
    return {};
  }
}

/**
 * Wire the job list. `isSignedIn()`: polling may run; `authLost(e)`: handles a 401;
 * `uploadsBusy()`: an upload is under way or waiting (poll fast); `onIngested()`: a job that
 * makes resources finished. Returns {start(), stop(), schedulePoll(delay), addUploads(ups, name)}.
 */
export function createJobList({ isSignedIn, authLost, uploadsBusy, onIngested }) {
  const els = {
    jobsState: $('jobs-state'),
    jobsRefresh: $('jobs-refresh'),
    jobsError: $('jobs-error'),
    jobsLive: $('jobs-live'),
    jobsLoading: $('jobs-loading'),
    jobsEmpty: $('jobs-empty'),
    jobList: $('job-list'),
    jobsMore: $('jobs-more'),
  };
  const st = {
    jobs: new Map(), // id -> job (top-level and children)
    jobEls: new Map(), // id -> {li, sig}
    cursor: null, // cursor for older jobs than the ones shown ("加载更早的任务")
    loaded: false,
    filter: '',
    names: loadNames(),
    pollTimer: 0,
    polling: false,
    pollAgain: false,
  };

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

  function jobName(job) {
    if (job.name) return job.name;
    if (job.result && typeof job.result === 'object' && job.result.name) return job.result.name;
    if (st.names[job.id]) return st.names[job.id];
    return '任务 #' + job.id;
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
      if (old && isActive(old) && !isActive(j) && (j.parent_id == null || standsAlone(j))) ended.push(j);
      if (old && isActive(old) && j.state === 'done') finished.push(j);
      else if (!old && st.loaded && j.state === 'done') finished.push(j);
      st.jobs.set(j.id, j);
    }
    // Tell screen readers when a job of this visit ends (the list itself is not a live region).
    if (ended.length) {
      setText(els.jobsLive, ended.map((j) => jobName(j) + '：' + (STATE_LABELS[j.state] || j.state)).join('；'));
    }
    return finished;
  }

  function stopPolling() {
    clearTimeout(st.pollTimer);
    st.pollTimer = 0;
  }

  async function pollJobs() {
    if (!isSignedIn()) return;
    if (st.polling) {
      st.pollAgain = true;
      return;
    }
    st.polling = true;
    stopPolling();
    const filter = st.filter;
    try {
      const data = await jobsApi.list({ limit: JOB_PAGE, state: filter || undefined });
      if (filter !== st.filter) return; // the filter changed meanwhile; that poll is coming
      const items = (data && Array.isArray(data.items) && data.items) || [];
      const finished = mergeNewest(items);
      if (!st.loaded) st.cursor = data ? data.next_cursor : null;
      st.loaded = true;
      showJobsError('');
      renderJobs();
      if (finished.some((j) => MAKES_RESOURCES.has(j.kind))) onIngested();
    } catch (e) {
      if (authLost(e)) return;
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
    if (!isSignedIn()) return;
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

  function jobSignature(job, children) {
    // A parent shows its children's states only (counts, report rows), not their progress.
    const kids = children.map((c) => c.id + ':' + c.state).join(',');
    const parent = job.parent_id != null && st.jobs.has(job.parent_id) ? 'p' : '';
    return [job.state, job.progress, job.eta_seconds, job.attempts, job.error, job.updated_at, jobName(job), kids, parent].join('|');
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
    const nested = (j) => j.parent_id != null && st.jobs.has(j.parent_id) && !standsAlone(j);
    const top = all.filter((j) => !nested(j)).sort((a, b) => b.id - a.id);

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

    show(els.jobsEmpty, st.loaded && top.length === 0);
    if (st.loaded && top.length === 0) {
      setText(
        els.jobsEmpty,
        st.filter ? '没有「' + STATE_LABELS[st.filter] + '」的任务。' : '暂无任务。上传文件后，入库任务会出现在这里。',
      );
    }
    show(els.jobsMore, !!st.cursor);
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
        LANE_LABELS[job.lane]
          ? h('span', { class: 'up-lane up-lane_' + job.lane, 'data-testid': 'job-lane', title: '处理队列' }, LANE_LABELS[job.lane])
          : null,
        h('span', { class: 'up-job__name', id: nameId, 'data-testid': 'job-name' }, name),
        h('span', { class: 'up-state up-state_' + job.state, 'data-testid': 'job-state' }, STATE_LABELS[job.state] || job.state),
      ),
    );

    const meta = ['任务 #' + job.id];
    if (job.parent_id != null) meta.push(parentRef(job.parent_id));
    meta.push('提交于 ' + formatTime(job.created_at));
    if (job.finished_at && !isActive(job)) meta.push('结束于 ' + formatTime(job.finished_at));
    if (job.attempts > 1 || (job.state === 'failed' && job.max_attempts > 1)) {
      meta.push('第 ' + job.attempts + '/' + job.max_attempts + ' 次尝试');
    }
    const metaEl = h('div', { class: 'up-job__meta' });
    meta.forEach((m, i) => metaEl.append(i ? ' · ' : '', m));
    li.append(metaEl);

    if (job.state === 'running') {
      const bar = progressBar(job.progress, '任务进度：' + name, 'job-progress');
      const eta = etaText(job);
      if (eta) bar.append(h('span', { class: 'up-job__eta', 'data-testid': 'job-eta' }, eta));
      li.append(bar);
    } else if (job.state === 'queued') {
      li.append(h('p', { class: 'up-job__wait' }, job.lane === 'transcode' ? '排队等待转码（每次转一个）…' : '等待空闲的处理线程…'));
    }

    if (job.error && job.state !== 'done') {
      const prefix = job.state === 'failed' ? '失败原因：' : job.state === 'queued' ? '上次尝试失败，稍后自动重试：' : '';
      li.append(h('p', { class: 'up-job__error', 'data-testid': 'job-error' }, prefix + job.error));
    }

    if (kids.length) {
      const done = kids.filter((k) => k.state === 'done').length;
      const failed = kids.filter((k) => k.state === 'failed').length;
      li.append(
        h('p', { class: 'up-job__kids' }, '子任务 ' + kids.length + ' 个：已完成 ' + done + (failed ? '，失败 ' + failed : '')),
      );
    }

    if (job.state === 'done' && job.result && typeof job.result === 'object') {
      li.append(jobResult(job, name, (id) => st.jobs.get(id) || null));
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

  /** "来自批量包 #N": a button to the parent's item when it is listed, else the text. */
  function parentRef(parentId) {
    const text = '来自批量包 #' + parentId;
    if (!st.jobEls.has(parentId) && !st.jobs.has(parentId)) return h('span', { 'data-testid': 'job-parent' }, text);
    const b = h('button', { type: 'button', class: 'up-linkbtn', 'data-testid': 'job-parent', 'data-parent-id': parentId }, text);
    b.addEventListener('click', () => {
      const rec = st.jobEls.get(parentId);
      if (!rec) return;
      rec.li.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      rec.li.focus({ preventScroll: true });
    });
    return b;
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
          if (authLost(e)) return;
          showJobsError((action === 'retry' ? '重试失败：' : '取消失败：') + errorText(e, '请稍后再试'));
        }
        schedulePoll(0);
      });
    });
    return b;
  }

  async function loadOlderJobs() {
    if (!st.cursor) return;
    const filter = st.filter;
    try {
      const data = await jobsApi.list({ cursor: st.cursor, limit: JOB_PAGE, state: filter || undefined });
      if (filter !== st.filter) return;
      for (const j of (data && data.items) || []) st.jobs.set(j.id, j);
      st.cursor = data ? data.next_cursor : null;
      showJobsError('');
      renderJobs();
    } catch (e) {
      if (authLost(e)) return;
      showJobsError('加载失败：' + errorText(e, '无法连接服务器'));
    }
  }

  els.jobsMore.addEventListener('click', () => busy(els.jobsMore, loadOlderJobs));
  els.jobsRefresh.addEventListener('click', () => schedulePoll(0));
  els.jobsState.addEventListener('change', () => {
    st.filter = els.jobsState.value;
    st.jobs.clear();
    st.loaded = false;
    st.cursor = null;
    renderJobs();
    show(els.jobsEmpty, false);
    show(els.jobsLoading, true);
    schedulePoll(0);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) schedulePoll(0);
  });

  return {
    start: pollJobs,
    stop: stopPolling,
    schedulePoll,
    /** The server took an upload: show its jobs now; returns their labels ("#12"). */
    addUploads(ups, fallbackName) {
      const ids = [];
      for (const u of ups) {
        if (!u || !u.job) continue;
        rememberName(u.job.id, u.name || fallbackName);
        st.jobs.set(u.job.id, u.job);
        ids.push('#' + u.job.id);
      }
      renderJobs();
      schedulePoll(0);
      return ids;
    },
  };
}
