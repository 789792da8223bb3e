// The page's state lives in its URL (/search/?q=…&kind=…&category=…&clc=…&language=…), so a reload
// or a shared link shows the same results and back/forward step through the searches.
import { FACETS } from './labels.js';

const PARAMS = ['q', ...FACETS.map((f) => f.param)];

/** {q, kind, category, clc, language} from a query string; missing values are ''. */
export function readState(search) {
  const p = new URLSearchParams(search);
  const state = {};
  for (const k of PARAMS) state[k] = (p.get(k) || '').trim();
  return state;
}

/** The query string for a state ('' when empty), parameters in a fixed order. */
export function stateQuery(state) {
  const p = new URLSearchParams();
  for (const k of PARAMS) if (state[k]) p.set(k, state[k]);
  const s = p.toString();
  return s ? '?' + s : '';
}

export function sameState(a, b) {
  return PARAMS.every((k) => (a[k] || '') === (b[k] || ''));
}

/** Record `state` in the address bar: a new history entry, unless it is the one shown. */
export function pushState(state) {
  const url = location.pathname + stateQuery(state);
  if (sameState(state, readState(location.search))) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
}
