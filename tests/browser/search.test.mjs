// Browser test for the reader search page (/search/) on a phone: suggestions as one types (`lb`
// → 李白), traditional → simplified (`長安`), text inside books (`明月`), facet chips, 加载更多,
// the state in the URL (reload, back/forward), hostile and punctuation-only queries, and the
// search box on the home page. Fixtures are TXT books made with `shuxiang ingest` before the
// server starts; their authors and category are set through the staff API. Real server, Debian's
// Chromium (harness.mjs).
//
//   SHUXIANG_BIN=build/shuxiang SHUXIANG_WEB_DIR=player-web/dist node --test tests/browser/search.test.mjs
//
// Environment: as login.test.mjs (SHUXIANG_BIN, SHUXIANG_WEB_DIR, SHUXIANG_CHROMIUM,
// SHUXIANG_SHOTS_DIR).
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, PHONE, addUser, h, openPage, run, serverTest, shot, startHarness, stopHarness } from './harness.mjs';

const PAGE = '/search/';

// title (= file name) -> text. 枫桥夜泊 gets a title with markup in it through the API.
const BOOKS = {
  静夜思: '床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n',
  子夜吴歌: '长安一片月，万户捣衣声。\n',
  長安古意: '長安大道連狹斜，青牛白馬七香車。\n',
  水调歌头: '明月几时有？把酒问青天。\n',
  枫桥夜泊: '月落乌啼霜满天，江枫渔火对愁眠。\n',
};
const HOSTILE_TITLE = '<img src=x onerror="window.__xss=1">枫桥夜泊';

const ids = {}; // title -> resource id
let fixDir = '';
let pageErrorsAll = [];
let cspAll = [];

/** POST/PATCH as a signed-in staff member: the session cookie and our own Origin. */
async function staffCall(cookie, method, url, body) {
  const r = await fetch(h.server.base + url, {
    method,
    headers: { 'Content-Type': 'application/json', Origin: h.server.base, ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${url} -> ${r.status} ${text}`);
  return { r, body: JSON.parse(text) };
}

before(async () => {
  fixDir = await mkdtemp(path.join(tmpdir(), 'shuxiang-search-'));
  const files = [];
  for (const [title, text] of Object.entries(BOOKS)) {
    const f = path.join(fixDir, title + '.txt');
    await writeFile(f, text);
    files.push(f);
  }
  let password = '';
  await startHarness(async () => {
    password = await addUser(['--kind', 'staff', '--role', 'admin', '--login', 'admin', '--name', '管理员']);
    const out = await run(BIN, ['ingest', '--data', h.dataDir, ...files]);
    for (const line of out.split('\n').filter(Boolean)) {
      const [file, status, id, title] = line.split('\t');
      assert.equal(status, 'ok', `ingest ${file}: ${line}`);
      ids[title] = Number(id);
    }
    assert.deepEqual(Object.keys(ids).sort(), Object.keys(BOOKS).sort(), 'every book ingested');
  });

  const { r } = await staffCall(null, 'POST', '/api/v1/auth/login', { login: 'admin', password });
  const cookie = r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('sx_session='));
  assert.ok(cookie, 'login set the session cookie');
  const edits = {
    静夜思: { authors: ['李白'], category: '名著', clc: 'I222.742' },
    子夜吴歌: { authors: ['李白'] },
    枫桥夜泊: { title: HOSTILE_TITLE, authors: ['张继'] },
  };
  for (const [title, fields] of Object.entries(edits)) {
    await staffCall(cookie, 'PATCH', '/api/v1/staff/resources/' + ids[title], fields);
  }
});

after(async () => {
  await stopHarness();
  if (fixDir) await rm(fixDir, { recursive: true, force: true });
});

// --- helpers ----------------------------------------------------------------------------------

async function openSearch(url = PAGE) {
  const opened = await openPage(PHONE);
  pageErrorsAll = opened.pageErrors;
  cspAll = opened.cspMessages;
  const resp = await opened.page.goto(h.server.base + url);
  assert.equal(resp.status(), 200, `GET ${url}`);
  return opened;
}

/** Wait until the page shows the answer for `q` (its phase on <body> is done). */
async function settled(page, q) {
  await page.waitForFunction(
    (want) => document.body.dataset.searchState === 'done' && document.body.dataset.searchQ === want,
    q,
  );
}

/** Type `q` into the box, press Enter, wait for the results. */
async function search(page, q) {
  await page.fill('#q', q);
  await page.press('#q', 'Enter');
  await settled(page, q);
}

/** The hits shown: [{id, title, titleMarks, snippet, snippetMarks, snippetHref, titleHref}]. */
function hits(page) {
  return page.locator('[data-testid=hit]').evaluateAll((lis) =>
    lis.map((li) => {
      const title = li.querySelector('[data-testid=hit-title]');
      const snippet = li.querySelector('[data-testid=hit-snippet]');
      const marks = (el) => (el ? [...el.querySelectorAll('mark')].map((m) => m.textContent) : []);
      return {
        id: Number(li.dataset.resourceId),
        kind: li.dataset.kind,
        title: title.textContent,
        titleHref: title.getAttribute('href'),
        titleMarks: marks(title),
        authors: (li.querySelector('[data-testid=hit-authors]') || {}).textContent || '',
        snippet: snippet ? snippet.textContent : null,
        snippetHref: snippet ? snippet.getAttribute('href') : null,
        snippetMarks: marks(snippet),
      };
    }),
  );
}

function byId(list, id) {
  const hit = list.find((x) => x.id === id);
  assert.ok(hit, `hit ${id} listed (got ${JSON.stringify(list.map((x) => [x.id, x.title]))})`);
  return hit;
}

async function notices(page) {
  return (await page.locator('[data-testid=search-notice]').allTextContents()).join(' | ');
}

function assertClean() {
  assert.deepEqual(pageErrorsAll, [], 'no script errors');
  assert.deepEqual(cspAll, [], 'no CSP violations');
}

// --- tests ------------------------------------------------------------------------------------

serverTest('typing lb suggests the author 李白; ↓ and Enter search for it; libai says it searched pinyin', async () => {
  const { context, page } = await openSearch();
  try {
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.locator('[data-testid=search-idle]').waitFor();
    await page.locator('#q').pressSequentially('lb', { delay: 60 });
    const li = page.locator('[data-testid=suggestion][data-type=author]', { hasText: '李白' });
    await li.waitFor();
    assert.equal((await li.locator('.sx-suggest__type').textContent()).trim(), '作者');
    assert.equal(await page.getAttribute('#q', 'aria-expanded'), 'true');
    await shot(page, 'search-suggest-lb.png');

    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('[data-testid=suggestion]').first().getAttribute('aria-selected'), 'true');
    assert.ok(await page.getAttribute('#q', 'aria-activedescendant'), 'the active option is announced');
    await page.keyboard.press('Enter');
    await settled(page, '李白');
    assert.equal(await page.inputValue('#q'), '李白');
    assert.equal(new URL(page.url()).searchParams.get('q'), '李白');
    assert.equal(await page.locator('[data-testid=suggest-list]').isVisible(), false, 'list closed after the pick');
    let list = await hits(page);
    for (const t of ['静夜思', '子夜吴歌']) assert.match(byId(list, ids[t]).authors, /李白/);

    // A tap picks too.
    await page.fill('#q', '');
    await page.locator('#q').pressSequentially('jys', { delay: 40 });
    await page.locator('[data-testid=suggestion]', { hasText: '静夜思' }).tap();
    await settled(page, '静夜思');
    list = await hits(page);
    assert.equal(list[0].id, ids['静夜思'], 'the picked title comes first');
    assert.deepEqual(list[0].titleMarks, ['静夜思']);

    await search(page, 'libai');
    assert.match(await notices(page), /拼音/);
    list = await hits(page);
    byId(list, ids['静夜思']);
    byId(list, ids['子夜吴歌']);
    assertClean();
  } finally {
    await context.close();
  }
});

serverTest('長安 finds 长安 in a book and 長安 in a title, and says it searched in simplified', async () => {
  const { context, page } = await openSearch();
  try {
    await search(page, '長安');
    const list = await hits(page);
    const wu = byId(list, ids['子夜吴歌']);
    assert.ok(wu.snippet && wu.snippet.includes('长安一片月'), `snippet of 子夜吴歌: ${wu.snippet}`);
    assert.deepEqual(wu.snippetMarks, ['长安']);
    const href = new URL(wu.snippetHref, h.server.base);
    assert.equal(href.pathname, '/read/');
    assert.equal(href.searchParams.get('id'), String(ids['子夜吴歌']));
    assert.ok(href.searchParams.get('href'), 'the snippet link names the chapter');
    assert.match(href.searchParams.get('offset'), /^\d+$/);

    const gu = byId(list, ids['長安古意']);
    assert.deepEqual(gu.titleMarks, ['長安']);
    assert.equal(gu.titleHref, '/?resource=' + ids['長安古意']);

    assert.match(await notices(page), /已按简体「长安」搜索/);
    assert.match(await page.textContent('[data-testid=search-status]'), /找到 \d+ 条结果/);
    assert.equal(await page.getAttribute('[data-testid=search-status]', 'aria-live'), 'polite');
    const group = page.locator('[data-testid=group][data-kind=ebook]');
    assert.match(await group.locator('h2').textContent(), /电子书/);
    assert.equal(await page.locator('[data-testid=group][data-kind=physical]').count(), 0, 'no 纸本图书 group without hits');

    // Covers are sized before they load (no layout jump).
    const img = page.locator('[data-testid=hit] img').first();
    assert.ok(Number(await img.getAttribute('width')) > 0 && Number(await img.getAttribute('height')) > 0);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=hit] img')].every((i) => i.complete));
    await shot(page, 'search-changan.png');
    assertClean();
  } finally {
    await context.close();
  }
});

serverTest('明月 lists 静夜思 and 水调歌头 through their text; a title with markup stays text', async () => {
  const { context, page } = await openSearch();
  try {
    await search(page, '明月');
    const list = await hits(page);
    const jys = byId(list, ids['静夜思']);
    assert.ok(jys.snippetMarks.length >= 1 && jys.snippetMarks.every((m) => m === '明月'), `marks: ${jys.snippetMarks}`);
    assert.ok(jys.snippet.includes('床前明月光'));
    const sd = byId(list, ids['水调歌头']);
    assert.deepEqual(sd.snippetMarks, ['明月']);
    await shot(page, 'search-mingyue.png');

    await search(page, '枫桥');
    const fq = byId(await hits(page), ids['枫桥夜泊']);
    assert.equal(fq.title, HOSTILE_TITLE, 'the title is shown as typed');
    assert.deepEqual(fq.titleMarks, ['枫桥']);
    assert.equal(await page.locator('[data-testid=results] img[src=x]').count(), 0, 'no element made from the title');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assertClean();
  } finally {
    await context.close();
  }
});

serverTest('facet chips filter and can be removed; 加载更多 follows next_cursor', async () => {
  const { context, page } = await openSearch();
  try {
    await search(page, '明月');
    const before = (await hits(page)).map((x) => x.id).sort();
    assert.equal(before.length, 2);
    assert.equal(await page.locator('[data-testid=load-more]').isVisible(), false, 'one page: no 加载更多');

    // kind=电子书: every hit is an e-book, so the list stays.
    await page.locator('[data-testid=facet][data-param=kind][data-value=ebook]').click();
    await settled(page, '明月');
    assert.equal(new URL(page.url()).searchParams.get('kind'), 'ebook');
    const kindChip = page.locator('[data-testid=active-filter][data-param=kind]');
    assert.match(await kindChip.textContent(), /电子书/);
    assert.deepEqual((await hits(page)).map((x) => x.id).sort(), before);

    // category 名著 narrows to 静夜思; the CLC chip is named.
    assert.match(await page.locator('[data-testid=facet][data-param=clc]').first().textContent(), /I 文学/);
    await page.locator('[data-testid=facet][data-param=category]', { hasText: '名著' }).click();
    await settled(page, '明月');
    assert.deepEqual((await hits(page)).map((x) => x.id), [ids['静夜思']]);
    assert.match(await page.locator('[data-testid=active-filter][data-param=category]').textContent(), /名著/);
    await shot(page, 'search-facets.png');

    // Removing the chips restores the list; back goes to the filter before.
    await page.locator('[data-testid=active-filter][data-param=category]').click();
    await settled(page, '明月');
    assert.deepEqual((await hits(page)).map((x) => x.id).sort(), before);
    await page.locator('[data-testid=active-filter][data-param=kind]').click();
    await settled(page, '明月');
    assert.equal(await page.locator('[data-testid=active-filter]').count(), 0);
    assert.equal(new URL(page.url()).search, '?q=' + encodeURIComponent('明月'));
    await page.goBack();
    await settled(page, '明月');
    assert.equal(new URL(page.url()).searchParams.get('kind'), 'ebook');
    assert.equal(await page.locator('[data-testid=active-filter][data-param=kind]').count(), 1);

    // Pages of one hit (the request rewritten), so 加载更多 has something to load.
    await page.route(
      (url) => url.pathname === '/api/v1/search',
      (route) => {
        const u = new URL(route.request().url());
        u.searchParams.set('limit', '1');
        route.continue({ url: u.toString() });
      },
    );
    await search(page, '明月');
    assert.equal((await hits(page)).length, 1);
    const more = page.locator('[data-testid=load-more]');
    await more.waitFor();
    await more.click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=hit]').length === 2);
    await more.waitFor({ state: 'hidden' });
    assert.deepEqual((await hits(page)).map((x) => x.id).sort(), before, 'both pages, nothing twice');
    assert.match(await page.locator('[data-testid=group-count]').textContent(), /2 条/);
    assertClean();
  } finally {
    await context.close();
  }
});

serverTest('the URL keeps the search: reload, back and forward, a shared link', async () => {
  const { context, page } = await openSearch();
  try {
    await search(page, '明月');
    await search(page, '長安');
    await page.reload();
    await settled(page, '長安');
    assert.equal(await page.inputValue('#q'), '長安');
    byId(await hits(page), ids['長安古意']);

    await page.goBack();
    await settled(page, '明月');
    assert.equal(await page.inputValue('#q'), '明月');
    byId(await hits(page), ids['水调歌头']);
    await page.goForward();
    await settled(page, '長安');
    assert.equal(await page.inputValue('#q'), '長安');
  } finally {
    await context.close();
  }
  // A link someone shared, with a filter.
  const shared = await openSearch(PAGE + '?q=' + encodeURIComponent('明月') + '&kind=ebook');
  try {
    await settled(shared.page, '明月');
    assert.equal(await shared.page.locator('[data-testid=active-filter][data-param=kind]').count(), 1);
    assert.equal((await hits(shared.page)).length, 2);
    assertClean();
  } finally {
    await shared.context.close();
  }
});

serverTest('hostile and punctuation-only queries show the empty state, not an error', async () => {
  const { context, page } = await openSearch();
  try {
    for (const q of ['"NEAR(', '。。', 'title:* OR']) {
      await search(page, q);
      await page.locator('[data-testid=search-empty]').waitFor();
      assert.equal((await page.textContent('#empty-text')).trim(), '没有找到「' + q + '」');
      assert.equal(await page.locator('[data-testid=search-error]').isVisible(), false, `no error for ${q}`);
      assert.equal(await page.locator('[data-testid=hit]').count(), 0);
      assert.equal(await page.locator('[data-testid=load-more]').isVisible(), false);
    }
    await shot(page, 'search-empty.png');

    // A query over the API's 256 bytes (only a link can carry one: the box stops at 85 characters)
    // shows the server's message.
    await page.goto(h.server.base + PAGE + '?q=' + encodeURIComponent('明'.repeat(100)));
    await page.waitForFunction(() => document.body.dataset.searchState === 'error');
    assert.match(await page.textContent('[data-testid=search-error]'), /太长/);
    assertClean();
  } finally {
    await context.close();
  }
});

serverTest('the home page search box opens /search/ with the results', async () => {
  const { context, page, pageErrors } = await openPage(PHONE);
  try {
    await page.goto(h.server.base + '/');
    await page.fill('[data-testid=home-search-input]', '明月');
    await page.press('[data-testid=home-search-input]', 'Enter');
    await page.waitForURL((u) => u.pathname === PAGE);
    await settled(page, '明月');
    byId(await hits(page), ids['静夜思']);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});
