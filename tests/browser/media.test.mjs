// Browser test for audio and video on the staff page 上传与任务 (/staff/uploads/): a 12 s
// 1280×720 H.264/AAC MP4 and a zip bundle holding an audiobook folder of three chapters in mixed
// formats (media-fixture.mjs, made with the ffmpeg CLI at run time) are uploaded through the
// page's file input; the jobs are followed on the page (lane 转码, percent and time left, the
// bundle's transcode job naming its bundle) to 已完成; the resources are checked through the API
// (renditions, the HLS ladder, chapters in natural order); then each is played in the resource
// dialog's preview (hls.js): the video at each level of the picker, the audiobook from a
// chapter. Last, ffprobe reads every playlist and segment the server wrote. Real server,
// Debian's Chromium (harness.mjs).
//
//   SHUXIANG_BIN=build/shuxiang SHUXIANG_WEB_DIR=player-web/dist node --test tests/browser/media.test.mjs
//
// Environment: as login.test.mjs (SHUXIANG_BIN, SHUXIANG_WEB_DIR, SHUXIANG_CHROMIUM,
// SHUXIANG_SHOTS_DIR). Needs `ffmpeg`, `ffprobe` and `zip`.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BOOK_FOLDER, BOOK_TITLE, CHAPTER_SECONDS, CHAPTERS, makeAudiobook, makeVideo, VIDEO_TITLE } from './media-fixture.mjs';
import { DESKTOP, addUser, gotoLoginForm, h, openPage, serverTest, shot, startHarness, stopHarness, submitLogin } from './harness.mjs';

const PAGE = '/staff/uploads/';
const JOB_TIMEOUT = 90_000; // a transcode, queued to ended
const UPLOAD_TIMEOUT = 30_000;
const PLAY_TIMEOUT = 20_000;
const LADDER = [360, 720]; // the server's rungs for a 720p source

const accounts = h.accounts;
let fixDir = '';
let video = null; // from makeVideo
let book = null; // from makeAudiobook
// Filled in by the first test, used by the next ones.
const made = { videoJob: 0, bundleJob: 0, bookJob: 0, video: null, book: null };

before(async () => {
  fixDir = await mkdtemp(path.join(tmpdir(), 'shuxiang-media-'));
  [video, book] = await Promise.all([makeVideo(fixDir), makeAudiobook(fixDir)]);
  await startHarness(async () => {
    accounts.admin = { login: 'admin', name: '管理员' };
    accounts.admin.password = await addUser(['--kind', 'staff', '--role', 'admin', '--login', 'admin', '--name', '管理员']);
  });
});

after(async () => {
  await stopHarness();
  if (fixDir) await rm(fixDir, { recursive: true, force: true });
});

// --- helpers ----------------------------------------------------------------------------------

async function signInAdmin(page) {
  await gotoLoginForm(page, h.server.base + PAGE, '#workspace');
  await submitLogin(page, accounts.admin.login, accounts.admin.password);
  await page.locator('#workspace').waitFor({ state: 'visible' });
}

/** Choose a file in the page's input; wait until its upload row ends; return its job id. */
async function uploadThroughPage(page, file) {
  const before = await page.locator('[data-testid=upload-item]').count();
  await page.setInputFiles('[data-testid=upload-input]', file);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=upload-item]').length > n, before);
  const item = page.locator('[data-testid=upload-item]').first(); // newest first
  await item.and(page.locator('[data-state=done], [data-state=failed], [data-state=aborted]')).waitFor({ timeout: UPLOAD_TIMEOUT });
  const status = (await item.locator('[data-testid=upload-status]').textContent()).trim();
  assert.equal(await item.getAttribute('data-state'), 'done', `upload ended with: ${status}`);
  const m = /任务 #(\d+)/.exec(status);
  assert.ok(m, `upload status names its job: "${status}"`);
  return Number(m[1]);
}

function jobItem(page, id) {
  return page.locator(`[data-testid=job][data-job-id="${id}"]`);
}

/** Wait until job id has ended on the page; it must be 已完成. Returns its <li> locator. */
async function waitJobDone(page, id) {
  const li = jobItem(page, id);
  await li.waitFor({ timeout: 15_000 });
  await li.and(page.locator('[data-state=done], [data-state=failed], [data-state=cancelled]')).waitFor({ timeout: JOB_TIMEOUT });
  const state = await li.getAttribute('data-state');
  if (state !== 'done') {
    const err = (await li.locator('[data-testid=job-error]').allTextContents()).join(' ');
    assert.fail(`job ${id} ended ${state}: ${err}`);
  }
  assert.equal((await li.locator('[data-testid=job-state]').textContent()).trim(), '已完成');
  return li;
}

/** GET an API path with this page's session; returns the parsed body (status must be 200). */
async function apiGet(page, url) {
  const got = await page.evaluate(async (u) => {
    const r = await fetch(u, { cache: 'no-store' });
    return { status: r.status, text: await r.text() };
  }, url);
  assert.equal(got.status, 200, `GET ${url}: ${got.text.slice(0, 200)}`);
  return got.text;
}

const getJson = async (page, url) => JSON.parse(await apiGet(page, url));
const filesUrl = (id, p) => `/api/v1/staff/resources/${id}/files/${p}`;

function near(actual, want, slack, what) {
  assert.ok(Math.abs(actual - want) <= slack, `${what}: ${actual}, want ${want} ± ${slack}`);
}

/** `ffprobe -v error FILE`: {code, stderr}. */
function ffprobe(file) {
  return new Promise((resolve) => {
    execFile('ffprobe', ['-v', 'error', file], { timeout: 20_000, encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

/** Open a done job's resource from its result link and wait for the dialog's preview. */
async function openPreview(page, jobId) {
  await jobItem(page, jobId).locator('[data-testid=job-result] a').click();
  await page.locator('[data-testid=resource-dialog]').waitFor({ state: 'visible' });
  const preview = page.locator('[data-testid=media-preview]');
  await preview.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=media-preview]').dataset.state !== 'loading', null, {
    timeout: 10_000,
  });
  const state = await preview.getAttribute('data-state');
  assert.equal(state, 'ready', `preview: ${await page.locator('[data-testid=media-status]').textContent()}`);
  assert.equal(await preview.getAttribute('data-engine'), 'hls.js', 'played through hls.js (MSE)');
  return preview;
}

/** The dialog's details as {label: text}. */
function details(page) {
  return page.locator('#res-dialog-body .up-dl').evaluate((dl) => {
    const out = {};
    for (const dt of dl.querySelectorAll('dt')) out[dt.textContent.trim()] = dt.nextElementSibling.textContent.trim();
    return out;
  });
}

/** Play the preview (muted) from `from` s until currentTime passes `from + ahead` s and `cond` holds. */
async function playUntil(page, from, ahead, extra = null) {
  await page.evaluate((t) => {
    const m = document.querySelector('[data-testid=media-player]');
    m.muted = true;
    m.currentTime = t;
    return m.play();
  }, from);
  await page.waitForFunction(
    ({ t, extra }) => {
      const m = document.querySelector('[data-testid=media-player]');
      if (!(m.currentTime > t)) return false;
      if (extra == null) return true;
      const now = document.querySelector('[data-testid=media-level-now]');
      return m.videoHeight === extra && now && now.dataset.height === String(extra);
    },
    { t: from + ahead, extra },
    { timeout: PLAY_TIMEOUT },
  );
}

// --- tests ------------------------------------------------------------------------------------

serverTest(
  'a video and an audiobook bundle are transcoded; the jobs show lane, progress, time left and their bundle',
  async () => {
    const { context, page, cspMessages, pageErrors } = await openPage(DESKTOP);
    page.setDefaultTimeout(15_000);
    try {
      await signInAdmin(page);
      assert.match(await page.textContent('[data-testid=upload-hint]'), /音频.*视频/, 'the hint names audio and video');

      // --- the video: a media job in the transcode lane, followed while it runs ---
      made.videoJob = await uploadThroughPage(page, video.path);
      const vli = jobItem(page, made.videoJob);
      await vli.waitFor();
      assert.equal(await vli.getAttribute('data-kind'), 'media');
      assert.equal((await vli.locator('[data-testid=job-kind]').textContent()).trim(), '音视频');
      assert.equal((await vli.locator('[data-testid=job-lane]').textContent()).trim(), '转码');
      assert.equal((await vli.locator('[data-testid=job-name]').textContent()).trim(), video.name);

      // While it runs the page shows its percent and the time left (from eta_seconds).
      const seen = await page.waitForFunction(
        (id) => {
          const li = document.querySelector(`[data-testid=job][data-job-id="${id}"]`);
          if (!li) return null;
          const eta = li.querySelector('[data-testid=job-eta]');
          const bar = li.querySelector('[data-testid=job-progress]');
          if (li.dataset.state === 'running' && eta && bar) {
            return { eta: eta.textContent, pct: bar.textContent, now: bar.getAttribute('aria-valuenow') };
          }
          return li.dataset.state === 'queued' || li.dataset.state === 'running' ? null : { ended: li.dataset.state };
        },
        made.videoJob,
        { timeout: JOB_TIMEOUT, polling: 100 },
      );
      const running = await seen.jsonValue();
      assert.ok(!running.ended, `the video job was never seen running with a time left (it ended ${running.ended})`);
      assert.match(running.eta, /^(剩余约 (\d+ 小时)? ?(\d+ 分)? ?(\d+ 秒)?|即将完成)$/, `time left: "${running.eta}"`);
      assert.match(running.pct, /\d+%/, 'percent shown');
      assert.ok(Number(running.now) >= 1 && Number(running.now) <= 99, `aria-valuenow ${running.now}`);
      await shot(page, 'staff-media-running.png');

      // --- the bundle: its audiobook folder is handed to a child transcode job ---
      made.bundleJob = await uploadThroughPage(page, book.path);
      const bli = await waitJobDone(page, made.bundleJob);
      assert.equal(await bli.getAttribute('data-kind'), 'bundle');
      assert.match(await bli.locator('[data-testid=bundle-counts]').textContent(), /已排入转码 1/);
      const report = await getJson(page, `/api/v1/staff/jobs/${made.bundleJob}`);
      const rows = report.job.result.rows;
      assert.equal(rows.length, 1, `one row for the audiobook folder: ${JSON.stringify(rows)}`);
      assert.equal(rows[0].file, BOOK_FOLDER);
      assert.equal(rows[0].status, 'queued');
      assert.ok(Number.isInteger(rows[0].job), `the row names its job: ${JSON.stringify(rows[0])}`);
      made.bookJob = rows[0].job;

      await bli.locator('[data-testid=bundle-report-toggle]').click();
      const row = bli.locator('[data-testid=report-row]');
      await row.waitFor();
      assert.equal(await row.getAttribute('data-status'), 'queued');
      assert.ok((await row.textContent()).includes(`已排入转码（任务 #${made.bookJob}）`), `row: ${await row.textContent()}`);

      const cli = jobItem(page, made.bookJob);
      await cli.waitFor();
      assert.equal(await cli.getAttribute('data-kind'), 'media');
      assert.equal((await cli.locator('[data-testid=job-lane]').textContent()).trim(), '转码');
      assert.equal((await cli.locator('[data-testid=job-parent]').textContent()).trim(), `来自批量包 #${made.bundleJob}`);

      // --- both transcodes end 已完成 (one at a time in their lane) ---
      await waitJobDone(page, made.videoJob);
      await waitJobDone(page, made.bookJob);
      const vjob = (await getJson(page, `/api/v1/staff/jobs/${made.videoJob}`)).job;
      const cjob = (await getJson(page, `/api/v1/staff/jobs/${made.bookJob}`)).job;
      for (const j of [vjob, cjob]) {
        assert.equal(j.kind, 'media', `job ${j.id} kind`);
        assert.equal(j.lane, 'transcode', `job ${j.id} lane`);
        assert.equal(j.progress, 100, `job ${j.id} progress`);
        assert.equal(j.eta_seconds, null, `job ${j.id}: no time left once done`);
        assert.ok(j.result && j.result.resource && j.result.resource.id, `job ${j.id} result ${JSON.stringify(j.result)}`);
      }
      assert.equal(cjob.parent_id, made.bundleJob, "the audiobook's job is the bundle's child");
      assert.equal(vjob.parent_id, null);
      assert.equal(vjob.result.resource.title, VIDEO_TITLE, 'the title tag is the title');
      // The bundle's report now links the audiobook its child job made.
      await bli.locator('[data-testid=report-row] a', { hasText: BOOK_TITLE }).waitFor();

      // --- the video resource ---
      const v = (await getJson(page, `/api/v1/resources/${vjob.result.resource.id}`)).resource;
      made.video = v;
      assert.equal(v.kind, 'video');
      assert.equal(v.format, 'video');
      assert.equal(v.title, VIDEO_TITLE);
      near(v.duration_ms, video.seconds * 1000, 300, 'video duration_ms');
      assert.deepEqual([v.width, v.height], [1280, 720], 'upright size');
      const rend = new Map(v.renditions.map((r) => [r.name, r]));
      for (const name of ['hls', 'poster', 'thumbs']) {
        const r = rend.get(name);
        assert.ok(r, `rendition ${name} in ${JSON.stringify(v.renditions)}`);
        assert.ok(r.bytes > 0 && r.width > 0 && r.height > 0, `rendition ${name} sizes: ${JSON.stringify(r)}`);
      }
      assert.equal(rend.get('hls').path, 'hls/master.m3u8');
      assert.deepEqual([rend.get('hls').width, rend.get('hls').height], [1280, 720], 'hls: the largest variant');
      assert.equal(rend.get('poster').path, 'poster/poster.jpg');
      assert.equal(rend.get('thumbs').path, 'thumbs/thumbs.vtt');

      const master = await apiGet(page, filesUrl(v.id, 'hls/master.m3u8'));
      const variants = [...master.matchAll(/#EXT-X-STREAM-INF:([^\n]*)\n([^\n#]+)/g)].map((m) => ({
        res: (/RESOLUTION=(\d+)x(\d+)/.exec(m[1]) || []).slice(1).map(Number),
        bw: Number((/BANDWIDTH=(\d+)/.exec(m[1]) || [])[1]),
        uri: m[2].trim(),
      }));
      assert.equal(variants.length, 2, `two variants in:\n${master}`);
      assert.deepEqual(
        variants.map((x) => x.res[1]).sort((a, b) => a - b),
        LADDER,
        `the ladder: ${JSON.stringify(variants)}`,
      );
      assert.deepEqual(variants.find((x) => x.res[1] === 360).res, [640, 360]);
      for (const x of variants) {
        assert.ok(x.bw > 0, `bandwidth of ${x.uri}`);
        assert.match(await apiGet(page, filesUrl(v.id, 'hls/' + x.uri)), /#EXT-X-ENDLIST/, `${x.uri} is a whole VOD playlist`);
      }
      const vtt = await apiGet(page, filesUrl(v.id, 'thumbs/thumbs.vtt'));
      assert.match(vtt, /^WEBVTT/);
      assert.match(vtt, /#xywh=\d+,\d+,\d+,\d+/, `thumbs.vtt cues point into a sprite:\n${vtt}`);
      // The staff file route wants the session.
      const anon = await fetch(h.server.base + filesUrl(v.id, 'hls/master.m3u8'));
      assert.equal(anon.status, 401, 'no session, no files');

      // --- the audiobook resource ---
      const b = (await getJson(page, `/api/v1/resources/${cjob.result.resource.id}`)).resource;
      made.book = b;
      assert.equal(b.kind, 'audiobook');
      assert.equal(b.format, 'audio');
      assert.equal(b.title, BOOK_TITLE);
      near(b.duration_ms, CHAPTERS.length * CHAPTER_SECONDS * 1000, 400, 'audiobook duration_ms');
      assert.deepEqual(
        b.toc.map((c) => c.title),
        CHAPTERS.map((c) => c.title),
        'chapters in natural order (第2集 before 第10集)',
      );
      b.toc.forEach((c, i) => {
        near(c.start_ms, i * CHAPTER_SECONDS * 1000, 300, `${c.title} start_ms`);
        if (i) assert.ok(c.start_ms > b.toc[i - 1].start_ms, 'start_ms increases');
        assert.ok(String(c.file).endsWith(CHAPTERS[i].file), `${c.title} from ${c.file}`);
      });
      const bh = b.renditions.find((r) => r.name === 'hls');
      assert.ok(bh && bh.bytes > 0 && bh.path === 'hls/master.m3u8', `audiobook hls: ${JSON.stringify(b.renditions)}`);
      assert.match(await apiGet(page, filesUrl(b.id, 'hls/chapters.vtt')), /^WEBVTT[\s\S]*第10集 结尾/);

      await shot(page, 'staff-media-jobs-done.png');
      assert.deepEqual(cspMessages, [], 'CSP violations');
      assert.deepEqual(pageErrors, [], 'script errors');
    } finally {
      await context.close();
    }
  },
  { logLines: 40 },
);

serverTest('the video plays in the dialog preview at each level of the picker; scrub tiles follow the pointer', async () => {
  assert.ok(made.video, 'needs the video from the first test');
  const { context, page, cspMessages, pageErrors } = await openPage(DESKTOP);
  page.setDefaultTimeout(15_000);
  try {
    await signInAdmin(page);
    await waitJobDone(page, made.videoJob);
    const preview = await openPreview(page, made.videoJob);
    const d = await details(page);
    assert.equal(d['时长'], '12 秒');
    assert.equal(d['分辨率'], '1280×720');
    assert.equal((await page.textContent('[data-testid=media-duration]')).trim(), '时长 0:12');
    const player = page.locator('[data-testid=media-player]');
    assert.equal(await player.evaluate((m) => m.tagName), 'VIDEO');
    assert.match(await player.getAttribute('poster'), new RegExp(`/files/poster/poster\\.jpg$`));

    const options = (await page.locator('[data-testid=media-level] option').allTextContents()).map((s) => s.trim());
    assert.equal(options[0], '自动');
    assert.equal(options.length, 1 + LADDER.length, `options: ${options}`);
    // Highest first: left to itself, hls.js starts low and climbs, so a picker that did nothing
    // could pass 360p then 720p, but not 720p then 360p.
    for (const height of [...LADDER].reverse()) {
      const label = options.find((o) => o.startsWith(height + 'p · '));
      assert.ok(label, `a ${height}p option in ${options}`);
      assert.match(label, new RegExp(`^${height}p · \\d+×${height} · \\d+\\.\\d Mb/s$`));
      await page.selectOption('[data-testid=media-level]', { label });
      await playUntil(page, 0, 2, height);
      assert.match(await page.textContent('[data-testid=media-level-now]'), new RegExp(`正在播放：${height}p`));
    }
    await shot(page, 'staff-media-video.png');

    // Back to 自动 keeps playing.
    await page.selectOption('[data-testid=media-level]', { label: '自动' });
    assert.match(await page.textContent('[data-testid=media-level-now]'), /（自动）$/);
    await playUntil(page, 5, 1);

    // Scrub tiles: the tile under the pointer is the sprite region of that time's cue.
    const vtt = await apiGet(page, filesUrl(made.video.id, 'thumbs/thumbs.vtt'));
    const cues = [...vtt.matchAll(/([\d:.]+) --> ([\d:.]+)\n[^#\n]+#xywh=(\d+,\d+,\d+,\d+)/g)].map((m) => {
      const sec = (t) => t.split(':').reduce((a, x) => a * 60 + Number(x), 0);
      return { start: sec(m[1]), end: sec(m[2]), xywh: m[3] };
    });
    assert.ok(cues.length >= 2, `cues: ${vtt}`);
    const scrub = page.locator('[data-testid=media-scrub]');
    const box = await scrub.boundingBox();
    for (const ratio of [0.05, 0.95]) {
      await page.mouse.move(box.x + box.width * ratio, box.y + box.height / 2);
      const tip = page.locator('[data-testid=media-thumb-tip]');
      await tip.waitFor();
      const t = Number(await tip.getAttribute('data-time'));
      const cue = cues.find((c) => t >= c.start && t < c.end) || cues[cues.length - 1];
      assert.equal(await page.getAttribute('[data-testid=media-thumb]', 'data-xywh'), cue.xywh, `tile at ${t} s`);
    }
    const bg = await page.locator('[data-testid=media-thumb]').evaluate((e) => e.style.backgroundImage);
    assert.match(bg, /\/api\/v1\/staff\/resources\/\d+\/files\/thumbs\/sprite-\d+\.jpg/);
    await shot(page, 'staff-media-scrub.png');
    await page.mouse.move(0, 0);

    // Closing the dialog stops the player and frees it.
    const el = await player.elementHandle();
    await page.click('#res-dialog-close');
    await page.locator('[data-testid=resource-dialog]').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('[data-testid=media-player]').count(), 0);
    assert.deepEqual(
      await el.evaluate((m) => ({ paused: m.paused, src: m.getAttribute('src'), empty: m.networkState === m.NETWORK_EMPTY })),
      { paused: true, src: null, empty: true },
      'the element has let go of its MediaSource',
    );
    assert.equal(await preview.count(), 0);

    assert.deepEqual(cspMessages, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'script errors');
  } finally {
    await context.close();
  }
});

serverTest('the audiobook plays in the preview; a chapter click seeks to its start', async () => {
  assert.ok(made.book, 'needs the audiobook from the first test');
  const { context, page, cspMessages, pageErrors } = await openPage(DESKTOP);
  page.setDefaultTimeout(15_000);
  try {
    await signInAdmin(page);
    await waitJobDone(page, made.bookJob);
    await openPreview(page, made.bookJob);
    const d = await details(page);
    assert.equal(d['时长'], '9 秒');
    assert.equal(d['章节'], '3');
    assert.equal(await page.locator('[data-testid=media-player]').evaluate((m) => m.tagName), 'AUDIO');
    const options = (await page.locator('[data-testid=media-level] option').allTextContents()).map((s) => s.trim());
    assert.equal(options.length, 2, `自动 and the one audio level: ${options}`);
    assert.match(options[1], /^音频 · \d+ kb\/s$/);

    const chapters = page.locator('[data-testid=media-chapter]');
    assert.deepEqual(
      (await chapters.locator('.up-media__chapter-title').allTextContents()).map((s) => s.trim()),
      CHAPTERS.map((c) => c.title),
    );
    await playUntil(page, 0, 2);
    const third = made.book.toc[2];
    await chapters.nth(2).click();
    await page.waitForFunction(
      (t) => document.querySelector('[data-testid=media-player]').currentTime >= t,
      third.start_ms / 1000,
      { timeout: PLAY_TIMEOUT },
    );
    await page.locator('[data-testid=media-chapter][aria-current=true]', { hasText: third.title }).waitFor();
    await shot(page, 'staff-media-audiobook.png');
    await page.click('#res-dialog-close');
    await page.locator('[data-testid=resource-dialog]').waitFor({ state: 'hidden' });

    assert.deepEqual(cspMessages, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'script errors');
  } finally {
    await context.close();
  }
});

serverTest('ffprobe reads every playlist and segment the server wrote, without a complaint', async () => {
  assert.ok(made.video && made.book, 'needs the resources from the first test');
  const problems = [];
  let playlists = 0;
  let segments = 0;
  for (const res of [made.video, made.book]) {
    const dir = path.join(h.dataDir, 'media', String(res.id), 'hls');
    const files = (await readdir(dir)).filter((f) => /\.(m3u8|ts)$/.test(f)).sort();
    for (const f of files) {
      const got = await ffprobe(path.join(dir, f));
      if (f.endsWith('.m3u8')) playlists++;
      else segments++;
      if (got.code !== 0 || got.stderr.trim() !== '') problems.push(`${res.id}/hls/${f}: exit ${got.code} ${got.stderr.trim()}`);
    }
  }
  assert.deepEqual(problems, [], 'ffprobe -v error is silent');
  assert.ok(playlists >= 5, `master + 2 variants + master + 1 variant, got ${playlists}`);
  assert.ok(segments >= 4, `segments: ${segments}`);
});
