// Builds, at run time, a monthly bundle like the ones libraries receive: 20 EPUB 3 books (some
// with a cover image), 5 TXT books (2 of them in GBK), 2 PDFs (Chinese /Title in UTF-16BE) and a
// manifest.csv saved in GBK as Excel on Chinese Windows does, zipped with Info-ZIP's `zip`.
// Needs Debian's `zip` and `iconv` (glibc). Nothing is downloaded.
//
//   node tests/browser/bundle-fixture.mjs OUTDIR   # build one and print what is in it
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

function exec(file, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n${file} ${args.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
  });
}

export const CATEGORIES = ['小说', '名著', '社科人文', '少儿', '历史', '经管', '励志', '生活', '科普', '艺术'];

/** ISBN-13 from 12 digits: the check digit weighs digits 1, 3, 1, 3, … */
export function isbn13(first12) {
  assert12(first12);
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 ? 3 : 1);
  return first12 + String((10 - (sum % 10)) % 10);
}

function assert12(s) {
  if (!/^\d{12}$/.test(s)) throw new Error('need 12 digits: ' + s);
}

// --- PNG --------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A small RGB PNG: a coloured cover with a lighter band (8-bit, no interlace). */
export function makePng(width, height, [r, g, b]) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    const band = y > height * 0.3 && y < height * 0.5;
    for (let x = 0; x < width; x++) {
      const o = row + 1 + x * 3;
      raw[o] = band ? 240 : r;
      raw[o + 1] = band ? 230 : g;
      raw[o + 2] = band ? 210 : b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// --- EPUB -------------------------------------------------------------------------------------

function xmlEscape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function uuidFor(n) {
  const hex = n.toString(16).padStart(12, '0');
  return `5a1e0000-b00c-4000-8000-${hex}`;
}

const CHAPTERS = ['第一章 缘起', '第二章 远行', '第三章 归来'];

function chapterXhtml(book, i) {
  const paras = [];
  for (let p = 1; p <= 4; p++) {
    paras.push(`    <p>这是《${xmlEscape(book.title)}》测试版第${i + 1}章的第${p}段。书香满城，开卷有益，${xmlEscape(book.author)}的文字在这里只是占位。</p>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="zh-CN" lang="zh-CN">
  <head>
    <meta charset="UTF-8"/>
    <title>${xmlEscape(CHAPTERS[i])}</title>
  </head>
  <body>
    <h1>${xmlEscape(CHAPTERS[i])}</h1>
${paras.join('\n')}
  </body>
</html>
`;
}

function navXhtml(book) {
  const items = CHAPTERS.map((c, i) => `        <li><a href="ch${i + 1}.xhtml">${xmlEscape(c)}</a></li>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="zh-CN" lang="zh-CN">
  <head>
    <meta charset="UTF-8"/>
    <title>${xmlEscape(book.title)}</title>
  </head>
  <body>
    <nav epub:type="toc" id="toc">
      <h1>目录</h1>
      <ol>
${items}
      </ol>
    </nav>
  </body>
</html>
`;
}

function opf(book) {
  const coverItem = book.cover
    ? '\n    <item id="cover-image" href="cover.png" media-type="image/png" properties="cover-image"/>'
    : '';
  const coverMeta = book.cover ? '\n    <meta name="cover" content="cover-image"/>' : '';
  const chapters = CHAPTERS.map(
    (_, i) => `    <item id="ch${i + 1}" href="ch${i + 1}.xhtml" media-type="application/xhtml+xml"/>`,
  ).join('\n');
  const spine = CHAPTERS.map((_, i) => `    <itemref idref="ch${i + 1}"/>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid" xml:lang="zh-CN">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="bookid">urn:uuid:${book.uuid}</dc:identifier>
    <dc:identifier>urn:isbn:${book.isbn}</dc:identifier>
    <dc:title>${xmlEscape(book.title)}</dc:title>
    <dc:creator id="creator">${xmlEscape(book.author)}</dc:creator>
    <meta refines="#creator" property="role" scheme="marc:relators">aut</meta>
    <dc:language>zh-CN</dc:language>
    <dc:publisher>书香测试出版社</dc:publisher>
    <meta property="dcterms:modified">2024-11-01T00:00:00Z</meta>${coverMeta}
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
${chapters}${coverItem}
  </manifest>
  <spine>
${spine}
  </spine>
</package>
`;
}

const CONTAINER_XML = `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
`;

/**
 * Write a minimal valid EPUB 3 at outPath, built in workDir (which must not exist):
 * book = {title, author, isbn, uuid, cover: [r,g,b] | null}.
 */
export async function makeEpub(workDir, outPath, book) {
  await mkdir(path.join(workDir, 'META-INF'), { recursive: true });
  await mkdir(path.join(workDir, 'OEBPS'), { recursive: true });
  await writeFile(path.join(workDir, 'mimetype'), 'application/epub+zip');
  await writeFile(path.join(workDir, 'META-INF', 'container.xml'), CONTAINER_XML);
  await writeFile(path.join(workDir, 'OEBPS', 'content.opf'), opf(book));
  await writeFile(path.join(workDir, 'OEBPS', 'nav.xhtml'), navXhtml(book));
  for (let i = 0; i < CHAPTERS.length; i++) {
    await writeFile(path.join(workDir, 'OEBPS', `ch${i + 1}.xhtml`), chapterXhtml(book, i));
  }
  if (book.cover) await writeFile(path.join(workDir, 'OEBPS', 'cover.png'), makePng(120, 180, book.cover));
  // mimetype first and stored, then the rest compressed, without extra fields or directory entries.
  await exec('zip', ['-q', '-X0', outPath, 'mimetype'], workDir);
  await exec('zip', ['-q', '-Xr9D', outPath, 'META-INF', 'OEBPS'], workDir);
}

// --- TXT --------------------------------------------------------------------------------------

function txtBook(book) {
  const nums = ['一', '二', '三', '四'];
  const out = [];
  for (let c = 0; c < nums.length; c++) {
    out.push(`第${nums[c]}章  ${['春', '夏', '秋', '冬'][c]}日随笔`);
    out.push('');
    for (let p = 1; p <= 5; p++) {
      out.push(`　　${book.author}写道：这是《${book.title}》第${nums[c]}章的第${p}段文字。窗外的银杏叶黄了又绿，图书馆里的灯一直亮到深夜，读书的人来了又走。`);
    }
    out.push('');
  }
  return out.join('\r\n');
}

async function toGbk(srcPath, outPath) {
  await exec('iconv', ['-f', 'UTF-8', '-t', 'GBK', '-o', outPath, srcPath]);
}

// --- PDF --------------------------------------------------------------------------------------

function utf16beHex(s) {
  let hex = 'FEFF';
  for (let i = 0; i < s.length; i++) hex += s.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
  return '<' + hex + '>';
}

/**
 * A one-page PDF 1.4 with one Latin line in Helvetica and an /Info dictionary whose /Title and
 * /Author are UTF-16BE hex strings; the xref offsets are counted in bytes.
 */
export function makePdf({ title, author, line }) {
  const content = `BT /F1 20 Tf 72 760 Td (${line.replace(/[()\\]/g, '\\$&')}) Tj ET\n`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Title ${utf16beHex(title)} /Author ${utf16beHex(author)} /Producer (Shuxiang test fixture) /CreationDate (D:20241101000000Z) >>`,
  ];
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += String(o).padStart(10, '0') + ' 00000 n \n';
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Check a PDF made by makePdf: every xref offset points at "N 0 obj", startxref at "xref". */
export function checkPdfXref(buf) {
  const s = buf.toString('latin1');
  const m = /startxref\n(\d+)\n%%EOF\n$/.exec(s);
  if (!m) throw new Error('no startxref');
  const xref = Number(m[1]);
  if (s.slice(xref, xref + 5) !== 'xref\n') throw new Error('startxref does not point at xref');
  const lines = s.slice(xref).split('\n');
  const [, count] = lines[1].split(' ').map(Number);
  for (let i = 1; i < count; i++) {
    const entry = lines[2 + i];
    if (entry.length !== 19) throw new Error(`xref entry ${i} is not 20 bytes: "${entry}"`);
    const off = Number(entry.slice(0, 10));
    if (!s.startsWith(`${i} 0 obj\n`, off)) throw new Error(`xref entry ${i} points at offset ${off}, not at its object`);
  }
  return count - 1;
}

// --- The bundle -------------------------------------------------------------------------------

const EPUB_BOOKS = [
  ['三国演义', '罗贯中'],
  ['水浒传', '施耐庵'],
  ['西游记', '吴承恩'],
  ['红楼梦', '曹雪芹'],
  ['儒林外史', '吴敬梓'],
  ['聊斋志异', '蒲松龄'],
  ['老残游记', '刘鹗'],
  ['镜花缘', '李汝珍'],
  ['封神演义', '许仲琳'],
  ['东周列国志', '冯梦龙'],
  ['人间词话', '王国维'],
  ['浮生六记', '沈复'],
  ['世说新语', '刘义庆'],
  ['陶庵梦忆', '张岱'],
  ['天工开物', '宋应星'],
  ['梦溪笔谈', '沈括'],
  ['徐霞客游记', '徐弘祖'],
  ['闲情偶寄', '李渔'],
  ['菜根谭', '洪应明'],
  ['古文观止', '吴楚材'],
];

const TXT_BOOKS = [
  // [title, author, file in the zip, GBK?]
  ['城南草木记', '林清', '文本/随笔一.txt', false],
  ['少年星空故事', '周明', '文本/随笔二.txt', true],
  ['灶台边的四季', '陈静', 'txt/book-3.txt', false],
  ['小镇经济漫谈', '王立', 'txt/book-4.txt', true],
  ['向光而行', '李想', '文本/励志小语.txt', false],
];

const PDF_BOOKS = [
  ['敦煌壁画艺术导览', '赵云', 'pdf/dunhuang.pdf', 'Dunhuang murals: a short guide'],
  ['宇宙的第一推动', '孙凯', 'pdf/宇宙.pdf', 'The first push of the universe'],
];

const COLOURS = [
  [140, 47, 36],
  [31, 95, 139],
  [58, 125, 68],
  [123, 63, 140],
  [224, 122, 31],
  [47, 72, 88],
  [192, 57, 43],
  [91, 58, 41],
];

/**
 * Build the bundle under dir (made if missing). Returns
 * {path, name, rows: [{file, title, author, category, isbn, format, cover}], epubs: [paths], pdfs: [paths]}
 * where rows are in manifest order (manifest line = index + 2).
 */
export async function buildBundle(dir, name = '2024年11月更新.zip') {
  const root = path.join(dir, 'bundle');
  const work = path.join(dir, 'work');
  await mkdir(root, { recursive: true });
  await mkdir(work, { recursive: true });
  const rows = [];
  const epubs = [];
  const pdfs = [];
  let n = 0;
  const nextIsbn = () => isbn13('9787500' + String(10000 + ++n * 37).padStart(5, '0'));

  await mkdir(path.join(root, 'books'), { recursive: true });
  for (let i = 0; i < EPUB_BOOKS.length; i++) {
    const [title, author] = EPUB_BOOKS[i];
    const book = {
      title,
      author,
      isbn: nextIsbn(),
      uuid: uuidFor(1000 + i),
      cover: i % 3 === 0 ? COLOURS[i % COLOURS.length] : null, // 7 of 20 carry a cover image
    };
    const file = `books/${title}.epub`;
    const out = path.join(root, file);
    await makeEpub(path.join(work, 'epub' + i), out, book);
    epubs.push(out);
    rows.push({ file, title, author, category: CATEGORIES[i % CATEGORIES.length], isbn: book.isbn, format: 'epub', cover: !!book.cover });
  }

  for (let i = 0; i < TXT_BOOKS.length; i++) {
    const [title, author, file, gbk] = TXT_BOOKS[i];
    const out = path.join(root, file);
    await mkdir(path.dirname(out), { recursive: true });
    const text = txtBook({ title, author });
    if (gbk) {
      const tmp = path.join(work, `txt${i}.utf8.txt`);
      await writeFile(tmp, text);
      await toGbk(tmp, out);
    } else {
      await writeFile(out, text);
    }
    rows.push({ file, title, author, category: CATEGORIES[(i + 3) % CATEGORIES.length], isbn: nextIsbn(), format: 'txt', gbk, cover: false });
  }

  for (let i = 0; i < PDF_BOOKS.length; i++) {
    const [title, author, file, line] = PDF_BOOKS[i];
    const out = path.join(root, file);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, makePdf({ title, author, line }));
    pdfs.push(out);
    rows.push({ file, title, author, category: i === 0 ? '艺术' : '科普', isbn: nextIsbn(), format: 'pdf', cover: false });
  }

  // manifest.csv as Excel on Chinese Windows saves it: GBK, CRLF.
  const csv = ['文件,题名,作者,分类,ISBN', ...rows.map((r) => [r.file, r.title, r.author, r.category, r.isbn].join(','))].join('\r\n') + '\r\n';
  const csvUtf8 = path.join(work, 'manifest.utf8.csv');
  await writeFile(csvUtf8, csv);
  await toGbk(csvUtf8, path.join(root, 'manifest.csv'));

  const zipPath = path.join(dir, name);
  await exec('zip', ['-q', '-X', '-r', '-9', zipPath, 'manifest.csv', 'books', 'txt', '文本', 'pdf'], root);
  return { path: zipPath, name, rows, epubs, pdfs };
}

// CLI: build a bundle into OUTDIR and list it.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node bundle-fixture.mjs OUTDIR');
    process.exit(2);
  }
  const b = await buildBundle(path.resolve(out));
  console.log(b.path);
  for (const [i, r] of b.rows.entries()) console.log(i + 2, r.file, r.title, r.author, r.category, r.isbn, r.cover ? 'cover' : '');
  for (const p of b.pdfs) {
    const { readFile } = await import('node:fs/promises');
    console.log(p, 'xref objects:', checkPdfXref(await readFile(p)));
  }
}
