// Tiny DOM helpers. Text is always set with textContent (never innerHTML),
// and nothing here writes style="" attributes: the page CSP forbids inline
// styles, so visibility goes through the `hidden` attribute and classes.

export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error('missing element #' + id);
  return el;
}

export function show(el, visible = true) {
  el.hidden = !visible;
}

export function setText(el, text) {
  el.textContent = text == null ? '' : String(text);
}

/** h('span', {class: 'chip'}, 'text', child) — builds an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) {
    if (c == null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Disable a button while `fn` runs, so a double tap sends one request. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
