// Staff sign-in shared by the staff console (/staff/) and 上传与任务 (/staff/uploads/): the
// sign-in panel, readers refused (and their session ended), the signed-in name and sign-out
// button in the header, and the first look at the session (auth.me()) when the page opens.
// The pages use the same element ids: loading, login-panel, login-form, login, password,
// login-submit, login-error, header-user, logout.
import { auth, errorText } from './api.js';
import { $, busy, setText, show } from './dom.js';
import { bindLoginForm } from './login-form.js';

const READER_REFUSED = '此页面仅限馆员使用（Staff only）';

/**
 * Wire the staff sign-in. `panels`: the page's own sections, hidden while the sign-in form
 * shows; `onStaff(principal)`: a staff member is in (loading and sign-in panels are hidden,
 * the header names them); `onLeave()`: runs before the sign-in form shows (sign-out, refusal,
 * lost session); `onLogout()`: the server ended the session on the sign-out button.
 * Returns {showLogin(message), start()}; start() looks at the session once.
 */
export function staffSession({ panels, onStaff, onLeave, onLogout }) {
  const els = {
    loading: $('loading'),
    loginPanel: $('login-panel'),
    login: $('login'),
    password: $('password'),
    loginError: $('login-error'),
    headerUser: $('header-user'),
    logout: $('logout'),
  };

  function showLoginError(message) {
    setText(els.loginError, message);
    show(els.loginError, !!message);
  }

  function showLogin(message) {
    if (onLeave) onLeave();
    show(els.loading, false);
    for (const panel of panels) show(panel, false);
    show(els.headerUser, false);
    show(els.logout, false);
    show(els.loginPanel);
    els.password.value = '';
    showLoginError(message || '');
    (els.login.value ? els.password : els.login).focus();
  }

  function enter(p) {
    show(els.loading, false);
    show(els.loginPanel, false);
    setText(els.headerUser, p.name || p.login || '');
    show(els.headerUser, true);
    show(els.logout, true);
    onStaff(p);
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
    { form: $('login-form'), login: els.login, password: els.password, submit: $('login-submit') },
    {
      showError: showLoginError,
      required: { login: '请输入登录名 (login required)', password: '请输入密码 (password required)' },
      onSignedIn: async (p) => {
        if (!p || p.kind !== 'staff') await refuseReader();
        else enter(p);
      },
    },
  );

  els.logout.addEventListener('click', () => {
    busy(els.logout, async () => {
      try {
        await auth.logout();
      } catch (e) {
        alert(errorText(e, '退出失败'));
        return;
      }
      if (onLogout) onLogout();
      els.login.value = '';
      showLogin('');
    });
  });

  async function start() {
    try {
      const p = await auth.me();
      if (!p) showLogin('');
      else if (p.kind !== 'staff') showLogin(READER_REFUSED);
      else enter(p);
    } catch (e) {
      showLogin(errorText(e, '无法连接服务器，请稍后再试'));
    }
  }

  return { showLogin, start };
}
