// Browser test for the staff page 上传与任务 (/staff/uploads/): a monthly bundle built at run
// time (20 EPUBs, 5 TXT of which 2 in GBK, 2 PDFs, a GBK manifest.csv; see bundle-fixture.mjs)
// is uploaded through the page's file input, the bundle job is followed to 已完成 and its
// per-row report read; the resources are then checked through the API; the same bundle
// uploaded again must report 27 duplicates and make no new resource. Real server, Debian's
// Chromium (harness.mjs).
//
//   SHUXIANG_BIN=build/shuxiang SHUXIANG_WEB_DIR=player-web/dist node --test tests/browser/uploads.test.mjs
//
// Environment: as login.test.mjs (SHUXIANG_BIN, SHUXIANG_WEB_DIR, SHUXIANG_CHROMIUM,
// SHUXIANG_SHOTS_DIR). Needs `zip` and `iconv` to build the bundle.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBundle, isbn13, makeEpub } from './bundle-fixture.mjs';
import {
  DESKTOP,
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

const PAGE = '/staff/uploads/';
const JOB_TIMEOUT = 150_000; // a bundle job, queued to ended
const UPLOAD_TIMEOUT = 60_000;

const accounts = h.accounts;
let fixDir = '';
let bundle = null; // from buildBundle

before(async () => {
  fixDir = await mkdtemp(path.join(tmpdir(), 'shuxiang-bundle-'));
  bundle = await buildBundle(fixDir);
  assert.equal(bundle.rows.length, 27, 'the fixture has 27 manifest rows');
  await startHarness(async () => {
    accounts.admin = { login: 'admin', name: '管理员' };
    accounts.admin.password = await addUser(['--kind', 'staff', '--role', 'admin', '--login', 'admin', '--name', '管理员']);
    accounts.desk = { login: 'desk', name: '流通台' };
    accounts.desk.password = await addUser(['--kind', 'staff', '--role', 'circulation', '--login', 'desk', '--name', '流通台']);
    accounts.reader = { login: 'R0001', name: '张三' };
    accounts.reader.password = await addUser(['--kind', 'reader', '--card', 'R0001', '--name', '张三']);
  });
});

after(async () => {
  await stopHarness();
  if (fixDir) await rm(fixDir, { recursive: true, force: true });
});

// --- helpers ----------------------------------------------------------------------------------

async function signIn(page, account) {
  await gotoLoginForm(page, h.server.base + PAGE, '#workspace');
  await submitLogin(page, account.login, account.password);
}

async function signInAdmin(page) {
  await signIn(page, accounts.admin);
  await page.locator('#workspace').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#login-panel').isVisible(), false, 'sign-in form hidden once signed in');
}

/** Choose files in the page's input; wait until the newest upload row ends; return its job id. */
async function uploadThroughPage(page, files) {
  const before = await page.locator('[data-testid=upload-item]').count();
  await page.setInputFiles('[data-testid=upload-input]', files);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=upload-item]').length > n, before);
  const item = page.locator('[data-testid=upload-item]').first(); // newest first
  await item
    .and(page.locator('[data-state=done], [data-state=failed], [data-state=aborted]'))
    .waitFor({ timeout: UPLOAD_TIMEOUT });
  const status = (await item.locator('[data-testid=upload-status]').textContent()).trim();
  assert.equal(await item.getAttribute('data-state'), 'done', `upload ended with: ${status}`);
  assert.match(await item.locator('[data-testid=upload-size]').textContent(), /^\d+(\.\d+)? MB$/, 'size shown in MB');
  const m = /任务 #(\d+)/.exec(status);
  assert.ok(m, `upload status names its job: "${status}"`);
  return Number(m[1]);
}

/** Wait until job id has ended on the page; it must be 已完成. Returns its <li> locator. */
async function waitJobDone(page, id) {
  const li = page.locator(`[data-testid=job][data-job-id="${id}"]`);
  await li.waitFor({ timeout: 10_000 });
  await li
    .and(page.locator('[data-state=done], [data-state=failed], [data-state=cancelled]'))
    .waitFor({ timeout: JOB_TIMEOUT });
  const state = await li.getAttribute('data-state');
  if (state !== 'done') {
    const err = (await li.locator('[data-testid=job-error]').allTextContents()).join(' ');
    assert.fail(`job ${id} ended ${state}: ${err}`);
  }
  assert.equal((await li.locator('[data-testid=job-state]').textContent()).trim(), '已完成');
  return li;
}

/** Open a done bundle job's report and return its rows as seen on the page. */
async function readReport(li) {
  const details = li.locator('[data-testid=bundle-report]');
  if (!(await details.evaluate((d) => d.open))) await li.locator('[data-testid=bundle-report-toggle]').click();
  await li.locator('[data-testid=report-table]').waitFor();
  const headers = await li.locator('[data-testid=report-table] thead th').allTextContents();
  assert.deepEqual(headers.map((s) => s.trim()), ['行号', '文件', '结果', '原因', '题名']);
  return li.locator('[data-testid=report-row]').evaluateAll((trs) =>
    trs.map((tr) => {
      const td = [...tr.querySelectorAll('td')].map((c) => c.textContent.trim());
      const link = tr.querySelector('td:last-child a');
      return {
        status: tr.dataset.status,
        line: Number(td[0]),
        file: td[1],
        result: td[2],
        reason: td[3],
        title: td[4],
        href: link ? link.getAttribute('href') : null,
      };
    }),
  );
}

/** Every resource through GET /api/v1/resources, following next_cursor (as this page's user). */
function allResources(page) {
  return page.evaluate(async () => {
    const out = [];
    let cursor = '';
    for (let guard = 0; guard < 50; guard++) {
      const r = await fetch('/api/v1/resources?limit=50' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      if (r.status !== 200) throw new Error('GET /api/v1/resources -> ' + r.status + ' ' + (await r.text()));
      const body = await r.json();
      out.push(...body.items);
      if (!body.next_cursor) return out;
      cursor = String(body.next_cursor);
    }
    throw new Error('more than 50 pages of resources');
  });
}

function countsText(c) {
  return `成功 ${c.ok} · 重复 ${c.duplicate} · 失败 ${c.failed}`;
}

// --- tests ------------------------------------------------------------------------------------

serverTest('the staff console links to 上传与任务; signing in there shows the empty lists', async () => {
  const { context, page, cspMessages, pageErrors } = await openPage(DESKTOP);
  try {
    const resp = await page.goto(h.server.base + '/staff/');
    assert.equal(resp.status(), 200);
    const link = page.locator('[data-testid=nav-uploads]');
    assert.equal((await link.textContent()).trim(), '上传与任务');
    await link.click();
    await page.waitForURL('**/staff/uploads/');
    await page.locator('#login-panel').waitFor({ state: 'visible' });
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.match(resp.headers()['content-security-policy'] || '', /script-src 'self'/);
    await shot(page, 'staff-uploads-login.png');

    await submitLogin(page, accounts.admin.login, 'not-the-password-3');
    await expectLoginError(page, '账号或密码错误', '#workspace');
    await submitLogin(page, accounts.admin.login, accounts.admin.password);
    await page.locator('#workspace').waitFor({ state: 'visible' });
    assert.equal((await page.textContent('#header-user')).trim(), '管理员');

    const hint = await page.textContent('[data-testid=upload-hint]');
    for (const f of ['EPUB', 'TXT', 'PDF', 'ZIP/TAR', 'manifest.csv', 'manifest.json']) assert.ok(hint.includes(f), `hint names ${f}`);
    assert.equal(await page.getAttribute('[data-testid=upload-input]', 'multiple'), '', 'several files at once');
    await page.locator('[data-testid=jobs-empty]').waitFor({ state: 'visible' });
    await page.locator('[data-testid=resources-empty]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('[data-testid=job]').count(), 0);
    await shot(page, 'staff-uploads-empty.png');

    // A file of a kind we do not take is refused on the page, before any request.
    const odd = path.join(fixDir, '会议纪要.docx');
    await writeFile(odd, 'not a book');
    await page.setInputFiles('[data-testid=upload-input]', odd);
    const err = page.locator('[data-testid=upload-error]');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /不支持的文件：会议纪要\.docx/);
    assert.equal(await page.locator('[data-testid=upload-item]').count(), 0);

    // The session is shared with the staff console.
    await page.goto(h.server.base + '/staff/');
    await page.locator('#me-panel').waitFor({ state: 'visible' });

    assert.deepEqual(cspMessages, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'script errors');
  } finally {
    await context.close();
  }
});

serverTest('readers are refused and staff without the content role are told so', async () => {
  const { context, page } = await openPage(DESKTOP);
  try {
    await signIn(page, accounts.reader);
    await expectLoginError(page, '此页面仅限馆员使用', '#workspace');
    assert.equal(await meStatus(page), 401, "the reader's session was ended");

    await submitLogin(page, accounts.desk.login, accounts.desk.password);
    await page.locator('[data-testid=denied]').waitFor({ state: 'visible' });
    assert.match(await page.textContent('[data-testid=denied]'), /内容编辑/);
    assert.equal(await page.locator('#workspace').isVisible(), false);
  } finally {
    await context.close();
  }
});

serverTest(
  'a monthly bundle of 27 books is ingested with its report; uploaded again it reports 27 duplicates',
  async () => {
    const { context, page, cspMessages, pageErrors } = await openPage(DESKTOP);
    page.setDefaultTimeout(15_000);
    try {
      await signInAdmin(page);
      const byFile = new Map(bundle.rows.map((r, i) => [r.file, { ...r, line: i + 2 }]));
      const byTitle = new Map(bundle.rows.map((r) => [r.title, r]));

      // --- first upload: everything new ---
      const job1 = await uploadThroughPage(page, bundle.path);
      let li = page.locator(`[data-testid=job][data-job-id="${job1}"]`);
      await li.waitFor();
      assert.equal(await li.getAttribute('data-kind'), 'bundle');
      assert.equal((await li.locator('[data-testid=job-kind]').textContent()).trim(), '批量包');
      assert.equal((await li.locator('[data-testid=job-name]').textContent()).trim(), bundle.name);

      li = await waitJobDone(page, job1);
      assert.equal(
        (await li.locator('[data-testid=bundle-counts]').textContent()).trim(),
        countsText({ ok: 27, duplicate: 0, failed: 0 }),
      );
      const rows1 = await readReport(li);
      assert.equal(rows1.length, 27, 'the report has 27 rows');
      for (const row of rows1) {
        const want = byFile.get(row.file);
        assert.ok(want, `report row for a manifest file: ${row.file}`);
        assert.equal(row.status, 'ok', `${row.file}: ${row.reason}`);
        assert.equal(row.result, '成功');
        assert.equal(row.line, want.line, `${row.file}: manifest line`);
        assert.equal(row.title, want.title, `${row.file}: title`);
        assert.match(row.href || '', /^#resource-\d+$/, `${row.file}: title links to the resource`);
      }
      assert.deepEqual(new Set(rows1.map((r) => r.file)), new Set(byFile.keys()), 'one row per manifest file');

      // The resources, through the API.
      const res1 = await allResources(page);
      assert.equal(res1.length, 27, '27 resources');
      assert.deepEqual(new Set(res1.map((r) => r.title)), new Set(byTitle.keys()), 'the manifest titles, exactly');
      // Every difference is listed, not only the first.
      const problems = [];
      const check = (ok, what) => ok || problems.push(what);
      for (const r of res1) {
        const want = byTitle.get(r.title);
        const c = r.cover;
        check(r.kind === 'ebook', `${r.title}: kind ${r.kind}`);
        check(r.format === want.format, `${r.title}: format ${r.format}, want ${want.format}`);
        check(c && c.width > 0 && c.height > 0, `${r.title}: cover ${JSON.stringify(c)}`);
        check(c && c.thumb && c.thumb.width > 0 && c.thumb.height > 0, `${r.title}: thumbnail ${JSON.stringify(c && c.thumb)}`);
        check(c && /^\/covers\//.test(c.url), `${r.title}: cover url ${c && c.url}`);
        if (want.cover) {
          // The book's own 120×180 PNG, kept at its size (covers are never upscaled), not a drawn one.
          check(c && c.width === 120 && c.height === 180, `${r.title}: cover from the EPUB's image, got ${c && c.width}×${c && c.height}`);
        }
        check(
          (r.authors || []).some((a) => a.name === want.author),
          `${r.title}: authors ${JSON.stringify(r.authors)}, want ${want.author}`,
        );
        check(r.category && r.category.name === want.category, `${r.title}: category ${JSON.stringify(r.category)}, want ${want.category}`);
        check(r.isbn === want.isbn, `${r.title}: ISBN ${r.isbn}, want ${want.isbn}`);
        check(/^[0-9a-f]{64}$/.test((r.source && r.source.sha256) || ''), `${r.title}: source ${JSON.stringify(r.source)}`);
      }
      assert.deepEqual(problems, [], 'resources as the manifest describes them');
      // One cover and its thumbnail are served as images.
      const withImage = res1.find((r) => byTitle.get(r.title).cover);
      for (const url of [withImage.cover.url, withImage.cover.thumb.url]) {
        const got = await page.evaluate(async (u) => {
          const r = await fetch(u);
          return { status: r.status, type: r.headers.get('content-type') || '' };
        }, url);
        assert.equal(got.status, 200, `GET ${url}`);
        assert.match(got.type, /^image\//, `GET ${url} content type`);
      }

      // The page's resource list: thumbnails with their sizes, 24 at first, then the rest.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=resource]').length >= 24, null, {
        timeout: 20_000,
      });
      const more = page.locator('[data-testid=resources-more]');
      if (await more.isVisible()) await more.click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=resource]').length === 27);
      const covers = await page.locator('[data-testid=resource-cover]').evaluateAll((imgs) =>
        imgs.map((i) => ({ w: Number(i.getAttribute('width')), h: Number(i.getAttribute('height')) })),
      );
      assert.equal(covers.length, 27, 'every resource card has a cover thumbnail');
      assert.ok(covers.every((c) => c.w > 0 && c.h > 0), 'thumbnails carry width and height');
      const shownTitles = await page.locator('[data-testid=resource-title]').allTextContents();
      assert.deepEqual(new Set(shownTitles.map((s) => s.trim())), new Set(byTitle.keys()));
      await shot(page, 'staff-uploads-bundle-done.png');

      // --- second upload of the same bundle: all duplicates, nothing new ---
      const job2 = await uploadThroughPage(page, bundle.path);
      assert.ok(job2 > job1, 'a new job');
      li = await waitJobDone(page, job2);
      assert.equal(
        (await li.locator('[data-testid=bundle-counts]').textContent()).trim(),
        countsText({ ok: 0, duplicate: 27, failed: 0 }),
      );
      const rows2 = await readReport(li);
      assert.equal(rows2.length, 27);
      for (const row of rows2) {
        assert.equal(row.status, 'duplicate', `${row.file}: ${row.reason}`);
        assert.equal(row.result, '重复');
        assert.equal(row.title, byFile.get(row.file).title, `${row.file}: names the resource it duplicates`);
      }
      const res2 = await allResources(page);
      assert.equal(res2.length, 27, 'still 27 resources');
      assert.deepEqual(res2.map((r) => r.id).sort(), res1.map((r) => r.id).sort(), 'the same resources');

      // The first job's report is still there and unchanged.
      assert.equal(
        (await page.locator(`[data-testid=job][data-job-id="${job1}"] [data-testid=bundle-counts]`).textContent()).trim(),
        countsText({ ok: 27, duplicate: 0, failed: 0 }),
      );
      await shot(page, 'staff-uploads-bundle-duplicate.png');

      assert.deepEqual(cspMessages, [], 'CSP violations on /staff/uploads/');
      assert.deepEqual(pageErrors, [], 'script errors on /staff/uploads/');
    } finally {
      await context.close();
    }
  },
  { logLines: 40 },
);

serverTest('one EPUB on its own: 单个文件 job, 成功 with its title; the title opens the resource and edits save; drop a TXT', async () => {
  const { context, page, cspMessages, pageErrors } = await openPage(DESKTOP);
  page.setDefaultTimeout(15_000);
  try {
    await signInAdmin(page);
    const title = '书香满城：单本上传测试';
    const file = path.join(fixDir, '单本测试.epub');
    await makeEpub(path.join(fixDir, 'single-work'), file, {
      title,
      author: '测试作者',
      isbn: isbn13('978750099999'),
      uuid: '5a1e0000-b00c-4000-8000-0000000000ff',
      cover: [60, 90, 120],
    });
    const before = (await allResources(page)).length;

    const id = await uploadThroughPage(page, file);
    const li = await waitJobDone(page, id);
    assert.equal(await li.getAttribute('data-kind'), 'ingest');
    assert.equal((await li.locator('[data-testid=job-kind]').textContent()).trim(), '单个文件');
    const result = li.locator('[data-testid=job-result]');
    assert.equal(await result.getAttribute('data-status'), 'ok');
    assert.match(await result.textContent(), /成功/);
    assert.ok((await result.textContent()).includes(title), 'the result names the title');
    assert.equal((await allResources(page)).length, before + 1, 'one more resource');

    // The title opens the resource; a correction is saved through PATCH.
    await result.locator('a').click();
    const dialog = page.locator('[data-testid=resource-dialog]');
    await dialog.waitFor({ state: 'visible' });
    await page.locator('#res-form').waitFor({ state: 'visible' });
    assert.equal((await page.inputValue('#rf-title')).trim(), title);
    await page.fill('#rf-subtitle', '馆员补录的副题名');
    await page.click('#res-form-submit');
    await page.locator('#res-form-msg', { hasText: '已保存' }).waitFor();
    const saved = (await allResources(page)).find((r) => r.title === title);
    assert.equal(saved && saved.subtitle, '馆员补录的副题名');
    await shot(page, 'staff-uploads-resource.png');
    await page.click('#res-dialog-close');
    await dialog.waitFor({ state: 'hidden' });

    // A file dropped on the drop zone is uploaded too (a TXT book made in the page).
    const uploads = await page.locator('[data-testid=upload-item]').count();
    await page.locator('[data-testid=drop-zone]').evaluate((zone) => {
      const para = '　　拖进来的这本小书只有几段文字，用来检查拖放上传。图书馆的窗台上晒着旧报纸。';
      const text = ['第一章 拖放', '', para, para, '', '第二章 收尾', '', para, para].join('\n');
      const dt = new DataTransfer();
      dt.items.add(new File([text], '拖放小书.txt', { type: 'text/plain' }));
      for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
      }
    });
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=upload-item]').length > n, uploads);
    const dropped = page.locator('[data-testid=upload-item]').first();
    assert.equal((await dropped.locator('[data-testid=upload-name]').textContent()).trim(), '拖放小书.txt');
    await dropped.and(page.locator('[data-state=done], [data-state=failed]')).waitFor({ timeout: UPLOAD_TIMEOUT });
    const status = await dropped.locator('[data-testid=upload-status]').textContent();
    assert.equal(await dropped.getAttribute('data-state'), 'done', status);
    const droppedJob = await waitJobDone(page, Number(/任务 #(\d+)/.exec(status)[1]));
    assert.equal(await droppedJob.locator('[data-testid=job-result]').getAttribute('data-status'), 'ok');
    assert.equal((await allResources(page)).length, before + 2, 'and one more');

    assert.deepEqual(cspMessages, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'script errors');
  } finally {
    await context.close();
  }
});
