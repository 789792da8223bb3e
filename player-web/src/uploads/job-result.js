// What a finished job made: one file's outcome (成功 / 重复 / 失败 with a link to its resource),
// or a bundle's counts and its per-row report table, built when first opened. Which reports
// are open, and which show only the rows that did not succeed, outlives the re-rendering of
// the job list on each poll.
import { h } from '../dom.js';
import { resourceHref } from './format.js';

const ROW_STATUS_LABELS = { ok: '成功', duplicate: '重复', failed: '失败' };

const openReports = new Set(); // job ids
const failedOnly = new Set(); // job ids

/** The result of done job `job` (named `name` on the page). */
export function jobResult(job, name) {
  if (job.kind === 'bundle' || Array.isArray(job.result.rows)) return bundleResult(job, name);
  return ingestResult(job.result);
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

function bundleResult(job, name) {
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
    details.append(reportTable(job, name, rows));
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

function reportTable(job, name, rows) {
  const notOk = rows.filter((r) => r && r.status !== 'ok').length;
  const box = h('div', { class: 'up-report__body' });
  let onlyProblems = failedOnly.has(job.id);

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
