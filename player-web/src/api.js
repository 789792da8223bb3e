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

  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }

  if (!res.ok) {
    const err = data && typeof data === 'object' ? data.error : null;
    const code = err && typeof err.code === 'string' ? err.code : 'http_' + res.status;
    const message =
      err && typeof err.message === 'string' && err.message ? err.message : fallbackMessage(res.status);
    throw new ApiError(res.status, code, message);
  }
  return data;
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
  async logout() {
    await apiRequest('POST', '/api/v1/auth/logout');
  },
  async changePassword(current, next) {
    await apiRequest('POST', '/api/v1/auth/password', { current, new: next });
  },
};

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
