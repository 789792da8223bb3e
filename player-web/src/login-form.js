// The sign-in form shared by the reader page and the staff console: validation of empty
// fields, one request at a time, the server's message on refusal.
import { ApiError, auth } from './api.js';
import { busy } from './dom.js';

/**
 * Wire a sign-in form. `els` holds form, login, password and submit elements;
 * `showError(message)` shows ('' hides) the error; `required` gives the messages for an
 * empty login or password; `onSignedIn(principal)` runs after a successful sign-in.
 */
export function bindLoginForm(els, { showError, required, onSignedIn }) {
  els.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const login = els.login.value.trim();
    const password = els.password.value;
    if (!login || !password) {
      showError(!login ? required.login : required.password);
      return;
    }
    showError('');
    busy(els.submit, async () => {
      let p;
      try {
        p = (await auth.login(login, password)) || (await auth.me());
      } catch (e) {
        els.password.value = '';
        showError(e instanceof ApiError ? e.message : '登录失败，请稍后再试');
        els.password.focus();
        return;
      }
      await onSignedIn(p);
    });
  });
  els.form.addEventListener('input', () => showError(''));
}
