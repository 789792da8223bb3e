// The search API (docs/api.md, GET /api/v1/search and /api/v1/search/suggest). Both are public.
import { apiRequest } from '../api.js';

function query(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') p.set(k, String(v));
  return p.toString();
}

/** One page of hits: {query, hits, total, total_is_capped, groups, facets, next_cursor}. */
export function searchPage({ q, kind, category, clc, language, cursor, limit }) {
  return apiRequest('GET', '/api/v1/search?' + query({ q, kind, category, clc, language, cursor, limit }));
}

/** Titles and authors for what is being typed: [{text, type, resource}]. */
export async function suggest(q, limit = 8) {
  const data = await apiRequest('GET', '/api/v1/search/suggest?' + query({ q, limit }));
  return (data && Array.isArray(data.suggestions) && data.suggestions) || [];
}
