// Reader H5 page (/): login, "我的" panel, change password, logout.
import './reader-page.css';
import { ApiError, auth, branchLabel, KIND_LABELS } from './api.js';
import { $, busy, setText, show } from './dom.js';
import { bindLoginForm } from './login-form.js';

const els = {
  loading: $('loading'),
  loginPanel: $('login-panel'),
  loginForm: $('login-form'),
  login: $('login'),
  password: $('password'),
  loginSubmit: $('login-submit'),
  loginError: $('login-error'),
  mePanel: $('me-panel'),
  meAvatar: $('me-avatar'),
  meName: $('me-name'),
  meKind: $('me-kind'),
  meKindCell: $('me-kind-cell'),
  meBranch: $('me-branch'),
  meCardRow: $('me-card-row'),
  meCard: $('me-card'),
  meLoginRow: $('me-login-row'),
  meLogin: $('me-login'),
  pwForm: $('pw-form'),
  pwUsername: $('pw-username'),
  pwCurrent: $('pw-current'),
  pwNew: $('pw-new'),
  pwSubmit: $('pw-submit'),
  pwMsg: $('pw-msg'),
  logout: $('logout'),
  toast: $('toast'),
  toastText: $('toast-text'),
};

let toastTimer = 0;

function toast(text, ok = true) {
  setText(els.toastText, text);
  els.toast.classList.toggle('sx-toast_text', !ok);
  show(els.toast);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => show(els.toast, false), 1500);
}

function showLoginError(message) {
  setText(els.loginError, message);
  show(els.loginError, !!message);
}

function showPwMessage(message, ok) {
  setText(els.pwMsg, message);
  els.pwMsg.classList.toggle('sx-msg_ok', !!ok);
  els.pwMsg.classList.toggle('sx-msg_error', !ok);
  show(els.pwMsg, !!message);
}

function showLogin(message) {
  show(els.loading, false);
  show(els.mePanel, false);
  show(els.loginPanel);
  els.password.value = '';
  showLoginError(message || '');
  document.title = '登录 · 书香';
  (els.login.value ? els.password : els.login).focus();
}

function showMe(p) {
  const name = p.name || p.login || p.card || '读者';
  setText(els.meName, name);
  setText(els.meAvatar, Array.from(name)[0] || '书');
  const kind = KIND_LABELS[p.kind] || p.kind || '';
  setText(els.meKind, kind);
  setText(els.meKindCell, kind);
  setText(els.meBranch, branchLabel(p.branch) || '');

  // Readers have a card; staff (who may open this page too) have a login.
  setText(els.meCard, p.card || '—');
  show(els.meCardRow, p.kind === 'reader' || !!p.card);
  setText(els.meLogin, p.login || '');
  show(els.meLoginRow, !!p.login);

  els.pwForm.reset();
  els.pwUsername.value = p.card || p.login || '';
  showPwMessage('');
  clearTimeout(toastTimer);
  show(els.toast, false);
  show(els.loading, false);
  show(els.loginPanel, false);
  show(els.mePanel);
  document.title = '我的 · 书香';
}

/** Any call answering 401 means the session ended (expired, or signed out elsewhere). */
function handleError(e, fallbackShow) {
  if (e instanceof ApiError && e.status === 401) {
    showLogin('登录已过期，请重新登录');
    return;
  }
  fallbackShow(e instanceof ApiError ? e.message : '出错了，请稍后再试');
}

bindLoginForm(
  { form: els.loginForm, login: els.login, password: els.password, submit: els.loginSubmit },
  {
    showError: showLoginError,
    required: { login: '请输入读者证号或手机号', password: '请输入密码' },
    onSignedIn: async (p) => showMe(p || (await auth.me())),
  },
);

els.pwForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const current = els.pwCurrent.value;
  const next = els.pwNew.value;
  if (!current || !next) {
    showPwMessage('请填写当前密码和新密码', false);
    return;
  }
  if (current === next) {
    showPwMessage('新密码不能与当前密码相同', false);
    return;
  }
  showPwMessage('');
  busy(els.pwSubmit, async () => {
    try {
      await auth.changePassword(current, next);
    } catch (e) {
      handleError(e, (m) => showPwMessage(m, false));
      return;
    }
    els.pwCurrent.value = '';
    els.pwNew.value = '';
    // The server ends the other sessions; if it ended this one too, ask to log in again.
    let p = null;
    try {
      p = await auth.me();
    } catch (e) {
      p = null;
    }
    if (!p) {
      showLogin('密码已修改，请使用新密码重新登录');
      return;
    }
    showPwMessage('修改成功。其他设备上的登录已退出。', true);
    toast('修改成功');
  });
});

els.logout.addEventListener('click', () => {
  busy(els.logout, async () => {
    try {
      await auth.logout();
    } catch (e) {
      toast(e instanceof ApiError ? e.message : '退出失败', false);
      return;
    }
    els.login.value = '';
    showLogin('');
    toast('已退出登录');
  });
});

async function start() {
  try {
    const p = await auth.me();
    if (p) showMe(p);
    else showLogin('');
  } catch (e) {
    showLogin(e instanceof ApiError ? e.message : '无法连接服务器，请稍后再试');
  }
}

start();
