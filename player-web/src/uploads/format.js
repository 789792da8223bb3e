// Formatting and small widgets shared by the parts of 上传与任务: sizes in MB, times, spans
// of time (时长, 剩余), author lists, resource links and WeUI progress bars.
import { h } from '../dom.js';

const AUTHOR_ROLES = { aut: '著', trl: '译', edt: '编', ill: '绘', nrt: '播讲' };
export const FORMAT_LABELS = { epub: 'EPUB', txt: 'TXT', pdf: 'PDF', audio: '音频', video: '视频' };

export function formatMB(bytes) {
  const mb = (Number(bytes) || 0) / (1024 * 1024);
  if (mb >= 100) return mb.toFixed(0) + ' MB';
  if (mb >= 1) return mb.toFixed(1) + ' MB';
  return (mb < 0.01 && bytes > 0 ? '0.01' : mb.toFixed(2)) + ' MB';
}

function pad2(n) {
  return String(n).padStart(2, '0');
}

export function formatTime(sec) {
  if (!sec) return '';
  const d = new Date(sec * 1000);
  const now = new Date();
  const hms = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  if (d.toDateString() === now.toDateString()) return hms;
  const md = pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  return (d.getFullYear() === now.getFullYear() ? '' : d.getFullYear() + '-') + md + ' ' + hms;
}

/** A span of seconds in words: "45 秒", "2 分 10 秒", "1 小时 5 分". */
export function formatSpan(sec) {
  const s = Math.max(0, Math.round(Number(sec) || 0));
  if (s < 60) return s + ' 秒';
  const hours = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (hours) return hours + ' 小时' + (min ? ' ' + min + ' 分' : '');
  return min + ' 分' + (s % 60 ? ' ' + (s % 60) + ' 秒' : '');
}

/** A media time as a player shows it: "0:05", "12:30", "1:02:03". */
export function formatClock(sec) {
  const s = Math.max(0, Math.floor(Number(sec) || 0));
  const hours = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = pad2(s % 60);
  return hours ? hours + ':' + pad2(mm) + ':' + ss : mm + ':' + ss;
}

export function authorsText(authors) {
  if (!Array.isArray(authors) || authors.length === 0) return '';
  return authors
    .map((a) => {
      const role = a && a.role && a.role !== 'aut' ? AUTHOR_ROLES[a.role] || a.role : '';
      return (a && a.name ? a.name : '') + (role ? '（' + role + '）' : '');
    })
    .filter(Boolean)
    .join('、');
}

/** The link that opens a resource's dialog (resource-dialog.js follows the hash). */
export function resourceHref(id) {
  return '#resource-' + encodeURIComponent(id);
}

function clampPct(p) {
  const n = Math.round(Number(p) || 0);
  return Math.max(0, Math.min(100, n));
}

/**
 * A WeUI progress bar with progressbar semantics; update with setProgress. The width is set
 * from script (element.style), which the CSP allows; the HTML never carries style="".
 */
export function progressBar(pct, label, testid) {
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

export function setProgress(wrap, pct) {
  const p = clampPct(pct);
  wrap.setAttribute('aria-valuenow', String(p));
  wrap.querySelector('.weui-progress__inner-bar').style.width = p + '%';
  wrap.querySelector('.up-progress__pct').textContent = p + '%';
}
