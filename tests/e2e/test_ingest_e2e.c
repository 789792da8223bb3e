/*
 * Ingest against the real server: uploads (EPUB, GBK TXT, PDF), jobs and their results, the
 * public catalogue and covers, monthly bundles (zip with a GBK manifest and GBK entry names,
 * tar.gz with manifest.json), hostile input (damaged and bombed archives, unsafe entry names,
 * symlinks, XML entities, files lying about their type), upload refusals, staff edits, the
 * offline `shuxiang ingest` command, and a bundle job surviving a SIGKILL of the server.
 *
 * Every fixture is built here: EPUBs with libarchive's zip writer, a PNG and a PDF as bytes,
 * hostile zips by hand.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <iconv.h>
#include <jansson.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

#define PW_MAX 128
#define JOB_TIMEOUT_S 60

static struct server srv;
static char data[512], work[512];
static char staff_pw[PW_MAX], reader_pw[PW_MAX];
static char staff[256], reader[256];

static void sign_in(void);

static void must(bool ok, const char *what)
{
	setup_must(ok, what, &srv, data, work);
}

/* ---------- bytes ---------- */

struct bytes {
	unsigned char *p;
	size_t n, cap;
};

static void bput(struct bytes *b, const void *d, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		must(b->p != NULL, "realloc");
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void bputs(struct bytes *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void bprintf(struct bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct bytes *b, const char *fmt, ...)
{
	va_list ap;
	char small[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	must(n >= 0, "vsnprintf");
	if ((size_t)n < sizeof(small)) {
		bput(b, small, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);
		must(big != NULL, "malloc");
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		bput(b, big, (size_t)n);
		free(big);
	}
}

static void bfree(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void be32(struct bytes *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};
	bput(b, x, 4);
}

static void le16(struct bytes *b, uint32_t v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	bput(b, x, 2);
}

static void le32(struct bytes *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	bput(b, x, 4);
}

static uint32_t crc32_of(const void *d, size_t n)
{
	static uint32_t table[256];
	const unsigned char *p = d;
	uint32_t c = 0xFFFFFFFFu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;
			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	must(f != NULL, path);
	must(fwrite(d, 1, n, f) == n, path);
	must(fclose(f) == 0, path);
}

static void workpath(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", work, name);
}

/* Write bytes to WORK/name; the path into out. */
static void save(char *out, size_t n, const char *name, const struct bytes *b)
{
	workpath(out, n, name);
	write_file(out, b->p, b->n);
}

static void to_gbk(const char *utf8, struct bytes *out)
{
	iconv_t cd = iconv_open("GBK", "UTF-8");
	char *in = (char *)utf8, buf[4096];
	size_t inleft = strlen(utf8);

	must(cd != (iconv_t)-1, "iconv_open GBK");
	while (inleft) {
		char *o = buf;
		size_t oleft = sizeof(buf);
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		must(r != (size_t)-1 || errno == E2BIG, "iconv to GBK");
		bput(out, buf, sizeof(buf) - oleft);
	}
	iconv_close(cd);
}

/* ISBN-13 from its first 12 digits, with the right check digit (bad: a wrong one). */
static void isbn13(const char *twelve, bool bad, char out[14])
{
	int sum = 0, check;

	for (int i = 0; i < 12; i++)
		sum += (twelve[i] - '0') * (i % 2 ? 3 : 1);
	check = (10 - sum % 10) % 10;
	if (bad)
		check = (check + 1) % 10;
	snprintf(out, 14, "%.12s%d", twelve, check);
}

/* ---------- PNG (stored deflate blocks, so no zlib is needed) ---------- */

static void png_chunk(struct bytes *b, const char *type, const struct bytes *body)
{
	struct bytes t = {0};

	bput(&t, type, 4);
	if (body)
		bput(&t, body->p, body->n);
	be32(b, body ? (uint32_t)body->n : 0);
	bput(b, t.p, t.n);
	be32(b, crc32_of(t.p, t.n));
	bfree(&t);
}

static void png_make(struct bytes *out, int w, int h, unsigned seed)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	struct bytes raw = {0}, z = {0}, ihdr = {0};
	uint32_t a = 1, bsum = 0;
	size_t off = 0;

	for (int y = 0; y < h; y++) {
		unsigned char zero = 0;
		bput(&raw, &zero, 1);
		for (int x = 0; x < w; x++) {
			unsigned char px[3] = {(unsigned char)(x * 255 / w + seed * 40),
			                       (unsigned char)(y * 255 / h),
			                       (unsigned char)(seed * 77 + (unsigned)(x ^ y))};
			bput(&raw, px, 3);
		}
	}
	bput(&z, "\x78\x01", 2);
	while (off < raw.n) {
		size_t len = raw.n - off > 65535 ? 65535 : raw.n - off;
		unsigned char final = off + len == raw.n;
		bput(&z, &final, 1);
		le16(&z, (uint32_t)len);
		le16(&z, (uint32_t)(~len & 0xFFFF));
		bput(&z, raw.p + off, len);
		off += len;
	}
	for (size_t i = 0; i < raw.n; i++) {
		a = (a + raw.p[i]) % 65521;
		bsum = (bsum + a) % 65521;
	}
	be32(&z, bsum << 16 | a);
	be32(&ihdr, (uint32_t)w);
	be32(&ihdr, (uint32_t)h);
	bput(&ihdr, "\x08\x02\x00\x00\x00", 5); /* 8-bit RGB */
	bput(out, sig, 8);
	png_chunk(out, "IHDR", &ihdr);
	png_chunk(out, "IDAT", &z);
	png_chunk(out, "IEND", NULL);
	bfree(&raw);
	bfree(&z);
	bfree(&ihdr);
}

/* ---------- PDF (by hand, with a correct xref table) ---------- */

static void pdf_make(struct bytes *out, int pages, const char *title)
{
	long offs[64];
	int nobj = 0, content0, font, info, kids0 = 3;
	size_t xref;

	bputs(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
	/* 1 catalog, 2 pages, 3.. pages, then contents, font, info */
	content0 = kids0 + pages;
	font = content0 + pages;
	info = font + 1;
	nobj = info;
	offs[1] = (long)out->n;
	bputs(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	offs[2] = (long)out->n;
	bputs(out, "2 0 obj\n<< /Type /Pages /Kids [");
	for (int i = 0; i < pages; i++)
		bprintf(out, "%d 0 R ", kids0 + i);
	bprintf(out, "] /Count %d /MediaBox [0 0 300 400] >>\nendobj\n", pages);
	for (int i = 0; i < pages; i++) {
		offs[kids0 + i] = (long)out->n;
		bprintf(
		    out,
		    "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Contents %d 0 R /Resources << /Font "
		    "<< /F1 %d 0 R >> >> >>\nendobj\n",
		    kids0 + i, content0 + i, font);
	}
	for (int i = 0; i < pages; i++) {
		char stream[256];
		int n = snprintf(stream, sizeof(stream),
		                 "0 0 1 rg 20 20 260 360 re f BT /F1 24 Tf 1 1 1 rg 40 300 Td "
		                 "(%s page %d) Tj ET",
		                 title, i + 1);
		offs[content0 + i] = (long)out->n;
		bprintf(out, "%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		        content0 + i, n, stream);
	}
	offs[font] = (long)out->n;
	bprintf(out, "%d 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n",
	        font);
	offs[info] = (long)out->n;
	bprintf(out, "%d 0 obj\n<< /Title (%s) /Author (PDF Author) >>\nendobj\n", info, title);
	xref = out->n;
	bprintf(out, "xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
	for (int i = 1; i <= nobj; i++)
		bprintf(out, "%010ld 00000 n \n", offs[i]);
	bprintf(out, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	        nobj + 1, info, xref);
}

/* ---------- archives through libarchive ---------- */

struct ent {
	const char *name;
	const void *data;
	size_t len;
	uint64_t zeros; /* instead of data: this many zero bytes, streamed */
	const char *symlink;
};

static int on_write_open(struct archive *a, void *u)
{
	(void)a, (void)u;
	return ARCHIVE_OK;
}

static la_ssize_t on_write(struct archive *a, void *u, const void *d, size_t n)
{
	(void)a;
	bput(u, d, n);
	return (la_ssize_t)n;
}

enum arc_format { ARC_ZIP, ARC_ZIP_GBK, ARC_TGZ };

/* Entries into an archive in memory; for zips the first entry is stored (EPUB's mimetype). */
static void archive_make(struct bytes *out, enum arc_format fmt, const struct ent *e, int n)
{
	struct archive *a = archive_write_new();

	must(a != NULL, "archive_write_new");
	if (fmt == ARC_TGZ) {
		must(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK, "pax");
		must(archive_write_add_filter_gzip(a) == ARCHIVE_OK, "gzip");
	} else {
		must(archive_write_set_format_zip(a) == ARCHIVE_OK, "zip");
		if (fmt == ARC_ZIP_GBK) /* as Chinese Windows writes them: GBK, no UTF-8 flag */
			must(archive_write_set_format_option(a, "zip", "hdrcharset", "GBK") ==
			         ARCHIVE_OK,
			     "zip hdrcharset GBK");
	}
	archive_write_set_bytes_per_block(a, 0);
	must(archive_write_open(a, out, on_write_open, on_write, NULL) == ARCHIVE_OK,
	     "archive_write_open");
	for (int i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname_utf8(ae, e[i].name);
		archive_entry_set_mtime(ae, 1700000000, 0);
		if (e[i].symlink) {
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].symlink);
			archive_entry_set_size(ae, 0);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_size(ae, e[i].zeros ? (la_int64_t)e[i].zeros
			                                      : (la_int64_t)e[i].len);
		}
		if (fmt != ARC_TGZ) {
			if (i == 0)
				archive_write_zip_set_compression_store(a);
			else
				archive_write_zip_set_compression_deflate(a);
		}
		must(archive_write_header(a, ae) == ARCHIVE_OK, archive_error_string(a));
		if (e[i].zeros) {
			static const unsigned char zero[1 << 20];
			for (uint64_t left = e[i].zeros; left;) {
				size_t k = left > sizeof(zero) ? sizeof(zero) : (size_t)left;
				must(archive_write_data(a, zero, k) == (la_ssize_t)k,
				     "write zeros");
				left -= k;
			}
		} else if (e[i].len) {
			must(archive_write_data(a, e[i].data, e[i].len) == (la_ssize_t)e[i].len,
			     "archive_write_data");
		}
		archive_entry_free(ae);
	}
	must(archive_write_close(a) == ARCHIVE_OK, "archive_write_close");
	archive_write_free(a);
}

/* A zip by hand (stored entries) for names and kinds libarchive's writer would not make:
 * mode is the Unix st_mode kept in the central directory (0120777 = a symlink). */
struct raw_ent {
	const char *name;
	const void *data;
	size_t len;
	uint32_t mode;
};

static void rawzip_make(struct bytes *out, const struct raw_ent *e, int n)
{
	struct bytes cd = {0};
	uint32_t offs[32];

	must(n <= 32, "rawzip entries");
	for (int i = 0; i < n; i++) {
		uint32_t crc = crc32_of(e[i].data, e[i].len);
		offs[i] = (uint32_t)out->n;
		le32(out, 0x04034b50);
		le16(out, 20);
		le16(out, 0x0800); /* UTF-8 names */
		le16(out, 0);      /* stored */
		le16(out, 0);
		le16(out, 0x21);
		le32(out, crc);
		le32(out, (uint32_t)e[i].len);
		le32(out, (uint32_t)e[i].len);
		le16(out, (uint32_t)strlen(e[i].name));
		le16(out, 0);
		bputs(out, e[i].name);
		bput(out, e[i].data, e[i].len);

		le32(&cd, 0x02014b50);
		le16(&cd, 3u << 8 | 20); /* made by Unix */
		le16(&cd, 20);
		le16(&cd, 0x0800);
		le16(&cd, 0);
		le16(&cd, 0);
		le16(&cd, 0x21);
		le32(&cd, crc);
		le32(&cd, (uint32_t)e[i].len);
		le32(&cd, (uint32_t)e[i].len);
		le16(&cd, (uint32_t)strlen(e[i].name));
		le16(&cd, 0);
		le16(&cd, 0);
		le16(&cd, 0);
		le16(&cd, 0);
		le32(&cd, (e[i].mode ? e[i].mode : 0100644u) << 16);
		le32(&cd, offs[i]);
		bputs(&cd, e[i].name);
	}
	{
		uint32_t cd_off = (uint32_t)out->n;
		bput(out, cd.p, cd.n);
		le32(out, 0x06054b50);
		le16(out, 0);
		le16(out, 0);
		le16(out, (uint32_t)n);
		le16(out, (uint32_t)n);
		le32(out, (uint32_t)cd.n);
		le32(out, cd_off);
		le16(out, 0);
	}
	bfree(&cd);
}

/* ---------- EPUB ---------- */

struct epub_spec {
	const char *title;
	const char *author;
	const char *uid; /* makes each book's bytes unique */
	const char *isbn;
	int chapters;
	bool cover;
	unsigned cover_seed;
	bool no_container;
	bool entity; /* an <!ENTITY> in the OPF */
	bool script; /* a <script> in a chapter */
};

static void epub_make(struct bytes *out, const struct epub_spec *sp)
{
	struct bytes container = {0}, opf = {0}, nav = {0}, ch[8] = {{0}}, png = {0};
	struct ent e[16];
	int n = 0, chapters = sp->chapters ? sp->chapters : 3;
	char names[8][32];

	must(chapters <= 8, "chapters");
	bputs(&container,
	      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<container version=\"1.0\" "
	      "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">"
	      "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
	      "media-type=\"application/oebps-package+xml\"/></rootfiles></container>\n");
	bputs(&opf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (sp->entity)
		bputs(&opf, "<!DOCTYPE package [<!ENTITY boom \"boomboomboomboom\">]>\n");
	bprintf(&opf,
	        "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" "
	        "unique-identifier=\"uid\" xml:lang=\"zh-CN\">\n"
	        "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
	        "<dc:identifier id=\"uid\">urn:uuid:%s</dc:identifier>\n"
	        "<dc:title>%s%s</dc:title>\n"
	        "<dc:creator>%s</dc:creator>\n"
	        "<dc:language>zh-CN</dc:language>\n"
	        "<meta property=\"dcterms:modified\">2024-01-01T00:00:00Z</meta>\n",
	        sp->uid, sp->title, sp->entity ? "&boom;" : "", sp->author);
	if (sp->isbn)
		bprintf(&opf, "<dc:identifier>urn:isbn:%s</dc:identifier>\n", sp->isbn);
	if (sp->cover)
		bputs(&opf, "<meta name=\"cover\" content=\"cover-img\"/>\n");
	bputs(&opf, "</metadata>\n<manifest>\n<item id=\"nav\" href=\"nav.xhtml\" "
	            "media-type=\"application/xhtml+xml\" properties=\"nav\"/>\n");
	if (sp->cover)
		bputs(&opf, "<item id=\"cover-img\" href=\"cover.png\" media-type=\"image/png\" "
		            "properties=\"cover-image\"/>\n");
	for (int i = 0; i < chapters; i++)
		bprintf(&opf,
		        "<item id=\"c%d\" href=\"c%d.xhtml\" "
		        "media-type=\"application/xhtml+xml\"%s/>\n",
		        i + 1, i + 1, sp->script ? " properties=\"scripted\"" : "");
	bputs(&opf, "</manifest>\n<spine>\n");
	for (int i = 0; i < chapters; i++)
		bprintf(&opf, "<itemref idref=\"c%d\"/>\n", i + 1);
	bputs(&opf, "</spine>\n</package>\n");

	bputs(&nav, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<html "
	            "xmlns=\"http://www.w3.org/1999/xhtml\" "
	            "xmlns:epub=\"http://www.idpf.org/2007/ops\"><head><title>目录</title></head>"
	            "<body><nav epub:type=\"toc\"><ol>\n");
	for (int i = 0; i < chapters; i++)
		bprintf(&nav, "<li><a href=\"c%d.xhtml\">第%d章</a></li>\n", i + 1, i + 1);
	bputs(&nav, "</ol></nav></body></html>\n");
	for (int i = 0; i < chapters; i++) {
		bprintf(
		    &ch[i],
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<html "
		    "xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>第%d章</title>%s</head>"
		    "<body><h1>第%d章</h1><p>《%s》第%d章的正文。春眠不觉晓，处处闻啼鸟。"
		    "夜来风雨声，花落知多少。</p><p>%s</p></body></html>\n",
		    i + 1, sp->script ? "<script>document.title='x';</script>" : "", i + 1,
		    sp->title, i + 1, sp->uid);
		snprintf(names[i], sizeof(names[i]), "OEBPS/c%d.xhtml", i + 1);
	}
	e[n++] = (struct ent){"mimetype", "application/epub+zip", 20, 0, NULL};
	if (!sp->no_container)
		e[n++] = (struct ent){"META-INF/container.xml", container.p, container.n, 0, NULL};
	e[n++] = (struct ent){"OEBPS/content.opf", opf.p, opf.n, 0, NULL};
	e[n++] = (struct ent){"OEBPS/nav.xhtml", nav.p, nav.n, 0, NULL};
	for (int i = 0; i < chapters; i++)
		e[n++] = (struct ent){names[i], ch[i].p, ch[i].n, 0, NULL};
	if (sp->cover) {
		png_make(&png, 200, 300, sp->cover_seed);
		e[n++] = (struct ent){"OEBPS/cover.png", png.p, png.n, 0, NULL};
	}
	archive_make(out, ARC_ZIP, e, n);
	bfree(&container);
	bfree(&opf);
	bfree(&nav);
	bfree(&png);
	for (int i = 0; i < chapters; i++)
		bfree(&ch[i]);
}

/* A simple unique book: title, author, uid from a number. */
static void epub_simple(struct bytes *out, const char *title, const char *author, const char *uid,
                        bool cover)
{
	struct epub_spec sp = {.title = title,
	                       .author = author,
	                       .uid = uid,
	                       .chapters = 3,
	                       .cover = cover,
	                       .cover_seed = (unsigned)strlen(uid)};
	epub_make(out, &sp);
}

/* ---------- JSON ---------- */

static json_t *jpath(json_t *j, const char *path)
{
	return json_at(j, path);
}

static const char *jstr(json_t *j, const char *path)
{
	return json_string_value(jpath(j, path));
}

static long long jint(json_t *j, const char *path)
{
	json_t *v = jpath(j, path);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static bool has_cjk(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0xE4 && (unsigned char)*s <= 0xE9)
			return true;
	return false;
}

/* ---------- HTTP ---------- */

static json_t *get_json(const char *path, const char *cookie, long *status)
{
	return http_get_json(&srv, path, cookie, status);
}

static bool health_ok(void)
{
	long st;
	json_t *j = get_json("/api/v1/health", NULL, &st);

	json_decref(j);
	return st == 200;
}

static const char *error_code(json_t *j)
{
	return jstr(j, "error.code");
}

/* Upload parts with the staff session; the parsed answer, status into *st. */
static json_t *upload_parts(const struct http_part *parts, int n, const char *cookie,
                            const char *origin, bool chunked, long *st)
{
	struct http_result r;
	json_t *j;

	http_upload(&srv, "/api/v1/staff/uploads",
	            &(struct http_opts){.cookie = cookie, .origin = origin}, parts, n, chunked, &r);
	*st = r.status;
	j = json_loads(r.body ? r.body : "", 0, NULL);
	http_result_free(&r);
	return j;
}

/* Upload one file (bytes, sent as name) as staff; the job id (0 when refused). */
static long long upload_bytes(const char *name, const struct bytes *b)
{
	struct http_part p = {.filename = name, .data = b->p, .len = b->n};
	long st;
	json_t *j = upload_parts(&p, 1, staff, "auto", false, &st);
	long long id = jint(j, "uploads.0.job.id");

	CHECK(st == 202, "upload %s: status %ld body %s", name, st, j ? "(json)" : "(not json)");
	CHECK(id > 0, "upload %s: a job id", name);
	CHECK_STR(jstr(j, "uploads.0.name"), name);
	CHECK(jint(j, "uploads.0.bytes") == (long long)b->n, "upload %s: bytes %lld != %zu", name,
	      jint(j, "uploads.0.bytes"), b->n);
	CHECK(jstr(j, "uploads.0.sha256") && strlen(jstr(j, "uploads.0.sha256")) == 64,
	      "upload %s: sha256", name);
	json_decref(j);
	return id > 0 ? id : 0;
}

/* Poll the job until it ends (or the timeout); returns the job object (new reference). */
static json_t *job_wait(long long id, int timeout_s)
{
	json_t *job = http_job_wait(&srv, staff, id, timeout_s);

	CHECK(job_state_ended(jstr(job, "state")), "job %lld ended within %d s (state %s)", id,
	      timeout_s, check_s(jstr(job, "state")));
	return job;
}

/* Upload, wait; the job. */
static json_t *ingest(const char *name, const struct bytes *b)
{
	long long id = upload_bytes(name, b);
	return id ? job_wait(id, JOB_TIMEOUT_S) : json_object();
}

static json_t *resource(long long id)
{
	char path[96];
	long st;
	json_t *j, *r;

	snprintf(path, sizeof(path), "/api/v1/resources/%lld", id);
	j = get_json(path, NULL, &st);
	CHECK(st == 200, "GET %s: %ld", path, st);
	r = json_incref(json_object_get(j, "resource"));
	json_decref(j);
	return r ? r : json_object();
}

/* All resource ids, newest first, following the cursor with pages of limit. */
static size_t list_ids(int limit, const char *filter, long long *ids, size_t max)
{
	char path[256], cursor[32] = "";
	size_t n = 0;

	for (int guard = 0; guard < 1000; guard++) {
		long st;
		json_t *j, *it;
		size_t i;

		snprintf(path, sizeof(path), "/api/v1/resources?limit=%d%s%s%s", limit,
		         filter ? filter : "", cursor[0] ? "&cursor=" : "", cursor);
		j = get_json(path, NULL, &st);
		CHECK(st == 200, "GET %s: %ld", path, st);
		json_array_foreach(json_object_get(j, "items"), i, it)
		{
			if (n < max)
				ids[n] = jint(it, "id");
			n++;
		}
		if (!json_is_string(json_object_get(j, "next_cursor")) ||
		    json_array_size(json_object_get(j, "items")) == 0) {
			json_decref(j);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", jstr(j, "next_cursor"));
		json_decref(j);
	}
	return n;
}

static size_t resource_count(void)
{
	static long long ids[4096];
	return list_ids(100, NULL, ids, 4096);
}

static bool listed(long long id, const char *filter)
{
	static long long ids[4096];
	size_t n = list_ids(100, filter, ids, 4096);

	for (size_t i = 0; i < n && i < 4096; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* GET a cover file: status, Content-Type, Cache-Control, first bytes. */
static void check_cover_file(long long id, const char *file, const char *type, const char *magic,
                             size_t magic_len)
{
	struct http_result r;
	char path[128], ct[128] = "", cc[128] = "";

	snprintf(path, sizeof(path), "/covers/%lld/%s", id, file);
	CHECK(http_do(&srv, path, NULL, &r) == 0, "GET %s", path);
	CHECK(r.status == 200, "GET %s: %ld", path, r.status);
	http_header(&r, "Content-Type", ct, sizeof(ct));
	http_header(&r, "Cache-Control", cc, sizeof(cc));
	CHECK(strncmp(ct, type, strlen(type)) == 0, "%s Content-Type %s", path, ct);
	CHECK_CONTAINS(cc, "public");
	CHECK(r.body_len > magic_len && memcmp(r.body, magic, magic_len) == 0, "%s magic bytes",
	      path);
	http_result_free(&r);
}

/* The bundle row whose file is file, or NULL. */
static json_t *row_of(json_t *job, const char *file)
{
	json_t *row;
	size_t i;

	json_array_foreach(jpath(job, "result.rows"), i, row)
	{
		if (check_streq(jstr(row, "file"), file))
			return row;
	}
	return NULL;
}

/* ---------- filesystem ---------- */

static const char *found_name;
static int found_count, found_links;

static int on_walk(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (found_name && strcmp(path + ftw->base, found_name) == 0)
		found_count++;
	if (flag == FTW_SL)
		found_links++;
	return 0;
}

/* Files named name under dir (and symlinks seen while walking). */
static int find_named(const char *dir, const char *name, int *links)
{
	found_name = name;
	found_count = found_links = 0;
	nftw(dir, on_walk, 16, FTW_PHYS);
	if (links)
		*links = found_links;
	return found_count;
}

/* Entries in DATA/staging whose names start with prefix ("" = all). */
static int staging_count(const char *prefix, char *names, size_t n)
{
	char dir[700];
	DIR *d;
	struct dirent *de;
	int count = 0;

	if (names && n)
		names[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/staging", data);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			count++;
			if (names && strlen(names) + strlen(de->d_name) + 2 < n) {
				strncat(names, de->d_name, n - strlen(names) - 1);
				strncat(names, " ", n - strlen(names) - 1);
			}
		}
	}
	closedir(d);
	return count;
}

/* ---------- 1, 2: one EPUB, then the same again ---------- */

static long long epub_id; /* the first book, edited in test_patch */

static void test_epub(void)
{
	struct bytes b = {0};
	struct epub_spec sp = {.title = "春江花月夜",
	                       .author = "张若虚",
	                       .uid = "book-one",
	                       .chapters = 3,
	                       .cover = true,
	                       .cover_seed = 1};
	json_t *job, *r;
	long long id;
	size_t before;

	epub_make(&b, &sp);
	before = resource_count();
	job = ingest("春江花月夜.epub", &b);
	CHECK_STR(jstr(job, "kind"), "ingest");
	CHECK_STR(jstr(job, "state"), "done");
	CHECK_STR(jstr(job, "result.status"), "ok");
	CHECK_STR(jstr(job, "result.resource.title"), "春江花月夜");
	CHECK(jint(job, "progress") == 100, "progress of a done job: %lld", jint(job, "progress"));
	id = jint(job, "result.resource.id");
	CHECK(id > 0, "resource id");
	epub_id = id;
	json_decref(job);

	r = resource(id);
	CHECK_EQ_INT(jint(r, "id"), id);
	CHECK_STR(jstr(r, "kind"), "ebook");
	CHECK_STR(jstr(r, "format"), "epub");
	CHECK_STR(jstr(r, "title"), "春江花月夜");
	CHECK_STR(jstr(r, "authors.0.name"), "张若虚");
	CHECK_STR(jstr(r, "language"), "zh-CN");
	CHECK_EQ_INT(jint(r, "chapters"), 3);
	CHECK(jint(r, "cover.width") > 0 && jint(r, "cover.height") > 0, "cover size %lld×%lld",
	      jint(r, "cover.width"), jint(r, "cover.height"));
	CHECK(jint(r, "cover.thumb.width") > 0 && jint(r, "cover.thumb.height") > 0, "thumb size");
	/* the book's own 200×300 cover keeps its shape */
	CHECK(jint(r, "cover.height") * 2 == jint(r, "cover.width") * 3, "cover aspect %lld×%lld",
	      jint(r, "cover.width"), jint(r, "cover.height"));
	CHECK(json_is_false(jpath(r, "cover.generated")), "cover from the book, not drawn");
	CHECK(jpath(r, "source") == NULL, "the public view does not show the uploaded file");
	CHECK(jint(r, "created_at") > 0, "created_at");
	json_decref(r);
	{
		/* staff see which file, how big, under which hash */
		char path[96];
		long st;
		json_t *j;
		snprintf(path, sizeof(path), "/api/v1/resources/%lld", id);
		j = get_json(path, staff, &st);
		r = json_object_get(j, "resource");
		CHECK_STR(jstr(r, "source.name"), "春江花月夜.epub");
		CHECK_EQ_INT(jint(r, "source.bytes"), (long long)b.n);
		CHECK(jstr(r, "source.sha256") && strlen(jstr(r, "source.sha256")) == 64,
		      "source sha256");
		json_decref(j);
	}

	check_cover_file(id, "cover.jpg", "image/jpeg", "\xFF\xD8", 2);
	check_cover_file(id, "thumb.jpg", "image/jpeg", "\xFF\xD8", 2);
	check_cover_file(id, "cover.webp", "image/webp", "RIFF", 4);
	check_cover_file(id, "thumb.webp", "image/webp", "RIFF", 4);
	{
		struct http_result hr;
		http_do(&srv, "/covers/999999/cover.jpg", NULL, &hr);
		CHECK_EQ_INT(hr.status, 404);
		http_result_free(&hr);
		http_do(&srv, "/api/v1/resources/999999", NULL, &hr);
		CHECK_EQ_INT(hr.status, 404);
		http_result_free(&hr);
	}
	CHECK(listed(id, NULL), "GET /api/v1/resources lists the new book");
	CHECK(listed(id, "&kind=ebook"), "listed under kind=ebook");
	CHECK(!listed(id, "&kind=video"), "not listed under kind=video");
	CHECK_EQ_INT(resource_count(), before + 1);

	/* 2: the same bytes again (another name): a duplicate of the same resource */
	job = ingest("再传一次.epub", &b);
	CHECK_STR(jstr(job, "state"), "done");
	CHECK_STR(jstr(job, "result.status"), "duplicate");
	CHECK_EQ_INT(jint(job, "result.resource.id"), id);
	json_decref(job);
	CHECK_EQ_INT(resource_count(), before + 1);
	bfree(&b);
}

/* ---------- 3: a GBK TXT ---------- */

static void test_txt(void)
{
	struct bytes text = {0}, gbk = {0};
	static const char *const heads[] = {"第一章 初到京城", "第二章 风雪夜归", "第三章 山寺钟声",
	                                    "第四章 江湖再见"};
	json_t *job, *r;
	long long id;

	bputs(&text, "作者：测试作者\n\n");
	for (int c = 0; c < 4; c++) {
		bprintf(&text, "%s\n", heads[c]);
		for (int p = 0; p < 12; p++)
			bputs(&text,
			      "　　天色渐渐暗了下来，远处的山峦笼罩在一片薄雾之中。他沿着小路"
			      "慢慢地走着，心里想着许多往事，不知不觉已经来到了村口。\n");
	}
	to_gbk((const char *)text.p, &gbk);
	job = ingest("测试小说.txt", &gbk);
	CHECK_STR(jstr(job, "state"), "done");
	CHECK_STR(jstr(job, "result.status"), "ok");
	CHECK(jstr(job, "error") == NULL, "no error: %s", check_s(jstr(job, "error")));
	id = jint(job, "result.resource.id");
	json_decref(job);
	r = resource(id);
	CHECK_STR(jstr(r, "format"), "txt");
	CHECK_STR(jstr(r, "title"), "测试小说");
	CHECK(jint(r, "chapters") >= 3, "TXT chapters: %lld", jint(r, "chapters"));
	CHECK_STR(jstr(r, "authors.0.name"), "测试作者");
	CHECK(json_is_object(jpath(r, "cover")), "a TXT gets a cover");
	CHECK(json_is_true(jpath(r, "cover.generated")), "the TXT cover is generated");
	CHECK(jint(r, "cover.width") > 0 && jint(r, "cover.height") > 0, "generated cover size");
	json_decref(r);
	check_cover_file(id, "cover.jpg", "image/jpeg", "\xFF\xD8", 2);
	bfree(&text);
	bfree(&gbk);
}

/* ---------- 4: a PDF; paging ---------- */

static void test_pdf(void)
{
	struct bytes pdf = {0};
	json_t *job, *r;
	long long id;

	pdf_make(&pdf, 3, "Test PDF Book");
	job = ingest("手册.pdf", &pdf);
	CHECK_STR(jstr(job, "state"), "done");
	CHECK_STR(jstr(job, "result.status"), "ok");
	CHECK(jstr(job, "error") == NULL, "no error: %s", check_s(jstr(job, "error")));
	id = jint(job, "result.resource.id");
	json_decref(job);
	r = resource(id);
	CHECK_STR(jstr(r, "format"), "pdf");
	CHECK_EQ_INT(jint(r, "pages"), 3);
	CHECK_STR(jstr(r, "title"), "Test PDF Book");
	CHECK(json_is_object(jpath(r, "cover")), "a PDF's first page is its cover");
	json_decref(r);
	bfree(&pdf);
}

static void test_paging(void)
{
	long long all[64], paged[64];
	size_t n = list_ids(100, NULL, all, 64), m = list_ids(1, NULL, paged, 64);
	bool same = n == m, desc = true;

	CHECK(n >= 3, "at least three resources to page: %zu", n);
	for (size_t i = 0; i < n && i < 64 && same; i++)
		same = all[i] == paged[i];
	for (size_t i = 1; i < n && i < 64; i++)
		desc &= all[i] < all[i - 1];
	CHECK(same, "limit=1 with cursors walks the same %zu resources (got %zu)", n, m);
	CHECK(desc, "newest first");
	{
		long st;
		json_t *j = get_json("/api/v1/resources?limit=1", NULL, &st);
		CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 1);
		CHECK(json_is_string(json_object_get(j, "next_cursor")), "next_cursor on page 1");
		json_decref(j);
		j = get_json("/api/v1/resources?limit=0", NULL, &st);
		CHECK_EQ_INT(st, 400);
		json_decref(j);
	}
}

/* ---------- 5: bundles ---------- */

static char isbn_a[14], isbn_b[14], isbn_bad[14];
static long long hlm_id; /* 红楼梦 from the bundle */

static void bundle_zip_gbk(struct bytes *zip)
{
	struct bytes csv = {0}, gcsv = {0}, e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0}, e5 = {0},
	             txt = {0};

	epub_simple(&e1, "红楼梦", "佚名", "b5-hlm", true);
	epub_simple(&e2, "西游记", "佚名", "b5-xyj", false);
	epub_simple(&e3, "水浒传（原书题名）", "施耐庵", "b5-shz", false);
	epub_simple(&e4, "坏书号", "某人", "b5-bad-isbn", false);
	epub_simple(&e5, "未知分类", "某人", "b5-bad-cat", false);
	bputs(&txt, "第一回 考城隍\n");
	for (int i = 0; i < 8; i++)
		bputs(&txt, "予姊丈之祖宋公，讳焘，邑廪生。一日病卧，见吏人持牒，牵白颠马来。\n");
	bputs(&txt, "第二回 耳中人\n");
	for (int i = 0; i < 8; i++)
		bputs(&txt, "谭晋玄，邑诸生也。笃信导引之术，寒暑不辍。行之数月，若有所得。\n");
	bputs(&txt, "第三回 尸变\n");
	for (int i = 0; i < 8; i++)
		bputs(&txt, "阳信某翁者，邑之蔡店人。村去城五六里，父子设临路店，宿行商。\n");

	isbn13("978702000220", false, isbn_a);
	isbn13("978753210001", false, isbn_b);
	isbn13("978702000221", true, isbn_bad);
	bputs(&csv,
	      "文件,类型,题名,作者,分类,中图分类号,ISBN,简介,许可,借期,上架月份,出版社,语言\r\n");
	bprintf(&csv,
	        "红楼梦.epub,电子书,红楼梦（清单版）,曹雪芹；高鹗,名著,I242.47,%s,"
	        "\"又名\"\"石头记\"\"，四大名著之一\",copies 3,14,2025-03,人民文学出版社,zh-CN\r\n",
	        isbn_a);
	bprintf(&csv,
	        "西游记.epub,电子书,西游记（清单版）,吴承恩,fiction,I242.4,%s,取经的故事,open,,"
	        "2025-03,,zh-CN\r\n",
	        isbn_b);
	bputs(&csv, "水浒传.epub,电子书,,施耐庵,小说,,,,concurrent 0,,,,\r\n");
	bputs(&csv, "聊斋志异.txt,电子书,聊斋志异（清单版）,蒲松龄,名著,,,,metered 100,21,,,\r\n");
	bprintf(&csv, "坏书号.epub,电子书,坏书号,某人,小说,,%s,,open,,,,\r\n", isbn_bad);
	bputs(&csv, "不存在.epub,电子书,不存在,某人,小说,,,,open,,,,\r\n");
	bputs(&csv, "未知分类.epub,电子书,未知分类,某人,外星文学,,,,open,,,,\r\n");
	to_gbk((const char *)csv.p, &gcsv);
	{
		struct ent e[] = {
		    {"manifest.csv", gcsv.p, gcsv.n, 0, NULL}, {"红楼梦.epub", e1.p, e1.n, 0, NULL},
		    {"西游记.epub", e2.p, e2.n, 0, NULL},      {"水浒传.epub", e3.p, e3.n, 0, NULL},
		    {"聊斋志异.txt", txt.p, txt.n, 0, NULL},   {"坏书号.epub", e4.p, e4.n, 0, NULL},
		    {"未知分类.epub", e5.p, e5.n, 0, NULL},
		};
		archive_make(zip, ARC_ZIP_GBK, e, (int)(sizeof(e) / sizeof(e[0])));
	}
	bfree(&csv);
	bfree(&gcsv);
	bfree(&e1);
	bfree(&e2);
	bfree(&e3);
	bfree(&e4);
	bfree(&e5);
	bfree(&txt);
}

static void test_bundle_zip(void)
{
	struct bytes zip = {0};
	json_t *job, *row, *r;
	size_t before = resource_count();

	bundle_zip_gbk(&zip);
	job = ingest("2025-03 月度更新.zip", &zip);
	CHECK_STR(jstr(job, "kind"), "bundle");
	CHECK_STR(jstr(job, "state"), "done");
	CHECK(jstr(job, "error") == NULL, "no error: %s", check_s(jstr(job, "error")));
	CHECK_EQ_INT(jint(job, "result.counts.ok"), 4);
	CHECK_EQ_INT(jint(job, "result.counts.duplicate"), 0);
	CHECK_EQ_INT(jint(job, "result.counts.failed"), 3);
	CHECK_EQ_INT(json_array_size(jpath(job, "result.rows")), 7);
	static const char *const oks[] = {"红楼梦.epub", "西游记.epub", "水浒传.epub",
	                                  "聊斋志异.txt"};
	for (size_t i = 0; i < 4; i++) {
		row = row_of(job, oks[i]);
		CHECK(row != NULL, "bundle row for %s (GBK entry names decoded)", oks[i]);
		CHECK_STR(jstr(row, "status"), "ok");
		CHECK(jint(row, "resource.id") > 0, "row %s has its resource", oks[i]);
	}
	row = row_of(job, "坏书号.epub");
	CHECK_STR(jstr(row, "status"), "failed");
	CHECK_CONTAINS(jstr(row, "reason"), "ISBN");
	CHECK_EQ_INT(jint(row, "line"), 6);
	CHECK(json_is_null(jpath(row, "resource")), "a failed row has no resource");
	row = row_of(job, "不存在.epub");
	CHECK_STR(jstr(row, "status"), "failed");
	CHECK_CONTAINS(jstr(row, "reason"), "不存在.epub");
	row = row_of(job, "未知分类.epub");
	CHECK_STR(jstr(row, "status"), "failed");
	CHECK_CONTAINS(jstr(row, "reason"), "分类");
	CHECK_CONTAINS(jstr(row, "reason"), "外星文学");
	CHECK_EQ_INT(resource_count(), before + 4);

	/* The manifest's values win over the book's own. */
	hlm_id = jint(row_of(job, "红楼梦.epub"), "resource.id");
	r = resource(hlm_id);
	CHECK_STR(jstr(r, "title"), "红楼梦（清单版）");
	CHECK_STR(jstr(r, "authors.0.name"), "曹雪芹");
	CHECK_STR(jstr(r, "authors.1.name"), "高鹗");
	CHECK_STR(jstr(r, "category.code"), "classics");
	CHECK_STR(jstr(r, "category.name"), "名著");
	CHECK_STR(jstr(r, "isbn"), isbn_a);
	CHECK_STR(jstr(r, "clc"), "I242.47");
	CHECK_STR(jstr(r, "licence.model"), "copies");
	CHECK_EQ_INT(jint(r, "licence.count"), 3);
	CHECK_EQ_INT(jint(r, "licence.loan_days"), 14);
	CHECK_STR(jstr(r, "kiosk_month"), "2025-03");
	CHECK_STR(jstr(r, "publisher"), "人民文学出版社");
	CHECK_STR(jstr(r, "description"), "又名\"石头记\"，四大名著之一");
	CHECK(json_is_false(jpath(r, "cover.generated")), "红楼梦 keeps its own cover");
	json_decref(r);
	r = resource(jint(row_of(job, "西游记.epub"), "resource.id"));
	CHECK_STR(jstr(r, "category.code"), "fiction");
	CHECK_STR(jstr(r, "isbn"), isbn_b);
	CHECK_STR(jstr(r, "licence.model"), "open");
	CHECK(json_is_true(jpath(r, "cover.generated")), "a book without cover art gets one");
	json_decref(r);
	r = resource(jint(row_of(job, "水浒传.epub"), "resource.id"));
	CHECK_STR(jstr(r, "title"), "水浒传（原书题名）"); /* empty manifest title: the book's */
	CHECK_STR(jstr(r, "category.code"), "fiction");
	CHECK_STR(jstr(r, "licence.model"), "concurrent");
	CHECK_EQ_INT(jint(r, "licence.count"), 0);
	json_decref(r);
	r = resource(jint(row_of(job, "聊斋志异.txt"), "resource.id"));
	CHECK_STR(jstr(r, "format"), "txt");
	CHECK_STR(jstr(r, "title"), "聊斋志异（清单版）");
	CHECK_STR(jstr(r, "authors.0.name"), "蒲松龄");
	CHECK_STR(jstr(r, "licence.model"), "metered");
	CHECK_EQ_INT(jint(r, "licence.count"), 100);
	CHECK_EQ_INT(jint(r, "licence.loan_days"), 21);
	CHECK(jint(r, "chapters") >= 3, "聊斋 chapters %lld", jint(r, "chapters"));
	json_decref(r);
	CHECK(listed(hlm_id, "&category=classics"), "category filter by code");
	CHECK(listed(hlm_id, "&category=名著") || listed(hlm_id, "&category=%E5%90%8D%E8%91%97"),
	      "category filter by name");
	CHECK(!listed(jint(row_of(job, "西游记.epub"), "resource.id"), "&category=classics"),
	      "category filter leaves others out");
	json_decref(job);

	/* Again: nothing changes. */
	job = ingest("2025-03 月度更新（再传）.zip", &zip);
	CHECK_STR(jstr(job, "state"), "done");
	CHECK_EQ_INT(jint(job, "result.counts.ok"), 0);
	CHECK_EQ_INT(jint(job, "result.counts.duplicate"), 4);
	CHECK_EQ_INT(jint(job, "result.counts.failed"), 3);
	CHECK_EQ_INT(jint(row_of(job, "红楼梦.epub"), "resource.id"), hlm_id);
	json_decref(job);
	CHECK_EQ_INT(resource_count(), before + 4);
	bfree(&zip);
}

static void test_bundle_tgz(void)
{
	struct bytes tgz = {0}, a = {0}, b = {0}, extra = {0}, man = {0};
	json_t *job, *r;
	size_t before = resource_count();

	epub_simple(&a, "甲书", "原作者甲", "tgz-a", false);
	epub_simple(&b, "乙书", "原作者乙", "tgz-b", true);
	epub_simple(&extra, "清单之外", "自带作者", "tgz-extra", false);
	bputs(&man, "{\"items\":[{\"file\":\"书/甲.epub\",\"title\":\"甲（JSON）\","
	            "\"authors\":[\"作者一\",\"作者二\"],\"category\":\"history\","
	            "\"licence\":\"copies 2\",\"kiosk_month\":\"2025-04\"},"
	            "{\"file\":\"书/乙.epub\",\"category\":\"科普\",\"licence\":\"open\"}]}");
	{
		struct ent e[] = {
		    {"月度更新/manifest.json", man.p, man.n, 0, NULL},
		    {"月度更新/书/甲.epub", a.p, a.n, 0, NULL},
		    {"月度更新/书/乙.epub", b.p, b.n, 0, NULL},
		    {"月度更新/清单之外.epub", extra.p, extra.n, 0, NULL},
		};
		archive_make(&tgz, ARC_TGZ, e, 4);
	}
	job = ingest("2025-04.tar.gz", &tgz);
	CHECK_STR(jstr(job, "kind"), "bundle");
	CHECK_STR(jstr(job, "state"), "done");
	CHECK(jstr(job, "error") == NULL, "no error: %s", check_s(jstr(job, "error")));
	CHECK_EQ_INT(jint(job, "result.counts.ok"), 3);
	CHECK_EQ_INT(jint(job, "result.counts.failed"), 0);
	r = resource(jint(row_of(job, "月度更新/书/甲.epub"), "resource.id"));
	CHECK_STR(jstr(r, "title"), "甲（JSON）");
	CHECK_STR(jstr(r, "authors.0.name"), "作者一");
	CHECK_STR(jstr(r, "authors.1.name"), "作者二");
	CHECK_STR(jstr(r, "category.code"), "history");
	CHECK_STR(jstr(r, "licence.model"), "copies");
	CHECK_EQ_INT(jint(r, "licence.count"), 2);
	CHECK_STR(jstr(r, "kiosk_month"), "2025-04");
	json_decref(r);
	r = resource(jint(row_of(job, "月度更新/书/乙.epub"), "resource.id"));
	CHECK_STR(jstr(r, "title"), "乙书");
	CHECK_STR(jstr(r, "category.code"), "science");
	json_decref(r);
	CHECK(row_of(job, "月度更新/清单之外.epub") != NULL, "a book the manifest does not name");
	CHECK(json_is_null(jpath(row_of(job, "月度更新/清单之外.epub"), "line")),
	      "... has no manifest line");
	r = resource(jint(row_of(job, "月度更新/清单之外.epub"), "resource.id"));
	CHECK_STR(jstr(r, "title"), "清单之外");
	CHECK_STR(jstr(r, "authors.0.name"), "自带作者");
	CHECK(json_is_null(jpath(r, "category")), "no category without a manifest row");
	json_decref(r);
	json_decref(job);
	CHECK_EQ_INT(resource_count(), before + 3);
	bfree(&tgz);
	bfree(&a);
	bfree(&b);
	bfree(&extra);
	bfree(&man);
}

/* ---------- 7: staff edits ---------- */

static json_t *patch(long long id, const char *body, const char *cookie, const char *origin,
                     long *st)
{
	struct http_result r;
	char path[96];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/staff/resources/%lld", id);
	http_do(&srv, path,
	        &(struct http_opts){
	            .method = "PATCH", .body = body, .cookie = cookie, .origin = origin},
	        &r);
	*st = r.status;
	j = json_loads(r.body ? r.body : "", 0, NULL);
	http_result_free(&r);
	return j;
}

static void expect_bad_field(long long id, const char *body)
{
	long st;
	json_t *j = patch(id, body, staff, "auto", &st);

	CHECK(st == 400, "PATCH %s: %ld (expected 400)", body, st);
	CHECK(check_streq(error_code(j), "bad_field"), "PATCH %s: code %s", body,
	      check_s(error_code(j)));
	json_decref(j);
}

static void test_patch(void)
{
	long long id = epub_id;
	char good[14], hyph[32];
	long st;
	json_t *j, *r;

	isbn13("978711100001", false, good);
	snprintf(hyph, sizeof(hyph), "%.3s-%.1s-%.3s-%.5s-%.1s", good, good + 3, good + 4, good + 7,
	         good + 12);
	{
		char body[512];
		snprintf(body, sizeof(body),
		         "{\"title\":\"春江花月夜（修订）\",\"subtitle\":\"唐诗\","
		         "\"authors\":[\"张若虚\",{\"name\":\"某译者\",\"role\":\"trl\"}],"
		         "\"isbn\":\"%s\",\"category\":\"小说\",\"publisher\":\"某出版社\","
		         "\"kiosk_month\":\"2025-07\",\"description\":\"孤篇横绝\","
		         "\"licence\":{\"model\":\"copies\",\"count\":5,\"loan_days\":21}}",
		         hyph);
		j = patch(id, body, staff, "auto", &st);
	}
	CHECK_EQ_INT(st, 200);
	CHECK_STR(jstr(j, "resource.title"), "春江花月夜（修订）");
	json_decref(j);
	r = resource(id);
	CHECK_STR(jstr(r, "title"), "春江花月夜（修订）");
	CHECK_STR(jstr(r, "subtitle"), "唐诗");
	CHECK_STR(jstr(r, "authors.0.name"), "张若虚");
	CHECK_STR(jstr(r, "authors.1.name"), "某译者");
	CHECK_STR(jstr(r, "authors.1.role"), "trl");
	CHECK_EQ_INT(json_array_size(jpath(r, "authors")), 2);
	CHECK_STR(jstr(r, "isbn"), good);
	CHECK_STR(jstr(r, "category.code"), "fiction");
	CHECK_STR(jstr(r, "publisher"), "某出版社");
	CHECK_STR(jstr(r, "kiosk_month"), "2025-07");
	CHECK_STR(jstr(r, "description"), "孤篇横绝");
	CHECK_STR(jstr(r, "licence.model"), "copies");
	CHECK_EQ_INT(jint(r, "licence.count"), 5);
	CHECK_EQ_INT(jint(r, "licence.loan_days"), 21);
	CHECK(jint(r, "updated_at") >= jint(r, "created_at"), "updated_at");
	json_decref(r);

	j = patch(id, "{\"category\":\"history\",\"authors\":[\"李白\"]}", staff, "auto", &st);
	CHECK_EQ_INT(st, 200);
	json_decref(j);
	r = resource(id);
	CHECK_STR(jstr(r, "category.code"), "history");
	CHECK_EQ_INT(json_array_size(jpath(r, "authors")), 1);
	CHECK_STR(jstr(r, "authors.0.name"), "李白");
	json_decref(r);

	/* Refused edits change nothing. */
	{
		char body[96];
		char bad[14];
		isbn13("978711100001", true, bad);
		snprintf(body, sizeof(body), "{\"isbn\":\"%s\"}", bad);
		expect_bad_field(id, body);
	}
	expect_bad_field(id, "{\"isbn\":\"12345\"}");
	expect_bad_field(id, "{\"category\":\"外星文学\"}");
	expect_bad_field(id, "{\"kiosk_month\":\"2025-7\"}");
	expect_bad_field(id, "{\"licence\":{\"model\":\"free-for-all\"}}");
	expect_bad_field(id, "{\"title\":\"\"}");
	r = resource(id);
	CHECK_STR(jstr(r, "isbn"), good);
	CHECK_STR(jstr(r, "category.code"), "history");
	CHECK_STR(jstr(r, "kiosk_month"), "2025-07");
	CHECK_STR(jstr(r, "title"), "春江花月夜（修订）");
	json_decref(r);

	j = patch(999999, "{\"title\":\"x\"}", staff, "auto", &st);
	CHECK_EQ_INT(st, 404);
	json_decref(j);
	j = patch(id, "{\"title\":\"读者改的\"}", reader, "auto", &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	j = patch(id, "{\"title\":\"无会话\"}", NULL, NULL, &st);
	CHECK_EQ_INT(st, 401);
	json_decref(j);
	j = patch(id, "{\"title\":\"无 Origin\"}", staff, NULL, &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	r = resource(id);
	CHECK_STR(jstr(r, "title"), "春江花月夜（修订）");
	json_decref(r);
}

/* ---------- 6: bad input ---------- */

static void expect_failed(const char *what, json_t *job, const char *reason_part)
{
	CHECK(check_streq(jstr(job, "state"), "failed"), "%s: state %s", what,
	      check_s(jstr(job, "state")));
	CHECK(has_cjk(jstr(job, "error")), "%s: a Chinese reason (%s)", what,
	      check_s(jstr(job, "error")));
	if (reason_part)
		CHECK(check_has(jstr(job, "error"), reason_part), "%s: reason \"%s\" lacks \"%s\"",
		      what, check_s(jstr(job, "error")), reason_part);
	CHECK(health_ok(), "%s: the server still answers", what);
}

static void test_bad_archives(void)
{
	struct bytes good = {0}, zip = {0}, cut = {0};
	json_t *job;

	/* A bundle cut in the middle. */
	bundle_zip_gbk(&zip);
	bput(&cut, zip.p, zip.n * 45 / 100);
	job = ingest("坏包.zip", &cut);
	CHECK_STR(jstr(job, "kind"), "bundle");
	expect_failed("truncated bundle", job, NULL);
	CHECK(jint(job, "attempts") == 1, "a damaged bundle is not retried: attempts %lld",
	      jint(job, "attempts"));
	json_decref(job);
	bfree(&zip);
	bfree(&cut);

	/* Names that climb out, absolute names, a symlink: refused, the rest goes on. */
	epub_simple(&good, "安全的书", "某人", "hostile-good", false);
	{
		struct bytes evil = {0};
		epub_simple(&evil, "越界之书", "某人", "hostile-evil", false);
		struct raw_ent e[] = {
		    {"../evil.epub", evil.p, evil.n, 0},
		    {"../../../../../../tmp/evil.epub", evil.p, evil.n, 0},
		    {"/abs.epub", evil.p, evil.n, 0},
		    {"..\\evil.epub", evil.p, evil.n, 0},
		    {"link.epub", "/etc/passwd", 11, 0120777},
		    {"good.epub", good.p, good.n, 0},
		};
		rawzip_make(&zip, e, 6);
		bfree(&evil);
	}
	job = ingest("hostile.zip", &zip);
	CHECK_STR(jstr(job, "kind"), "bundle");
	CHECK(job_state_ended(jstr(job, "state")), "hostile zip: the job ends");
	if (check_streq(jstr(job, "state"), "done")) {
		json_t *row;
		size_t i;
		CHECK_STR(jstr(row_of(job, "good.epub"), "status"), "ok");
		json_array_foreach(jpath(job, "result.rows"), i, row)
		{
			const char *f = jstr(row, "file");
			bool unsafe =
			    check_has(f, "evil") || check_has(f, "abs") || check_has(f, "link");
			CHECK(!unsafe || !check_streq(jstr(row, "status"), "ok"),
			      "unsafe entry %s was ingested", check_s(f));
		}
	}
	bfree(&zip);
	json_decref(job);
	{
		int links = 0;
		char cwdparent[1024];
		CHECK_EQ_INT(find_named(data, "evil.epub", &links), 0);
		CHECK_EQ_INT(find_named(data, "abs.epub", NULL), 0);
		CHECK_EQ_INT(find_named(data, "link.epub", NULL), 0);
		CHECK_EQ_INT(links, 0);
		CHECK(access("/tmp/evil.epub", F_OK) != 0, "/tmp/evil.epub was written");
		CHECK(access("/abs.epub", F_OK) != 0, "/abs.epub was written");
		if (getcwd(cwdparent, sizeof(cwdparent) - 20)) {
			strncat(cwdparent, "/../evil.epub",
			        sizeof(cwdparent) - strlen(cwdparent) - 1);
			CHECK(access(cwdparent, F_OK) != 0, "%s was written", cwdparent);
		}
	}
	CHECK(health_ok(), "alive after the hostile zip");

	/* The same in a tar.gz: a symlink, a hard link, "..". */
	{
		struct bytes tgz = {0}, ok2 = {0};
		epub_simple(&ok2, "安全的书二", "某人", "hostile-good-2", false);
		struct ent e[] = {
		    {"../evil.epub", good.p, good.n, 0, NULL},
		    {"link.epub", NULL, 0, 0, "/etc/passwd"},
		    {"fine.epub", ok2.p, ok2.n, 0, NULL},
		};
		archive_make(&tgz, ARC_TGZ, e, 3);
		job = ingest("hostile.tar.gz", &tgz);
		CHECK_STR(jstr(job, "state"), "done");
		CHECK_STR(jstr(row_of(job, "fine.epub"), "status"), "ok");
		CHECK(!check_streq(jstr(row_of(job, "link.epub"), "status"), "ok"),
		      "a symlink entry is not ingested");
		json_decref(job);
		CHECK_EQ_INT(find_named(data, "evil.epub", NULL), 0);
		CHECK(access("/tmp/evil.epub", F_OK) != 0, "/tmp/evil.epub was written (tar)");
		bfree(&tgz);
		bfree(&ok2);
	}

	/* A bomb: one entry inflating 300 MB of zeros at ~1030:1. */
	{
		struct bytes bomb = {0};
		struct ent e[] = {
		    {"说明.md", "bomb", 4, 0, NULL},
		    {"炸弹.epub", NULL, 0, (uint64_t)300 << 20, NULL},
		};
		archive_make(&bomb, ARC_ZIP, e, 2);
		CHECK(bomb.n < 400 * 1024, "the bomb is small: %zu bytes", bomb.n);
		job = ingest("bomb.zip", &bomb);
		if (check_streq(jstr(job, "state"), "failed")) {
			expect_failed("zip bomb", job, "压缩");
		} else {
			json_t *row = row_of(job, "炸弹.epub");
			CHECK_STR(jstr(job, "state"), "done");
			CHECK_STR(jstr(row, "status"), "failed");
			CHECK_CONTAINS(jstr(row, "reason"), "压缩");
		}
		json_decref(job);
		bfree(&bomb);
		CHECK(health_ok(), "alive after the bomb");
		CHECK_EQ_INT(staging_count("entry-", NULL, 0), 0);
	}
	/* An EPUB that is itself a bomb (a 100 MB chapter of zeros). */
	{
		struct bytes ep = {0}, container = {0}, opf = {0};
		bputs(&container,
		      "<?xml version=\"1.0\"?><container version=\"1.0\" "
		      "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
		      "<rootfile full-path=\"content.opf\" "
		      "media-type=\"application/oebps-package+xml\"/></rootfiles></container>");
		bputs(&opf,
		      "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" "
		      "version=\"3.0\" unique-identifier=\"u\"><metadata "
		      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:identifier "
		      "id=\"u\">bomb</dc:identifier><dc:title>炸弹书</dc:title>"
		      "<dc:language>zh</dc:language></metadata><manifest><item id=\"c\" "
		      "href=\"chapter.xhtml\" media-type=\"application/xhtml+xml\"/>"
		      "</manifest><spine><itemref idref=\"c\"/></spine></package>");
		struct ent e[] = {
		    {"mimetype", "application/epub+zip", 20, 0, NULL},
		    {"META-INF/container.xml", container.p, container.n, 0, NULL},
		    {"content.opf", opf.p, opf.n, 0, NULL},
		    {"chapter.xhtml", NULL, 0, (uint64_t)100 << 20, NULL},
		};
		archive_make(&ep, ARC_ZIP, e, 4);
		job = ingest("炸弹书.epub", &ep);
		expect_failed("EPUB bomb", job, "压缩");
		json_decref(job);
		bfree(&ep);
		bfree(&container);
		bfree(&opf);
	}
	bfree(&good);
}

static void test_bad_books(void)
{
	struct bytes b = {0};
	json_t *job;
	long st;

	{
		struct epub_spec sp = {.title = "无容器",
		                       .author = "某人",
		                       .uid = "no-container",
		                       .no_container = true};
		epub_make(&b, &sp);
		job = ingest("无容器.epub", &b);
		expect_failed("EPUB without container.xml", job, "container.xml");
		CHECK(jint(job, "attempts") == 1, "not retried: attempts %lld",
		      jint(job, "attempts"));
		json_decref(job);
		bfree(&b);
	}
	{
		struct epub_spec sp = {
		    .title = "实体", .author = "某人", .uid = "entity", .entity = true};
		epub_make(&b, &sp);
		job = ingest("实体.epub", &b);
		expect_failed("OPF with an entity", job, "实体");
		json_decref(job);
		bfree(&b);
	}
	{
		struct epub_spec sp = {.title = "带脚本的书",
		                       .author = "某人",
		                       .uid = "script",
		                       .script = true,
		                       .chapters = 2};
		epub_make(&b, &sp);
		job = ingest("脚本.epub", &b);
		CHECK_STR(jstr(job, "state"), "done");
		CHECK_STR(jstr(job, "result.status"), "ok");
		json_decref(job);
		bfree(&b);
		CHECK(health_ok(), "alive");
	}
	{
		uint64_t x = 0x9E3779B97F4A7C15ull;
		for (int i = 0; i < 65536; i++) {
			unsigned char c;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			c = (unsigned char)(x >> 24);
			bput(&b, &c, 1);
		}
		b.p[0] = 0x01; /* not a magic number by chance */
		job = ingest("乱码.txt", &b);
		expect_failed("random bytes as TXT", job, NULL);
		CHECK(jint(job, "attempts") == 1, "not retried: attempts %lld",
		      jint(job, "attempts"));
		json_decref(job);
		bfree(&b);
	}
	{
		struct http_part p = {.filename = "空.epub", .data = "", .len = 0};
		json_t *j = upload_parts(&p, 1, staff, "auto", false, &st);
		CHECK_EQ_INT(st, 400);
		CHECK_STR(error_code(j), "empty_file");
		json_decref(j);
		CHECK(health_ok(), "alive");
	}
	{
		/* an empty part before a real one: refused as a whole, the next part is not
		 * taken for the empty one's continuation */
		struct http_part p[2] = {{.filename = "空的.txt", .data = "", .len = 0},
		                         {.filename = "真的.txt",
		                          .data = "第一章 开始\n这是正文。\n",
		                          .len = strlen("第一章 开始\n这是正文。\n")}};
		long long n0 = resource_count();
		json_t *j = upload_parts(p, 2, staff, "auto", false, &st);
		CHECK_EQ_INT(st, 400);
		CHECK_STR(error_code(j), "empty_file");
		json_decref(j);
		CHECK_EQ_INT(resource_count(), n0);
	}
	{
		/* a file name that is not UTF-8 */
		struct http_part p = {.filename = "bad\xff\xfe.txt", .data = "abc", .len = 3};
		json_t *j = upload_parts(&p, 1, staff, "auto", false, &st);
		CHECK_EQ_INT(st, 400);
		CHECK_STR(error_code(j), "bad_filename");
		json_decref(j);
	}
	{
		/* a long Chinese name is cut on a character boundary, not refused */
		char name[400] = "a";
		struct http_part p = {.filename = name,
		                      .data = "第一章 长名\n正文。\n",
		                      .len = strlen("第一章 长名\n正文。\n")};
		json_t *j;
		size_t o = 1;
		for (int i = 0; i < 90; i++)
			o += (size_t)snprintf(name + o, sizeof(name) - o, "长");
		snprintf(name + o, sizeof(name) - o, ".txt");
		j = upload_parts(&p, 1, staff, "auto", false, &st);
		CHECK_EQ_INT(st, 202);
		CHECK(jstr(j, "uploads.0.name") && strlen(jstr(j, "uploads.0.name")) <= 255,
		      "name kept, cut to 255 bytes");
		json_decref(j);
	}
	{
		png_make(&b, 40, 40, 3);
		job = ingest("图片.epub", &b);
		expect_failed("a PNG named .epub", job, "不支持的文件类型");
		json_decref(job);
		bfree(&b);
	}
	{
		json_t *r;
		pdf_make(&b, 2, "Disguised PDF");
		job = ingest("伪装.epub", &b);
		CHECK_STR(jstr(job, "state"), "done");
		CHECK_STR(jstr(job, "result.status"), "ok");
		r = resource(jint(job, "result.resource.id"));
		CHECK_STR(jstr(r, "format"), "pdf");
		CHECK_EQ_INT(jint(r, "pages"), 2);
		json_decref(r);
		json_decref(job);
		bfree(&b);
	}
}

static void test_upload_refusals(void)
{
	struct bytes b = {0};
	struct http_part p;
	json_t *j;
	long st;
	size_t before = resource_count();

	epub_simple(&b, "拒绝", "某人", "refused", false);
	p = (struct http_part){.filename = "拒绝.epub", .data = b.p, .len = b.n};
	{
		struct http_result r;
		http_do(&srv, "/api/v1/staff/uploads",
		        &(struct http_opts){
		            .body = "{\"file\":\"x\"}", .cookie = staff, .origin = "auto"},
		        &r);
		CHECK_EQ_INT(r.status, 415);
		j = json_loads(r.body, 0, NULL);
		CHECK_STR(error_code(j), "unsupported_media_type");
		json_decref(j);
		http_result_free(&r);
	}
	j = upload_parts(&p, 1, NULL, NULL, false, &st);
	CHECK_EQ_INT(st, 401);
	json_decref(j);
	j = upload_parts(&p, 1, reader, "auto", false, &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	j = upload_parts(&p, 1, staff, NULL, false, &st);
	CHECK(st == 403, "cookie upload without Origin: %ld", st);
	json_decref(j);
	j = upload_parts(&p, 1, staff, "http://evil.example", false, &st);
	CHECK(st == 403, "cookie upload from another Origin: %ld", st);
	json_decref(j);
	{
		/* a text field only, no file part */
		struct http_part field = {.field = "note", .data = "hi", .len = 2};
		j = upload_parts(&field, 1, staff, "auto", false, &st);
		CHECK_EQ_INT(st, 400);
		CHECK_STR(error_code(j), "bad_upload");
		json_decref(j);
	}
	CHECK_EQ_INT(resource_count(), before);
	CHECK(health_ok(), "alive after refusals");
	bfree(&b);
}

/* Two files in one request: two jobs. */
static void test_two_files(void)
{
	struct bytes a = {0}, b = {0};
	struct http_part p[2];
	json_t *j, *job;
	long st;

	epub_simple(&a, "一次两本之一", "某人", "two-1", false);
	epub_simple(&b, "一次两本之二", "某人", "two-2", false);
	p[0] = (struct http_part){.filename = "一.epub", .data = a.p, .len = a.n};
	p[1] = (struct http_part){.filename = "二.epub", .data = b.p, .len = b.n};
	j = upload_parts(p, 2, staff, "auto", false, &st);
	CHECK_EQ_INT(st, 202);
	CHECK_EQ_INT(json_array_size(jpath(j, "uploads")), 2);
	CHECK_STR(jstr(j, "uploads.1.name"), "二.epub");
	CHECK(jint(j, "uploads.0.job.id") != jint(j, "uploads.1.job.id"), "one job per file");
	for (int i = 0; i < 2; i++) {
		char path[32];
		snprintf(path, sizeof(path), "uploads.%d.job.id", i);
		job = job_wait(jint(j, path), JOB_TIMEOUT_S);
		CHECK_STR(jstr(job, "result.status"), "ok");
		CHECK_STR(jstr(job, "result.resource.title"), i ? "一次两本之二" : "一次两本之一");
		json_decref(job);
	}
	json_decref(j);
	bfree(&a);
	bfree(&b);
}

/* ---------- 8: the CLI, offline ---------- */

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The line of out that starts with prefix and a tab, copied into line. */
static bool line_of(const char *out, const char *prefix, char *line, size_t n)
{
	size_t plen = strlen(prefix);

	for (const char *p = out; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > plen && strncmp(p, prefix, plen) == 0 && p[plen] == '\t') {
			snprintf(line, n, "%.*s", (int)len, p);
			return true;
		}
		p = eol ? eol + 1 : NULL;
	}
	line[0] = '\0';
	return false;
}

static long long cli_epub_id;
static char cli_bundle_path[700];

static void test_cli(void)
{
	struct bytes ep = {0}, zip = {0}, a = {0}, b2 = {0}, csv = {0};
	char epub_path[700], out[16384], line[2048], want[2048], prefix[1024];
	int rc;

	epub_simple(&ep, "命令行之书", "某人", "cli-one", true);
	save(epub_path, sizeof(epub_path), "命令行之书.epub", &ep);
	epub_simple(&a, "命令行甲", "某人", "cli-a", false);
	epub_simple(&b2, "命令行乙", "某人", "cli-b", false);
	bputs(&csv, "file,title,category,licence\n"
	            "甲.epub,命令行甲（清单）,fiction,open\n"
	            "乙.epub,命令行乙,fiction,copies x\n");
	{
		struct ent e[] = {
		    {"manifest.csv", csv.p, csv.n, 0, NULL},
		    {"甲.epub", a.p, a.n, 0, NULL},
		    {"乙.epub", b2.p, b2.n, 0, NULL},
		};
		archive_make(&zip, ARC_ZIP, e, 3);
	}
	save(cli_bundle_path, sizeof(cli_bundle_path), "cli-bundle.zip", &zip);

	rc = sx_run_all(out, sizeof(out), "ingest", epub_path, "--data", data, (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(count_lines(out), 1);
	CHECK(line_of(out, epub_path, line, sizeof(line)), "CLI line for the EPUB: %s", out);
	{
		const char *p = line + strlen(epub_path) + 1;
		char *end;
		CHECK(strncmp(p, "ok\t", 3) == 0, "CLI ok: %s", line);
		cli_epub_id = strtoll(p + 3, &end, 10);
		CHECK(cli_epub_id > 0 && *end == '\t', "CLI id: %s", line);
		CHECK_STR(end + 1, "命令行之书");
	}

	rc = sx_run_all(out, sizeof(out), "ingest", epub_path, cli_bundle_path, "--data", data,
	                (char *)NULL);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_INT(count_lines(out), 3);
	snprintf(want, sizeof(want), "%s\tduplicate\t%lld\t命令行之书", epub_path, cli_epub_id);
	CHECK(line_of(out, epub_path, line, sizeof(line)), "duplicate line: %s", out);
	CHECK_STR(line, want);
	snprintf(prefix, sizeof(prefix), "%s:甲.epub", cli_bundle_path);
	CHECK(line_of(out, prefix, line, sizeof(line)), "bundle row 甲: %s", out);
	snprintf(want, sizeof(want), "%s\tok\t命令行甲（清单）", prefix);
	CHECK_STR(line, want);
	snprintf(prefix, sizeof(prefix), "%s:乙.epub", cli_bundle_path);
	CHECK(line_of(out, prefix, line, sizeof(line)), "bundle row 乙: %s", out);
	snprintf(want, sizeof(want), "%s\tfailed\t", prefix);
	CHECK(strncmp(line, want, strlen(want)) == 0 && has_cjk(line + strlen(want)),
	      "failed row with a reason: %s", line);
	CHECK_CONTAINS(line, "许可");

	/* A file that is not a book: failed, exit 1. */
	{
		char junk[700];
		struct bytes j = {0};
		png_make(&j, 10, 10, 9);
		save(junk, sizeof(junk), "junk.epub", &j);
		rc = sx_run_all(out, sizeof(out), "ingest", junk, "--data", data, (char *)NULL);
		CHECK_EQ_INT(rc, 1);
		snprintf(want, sizeof(want), "%s\tfailed\t", junk);
		CHECK(strncmp(out, want, strlen(want)) == 0, "CLI failed line: %s", out);
		bfree(&j);
	}
	bfree(&ep);
	bfree(&zip);
	bfree(&a);
	bfree(&b2);
	bfree(&csv);
}

/* After the CLI run, with the server up again. */
static void test_cli_seen(void)
{
	json_t *r = resource(cli_epub_id);
	CHECK_STR(jstr(r, "title"), "命令行之书");
	CHECK(jint(r, "cover.width") > 0, "CLI ingest made the cover");
	json_decref(r);
	CHECK(listed(cli_epub_id, NULL), "the CLI's book is listed");
	check_cover_file(cli_epub_id, "thumb.jpg", "image/jpeg", "\xFF\xD8", 2);
}

/* ---------- 6 (end): upload size cap, with --upload-max-mb 1 ---------- */

static void test_too_large(void)
{
	struct bytes big = {0};
	char path[700], names[512];
	json_t *j;
	long st;

	for (int i = 0; i < (2 << 20) / 64; i++)
		bputs(&big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n");
	save(path, sizeof(path), "big.txt", &big);
	{
		struct http_part p = {.filename = "big.txt", .path = path};
		j = upload_parts(&p, 1, staff, "auto", false, &st);
		CHECK_EQ_INT(st, 413);
		CHECK_STR(error_code(j), "too_large");
		json_decref(j);
	}
	/* Streamed without a length: found too large half way. */
	big.n = (1 << 20) + (200 << 10);
	save(path, sizeof(path), "big2.txt", &big);
	{
		struct http_part p = {.filename = "big2.txt", .path = path};
		j = upload_parts(&p, 1, staff, "auto", true, &st);
		CHECK_EQ_INT(st, 413);
		CHECK_STR(error_code(j), "too_large");
		json_decref(j);
	}
	usleep(200000);
	CHECK(staging_count("", names, sizeof(names)) == 0, "staging keeps nothing: %s", names);
	CHECK(health_ok(), "alive after 413s");
	bfree(&big);
}

/* ---------- 9: a bundle job survives SIGKILL ---------- */

#define RESUME_BOOKS 40

static void test_resume(void)
{
	struct bytes zip = {0}, books[RESUME_BOOKS] = {{0}};
	struct ent e[RESUME_BOOKS];
	char names[RESUME_BOOKS][32], titles[RESUME_BOOKS][64], path[96], leftover[1024],
	    at_kill[1024];
	const char *extra[] = {"--upload-max-mb", "1", NULL};
	long long job_id;
	json_t *job = NULL;
	int progress = -1;
	bool running = false;
	size_t before = resource_count();

	for (int i = 0; i < RESUME_BOOKS; i++) {
		char uid[32];
		snprintf(titles[i], sizeof(titles[i]), "续传之书第%d册", i + 1);
		snprintf(uid, sizeof(uid), "resume-%d", i);
		snprintf(names[i], sizeof(names[i]), "books/r%02d.epub", i + 1);
		epub_simple(&books[i], titles[i], "续传作者", uid, false);
		e[i] = (struct ent){names[i], books[i].p, books[i].n, 0, NULL};
	}
	archive_make(&zip, ARC_ZIP, e, RESUME_BOOKS);
	job_id = upload_bytes("续传.zip", &zip);
	snprintf(path, sizeof(path), "/api/v1/staff/jobs/%lld", job_id);
	for (int i = 0; i < 3000; i++) {
		long st;
		json_decref(job);
		job = get_json(path, staff, &st);
		if (job_state_ended(jstr(job, "job.state")))
			break;
		progress = (int)jint(job, "job.progress");
		if (check_streq(jstr(job, "job.state"), "running") && progress >= 5) {
			running = true;
			break;
		}
		usleep(5000);
	}
	json_decref(job);
	/* Kill while a book is being built, so that the crash leaves a staging folder behind. */
	for (int i = 0; running && i < 2000 && staging_count("ingest-", NULL, 0) == 0; i++)
		usleep(1000);
	server_kill(&srv);
	CHECK(running, "the bundle job was running (progress %d) when the server was killed",
	      progress);
	staging_count("", at_kill, sizeof(at_kill));
	fprintf(stderr, "staging when the server was killed: %s\n", at_kill);

	must(server_start(&srv, data, extra) == 0, "server restarts");
	sign_in();
	job = job_wait(job_id, JOB_TIMEOUT_S);
	CHECK_STR(jstr(job, "state"), "done");
	/* rows this job made before the kill are its own work, not duplicates */
	CHECK_EQ_INT(jint(job, "result.counts.ok"), RESUME_BOOKS);
	CHECK_EQ_INT(jint(job, "result.counts.duplicate"), 0);
	CHECK_EQ_INT(jint(job, "result.counts.failed"), 0);
	json_decref(job);
	CHECK_EQ_INT(resource_count(), before + RESUME_BOOKS);
	CHECK(staging_count("ingest-", leftover, sizeof(leftover)) == 0,
	      "no ingest-* left in staging after a resumed job: %s", leftover);
	CHECK(staging_count("entry-", leftover, sizeof(leftover)) == 0,
	      "no entry-* left in staging after a resumed job: %s", leftover);
	bfree(&zip);
	for (int i = 0; i < RESUME_BOOKS; i++)
		bfree(&books[i]);
}

/* ---------- main ---------- */

static void sign_in(void)
{
	must(http_login(&srv, "editor", staff_pw, staff, sizeof(staff)) == 200, "staff login");
	must(http_login(&srv, "R0001", reader_pw, reader, sizeof(reader)) == 200, "reader login");
}

static void dump_log(void)
{
	char path[700], line[1024];
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/server.log", data);
	f = fopen(path, "r");
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > 200000 ? size - 200000 : 0, SEEK_SET);
	fprintf(stderr, "---- server log (tail) ----\n");
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, " info access ")) /* one line per request: noise here */
			fputs(line, stderr);
	fclose(f);
}

int main(void)
{
	struct timespec t0, t1;

	setlocale(LC_ALL, "C.UTF-8");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tmpdir_make(data, sizeof(data), "sx-ingest");
	tmpdir_make(work, sizeof(work), "sx-ingest-work");
	must(sx_add_staff(data, "editor", "content", staff_pw, sizeof(staff_pw)) == 0, "staff");
	must(sx_add_reader(data, "R0001", "读者", reader_pw, sizeof(reader_pw)) == 0, "reader");
	must(server_start(&srv, data, NULL) == 0, "server starts");
	sign_in();

	test_epub();
	test_txt();
	test_pdf();
	test_paging();
	test_bundle_zip();
	test_bundle_tgz();
	test_patch();
	test_bad_books();
	test_bad_archives();
	test_upload_refusals();
	test_two_files();
	{
		struct bytes b = {0};
		json_t *job;
		epub_simple(&b, "风波之后", "某人", "after-bad", true);
		job = ingest("风波之后.epub", &b);
		CHECK_STR(jstr(job, "state"), "done");
		CHECK_STR(jstr(job, "result.status"), "ok");
		json_decref(job);
		bfree(&b);
	}

	server_stop(&srv);
	test_cli();
	{
		const char *extra[] = {"--upload-max-mb", "1", NULL};
		must(server_start(&srv, data, extra) == 0, "server restarts after the CLI");
		sign_in();
		test_cli_seen();
		test_too_large();
	}
	test_resume();
	server_stop(&srv);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "ingest e2e took %.1f s\n",
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (check_failures)
		dump_log();
	if (getenv("SX_KEEP"))
		fprintf(stderr, "kept %s and %s\n", data, work);
	else {
		tmpdir_remove(data);
		tmpdir_remove(work);
	}
	CHECK_DONE();
}
