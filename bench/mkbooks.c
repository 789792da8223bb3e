/*
 * bench/mkbooks.c — test books for bench/ingest.sh (not part of the CMake build; the script
 * compiles it with `cc -O2 mkbooks.c $(pkg-config --cflags --libs libarchive libavcodec libavutil
 * libswscale)`).
 *
 *   mkbooks epub CORPUS OUTDIR FIRST COUNT [JOBS [TARGET_BYTES [PLATES]]]
 *       EPUB 3 books OUTDIR/book-NNNN.epub for NNNN = FIRST … FIRST+COUNT-1, each about
 *       TARGET_BYTES (default 1 MiB): 20 chapters of Chinese text (runs of consecutive
 *       paragraphs from CORPUS at random places), nav.xhtml, an OPF with title, author,
 *       publisher, a valid ISBN-13, and an 800×1200 JPEG cover (a noisy gradient encoded with
 *       libavcodec's mjpeg, 150–300 KB). PLATES (default 0) full-page illustrations like the
 *       cover are added on top, each on its own page after a chapter: an illustrated book.
 *       Book NNNN depends only on NNNN (and PLATES), so every number gives different bytes and
 *       the same number the same bytes. JOBS processes share the work. Prints one line per
 *       book: path, bytes, cover bytes, chapter text bytes, illustration bytes.
 *   mkbooks pack OUT.zip DIR FILE...
 *       A bundle: manifest.csv (file,title,authors,licence) and books/FILE for each FILE of DIR,
 *       stored (EPUBs are compressed already).
 *   mkbooks txt CORPUS OUT.txt GBK_BYTES [SEED]
 *       A UTF-8 novel that is GBK_BYTES long once converted to GBK (the script converts it with
 *       iconv): a title line, 作者：…, then 第N章 headings (Chinese numerals) every ~20 KB with
 *       full-width-indented paragraphs; prints the number of chapters.
 *
 * CORPUS is /usr/share/games/fortunes/chinese (Debian fortunes-zh): entries separated by "%"
 * lines, with ANSI colour escapes that are dropped here.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <iconv.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAPTERS 20
#define COVER_W 800
#define COVER_H 1200

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("mkbooks: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---------- growable buffer ---------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > nc)
			nc *= 2;
		b->p = realloc(b->p, nc);
		if (!b->p)
			die("out of memory");
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("buf_printf: line too long");
	buf_add(b, tmp, (size_t)n);
}

/* XML text: & < > escaped (the corpus has no quotes inside attributes we write). */
static void buf_xml(struct buf *b, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '&'   ? "&amp;"
		                  : s[i] == '<' ? "&lt;"
		                  : s[i] == '>' ? "&gt;"
		                  : s[i] == '"' ? "&quot;"
		                                : NULL;
		if (!rep)
			continue;
		buf_add(b, s + start, i - start);
		buf_str(b, rep);
		start = i + 1;
	}
	buf_add(b, s + start, n - start);
}

/* ---------- random numbers (xorshift64*) ---------- */

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!rng_state)
		rng_state = 1;
}

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t rnd(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

/* ---------- corpus: paragraphs of the fortune file ---------- */

struct para {
	const char *p;
	size_t len;
};

static struct para *paras;
static size_t nparas;

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = {0};
	char tmp[65536];
	size_t n;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	*len = b.len;
	return b.p ? b.p : calloc(1, 1);
}

/* Drop ESC [ … final-byte sequences (and any other control byte but \n and \t). */
static size_t strip_escapes(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b) {
			if (i + 1 < n && s[i + 1] == '[') {
				i += 2;
				while (i < n && !((unsigned char)s[i] >= 0x40 &&
				                  (unsigned char)s[i] <= 0x7e))
					i++;
			}
			continue;
		}
		if (c < 0x20 && c != '\n')
			c = ' ';
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0) { /* NBSP */
			c = ' ';
			i++;
		}
		s[o++] = (char)c;
	}
	s[o] = '\0';
	return o;
}

/* A paragraph is kept when at least half of its bytes are CJK characters (no ASCII art,
 * no English) and it has not been seen before (the corpus repeats attributions and sayings). */
static bool keep_para(const char *p, size_t len)
{
	static uint64_t *seen;
	static size_t nseen, capseen;
	size_t cjk = 0;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0xe4 && c <= 0xe9 && i + 2 < len) {
			cjk += 3;
			h = (h ^ c) * 1099511628211ull;
			h = (h ^ (unsigned char)p[i + 1]) * 1099511628211ull;
			h = (h ^ (unsigned char)p[i + 2]) * 1099511628211ull;
			i += 2;
			continue;
		}
		h = (h ^ c) * 1099511628211ull;
	}
	if (cjk * 2 < len)
		return false;
	for (size_t i = 0; i < nseen; i++)
		if (seen[i] == h)
			return false;
	if (nseen == capseen) {
		capseen = capseen ? capseen * 2 : 4096;
		seen = realloc(seen, capseen * sizeof(*seen));
		if (!seen)
			die("out of memory");
	}
	seen[nseen++] = h;
	return true;
}

/* Paragraphs: blank lines and "%" lines end one; the lines of one are joined (a space only
 * between two ASCII characters, since the corpus wraps Chinese text at ~40 characters). */
static void load_corpus(const char *path)
{
	size_t len, cap = 0;
	char *raw = read_all(path, &len);
	struct buf cur = {0};
	char *line = raw;

	len = strip_escapes(raw, len);
	while (line < raw + len) {
		char *nl = memchr(line, '\n', (size_t)(raw + len - line));
		char *end = nl ? nl : raw + len;
		char *s = line;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (s == end || (end - s == 1 && *s == '%')) {
			if (cur.len >= 12 && keep_para(cur.p, cur.len)) {
				if (nparas == cap) {
					cap = cap ? cap * 2 : 4096;
					paras = realloc(paras, cap * sizeof(*paras));
					if (!paras)
						die("out of memory");
				}
				paras[nparas].p = cur.p;
				paras[nparas].len = cur.len;
				nparas++;
				memset(&cur, 0, sizeof(cur));
			} else {
				cur.len = 0;
			}
		} else {
			if (cur.len && (unsigned char)cur.p[cur.len - 1] < 0x80 &&
			    (unsigned char)*s < 0x80)
				buf_add(&cur, " ", 1);
			buf_add(&cur, s, (size_t)(end - s));
		}
		line = nl ? nl + 1 : raw + len;
	}
	free(raw);
	free(cur.p);
	if (nparas < 100)
		die("%s: only %zu paragraphs (is it the fortunes-zh 'chinese' file?)", path,
		    nparas);
}

/* The next paragraph of the text: runs of 1–6 consecutive paragraphs of the corpus, each run
 * from a random place ("random chunks"). */
static const struct para *next_para(void)
{
	static size_t pos, left;

	if (!left) {
		pos = rnd(nparas);
		left = 1 + rnd(6);
	}
	left--;
	return &paras[pos++ % nparas];
}

/* A short phrase for titles: the first few CJK characters of a random paragraph. */
static void phrase(char *out, size_t outlen, int chars)
{
	for (int tries = 0; tries < 100; tries++) {
		const struct para *p = &paras[rnd(nparas)];
		size_t o = 0;
		int got = 0;
		for (size_t i = 0; i + 3 <= p->len && got < chars && o + 4 < outlen;) {
			unsigned char c = (unsigned char)p->p[i];
			unsigned cp = c >= 0xe0 && c < 0xf0 && i + 2 < p->len
			                  ? (c & 0x0fu) << 12 |
			                        ((unsigned char)p->p[i + 1] & 0x3fu) << 6 |
			                        ((unsigned char)p->p[i + 2] & 0x3fu)
			                  : 0;
			/* U+4E00–U+9FA5: the ideographs GBK has too (the novel is converted to GBK)
			 */
			if (cp >= 0x4e00 && cp <= 0x9fa5) {
				memcpy(out + o, p->p + i, 3);
				o += 3;
				got++;
				i += 3;
			} else if (got) {
				break;
			} else {
				i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			}
		}
		out[o] = '\0';
		if (got >= 2)
			return;
	}
	snprintf(out, outlen, "无题");
}

/* ---------- cover: a noisy gradient, mjpeg ---------- */

struct cover_enc {
	AVCodecContext *c;
	AVFrame *frame;
	AVPacket *pkt;
	struct SwsContext *sws;
	uint8_t *rgb;
};

static void cover_init(struct cover_enc *e)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);

	if (!codec)
		die("libavcodec has no mjpeg encoder");
	e->c = avcodec_alloc_context3(codec);
	e->c->width = COVER_W;
	e->c->height = COVER_H;
	e->c->pix_fmt = AV_PIX_FMT_YUVJ420P;
	e->c->color_range = AVCOL_RANGE_JPEG;
	e->c->time_base = (AVRational){1, 25};
	e->c->flags |= AV_CODEC_FLAG_QSCALE;
	e->c->global_quality = FF_QP2LAMBDA * 4;
	if (avcodec_open2(e->c, codec, NULL) < 0)
		die("cannot open the mjpeg encoder");
	e->frame = av_frame_alloc();
	e->frame->format = AV_PIX_FMT_YUVJ420P;
	e->frame->width = COVER_W;
	e->frame->height = COVER_H;
	e->frame->color_range = AVCOL_RANGE_JPEG;
	if (av_frame_get_buffer(e->frame, 0) < 0)
		die("av_frame_get_buffer failed");
	e->pkt = av_packet_alloc();
	e->sws = sws_getContext(COVER_W, COVER_H, AV_PIX_FMT_RGB24, COVER_W, COVER_H,
	                        AV_PIX_FMT_YUVJ420P, SWS_BILINEAR, NULL, NULL, NULL);
	e->rgb = malloc((size_t)COVER_W * COVER_H * 3);
	if (!e->sws || !e->rgb || !e->pkt)
		die("cannot set up the cover encoder");
}

static void cover_make(struct cover_enc *e, struct buf *out)
{
	static int64_t pts; /* the encoder wants increasing timestamps */
	int c0[3], c1[3], c2[3];
	const uint8_t *src[1] = {e->rgb};
	int stride[1] = {COVER_W * 3};
	int rc;

	for (int k = 0; k < 3; k++) {
		c0[k] = (int)rnd(256);
		c1[k] = (int)rnd(256);
		c2[k] = (int)rnd(256);
	}
	for (int y = 0; y < COVER_H; y++) {
		uint8_t *row = e->rgb + (size_t)y * COVER_W * 3;
		for (int x = 0; x < COVER_W; x++) {
			uint64_t r = rng();
			for (int k = 0; k < 3; k++) {
				int v = (c0[k] * (COVER_H - y) + c1[k] * y) / COVER_H;
				v = (v * (COVER_W - x) + c2[k] * x) / COVER_W;
				v += (int)((r >> (k * 8)) & 63) - 32; /* ±32 of noise */
				row[x * 3 + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
		}
	}
	if (av_frame_make_writable(e->frame) < 0)
		die("av_frame_make_writable failed");
	sws_scale(e->sws, src, stride, 0, COVER_H, e->frame->data, e->frame->linesize);
	e->frame->pts = pts++;
	e->frame->quality = e->c->global_quality;
	if ((rc = avcodec_send_frame(e->c, e->frame)) < 0)
		die("mjpeg: send_frame %d", rc);
	if ((rc = avcodec_receive_packet(e->c, e->pkt)) < 0)
		die("mjpeg: receive_packet %d", rc);
	out->len = 0;
	buf_add(out, e->pkt->data, (size_t)e->pkt->size);
	av_packet_unref(e->pkt);
}

/* ---------- EPUB ---------- */

static void zip_add(struct archive *a, const char *name, const void *data, size_t n)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_mtime(e, 1795000000, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		die("zip header %s: %s", name, archive_error_string(a));
	if (n && archive_write_data(a, data, n) != (la_ssize_t)n)
		die("zip data %s: %s", name, archive_error_string(a));
	archive_entry_free(e);
}

static la_ssize_t to_buf(struct archive *a, void *ctx, const void *data, size_t n)
{
	(void)a;
	buf_add(ctx, data, n);
	return (la_ssize_t)n;
}

static uint32_t rd(const char *p, int bytes)
{
	uint32_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

static void wr(char *p, int bytes, uint32_t v)
{
	for (int i = 0; i < bytes; i++, v >>= 8)
		p[i] = (char)(v & 0xff);
}

/* OCF: the first entry, "mimetype", must have no extra field in its local header; libarchive
 * always writes one (timestamps, uid/gid). Cut it out and move the offsets that follow. */
static void bare_mimetype(struct buf *z)
{
	uint32_t name_len, extra, cd, n;
	size_t cut, e;

	if (z->len < 52 || rd(z->p, 4) != 0x04034b50)
		die("zip: no local header at the start");
	name_len = rd(z->p + 26, 2);
	extra = rd(z->p + 28, 2);
	if (!extra)
		return;
	cut = 30 + name_len;
	memmove(z->p + cut, z->p + cut + extra, z->len - cut - extra);
	z->len -= extra;
	wr(z->p + 28, 2, 0);
	for (e = z->len - 22;; e--) {
		if (rd(z->p + e, 4) == 0x06054b50)
			break;
		if (e == 0)
			die("zip: no end of central directory");
	}
	cd = rd(z->p + e + 16, 4) - extra;
	n = rd(z->p + e + 10, 2);
	if (rd(z->p + e + 16, 4) == 0xffffffffu)
		die("zip: zip64 is not expected here");
	wr(z->p + e + 16, 4, cd);
	for (uint32_t i = 0; i < n; i++) {
		char *c = z->p + cd;
		uint32_t off = rd(c + 42, 4);
		if (rd(c, 4) != 0x02014b50)
			die("zip: bad central directory");
		if (off)
			wr(c + 42, 4, off - extra);
		cd += 46 + rd(c + 28, 2) + rd(c + 30, 2) + rd(c + 32, 2);
	}
}

static void isbn13(unsigned long n, char out[14])
{
	int sum = 0;

	snprintf(out, 14, "9787%08lu", n % 100000000ul);
	for (int i = 0; i < 12; i++)
		sum += (out[i] - '0') * (i % 2 ? 3 : 1);
	out[12] = (char)('0' + (10 - sum % 10) % 10);
	out[13] = '\0';
}

static const char XHTML_HEAD[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE html>\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" "
    "xml:lang=\"zh-CN\" lang=\"zh-CN\">\n<head>\n<meta charset=\"UTF-8\"/>\n";

/* One book into path; text_bytes of chapter text in all. Returns the file size. */
static long write_epub(const char *path, unsigned long num, size_t text_bytes, int plates,
                       struct cover_enc *ce, long *cover_bytes, bool report)
{
	struct archive *a = archive_write_new();
	struct buf x = {0}, cover = {0}, zip = {0}, img = {0};
	size_t text_total = 0, plate_total = 0;
	long size;
	FILE *f;
	char title[128], author[64], publisher[64], ctitle[CHAPTERS][64], isbn[14], name[64];

	rng_seed(num + 1);
	phrase(title, sizeof(title), 4 + (int)rnd(4));
	phrase(author, sizeof(author), 2 + (int)rnd(2));
	phrase(publisher, sizeof(publisher), 4);
	isbn13(num * 7919ul + 12345ul, isbn);
	for (int i = 0; i < CHAPTERS; i++) {
		char p[48];
		phrase(p, sizeof(p), 2 + (int)rnd(5));
		snprintf(ctitle[i], sizeof(ctitle[i]), "第%d章 %s", i + 1, p);
	}
	cover_make(ce, &cover);
	if (cover_bytes)
		*cover_bytes = (long)cover.len;

	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_store(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 64 * 1024) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, &zip, NULL, to_buf, NULL, NULL) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(a));
	zip_add(a, "mimetype", "application/epub+zip", 20);
	if (archive_write_zip_set_compression_deflate(a) != ARCHIVE_OK)
		die("zip deflate: %s", archive_error_string(a));
	zip_add(
	    a, "META-INF/container.xml",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<container version=\"1.0\" "
	    "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
	    "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
	    "media-type=\"application/oebps-package+xml\"/></rootfiles>\n</container>\n",
	    strlen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<container version=\"1.0\" "
	           "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
	           "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
	           "media-type=\"application/oebps-package+xml\"/></rootfiles>\n</container>\n"));

	/* content.opf */
	buf_str(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	            "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" "
	            "unique-identifier=\"uid\" xml:lang=\"zh-CN\">\n"
	            "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n");
	buf_printf(
	    &x,
	    "<dc:identifier id=\"uid\">urn:uuid:5b0e%04lx-%04lx-4000-8000-%012lx</dc:identifier>\n",
	    num >> 16 & 0xffff, num & 0xffff, (unsigned long)(rng() & 0xffffffffffful));
	buf_printf(&x, "<dc:identifier id=\"isbn\">urn:isbn:%s</dc:identifier>\n", isbn);
	buf_printf(
	    &x,
	    "<dc:title>%s</dc:title>\n<dc:creator id=\"c1\">%s</dc:creator>\n"
	    "<meta refines=\"#c1\" property=\"role\" scheme=\"marc:relators\">aut</meta>\n"
	    "<dc:publisher>%s出版社</dc:publisher>\n<dc:language>zh-CN</dc:language>\n"
	    "<dc:date>2025-%02lu-01</dc:date>\n"
	    "<dc:description>基准测试用书（编号 %lu），正文取自 fortunes-zh。</dc:description>\n"
	    "<meta property=\"dcterms:modified\">2026-11-25T00:00:00Z</meta>\n"
	    "<meta name=\"cover\" content=\"cover-image\"/>\n</metadata>\n<manifest>\n",
	    title, author, publisher, num % 12 + 1, num);
	buf_str(&x,
	        "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
	        "properties=\"nav\"/>\n"
	        "<item id=\"css\" href=\"style.css\" media-type=\"text/css\"/>\n"
	        "<item id=\"cover-image\" href=\"images/cover.jpg\" media-type=\"image/jpeg\" "
	        "properties=\"cover-image\"/>\n"
	        "<item id=\"cover\" href=\"cover.xhtml\" media-type=\"application/xhtml+xml\"/>\n");
	for (int i = 0; i < CHAPTERS; i++)
		buf_printf(&x,
		           "<item id=\"ch%02d\" href=\"text/ch%02d.xhtml\" "
		           "media-type=\"application/xhtml+xml\"/>\n",
		           i + 1, i + 1);
	for (int k = 0; k < plates; k++)
		buf_printf(&x,
		           "<item id=\"plate%02d\" href=\"text/plate%02d.xhtml\" "
		           "media-type=\"application/xhtml+xml\"/>\n"
		           "<item id=\"img%02d\" href=\"images/plate%02d.jpg\" "
		           "media-type=\"image/jpeg\"/>\n",
		           k + 1, k + 1, k + 1, k + 1);
	buf_str(&x, "</manifest>\n<spine>\n<itemref idref=\"cover\" linear=\"no\"/>\n");
	for (int i = 0; i < CHAPTERS; i++) {
		buf_printf(&x, "<itemref idref=\"ch%02d\"/>\n", i + 1);
		for (int k = i; k < plates; k += CHAPTERS) /* plates after their chapter */
			buf_printf(&x, "<itemref idref=\"plate%02d\"/>\n", k + 1);
	}
	buf_str(&x, "</spine>\n</package>\n");
	zip_add(a, "OEBPS/content.opf", x.p, x.len);

	/* nav.xhtml */
	x.len = 0;
	buf_str(&x, XHTML_HEAD);
	buf_printf(&x,
	           "<title>%s</title>\n</head>\n<body>\n<nav epub:type=\"toc\" id=\"toc\">\n"
	           "<h1>目录</h1>\n<ol>\n",
	           title);
	for (int i = 0; i < CHAPTERS; i++)
		buf_printf(&x, "<li><a href=\"text/ch%02d.xhtml\">%s</a></li>\n", i + 1, ctitle[i]);
	buf_str(&x, "</ol>\n</nav>\n</body>\n</html>\n");
	zip_add(a, "OEBPS/nav.xhtml", x.p, x.len);

	static const char css[] = "body { margin: 0 5%; line-height: 1.8; }\n"
	                          "h1 { font-size: 1.4em; text-align: center; }\n"
	                          "p { text-indent: 2em; margin: 0.3em 0; }\n"
	                          "img.cover { width: 100%; }\n";
	zip_add(a, "OEBPS/style.css", css, sizeof(css) - 1);
	/* JPEG does not deflate: stored, like the mimetype */
	if (archive_write_zip_set_compression_store(a) != ARCHIVE_OK)
		die("zip store: %s", archive_error_string(a));
	zip_add(a, "OEBPS/images/cover.jpg", cover.p, cover.len);
	for (int k = 0; k < plates; k++) {
		cover_make(ce, &img);
		snprintf(name, sizeof(name), "OEBPS/images/plate%02d.jpg", k + 1);
		zip_add(a, name, img.p, img.len);
		plate_total += img.len;
	}
	if (archive_write_zip_set_compression_deflate(a) != ARCHIVE_OK)
		die("zip deflate: %s", archive_error_string(a));
	for (int k = 0; k < plates; k++) {
		x.len = 0;
		buf_str(&x, XHTML_HEAD);
		buf_printf(&x,
		           "<title>插图 %d</title>\n</head>\n<body>\n<img class=\"cover\" "
		           "src=\"../images/plate%02d.jpg\" alt=\"插图 %d\"/>\n</body>\n</html>\n",
		           k + 1, k + 1, k + 1);
		snprintf(name, sizeof(name), "OEBPS/text/plate%02d.xhtml", k + 1);
		zip_add(a, name, x.p, x.len);
	}

	x.len = 0;
	buf_str(&x, XHTML_HEAD);
	buf_printf(&x,
	           "<title>%s</title>\n</head>\n<body>\n<img class=\"cover\" "
	           "src=\"images/cover.jpg\" alt=\"%s\"/>\n</body>\n</html>\n",
	           title, title);
	zip_add(a, "OEBPS/cover.xhtml", x.p, x.len);

	for (int i = 0; i < CHAPTERS; i++) {
		size_t per = text_bytes / CHAPTERS, start;
		/* ±25 % per chapter, same total on average */
		per = per * 3 / 4 + rnd(per / 2 + 1);
		x.len = 0;
		buf_str(&x, XHTML_HEAD);
		buf_printf(
		    &x,
		    "<title>%s</title>\n<link rel=\"stylesheet\" type=\"text/css\" "
		    "href=\"../style.css\"/>\n</head>\n<body>\n<section epub:type=\"chapter\">\n"
		    "<h1>%s</h1>\n",
		    ctitle[i], ctitle[i]);
		start = x.len;
		while (x.len - start < per) {
			const struct para *p = next_para();
			buf_str(&x, "<p>");
			buf_xml(&x, p->p, p->len);
			buf_str(&x, "</p>\n");
		}
		text_total += x.len - start;
		buf_str(&x, "</section>\n</body>\n</html>\n");
		snprintf(name, sizeof(name), "OEBPS/text/ch%02d.xhtml", i + 1);
		zip_add(a, name, x.p, x.len);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(a));
	archive_write_free(a);
	bare_mimetype(&zip);
	if (!(f = fopen(path, "wb")) || fwrite(zip.p, 1, zip.len, f) != zip.len || fclose(f))
		die("%s: %s", path, strerror(errno));
	size = (long)zip.len;
	if (report)
		dprintf(1, "%s %ld %zu %zu %zu\n", path, size, cover.len, text_total, plate_total);
	free(img.p);
	free(zip.p);
	free(x.p);
	free(cover.p);
	return size;
}

/* A whole decimal number argument, or die naming it (atoi would take "12x" or "" as a number). */
static long num_arg(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		die("%s must be a non-negative number, not \"%s\"", what, s);
	return v;
}

static int cmd_epub(int argc, char **argv)
{
	const char *dir;
	unsigned long first, count;
	int jobs = 1, plates = 0;
	long target = 1 << 20;
	size_t text_bytes = 1800 * 1024;
	struct cover_enc ce = {0};
	char path[4096];
	long got;
	int failed = 0;

	if (argc < 6)
		die("usage: mkbooks epub CORPUS OUTDIR FIRST COUNT [JOBS [TARGET_BYTES [PLATES]]]");
	load_corpus(argv[2]);
	dir = argv[3];
	first = strtoul(argv[4], NULL, 10);
	count = strtoul(argv[5], NULL, 10);
	if (argc > 6)
		jobs = (int)num_arg(argv[6], "JOBS");
	if (argc > 7)
		target = num_arg(argv[7], "TARGET_BYTES");
	if (argc > 8)
		plates = (int)num_arg(argv[8], "PLATES");
	if (plates < 0 || plates > 99)
		die("PLATES must be 0..99");
	if (jobs < 1)
		jobs = 1;
	if (target < 300 * 1024)
		die("TARGET_BYTES below 300 KiB leaves no room for text beside the cover");
	av_log_set_level(AV_LOG_ERROR);
	cover_init(&ce);

	/* Calibrate: how many text bytes make a book of `target` (deflate ratio of this corpus). */
	snprintf(path, sizeof(path), "%s/.calibrate.epub", dir);
	for (int round = 0; round < 2; round++) {
		long cover_bytes = 0, cover_and_rest;
		got = write_epub(path, 999999, text_bytes, 0, &ce, &cover_bytes, false);
		cover_and_rest = cover_bytes + 8 * 1024;
		text_bytes = (size_t)((double)text_bytes * (double)(target - cover_and_rest) /
		                      (double)(got - cover_and_rest));
	}
	unlink(path);

	fflush(stdout);
	for (int w = 0; w < jobs; w++) {
		pid_t pid = jobs > 1 ? fork() : 0;
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid > 0)
			continue;
		for (unsigned long i = first + (unsigned long)w; i < first + count;
		     i += (unsigned long)jobs) {
			snprintf(path, sizeof(path), "%s/book-%04lu.epub", dir, i);
			write_epub(path, i, text_bytes, plates, &ce, NULL, true);
		}
		if (jobs > 1)
			_exit(0);
	}
	for (int w = 0; w < jobs && jobs > 1; w++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	if (failed)
		die("a worker failed");
	return 0;
}

/* ---------- bundle ---------- */

static int cmd_pack(int argc, char **argv)
{
	struct archive *a = archive_write_new();
	struct buf man = {0};
	char path[4096], name[1024];

	if (argc < 5)
		die("usage: mkbooks pack OUT.zip DIR FILE...");
	buf_str(&man, "file,title,authors,licence\n");
	for (int i = 4; i < argc; i++)
		buf_printf(&man, "books/%s,批量导入测试 %d,测试作者%d; 第二作者,open\n", argv[i],
		           i - 3, i % 17);
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_store(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 1 << 20) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_filename(a, argv[2]) != ARCHIVE_OK)
		die("%s: %s", argv[2], archive_error_string(a));
	zip_add(a, "manifest.csv", man.p, man.len);
	for (int i = 4; i < argc; i++) {
		size_t len;
		char *data;
		snprintf(path, sizeof(path), "%s/%s", argv[3], argv[i]);
		data = read_all(path, &len);
		snprintf(name, sizeof(name), "books/%s", argv[i]);
		zip_add(a, name, data, len);
		free(data);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("%s: %s", argv[2], archive_error_string(a));
	archive_write_free(a);
	free(man.p);
	return 0;
}

/* ---------- TXT novel ---------- */

/* 1 … 9999 in Chinese numerals as chapter headings write them: 十二, 一百零三, 二千零五十. */
static void cn_number(int n, char *out, size_t outlen)
{
	static const char *const d[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
	static const char *const unit[] = {"千", "百", "十", ""};
	int parts[4] = {n / 1000 % 10, n / 100 % 10, n / 10 % 10, n % 10};
	bool started = false, zero = false;

	out[0] = '\0';
	for (int i = 0; i < 4; i++) {
		if (!parts[i]) {
			zero = started;
			continue;
		}
		if (zero)
			strncat(out, d[0], outlen - strlen(out) - 1);
		zero = false;
		/* "十二", not "一十二", when ten is the leading unit */
		if (!(i == 2 && parts[i] == 1 && !started))
			strncat(out, d[parts[i]], outlen - strlen(out) - 1);
		strncat(out, unit[i], outlen - strlen(out) - 1);
		started = true;
	}
}

/* The novel is converted to GBK by the script: its size is counted in GBK bytes, and lines
 * with characters GBK lacks are left out. Returns the GBK length of s, or -1. */
static long gbk_len(iconv_t cd, const char *s, size_t n)
{
	char out[65536], *in = (char *)s, *o = out;
	size_t inl = n, outl = sizeof(out);

	iconv(cd, NULL, NULL, NULL, NULL);
	if (n > sizeof(out) / 2 || iconv(cd, &in, &inl, &o, &outl) == (size_t)-1 || inl)
		return -1;
	return (long)(o - out);
}

static long put_line(FILE *f, iconv_t cd, struct buf *line)
{
	long n = gbk_len(cd, line->p, line->len);

	if (n >= 0 && fwrite(line->p, 1, line->len, f) != line->len)
		die("write: %s", strerror(errno));
	line->len = 0;
	return n < 0 ? 0 : n;
}

static int cmd_txt(int argc, char **argv)
{
	iconv_t gbk = iconv_open("GBK", "UTF-8");
	struct buf line = {0};
	FILE *f;
	long target, written = 0;
	int chapter = 0;
	char num[64], t[64], title[64], author[32];

	if (argc < 5)
		die("usage: mkbooks txt CORPUS OUT.txt GBK_BYTES [SEED]");
	if (gbk == (iconv_t)-1)
		die("iconv_open(GBK): %s", strerror(errno));
	load_corpus(argv[2]);
	target = num_arg(argv[4], "GBK_BYTES");
	rng_seed(argc > 5 ? strtoull(argv[5], NULL, 10) : 4242);
	if (!(f = fopen(argv[3], "wb")))
		die("%s: %s", argv[3], strerror(errno));
	phrase(title, sizeof(title), 5);
	phrase(author, sizeof(author), 3);
	buf_printf(&line, "%s\n\n作者：%s\n\n", title, author);
	written += put_line(f, gbk, &line);
	while (written < target) {
		long end;
		chapter++;
		cn_number(chapter, num, sizeof(num));
		phrase(t, sizeof(t), 2 + (int)rnd(5));
		buf_printf(&line, "\n第%s章 %s\n\n", num, t);
		written += put_line(f, gbk, &line);
		end = written + 16 * 1024 + (long)rnd(8 * 1024); /* ~20 KB chapters */
		while (written < end && written < target) {
			const struct para *p = next_para();
			if (p->len <
			    130) /* a short line could read as a heading (≤ 40 characters) */
				continue;
			buf_str(&line, "　　");
			buf_add(&line, p->p, p->len);
			buf_str(&line, "\n");
			written += put_line(f, gbk, &line);
		}
	}
	if (fclose(f))
		die("%s: %s", argv[3], strerror(errno));
	iconv_close(gbk);
	free(line.p);
	printf("%d\n", chapter);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "epub") == 0)
		return cmd_epub(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "pack") == 0)
		return cmd_pack(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "txt") == 0)
		return cmd_txt(argc, argv);
	fprintf(stderr,
	        "usage: mkbooks epub|pack|txt … (see the comment at the top of mkbooks.c)\n");
	return 2;
}
