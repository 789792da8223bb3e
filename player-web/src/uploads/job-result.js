// What a finished job made: one file's outcome (成功 / 重复 / 失败 with a link to its resource),
// or a bundle's counts and its per-row report table, built when first opened. Which reports
// are open, and which show only the rows that did not succeed, outlives the re-rendering of
// the job list on each poll. A row whose audio or video was handed to its own transcode job
// (status "queued": an audiobook folder, a video) names that job, and once the job is done,
// the resource it made.
import { h } from '../dom.js';
import { resourceHref } from './format.js';

const ROW_STATUS_LABELS = { ok: '成功', duplicate: '重复', failed: '失败', queued: '已排入转码' };

const openReports = new Set(); // job ids
const failedOnly = new Set(); // job ids

/**
 * The result of done job `job` (named `name` on the page). `jobById(id)` gives a job the list
 * knows (a bundle's transcode jobs), or null.
 */
export function jobResult(job, name, jobById = () => null) {
  if (job.kind === 'bundle' || Array.isArray(job.result.rows)) return bundleResult(job, name, jobById);
  return ingestResult(job.result);
}

function resourceLink(res, fallback) {
  if (res && res.id != null) {
    return h('a', { href: resourceHref(res.id), 'data-resource-id': res.id }, res.title || fallback || '#' + res.id);
  }
  return fallback ? h('span', null, fallback) : h('span', { class: 'st-muted' }, '—');
}

function statusChip(status, text) {
  return h('span', { class: 'up-row-status up-row-status_' + status }, text || ROW_STATUS_LABELS[status] || status);
}

/** A report row's outcome chip: a queued row names its transcode job. */
function rowChip(row) {
  if (row.status === 'queued' && row.job != null) return statusChip('queued', '已排入转码（任务 #' + row.job + '）');
  return statusChip(row.status);
}

/** Rows that need a look: not made, and not on their way either. */
function isProblem(row) {
  return row && row.status !== 'ok' && row.status !== 'queued';
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
  const c = { ok: 0, duplicate: 0, failed: 0, queued: 0 };
  for (const row of r.rows || []) if (row && c[row.status] !== undefined) c[row.status]++;
  return c;
}

function bundleResult(job, name, jobById) {
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
      c.queued ? ' · ' : null,
      c.queued ? h('span', { class: 'up-count up-count_queued' }, '已排入转码 ' + c.queued) : null,
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
    details.append(reportTable(job, name, rows, jobById));
  };
  if (openReports.has(job.id)) {
    build();
    details.open = true;
  }
  details.addEventListener('toggle', () => {
    if (details.open) {
      build();
      openReports.add(job.id);
    } else {
      openReports.delete(job.id);
    }
  });
  wrap.append(details);
  return wrap;
}

/** What a queued row's transcode job made or why it failed, once it has ended. */
function childOutcome(row, jobById) {
  const child = row.status === 'queued' && row.job != null ? jobById(row.job) : null;
  if (!child) return { resource: null, reason: '' };
  if (child.state === 'done' && child.result && child.result.resource) return { resource: child.result.resource, reason: '' };
  if (child.state === 'failed') return { resource: null, reason: '转码失败：' + (child.error || '未知原因') };
  if (child.state === 'cancelled') return { resource: null, reason: '转码已取消' };
  return { resource: null, reason: '' };
}

function reportTable(job, name, rows, jobById) {
  const notOk = rows.filter(isProblem).length;
  const box = h('div', { class: 'up-report__body' });
  let onlyProblems = failedOnly.has(job.id);

  const tbody = h('tbody');
  const fill = () => {
    tbody.replaceChildren();
    for (const row of rows) {
      if (!row || (onlyProblems && !isProblem(row))) continue;
      const child = childOutcome(row, jobById);
      tbody.append(
        h(
          'tr',
          { 'data-testid': 'report-row', 'data-status': row.status, 'data-job-id': row.job != null ? row.job : null },
          h('td', { class: 'up-num' }, row.line != null ? row.line : ''),
          h('td', { class: 'up-report__file' }, row.file || ''),
          h('td', null, rowChip(row)),
          h('td', { class: 'up-report__reason' }, row.reason || child.reason),
          h('td', null, resourceLink(row.resource || child.resource)),
        ),
      );
    }
  };

  if (notOk > 0) {
    const cb = h('input', { type: 'checkbox', id: 'report-' + job.id + '-problems' });
    cb.checked = onlyProblems;
    cb.addEventListener('change', () => {
      onlyProblems = cb.checked;
      if (onlyProblems) failedOnly.add(job.id);
      else failedOnly.delete(job.id);
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
        h('caption', { class: 'up-visually-hidden' }, name + ' 的逐行结果'),
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
