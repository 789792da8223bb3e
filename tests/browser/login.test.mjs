// Browser tests for the reader page (/) and the staff console (/staff/).
//
// Runs the real server binary on 127.0.0.1 (port 0) with the built pages and
// drives Debian's Chromium through playwright-core (no browser download); the
// shared set-up is in harness.mjs.
//
//   SHUXIANG_BIN=build/shuxiang SHUXIANG_WEB_DIR=player-web/dist node --test tests/browser/
//
// Environment:
//   SHUXIANG_BIN        server binary (required)
//   SHUXIANG_WEB_DIR    built pages, player-web/dist (required)
//   SHUXIANG_CHROMIUM   browser executable (default /usr/bin/chromium)
//   SHUXIANG_SHOTS_DIR  if set, screenshots of each page are written there
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BAD_CREDENTIALS,
  DESKTOP,
  PHONE,
  WEB_DIR,
  addUser,
  expectLoginError,
  gotoLoginForm,
  h,
  meStatus,
  openPage,
  serverTest,
  shot,
  startHarness,
  stopHarness,
  submitLogin,
} from './harness.mjs';

const STAFF_ONLY = '此页面仅限馆员使用';

const accounts = h.accounts;

async function expectMePanel(page) {
  await page.locator('#me-panel').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#login-panel').isVisible(), false, 'login form hidden once logged in');
}

before(async () => {
  await startHarness(async () => {
    accounts.reader = { login: 'R0001', name: '张三' };
    accounts.reader.password = await addUser(['--kind', 'reader', '--card', 'R0001', '--name', '张三']);
    accounts.admin = { login: 'admin', name: '管理员' };
    accounts.admin.password = await addUser(['--kind', 'staff', '--role', 'admin', '--login', 'admin', '--name', '管理员']);
    // A reader of its own for the password change, so the other tests keep theirs.
    accounts.reader2 = { login: 'R0002', name: '李四' };
    accounts.reader2.password = await addUser(['--kind', 'reader', '--card', 'R0002', '--name', '李四']);
  });
});

after(stopHarness);

serverTest('reader logs in at / on a phone, sees name and card; wrong password shows the error; logout returns to the form', async () => {
  const { context, page } = await openPage(PHONE);
  try {
    await gotoLoginForm(page, h.server.base + '/');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await shot(page, 'reader-login.png');

    await submitLogin(page, accounts.reader.login, 'not-the-password-1');
    await expectLoginError(page, BAD_CREDENTIALS);
    assert.equal(await meStatus(page), 401, 'no session after a wrong password');
    await shot(page, 'reader-login-error.png');

    await submitLogin(page, accounts.reader.login, accounts.reader.password);
    await expectMePanel(page);
    assert.equal((await page.textContent('#me-name')).trim(), '张三');
    assert.equal((await page.textContent('#me-card')).trim(), 'R0001');
    assert.equal(await page.locator('#login-error').isVisible(), false, 'old error cleared');
    await shot(page, 'reader-me.png');

    // The session cookie survives a reload.
    await page.reload();
    await expectMePanel(page);
    assert.equal((await page.textContent('#me-name')).trim(), '张三');

    await page.click('#logout');
    await page.locator('#login-panel').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#me-panel').isVisible(), false);
    assert.equal(await meStatus(page), 401, 'session ended on the server');
  } finally {
    await context.close();
  }
});

serverTest('admin logs in at /staff/ and sees name 管理员 and role admin', async () => {
  const { context, page } = await openPage(DESKTOP);
  try {
    await gotoLoginForm(page, h.server.base + '/staff/');
    await shot(page, 'staff-login.png');
    await submitLogin(page, accounts.admin.login, accounts.admin.password);
    await expectMePanel(page);
    assert.equal((await page.textContent('#me-name')).trim(), '管理员');
    assert.equal((await page.textContent('#me-login')).trim(), 'admin');
    assert.match(await page.textContent('#me-roles'), /\badmin\b/);
    await shot(page, 'staff-me.png');

    await page.click('#logout');
    await page.locator('#login-panel').waitFor({ state: 'visible' });
    assert.equal(await meStatus(page), 401, 'session ended on the server');
  } finally {
    await context.close();
  }
});

serverTest('a reader who logs in at /staff/ is refused and logged out', async () => {
  const { context, page } = await openPage(DESKTOP);
  try {
    await gotoLoginForm(page, h.server.base + '/staff/');
    await submitLogin(page, accounts.reader.login, accounts.reader.password);
    await expectLoginError(page, STAFF_ONLY);
    assert.equal(await meStatus(page), 401, "the reader's session was ended");
    await shot(page, 'staff-reader-refused.png');
  } finally {
    await context.close();
  }
});

serverTest('reader changes password at /: new password works, old one fails, other devices signed out', async () => {
  const r = accounts.reader2;
  const newPassword = '书香满城-Reading-2024';

  // "Another device": a second context logged in with the old password.
  const other = await openPage(PHONE);
  const { context, page } = await openPage(PHONE);
  try {
    await gotoLoginForm(other.page, h.server.base + '/');
    await submitLogin(other.page, r.login, r.password);
    await expectMePanel(other.page);

    await gotoLoginForm(page, h.server.base + '/');
    await submitLogin(page, r.login, r.password);
    await expectMePanel(page);
    assert.equal((await page.textContent('#me-name')).trim(), '李四');

    // A too-short password is refused with the server's message.
    await page.fill('#pw-current', r.password);
    await page.fill('#pw-new', 'short');
    await page.click('#pw-submit');
    const msg = page.locator('#pw-msg');
    await msg.waitFor({ state: 'visible' });
    assert.ok(await msg.evaluate((el) => el.classList.contains('sx-msg_error')), 'weak password shown as an error');
    assert.ok((await msg.textContent()).trim().length > 0, 'weak password message shown');

    await page.fill('#pw-current', r.password);
    await page.fill('#pw-new', newPassword);
    await page.click('#pw-submit');
    // Either this session stays (修改成功) or the server ended it too (login form with a note).
    const ok = page.locator('#pw-msg.sx-msg_ok');
    const relogin = page.locator('#login-error', { hasText: '密码已修改' });
    await ok.or(relogin).waitFor({ state: 'visible' });
    if (await ok.isVisible()) assert.ok((await ok.textContent()).includes('修改成功'));
    await shot(page, 'reader-password-changed.png');

    assert.equal(await meStatus(other.page), 401, 'the other device was signed out');

    if (await page.locator('#me-panel').isVisible()) {
      await page.click('#logout');
      await page.locator('#login-panel').waitFor({ state: 'visible' });
    }

    await submitLogin(page, r.login, r.password);
    await expectLoginError(page, BAD_CREDENTIALS);

    await submitLogin(page, r.login, newPassword);
    await expectMePanel(page);
    assert.equal((await page.textContent('#me-name')).trim(), '李四');
    r.password = newPassword;
  } finally {
    await context.close();
    await other.context.close();
  }
});

serverTest('no Content-Security-Policy violations on / and /staff/', async () => {
  const pages = [
    { url: '/', options: PHONE, account: accounts.reader },
    { url: '/staff/', options: DESKTOP, account: accounts.admin },
  ];
  for (const { url, options, account } of pages) {
    const { context, page, cspMessages, pageErrors } = await openPage(options);
    try {
      const resp = await gotoLoginForm(page, h.server.base + url);
      const csp = resp.headers()['content-security-policy'] || '';
      assert.match(csp, /script-src 'self'/, `${url} is served with a CSP (got "${csp}")`);
      assert.doesNotMatch(csp, /unsafe-inline/, `${url} CSP allows no inline code`);

      // Exercise the dynamic parts: error message, logged-in panel, logout.
      await submitLogin(page, account.login, 'not-the-password-2');
      await expectLoginError(page, BAD_CREDENTIALS);
      await submitLogin(page, account.login, account.password);
      await expectMePanel(page);
      await page.click('#logout');
      await page.locator('#login-panel').waitFor({ state: 'visible' });
      await page.waitForTimeout(200);

      assert.deepEqual(cspMessages, [], `CSP violations on ${url}`);
      assert.deepEqual(pageErrors, [], `script errors on ${url}`);

      // Control: the listener does see a violation when there is one.
      await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.head.append(s);
      });
      await page.waitForTimeout(200);
      assert.ok(cspMessages.length > 0, `an inline script on ${url} is reported (detector works)`);
      assert.equal(await page.evaluate(() => window.__inline), undefined, 'inline script was blocked');
    } finally {
      await context.close();
    }
  }
});

test('built HTML has no inline script, style or event handler', async () => {
  const files = [];
  async function walk(dir) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.html')) files.push(p);
    }
  }
  await walk(WEB_DIR);
  assert.ok(files.some((f) => f.endsWith(path.join('staff', 'index.html'))), 'staff/index.html built');
  for (const f of files) {
    const html = await readFile(f, 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1], /\bsrc=/, `${f}: <script> without src`);
      assert.equal(m[2].trim(), '', `${f}: inline script body`);
    }
    assert.doesNotMatch(html, /<style\b/i, `${f}: <style> element`);
    assert.doesNotMatch(html, /\sstyle\s*=/i, `${f}: style attribute`);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${f}: inline event handler`);
    assert.doesNotMatch(html, /javascript:/i, `${f}: javascript: URL`);
  }
});
