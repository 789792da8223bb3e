// Browser tests for the reader page (/) and the staff console (/staff/).
//
// Runs the real server binary on 127.0.0.1 (port 0) with the built pages and
// drives Debian's Chromium through playwright-core (no browser download).
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
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const BIN = process.env.SHUXIANG_BIN;
const WEB_DIR = process.env.SHUXIANG_WEB_DIR;
const CHROMIUM = process.env.SHUXIANG_CHROMIUM || '/usr/bin/chromium';
const SHOTS_DIR = process.env.SHUXIANG_SHOTS_DIR || '';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

const BAD_CREDENTIALS = '账号或密码错误';
const STAFF_ONLY = '此页面仅限馆员使用';

// Filled in by before().
let dataDir = '';
let server = null; // { proc, base, log: string[] }
let browser = null;
const accounts = {}; // key -> { login, password, name }
const apiRefusals = []; // API answers >= 400 seen by the pages, for failure reports

function run(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout:\n${stdout}\nstderr:\n${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
  });
}

/** `shuxiang user add …`; the generated password is the last line of stdout. */
async function addUser(args) {
  const stdout = await run(BIN, ['user', 'add', '--data', dataDir, ...args]);
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const password = lines[lines.length - 1];
  assert.ok(password && !/\s/.test(password), `no password on the last line of: ${stdout}`);
  return password;
}

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--data', dataDir, '--port', '0', '--web-dir', WEB_DIR], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = [];
    let done = false;
    const finish = (err, base) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        proc.kill('SIGKILL');
        err.message += `\nserver output:\n${log.join('\n')}`;
        reject(err);
      } else {
        resolve({ proc, base, log });
      }
    };
    const timer = setTimeout(() => finish(new Error('server did not print "listening on" within 15 s')), 15_000);
    // Keep draining both pipes for the whole run so the server never blocks on a full pipe.
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.push(line);
        if (log.length > 500) log.shift();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) finish(null, m[1]);
      });
    }
    proc.on('error', (e) => finish(e));
    proc.on('exit', (code, signal) => finish(new Error(`server exited early (code ${code}, signal ${signal})`)));
  });
}

async function stopServer() {
  if (!server) return;
  const { proc } = server;
  server = null;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/**
 * A fresh browser context (no cookies) and page. Every console message that
 * mentions the Content Security Policy, and every uncaught page error, is kept.
 */
async function openPage(options) {
  const context = await browser.newContext({ locale: 'zh-CN', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(5_000);
  const cspMessages = [];
  const pageErrors = [];
  page.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) cspMessages.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('response', (r) => {
    if (!r.url().includes('/api/') || r.status() < 400) return;
    const what = `${r.request().method()} ${new URL(r.url()).pathname} -> ${r.status()}`;
    r.text().then(
      (body) => apiRefusals.push(`${what} ${body.slice(0, 200)}`),
      () => apiRefusals.push(what),
    );
  });
  return { context, page, cspMessages, pageErrors };
}

async function shot(page, name) {
  if (!SHOTS_DIR) return;
  await mkdir(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS_DIR, name), fullPage: true });
}

/** Status of GET /api/v1/auth/me as seen by this page's cookies. */
function meStatus(page) {
  return page.evaluate(async () => (await fetch('/api/v1/auth/me', { credentials: 'same-origin' })).status);
}

async function gotoLoginForm(page, url) {
  const resp = await page.goto(url);
  assert.equal(resp.status(), 200, `GET ${url}`);
  await page.locator('#login-panel').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#me-panel').isVisible(), false, 'me-panel hidden before login');
  return resp;
}

async function submitLogin(page, login, password) {
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#login-submit');
}

async function expectLoginError(page, text) {
  const err = page.locator('#login-error');
  await err.waitFor({ state: 'visible' });
  assert.ok((await err.textContent()).includes(text), `login error shows "${text}", got "${await err.textContent()}"`);
  assert.equal(await page.locator('#me-panel').isVisible(), false, 'me-panel stays hidden');
}

async function expectMePanel(page) {
  await page.locator('#me-panel').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#login-panel').isVisible(), false, 'login form hidden once logged in');
}

/** test() that, on failure, adds the API refusals and the server's last log lines to the error. */
function serverTest(name, fn) {
  test(name, async (t) => {
    const mark = apiRefusals.length;
    try {
      await fn(t);
    } catch (e) {
      const refusals = apiRefusals.slice(mark).join('\n  ') || '(none)';
      const log = server ? server.log.slice(-15).join('\n  ') : '(server not running)';
      e.message += `\nAPI refusals during this test:\n  ${refusals}\nserver log (last lines):\n  ${log}`;
      throw e;
    }
  });
}

before(async () => {
  assert.ok(BIN, 'set SHUXIANG_BIN to the server binary');
  assert.ok(WEB_DIR, 'set SHUXIANG_WEB_DIR to player-web/dist');
  assert.ok(existsSync(BIN), `SHUXIANG_BIN not found: ${BIN}`);
  assert.ok(existsSync(path.join(WEB_DIR, 'index.html')), `no index.html in ${WEB_DIR} (run npm run build)`);
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM} (apt-get install chromium)`);

  dataDir = await mkdtemp(path.join(tmpdir(), 'shuxiang-browser-'));
  accounts.reader = { login: 'R0001', name: '张三' };
  accounts.reader.password = await addUser(['--kind', 'reader', '--card', 'R0001', '--name', '张三']);
  accounts.admin = { login: 'admin', name: '管理员' };
  accounts.admin.password = await addUser(['--kind', 'staff', '--role', 'admin', '--login', 'admin', '--name', '管理员']);
  // A reader of its own for the password change, so the other tests keep theirs.
  accounts.reader2 = { login: 'R0002', name: '李四' };
  accounts.reader2.password = await addUser(['--kind', 'reader', '--card', 'R0002', '--name', '李四']);

  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await stopServer();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

serverTest('reader logs in at / on a phone, sees name and card; wrong password shows the error; logout returns to the form', async () => {
  const { context, page } = await openPage(PHONE);
  try {
    await gotoLoginForm(page, server.base + '/');
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
    await gotoLoginForm(page, server.base + '/staff/');
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
    await gotoLoginForm(page, server.base + '/staff/');
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
    await gotoLoginForm(other.page, server.base + '/');
    await submitLogin(other.page, r.login, r.password);
    await expectMePanel(other.page);

    await gotoLoginForm(page, server.base + '/');
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
      const resp = await gotoLoginForm(page, server.base + url);
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
