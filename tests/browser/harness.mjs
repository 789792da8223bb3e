// Shared harness for the browser tests: the real server binary on 127.0.0.1 (port 0) with a
// fresh data directory and the built pages, and Debian's Chromium through playwright-core
// (no browser download). Each *.test.mjs file runs in its own process, so the state kept
// here (`h`) belongs to one file.
//
// Environment:
//   SHUXIANG_BIN        server binary (required)
//   SHUXIANG_WEB_DIR    built pages, player-web/dist (required)
//   SHUXIANG_CHROMIUM   browser executable (default /usr/bin/chromium)
//   SHUXIANG_SHOTS_DIR  if set, screenshots of each page are written there
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const BIN = process.env.SHUXIANG_BIN;
export const WEB_DIR = process.env.SHUXIANG_WEB_DIR;
export const CHROMIUM = process.env.SHUXIANG_CHROMIUM || '/usr/bin/chromium';
export const SHOTS_DIR = process.env.SHUXIANG_SHOTS_DIR || '';

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

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

export const BAD_CREDENTIALS = '账号或密码错误';

/** Filled in by startHarness(). */
export const h = {
  dataDir: '',
  server: null, // { proc, base, log: string[] }
  browser: null,
  accounts: {}, // key -> { login, password, name }
  apiRefusals: [], // API answers >= 400 seen by the pages, for failure reports
};

export function run(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 20_000, encoding: 'utf8', ...options }, (err, stdout, stderr) => {
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
export async function addUser(args) {
  const stdout = await run(BIN, ['user', 'add', '--data', h.dataDir, ...args]);
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const password = lines[lines.length - 1];
  assert.ok(password && !/\s/.test(password), `no password on the last line of: ${stdout}`);
  return password;
}

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', '--data', h.dataDir, '--port', '0', '--web-dir', WEB_DIR], {
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
  if (!h.server) return;
  const { proc } = h.server;
  h.server = null;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/**
 * Check the environment, make a fresh data directory, run `addAccounts()` (accounts are made
 * with the CLI before the server starts), then start the server and the browser.
 */
export async function startHarness(addAccounts) {
  assert.ok(BIN, 'set SHUXIANG_BIN to the server binary');
  assert.ok(WEB_DIR, 'set SHUXIANG_WEB_DIR to player-web/dist');
  assert.ok(existsSync(BIN), `SHUXIANG_BIN not found: ${BIN}`);
  assert.ok(existsSync(path.join(WEB_DIR, 'index.html')), `no index.html in ${WEB_DIR} (run npm run build)`);
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM} (apt-get install chromium)`);

  h.dataDir = await mkdtemp(path.join(tmpdir(), 'shuxiang-browser-'));
  if (addAccounts) await addAccounts();
  h.server = await startServer();
  h.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function stopHarness() {
  if (h.browser) await h.browser.close().catch(() => {});
  h.browser = null;
  await stopServer();
  if (h.dataDir) await rm(h.dataDir, { recursive: true, force: true });
  h.dataDir = '';
}

/**
 * A fresh browser context (no cookies) and page. Every console message that
 * mentions the Content Security Policy, and every uncaught page error, is kept.
 */
export async function openPage(options) {
  const context = await h.browser.newContext({ locale: 'zh-CN', ...options });
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
      (body) => h.apiRefusals.push(`${what} ${body.slice(0, 200)}`),
      () => h.apiRefusals.push(what),
    );
  });
  return { context, page, cspMessages, pageErrors };
}

export async function shot(page, name) {
  if (!SHOTS_DIR) return;
  await mkdir(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS_DIR, name), fullPage: true });
}

/** Status of GET /api/v1/auth/me as seen by this page's cookies. */
export function meStatus(page) {
  return page.evaluate(async () => (await fetch('/api/v1/auth/me', { credentials: 'same-origin' })).status);
}

/** Open url and wait for the sign-in form (#login-panel); `signedInPanel` must stay hidden. */
export async function gotoLoginForm(page, url, signedInPanel = '#me-panel') {
  const resp = await page.goto(url);
  assert.equal(resp.status(), 200, `GET ${url}`);
  await page.locator('#login-panel').waitFor({ state: 'visible' });
  assert.equal(await page.locator(signedInPanel).isVisible(), false, `${signedInPanel} hidden before login`);
  return resp;
}

export async function submitLogin(page, login, password) {
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#login-submit');
}

export async function expectLoginError(page, text, signedInPanel = '#me-panel') {
  const err = page.locator('#login-error');
  await err.waitFor({ state: 'visible' });
  assert.ok((await err.textContent()).includes(text), `login error shows "${text}", got "${await err.textContent()}"`);
  assert.equal(await page.locator(signedInPanel).isVisible(), false, `${signedInPanel} stays hidden`);
}

/** test() that, on failure, adds the API refusals and the server's last log lines to the error. */
export function serverTest(name, fn, options = {}) {
  const { logLines = 15, ...testOptions } = options;
  test(name, testOptions, async (t) => {
    const mark = h.apiRefusals.length;
    try {
      await fn(t);
    } catch (e) {
      const refusals = h.apiRefusals.slice(mark).join('\n  ') || '(none)';
      const log = h.server ? h.server.log.slice(-logLines).join('\n  ') : '(server not running)';
      e.message += `\nAPI refusals during this test:\n  ${refusals}\nserver log (last lines):\n  ${log}`;
      throw e;
    }
  });
}
