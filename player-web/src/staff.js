// Staff console (/staff/): sign-in and "who am I". Readers are refused here.
import './staff.css';
import { ApiError, auth, branchLabel, ROLE_LABELS } from './api.js';
import { $, busy, h, setText, show } from './dom.js';
import { bindLoginForm } from './login-form.js';

const READER_REFUSED = '此页面仅限馆员使用（Staff only）';

const els = {
  loading: $('loading'),
  loginPanel: $('login-panel'),
  loginForm: $('login-form'),
  login: $('login'),
  password: $('password'),
  loginSubmit: $('login-submit'),
  loginError: $('login-error'),
  mePanel: $('me-panel'),
  meName: $('me-name'),
  meLogin: $('me-login'),
  meRoles: $('me-roles'),
  meBranch: $('me-branch'),
  logout: $('logout'),
  headerUser: $('header-user'),
};

function showLoginError(message) {
  setText(els.loginError, message);
  show(els.loginError, !!message);
}

function showLogin(message) {
  show(els.loading, false);
  show(els.mePanel, false);
  show(els.headerUser, false);
  show(els.loginPanel);
  els.password.value = '';
  showLoginError(message || '');
  (els.login.value ? els.password : els.login).focus();
}

function showMe(p) {
  setText(els.meName, p.name || '—');
  setText(els.meLogin, p.login || '—');

  els.meRoles.replaceChildren();
  const roles = Array.isArray(p.roles) ? p.roles : [];
  if (roles.length === 0) {
    els.meRoles.append(h('span', { class: 'st-muted' }, '无 (none)'));
  }
  for (const role of roles) {
    const zh = ROLE_LABELS[role];
    els.meRoles.append(
      h('span', { class: 'st-chip' }, zh ? zh + ' ' : null, h('code', null, role)),
    );
  }

  setText(els.meBranch, branchLabel(p.branch) || '未指定 (none)');
  setText(els.headerUser, p.name || p.login || '');
  show(els.headerUser, true);

  show(els.loading, false);
  show(els.loginPanel, false);
  show(els.mePanel);
}

async function refuseReader() {
  // A reader's session must not linger on a staff desk: end it.
  try {
    await auth.logout();
  } catch (e) {
    /* already gone */
  }
  els.login.value = '';
  showLogin(READER_REFUSED);
}

bindLoginForm(
  { form: els.loginForm, login: els.login, password: els.password, submit: els.loginSubmit },
  {
    showError: showLoginError,
    required: { login: '请输入登录名 (login required)', password: '请输入密码 (password required)' },
    onSignedIn: async (p) => {
      if (!p || p.kind !== 'staff') await refuseReader();
      else showMe(p);
    },
  },
);

els.logout.addEventListener('click', () => {
  busy(els.logout, async () => {
    try {
      await auth.logout();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        alert(e instanceof ApiError ? e.message : '退出失败');
        return;
      }
    }
    els.login.value = '';
    showLogin('');
  });
});

async function start() {
  try {
    const p = await auth.me();
    if (!p) showLogin('');
    else if (p.kind !== 'staff') showLogin(READER_REFUSED);
    else showMe(p);
  } catch (e) {
    showLogin(e instanceof ApiError ? e.message : '无法连接服务器，请稍后再试');
  }
}

start();
