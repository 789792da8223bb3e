// Small fetch wrapper for the Shuxiang JSON API (/api/v1/...).
//
// Every call is same-origin with the session cookie; the browser adds the
// Origin header that the server requires on cookie-authenticated POSTs.
// Errors come back as {"error":{"code":"snake_case","message":"…"}} and are
// thrown as ApiError with the server's (Chinese) message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const FALLBACK_MESSAGES = {
  0: '网络连接失败，请检查网络后重试',
  400: '请求有误，请检查输入',
  401: '请先登录',
  403: '没有权限执行此操作',
  404: '请求的内容不存在',
  413: '提交的内容过大',
  415: '不支持的文件格式',
  429: '操作过于频繁，请稍后再试',
  503: '服务器繁忙，请稍后再试',
};

function fallbackMessage(status) {
  if (FALLBACK_MESSAGES[status]) return FALLBACK_MESSAGES[status];
  if (status >= 500) return '服务器出错了，请稍后再试';
  return '请求失败（' + status + '）';
}

/**
 * Call the API. `body` (optional) is sent as JSON.
 * Resolves with the parsed JSON body (or null when empty);
 * rejects with ApiError on network failure or a non-2xx status.
 */
export async function apiRequest(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json' },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', fallbackMessage(0));
  }

  const text = await res.text().catch(() => '');
  return parseApiAnswer(res.status, text);
}

export const auth = {
  /** Current principal, or null when not logged in (401). */
  async me() {
    try {
      const data = await apiRequest('GET', '/api/v1/auth/me');
      return (data && data.principal) || null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    }
  },
  async login(login, password) {
    const data = await apiRequest('POST', '/api/v1/auth/login', { login, password });
    return data && data.principal;
  },
  /** End the session. A 401 means it is already gone: that is what was wanted. */
  async logout() {
    try {
      await apiRequest('POST', '/api/v1/auth/logout');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) throw e;
    }
  },
  async changePassword(current, next) {
    await apiRequest('POST', '/api/v1/auth/password', { current, new: next });
  },
};

/** The server's message for an ApiError, else `fallback` (network trouble, a bug). */
export function errorText(e, fallback) {
  return e instanceof ApiError ? e.message : fallback;
}

/** Parse an API answer body; throw ApiError for a non-2xx status (shared by fetch and XHR). */
export function parseApiAnswer(status, text) {
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (status < 200 || status > 299) {
    const err = data && typeof data === 'object' ? data.error : null;
    const code = err && typeof err.code === 'string' ? err.code : 'http_' + status;
    const message =
      err && typeof err.message === 'string' && err.message ? err.message : fallbackMessage(status);
    throw new ApiError(status, code, message);
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v != null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/** The durable job queue (content staff). */
export const jobs = {
  /** {items, next_cursor}, newest first. */
  list({ cursor, limit, state } = {}) {
    return apiRequest('GET', '/api/v1/staff/jobs' + query({ cursor, limit, state }));
  },
  async get(id) {
    return (await apiRequest('GET', '/api/v1/staff/jobs/' + encodeURIComponent(id))).job;
  },
  async retry(id) {
    return (await apiRequest('POST', '/api/v1/staff/jobs/' + encodeURIComponent(id) + '/retry')).job;
  },
  async cancel(id) {
    return (await apiRequest('POST', '/api/v1/staff/jobs/' + encodeURIComponent(id) + '/cancel')).job;
  },
};

/** The catalogue of e-books, audiobooks and videos. */
export const resources = {
  /** {items, next_cursor} (public). */
  list({ kind, category, cursor, limit } = {}) {
    return apiRequest('GET', '/api/v1/resources' + query({ kind, category, cursor, limit }));
  },
  async get(id) {
    return (await apiRequest('GET', '/api/v1/resources/' + encodeURIComponent(id))).resource;
  },
  /** Staff edit: only the fields given are changed. */
  async update(id, fields) {
    return (await apiRequest('PATCH', '/api/v1/staff/resources/' + encodeURIComponent(id), fields)).resource;
  },
};

/**
 * Upload one file to POST /api/v1/staff/uploads as multipart/form-data (part "file") with
 * XMLHttpRequest, because fetch reports no upload progress. onProgress(loaded, total) is called
 * as the body goes out. Returns {promise, abort}; the promise resolves with the answer
 * ({"uploads":[…]}) or rejects with ApiError (code "aborted" after abort()).
 */
export function uploadFile(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', '/api/v1/staff/uploads');
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    });
    xhr.addEventListener('load', () => {
      try {
        resolve(parseApiAnswer(xhr.status, xhr.responseText));
      } catch (e) {
        reject(e);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', fallbackMessage(0))));
    xhr.addEventListener('timeout', () => reject(new ApiError(0, 'network', fallbackMessage(0))));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', '已取消上传')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

export const KIND_LABELS = { reader: '读者', staff: '馆员', device: '设备' };

export const ROLE_LABELS = {
  admin: '系统管理员',
  cataloguer: '编目员',
  circulation: '流通馆员',
  content: '内容编辑',
};

/** "总馆（ZG）" for {"code":"ZG","name":"总馆"}, or null. */
export function branchLabel(branch) {
  if (!branch || typeof branch !== 'object') return null;
  if (branch.name && branch.code) return branch.name + '（' + branch.code + '）';
  return branch.name || branch.code || null;
}
