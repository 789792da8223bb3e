// Staff preview of a video or an audiobook in the resource dialog (resource-dialog.js mounts
// it), before the resource is published: its HLS rendition played through hls.js, a picker of
// the HLS levels (自动 or one rung of the ladder), the duration, the chapters (a click seeks
// there) and, for a video, a scrub bar that shows the sprite tile of thumbs/thumbs.vtt for the
// time under the pointer or being sought.
//
// Every file comes through the staff-only route /api/v1/staff/resources/<id>/files/<path>
// (session cookie), and the relative URLs in the playlists and in thumbs.vtt resolve under it.
// hls.js is loaded on first use (its own chunk), in its light build (no subtitles, alternate
// audio or DRM, which our renditions never have), without its worker: the page's CSP has no
// worker-src, and a blob: worker would fall under script-src 'self'. Where hls.js cannot run
// but the browser plays HLS itself (Safari on iOS), the master playlist goes to the element
// and the browser picks the level. Tiles are drawn with element.style (CSSOM, which the CSP
// allows); nothing writes style="".
import { h, setText, show } from '../dom.js';
import { formatClock } from './format.js';

const HLS_MIME = 'application/vnd.apple.mpegurl';
const SEEK_TIP_MS = 1500; // how long the tile stays up after a seek made elsewhere

/** URL of one of resource `id`'s files (a rendition's path) through the staff route. */
export function staffFileUrl(id, path) {
  const parts = String(path).split('/').map(encodeURIComponent);
  return '/api/v1/staff/resources/' + encodeURIComponent(id) + '/files/' + parts.join('/');
}

function rendition(res, name) {
  const list = Array.isArray(res.renditions) ? res.renditions : [];
  return list.find((r) => r && r.name === name && r.path) || null;
}

/** Whether `res` has something to preview here (an HLS rendition: a video or an audiobook). */
export function hasMediaPreview(res) {
  return !!(res && rendition(res, 'hls'));
}

function rateText(bps) {
  if (!bps) return '';
  return bps >= 1e6 ? (bps / 1e6).toFixed(1) + ' Mb/s' : Math.round(bps / 1000) + ' kb/s';
}

/** "720p · 1280×720 · 2.9 Mb/s"; "音频 · 70 kb/s" for an audio-only level. */
export function levelLabel(level) {
  const rate = rateText(level.bitrate);
  if (level.height) return [level.height + 'p', level.width + '×' + level.height, rate].filter(Boolean).join(' · ');
  return ['音频', rate].filter(Boolean).join(' · ');
}

/** "00:01:02.500" or "01:02.500" → seconds, or null. */
function vttTime(s) {
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number((m[4] || '0').padEnd(3, '0')) / 1000;
}

/**
 * The cues of a thumbnails WebVTT file whose texts are "sprite-0.jpg#xywh=x,y,w,h": returns
 * [{start, end, url, x, y, w, h}] in seconds, with each sprite resolved against `baseUrl`
 * (the .vtt's own absolute URL). Cues that point elsewhere than this origin are dropped.
 */
export function parseThumbsVtt(text, baseUrl) {
  const cues = [];
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = /^\s*(\S+)\s+-->\s+(\S+)/.exec(lines[i]);
    if (!t) continue;
    const start = vttTime(t[1]);
    const end = vttTime(t[2]);
    const m = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec((lines[i + 1] || '').trim());
    if (start == null || end == null || !m) continue;
    let url;
    try {
      url = new URL(m[1], baseUrl);
    } catch (e) {
      continue;
    }
    if (url.origin !== new URL(baseUrl).origin) continue;
    cues.push({ start, end, url: url.href, x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) });
  }
  return cues;
}

/**
 * Build the preview of `res` (a resource with an HLS rendition) and start loading it.
 * Returns {id, el, media, destroy()}: `el` goes into the dialog; destroy() stops playback and
 * frees the hls.js instance (call it when the dialog closes or shows another resource).
 */
export function createMediaPreview(res) {
  const isVideo = res.kind === 'video' || res.format === 'video';
  const hlsUrl = staffFileUrl(res.id, rendition(res, 'hls').path);
  const posterR = rendition(res, 'poster');
  const thumbsR = isVideo ? rendition(res, 'thumbs') : null;
  const toc = (Array.isArray(res.toc) ? res.toc : []).filter((c) => c && Number.isFinite(c.start_ms));
  let durationSec = res.duration_ms > 0 ? res.duration_ms / 1000 : 0;

  let hls = null;
  let destroyed = false;
  let recovered = false; // one hls.recoverMediaError() per preview
  const cleanups = [];
  const on = (target, type, fn, opts) => {
    target.addEventListener(type, fn, opts);
    cleanups.push(() => target.removeEventListener(type, fn, opts));
  };

  const media = h(isVideo ? 'video' : 'audio', {
    class: 'up-media__player ' + (isVideo ? 'up-media__player_video' : 'up-media__player_audio'),
    controls: true,
    preload: 'metadata',
    playsinline: true,
    poster: isVideo ? (posterR ? staffFileUrl(res.id, posterR.path) : res.cover && res.cover.url) : null,
    width: isVideo && res.width ? res.width : null,
    height: isVideo && res.height ? res.height : null,
    'aria-label': (isVideo ? '视频预览：' : '有声读物预览：') + (res.title || ''),
    'data-testid': 'media-player',
  });

  const levelId = 'media-level-' + res.id;
  const levelSel = h('select', { id: levelId, class: 'up-media__select', disabled: true, 'data-testid': 'media-level' });
  levelSel.append(h('option', { value: '-1' }, '自动'));
  const levelNow = h('span', { class: 'up-media__now', 'data-testid': 'media-level-now' });
  const durationEl = h('span', { class: 'up-media__duration', 'data-testid': 'media-duration' });
  const status = h('p', { class: 'up-media__status', role: 'status', 'data-testid': 'media-status' });

  const section = h(
    'section',
    {
      class: 'up-media ' + (isVideo ? 'up-media_video' : 'up-media_audio'),
      'aria-label': '预览',
      'data-testid': 'media-preview',
      'data-state': 'loading',
    },
    h('h3', { class: 'up-media__title' }, '预览', h('span', { class: 'up-media__hint' }, isVideo ? '仅馆员可见：发布前逐档检查清晰度' : '仅馆员可见：发布前试听各章节')),
    h('div', { class: 'up-media__stage' }, media),
    h(
      'div',
      { class: 'up-media__bar' },
      h('label', { class: 'up-media__level', for: levelId }, h('span', null, isVideo ? '清晰度' : '码率'), levelSel),
      levelNow,
      durationEl,
    ),
    status,
  );

  function showStatus(message, isError) {
    setText(status, message);
    status.className = 'up-media__status' + (isError ? ' up-media__status_error' : '');
    show(status, !!message);
    if (isError) section.dataset.state = 'error';
  }
  showStatus('正在加载播放器…', false);

  function showDuration() {
    setText(durationEl, durationSec ? '时长 ' + formatClock(durationSec) : '');
  }
  showDuration();
  on(media, 'durationchange', () => {
    if (!durationSec && Number.isFinite(media.duration) && media.duration > 0) {
      durationSec = media.duration;
      showDuration();
      if (scrub) scrub.range.max = String(durationSec);
    }
  });

  // --- chapters -------------------------------------------------------------------------------

  const chapterButtons = [];
  if (toc.length) {
    const list = h('ol', { class: 'up-media__toc', 'aria-label': '章节', 'data-testid': 'media-toc' });
    toc.forEach((c, i) => {
      const b = h(
        'button',
        { type: 'button', class: 'up-media__chapter', 'data-testid': 'media-chapter', 'data-start-ms': c.start_ms },
        h('span', { class: 'up-media__chapter-n' }, String(i + 1)),
        h('span', { class: 'up-media__chapter-title' }, c.title || '第 ' + (i + 1) + ' 章'),
        h('span', { class: 'up-media__chapter-time' }, formatClock(c.start_ms / 1000)),
      );
      b.addEventListener('click', () => {
        seek(c.start_ms / 1000);
        media.play().catch(() => {});
      });
      chapterButtons.push(b);
      list.append(h('li', null, b));
    });
    section.append(h('h4', { class: 'up-media__sub' }, '章节（' + toc.length + '）'), list);
  }

  let chapterNow = -1;
  function markChapter() {
    if (!chapterButtons.length) return;
    const ms = media.currentTime * 1000 + 1;
    let i = -1;
    toc.forEach((c, k) => {
      if (c.start_ms <= ms) i = k;
    });
    if (i === chapterNow) return;
    chapterNow = i;
    chapterButtons.forEach((b, k) => {
      if (k === i) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    });
  }
  on(media, 'timeupdate', markChapter);
  on(media, 'seeked', markChapter);

  function seek(sec) {
    try {
      media.currentTime = Math.max(0, sec);
    } catch (e) {
      /* before metadata: ignored, as a native control would */
    }
  }

  // --- scrub thumbnails (video) ---------------------------------------------------------------

  let scrub = null; // {range, tip, tile, time, cues}
  let tipTimer = 0;
  let pointerIn = false;
  let dragging = false;

  function cueAt(cues, t) {
    for (const c of cues) if (t >= c.start && t < c.end) return c;
    return t >= cues[cues.length - 1].start ? cues[cues.length - 1] : cues[0];
  }

  function showTip(t) {
    if (!scrub || !durationSec) return;
    const c = cueAt(scrub.cues, t);
    const tile = scrub.tile;
    tile.style.width = c.w + 'px';
    tile.style.height = c.h + 'px';
    tile.style.backgroundImage = 'url("' + c.url + '")';
    tile.style.backgroundPosition = -c.x + 'px ' + -c.y + 'px';
    tile.dataset.xywh = [c.x, c.y, c.w, c.h].join(',');
    setText(scrub.time, formatClock(t));
    const width = scrub.range.clientWidth;
    const left = Math.max(0, Math.min(width - c.w, (t / durationSec) * width - c.w / 2));
    scrub.tip.style.left = left + 'px';
    scrub.tip.dataset.time = t.toFixed(2);
    show(scrub.tip, true);
  }

  function hideTip() {
    clearTimeout(tipTimer);
    if (scrub) show(scrub.tip, false);
  }

  function buildScrub(cues) {
    const range = h('input', {
      type: 'range',
      class: 'up-media__range',
      min: '0',
      max: String(durationSec || cues[cues.length - 1].end),
      step: '0.1',
      value: '0',
      'aria-label': '拖动查看画面并跳转',
      'data-testid': 'media-scrub',
    });
    const tile = h('div', { class: 'up-media__tile', 'data-testid': 'media-thumb' });
    const time = h('span', { class: 'up-media__tip-time' });
    const tip = h('div', { class: 'up-media__tip', hidden: true, 'aria-hidden': 'true', 'data-testid': 'media-thumb-tip' }, tile, time);
    scrub = { range, tip, tile, time, cues };
    if (!durationSec) durationSec = Number(range.max);

    const timeAtPointer = (e) => {
      const r = range.getBoundingClientRect();
      const ratio = r.width ? Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) : 0;
      return ratio * durationSec;
    };
    range.addEventListener('pointerenter', () => {
      pointerIn = true;
    });
    range.addEventListener('pointermove', (e) => {
      clearTimeout(tipTimer);
      showTip(dragging ? range.valueAsNumber : timeAtPointer(e));
    });
    range.addEventListener('pointerleave', () => {
      pointerIn = false;
      if (!dragging) hideTip();
    });
    range.addEventListener('pointerdown', () => {
      dragging = true;
    });
    const endDrag = () => {
      if (!dragging) return;
      dragging = false;
      if (!pointerIn) hideTip();
    };
    on(window, 'pointerup', endDrag);
    on(window, 'pointercancel', endDrag);
    range.addEventListener('input', () => {
      clearTimeout(tipTimer);
      const t = range.valueAsNumber;
      seek(t);
      showTip(t);
    });
    range.addEventListener('blur', () => {
      if (!pointerIn) hideTip();
    });

    return h(
      'div',
      { class: 'up-media__scrub' },
      h('h4', { class: 'up-media__sub' }, '画面缩略图', h('span', { class: 'up-media__hint' }, '在进度条上移动鼠标查看画面，点击跳转')),
      h('div', { class: 'up-media__track' }, range, tip),
    );
  }

  on(media, 'timeupdate', () => {
    if (scrub && !dragging) scrub.range.value = String(media.currentTime);
  });
  // A seek made with the player's own controls or a chapter: show that time's tile a moment.
  on(media, 'seeking', () => {
    if (!scrub || pointerIn || dragging) return;
    showTip(media.currentTime);
    clearTimeout(tipTimer);
    tipTimer = setTimeout(hideTip, SEEK_TIP_MS);
  });

  async function loadThumbs() {
    const url = new URL(staffFileUrl(res.id, thumbsR.path), location.href).href;
    try {
      const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const cues = parseThumbsVtt(await r.text(), url);
      if (destroyed || !cues.length) return;
      section.append(buildScrub(cues));
    } catch (e) {
      if (!destroyed) section.append(h('p', { class: 'up-media__note' }, '缩略图加载失败'));
    }
  }
  if (thumbsR) loadThumbs();

  // --- levels ---------------------------------------------------------------------------------

  function showLevel(level, auto) {
    if (!level) {
      delete levelNow.dataset.height;
      delete levelNow.dataset.width;
      setText(levelNow, '');
      return;
    }
    levelNow.dataset.height = String(level.height || 0);
    levelNow.dataset.width = String(level.width || 0);
    const label = level.height ? level.height + 'p' : levelLabel(level);
    setText(levelNow, auto ? '正在播放：' + label + '（自动）' : '正在播放：' + label);
  }

  function fillLevels(levels) {
    levelSel.replaceChildren(h('option', { value: '-1' }, '自动'));
    levels.forEach((l, i) => levelSel.append(h('option', { value: String(i), 'data-height': l.height || 0 }, levelLabel(l))));
    levelSel.value = '-1';
    levelSel.disabled = false;
  }

  levelSel.addEventListener('change', () => {
    if (!hls) return;
    const n = Number(levelSel.value);
    const playing = hls.currentLevel; // the level of the fragment playing, or -1
    hls.currentLevel = n; // -1: back to automatic choice; else switch now (flushes the buffer)
    if (n < 0 || n === playing) {
      // No LEVEL_SWITCHED comes when the level does not change.
      showLevel(hls.levels[playing], n < 0);
    } else {
      delete levelNow.dataset.height;
      delete levelNow.dataset.width;
      setText(levelNow, '正在切换到 ' + levelLabel(hls.levels[n]) + '…');
    }
  });

  function fatal(message) {
    showStatus('无法预览：' + message, true);
  }

  async function attach() {
    let Hls = null;
    try {
      Hls = (await import('hls.js/light')).default;
    } catch (e) {
      Hls = null; // the chunk did not load: try the browser's own HLS below
    }
    if (destroyed) return;
    if (Hls && Hls.isSupported()) {
      section.dataset.engine = 'hls.js';
      hls = new Hls({ enableWorker: false, startLevel: -1, capLevelToPlayerSize: false });
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        fillLevels(hls.levels);
        section.dataset.state = 'ready';
        showStatus('', false);
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_ev, data) => {
        showLevel(hls.levels[data.level], hls.autoLevelEnabled);
        if (!hls.autoLevelEnabled) levelSel.value = String(data.level);
      });
      hls.on(Hls.Events.ERROR, (_ev, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
          recovered = true;
          hls.recoverMediaError();
          return;
        }
        const code = data.response && data.response.code;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          fatal(code === 401 || code === 403 ? '登录已失效或没有权限，请重新登录' : '播放列表或分段加载失败（' + (code || data.details) + '）');
        } else {
          fatal('浏览器无法解码此节目（' + data.details + '）');
        }
      });
      hls.loadSource(hlsUrl);
      hls.attachMedia(media);
    } else if (media.canPlayType(HLS_MIME)) {
      section.dataset.engine = 'native';
      levelSel.replaceChildren(h('option', { value: '-1' }, '自动（由浏览器选择）'));
      media.src = hlsUrl;
      section.dataset.state = 'ready';
      showStatus('', false);
      on(media, 'error', () => fatal('浏览器无法播放此节目'));
    } else {
      fatal('此浏览器不支持 HLS 播放');
    }
  }
  attach();

  return {
    id: res.id,
    el: section,
    media,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      clearTimeout(tipTimer);
      for (const off of cleanups) off();
      if (hls) {
        hls.destroy();
        hls = null;
      }
      media.pause();
      media.removeAttribute('src');
      media.load();
    },
  };
}
