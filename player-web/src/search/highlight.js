// Highlighted text from the search API: `text` with `highlights`, a list of [start, length] in
// UTF-16 code units (JavaScript string indices). Built from text nodes and <mark> elements, never
// markup, so nothing in a title or a book's text can inject HTML.

/** Clamp, sort and merge the ranges; drop empty and malformed ones. */
export function normaliseRanges(text, highlights) {
  const n = text.length;
  const ranges = [];
  for (const r of Array.isArray(highlights) ? highlights : []) {
    if (!Array.isArray(r) || r.length < 2) continue;
    const start = Math.max(0, Math.min(n, Math.floor(Number(r[0]))));
    const end = Math.max(start, Math.min(n, start + Math.floor(Number(r[1]))));
    if (Number.isFinite(start) && Number.isFinite(end) && end > start) ranges.push([start, end]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push(r.slice());
  }
  return merged;
}

/** Append `text` to `el`, with the highlighted ranges wrapped in <mark>. Returns `el`. */
export function appendHighlighted(el, text, highlights) {
  const s = text == null ? '' : String(text);
  let at = 0;
  for (const [start, end] of normaliseRanges(s, highlights)) {
    if (start > at) el.append(document.createTextNode(s.slice(at, start)));
    const mark = document.createElement('mark');
    mark.className = 'sx-mark';
    mark.textContent = s.slice(start, end);
    el.append(mark);
    at = end;
  }
  if (at < s.length) el.append(document.createTextNode(s.slice(at)));
  return el;
}
