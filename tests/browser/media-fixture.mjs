// Audio and video fixtures for media.test.mjs, made at run time with Debian's `ffmpeg` CLI and
// zipped with Info-ZIP's `zip` (UTF-8 names). Nothing is downloaded.
//
//   makeVideo(dir)      a 12 s 1280×720 H.264/AAC MP4 with a title tag, one keyframe in 12 s
//                       (-g 300), so the server cannot cut it into segments as it is and must
//                       encode every rung of its ladder (360p and 720p)
//   makeAudiobook(dir)  a zip with the folder 有声/测试有声书/ of three short chapters in mixed
//                       formats (MP3, M4A/AAC, WAV) whose names sort wrongly as plain strings
//                       (第10集 before 第2集)
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export const VIDEO_TITLE = '书香测试视频：彩条与正弦';
export const VIDEO_SECONDS = 12;
export const BOOK_FOLDER = '有声/测试有声书/';
export const BOOK_TITLE = '测试有声书';
export const CHAPTER_SECONDS = 3;
// In the order the audiobook must have them (natural order), with how each is encoded.
export const CHAPTERS = [
  { file: '第1集 开始.mp3', title: '第1集 开始', freq: 440, codec: ['-c:a', 'libmp3lame', '-b:a', '96k'] },
  { file: '第2集 中间.m4a', title: '第2集 中间', freq: 554, codec: ['-c:a', 'aac', '-b:a', '96k'] },
  { file: '第10集 结尾.wav', title: '第10集 结尾', freq: 659, codec: ['-c:a', 'pcm_s16le'] },
];

function exec(file, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, timeout: 60_000, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } },
      (err, stdout, stderr) => {
        if (err) {
          err.message += `\n${file} ${args.join(' ')}\nstderr:\n${stderr}`;
          reject(err);
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

const FFMPEG = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];

/** The video; returns {path, name, title, seconds}. */
export async function makeVideo(dir) {
  const name = '彩条测试.mp4';
  const out = path.join(dir, name);
  await exec('ffmpeg', [
    ...FFMPEG,
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${VIDEO_SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${VIDEO_SECONDS}`,
    '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '300', '-keyint_min', '300',
    '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '96k',
    '-metadata', `title=${VIDEO_TITLE}`,
    '-movflags', '+faststart',
    out,
  ]);
  return { path: out, name, title: VIDEO_TITLE, seconds: VIDEO_SECONDS };
}

/** The audiobook bundle; returns {path, name, folder, chapters}. */
export async function makeAudiobook(dir) {
  const root = path.join(dir, 'bundle');
  const folder = path.join(root, BOOK_FOLDER);
  await mkdir(folder, { recursive: true });
  for (const c of CHAPTERS) {
    await exec('ffmpeg', [
      ...FFMPEG,
      '-f', 'lavfi', '-i', `sine=frequency=${c.freq}:sample_rate=44100:duration=${CHAPTER_SECONDS}`,
      '-ac', '2',
      ...c.codec,
      path.join(folder, c.file),
    ]);
  }
  const name = '有声读物更新.zip';
  const out = path.join(dir, name);
  await exec('zip', ['-q', '-X', '-r', out, '有声'], root);
  return { path: out, name, folder: BOOK_FOLDER, chapters: CHAPTERS };
}
