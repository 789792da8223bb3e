/*
 * media/epub: the corpus books (expected values taken from the OPF and nav/NCX by hand, not from
 * the code), fixtures built here with libarchive's zip writer (a Chinese EPUB 3, an EPUB 2) and
 * hostile archives (entities, traversal, links, bombs, limits, garbage). Everything is made in
 * a mkdtemp directory that is removed at the end.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "epub.h"

static char g_base[64];
static int g_seq;

/* ---------- small helpers ---------- */

struct sb {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sb *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		char *ns;
		while (nc < b->n + len + 1)
			nc *= 2;
		ns = realloc(b->s, nc);
		if (!ns) {
			perror("realloc");
			exit(2);
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "sb_printf: too long\n");
		exit(2);
	}
	sb_add(b, tmp, (size_t)n);
}

static void path_in(char *out, size_t n, const char *name)
{
	if ((size_t)snprintf(out, n, "%s/%s", g_base, name) >= n) {
		fprintf(stderr, "path too long\n");
		exit(2);
	}
}

/* A fresh empty directory for one epub_read. */
static void new_unpack_dir(char *out, size_t n)
{
	char name[32];

	snprintf(name, sizeof(name), "u%03d", ++g_seq);
	path_in(out, n, name);
	if (mkdir(out, 0700) != 0) {
		perror(out);
		exit(2);
	}
}

static int write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	size_t w;

	if (!f)
		return -1;
	w = len ? fwrite(data, 1, len, f) : 0;
	return (fclose(f) == 0 && w == len) ? 0 : -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct sb b = {0};
	char buf[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(&b, buf, n);
	fclose(f);
	if (!b.s)
		sb_add(&b, "", 0);
	*len = b.n;
	return b.s;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int rm_tree(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t k;
		if (p[i] < 0x80)
			k = 0;
		else if ((p[i] & 0xE0) == 0xC0)
			k = 1;
		else if ((p[i] & 0xF0) == 0xE0)
			k = 2;
		else if ((p[i] & 0xF8) == 0xF0)
			k = 3;
		else
			return false;
		for (size_t j = 1; j <= k; j++)
			if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* Our stored names look like "f0007.xhtml": f, four digits, a dot, [a-z0-9]+. */
static bool our_name(const char *n)
{
	if (n[0] != 'f')
		return false;
	for (int i = 1; i <= 4; i++)
		if (n[i] < '0' || n[i] > '9')
			return false;
	if (n[5] != '.' || !n[6])
		return false;
	for (const char *p = n + 6; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

struct dir_scan {
	size_t regular, other, foreign, links;
};

static struct dir_scan scan_dir(const char *dir)
{
	struct dir_scan s = {0};
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		s.other = 1000000;
		return s;
	}
	while ((de = readdir(d))) {
		char full[512];
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if (lstat(full, &st) != 0) {
			s.other++;
			continue;
		}
		if (S_ISLNK(st.st_mode))
			s.links++;
		else if (S_ISREG(st.st_mode))
			s.regular++;
		else
			s.other++;
		if (!our_name(de->d_name)) {
			s.foreign++;
			fprintf(stderr, "  unexpected name in %s: %s\n", dir, de->d_name);
		}
	}
	closedir(d);
	return s;
}

static bool passages_have(const struct epub_book *b, const char *needle)
{
	for (size_t i = 0; i < b->passages.n; i++)
		if (strstr(b->passages.items[i].text, needle))
			return true;
	return false;
}

static bool in_spine(const struct epub_book *b, const char *path)
{
	for (size_t i = 0; i < b->nspine; i++)
		if (strcmp(b->spine[i], path) == 0)
			return true;
	return false;
}

/* The first bytes of the stored copy of a book path. */
static bool stored_starts_with(const struct epub_book *b, const char *dir, const char *path,
                               const void *magic, size_t mlen)
{
	const char *stored = epub_stored_name(b, path);
	char full[512], head[16] = {0};
	FILE *f;
	size_t n;

	if (!stored || mlen > sizeof(head))
		return false;
	snprintf(full, sizeof(full), "%s/%s", dir, stored);
	f = fopen(full, "rb");
	if (!f)
		return false;
	n = fread(head, 1, mlen, f);
	fclose(f);
	return n == mlen && memcmp(head, magic, mlen) == 0;
}

static const unsigned char PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
static const unsigned char JPEG_MAGIC[3] = {0xFF, 0xD8, 0xFF};

/* A real 1×1 PNG. */
static const unsigned char PNG_1x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
    0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92,
    0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* The start of a JPEG (SOI + APP0/JFIF) and its end: enough for magic checks. */
static const unsigned char JPEG_STUB[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',
                                          'I',  'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
                                          0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9};

/* ---------- zip fixtures ---------- */

enum { Z_FILE, Z_LINK, Z_DIR, Z_ZEROS };

struct zent {
	const char *name;
	const void *data; /* Z_FILE: bytes; Z_LINK: target (string) */
	size_t len;       /* Z_FILE: length (0 = strlen); Z_ZEROS: bytes of zeros */
	int kind;
};

/* Write a zip: "mimetype" stored (uncompressed), the rest deflated, in the order given. */
static int write_zip(const char *path, const struct zent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	int rc = 0;

	if (!a || archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, path) != ARCHIVE_OK) {
		fprintf(stderr, "zip writer: %s\n", a ? archive_error_string(a) : "no memory");
		if (a)
			archive_write_free(a);
		return -1;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const struct zent *z = &ents[i];
		struct archive_entry *e = archive_entry_new();
		size_t len = z->kind == Z_FILE ? (z->len ? z->len : strlen(z->data)) : z->len;

		archive_entry_set_pathname(e, z->name);
		archive_entry_set_mtime(e, 1700000000, 0);
		if (z->kind == Z_LINK) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, z->data);
			archive_entry_set_size(e, 0);
		} else if (z->kind == Z_DIR) {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)len);
		}
		if (strcmp(z->name, "mimetype") == 0)
			archive_write_zip_set_compression_store(a);
		else
			archive_write_zip_set_compression_deflate(a);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			fprintf(stderr, "zip header %s: %s\n", z->name, archive_error_string(a));
			rc = -1;
		} else if (z->kind == Z_FILE && len) {
			if (archive_write_data(a, z->data, len) != (la_ssize_t)len)
				rc = -1;
		} else if (z->kind == Z_ZEROS) {
			static const char zeros[1 << 20];
			size_t left = len;
			while (left && !rc) {
				size_t k = left < sizeof(zeros) ? left : sizeof(zeros);
				if (archive_write_data(a, zeros, k) != (la_ssize_t)k)
					rc = -1;
				left -= k;
			}
		}
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_free(a);
	return rc;
}

static const char CONTAINER[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
    "  <rootfiles>\n"
    "    <rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>\n"
    "  </rootfiles>\n"
    "</container>\n";

static const char MIN_OPF[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" unique-identifier=\"id\">\n"
    "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "<dc:identifier id=\"id\">urn:uuid:0f5e7c1a-1111-2222-3333-444455556666</dc:identifier>\n"
    "<dc:title>最小的书</dc:title>\n"
    "<dc:language>zh</dc:language>\n"
    "</metadata>\n"
    "<manifest>\n"
    "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
    "properties=\"nav\"/>\n"
    "<item id=\"ch1\" href=\"ch1.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
    "<item id=\"ch2\" href=\"ch2.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
    "</manifest>\n"
    "<spine><itemref idref=\"ch1\"/><itemref idref=\"ch2\"/></spine>\n"
    "</package>\n";

static const char MIN_NAV[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
    "<head><title>目录</title></head><body>\n"
    "<nav epub:type=\"toc\"><ol>\n"
    "<li><a href=\"ch1.xhtml\">第一章</a></li>\n"
    "<li><a href=\"ch2.xhtml\">第二章</a></li>\n"
    "</ol></nav></body></html>\n";

static const char MIN_CH1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>一</title></head>\n"
    "<body><h1>第一章</h1><p>第一章的文字FIRST_CHAPTER。</p></body></html>\n";

static const char MIN_CH2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>二</title></head>\n"
    "<body><h1>第二章</h1><p>第二章的文字SECOND_CHAPTER。</p></body></html>\n";

/*
 * A small valid EPUB 3 (two chapters, nav) at g_base/name; opf/nav/ch1 replace the defaults
 * when given; extras are appended after the book's own entries. Returns 0 or -1.
 */
static int build_epub(const char *name, const char *opf, const char *nav, const char *ch1,
                      const struct zent *extras, size_t nextras, char *out, size_t outlen)
{
	struct zent ents[32];
	size_t n = 0;

	ents[n++] = (struct zent){"mimetype", "application/epub+zip", 0, Z_FILE};
	ents[n++] = (struct zent){"META-INF/container.xml", CONTAINER, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/content.opf", opf ? opf : MIN_OPF, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/nav.xhtml", nav ? nav : MIN_NAV, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/ch1.xhtml", ch1 ? ch1 : MIN_CH1, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/ch2.xhtml", MIN_CH2, 0, Z_FILE};
	for (size_t i = 0; i < nextras && n < sizeof(ents) / sizeof(ents[0]); i++)
		ents[n++] = extras[i];
	path_in(out, outlen, name);
	return write_zip(out, ents, n);
}

/* epub_read into a fresh directory (its path left in dir). */
static int read_into(const char *epub, const struct epub_limits *lim, struct epub_book *b,
                     char *err, size_t errlen, char *dir, size_t dirlen)
{
	new_unpack_dir(dir, dirlen);
	return epub_read(epub, dir, lim, b, err, errlen);
}

/* ---------- 1. the corpus ---------- */

struct corpus_want {
	const char *file;
	const char *title;
	const char *language;
	const char *opf;
	const char *cover;
	bool png;        /* else JPEG */
	size_t chapters; /* <a href> entries of the nav's toc (NCX navPoints agree where present) */
	size_t nspine;   /* itemrefs not linear="no" */
	size_t nfiles;   /* regular files in the zip (unzip -Z1, no directory entries) */
	bool rtl;
	bool seen;
};

/*
 * Taken from the books with unzip -p (container.xml → OPF → nav/NCX), counted independently of
 * epub.c. childrens-literature's nav has 31 <li>, of which 9 are <span> headings without a link:
 * the 22 linked entries are its chapters (its NCX also has 22 navPoints). Georgia and Moby-Dick
 * mark their cover page linear="no" (Moby-Dick also its toc.xhtml). Regime's cover comes from
 * <meta name="cover" content="cover"> (no cover-image property) and its spine is rtl.
 */
static struct corpus_want corpus_wants[] = {
    {"childrens-literature.epub", "Children's Literature", "en", "EPUB/package.opf",
     "EPUB/images/cover.png", true, 22, 3, 10, false, false},
    {"georgia-cfi.epub", "Georgia", "en-US", "EPUB/package.opf", "EPUB/images/cover.png", true, 10,
     1, 10, false, false},
    {"moby-dick.epub", "Moby-Dick", "en-US", "OPS/package.opf", "OPS/images/9780316000000.jpg",
     false, 141, 142, 154, false, false},
    {"regime-anticancer-arabic.epub", "Le Vrai Régime anti-cancer", "ar", "EPUB/package.opf",
     "EPUB/Image/cover.jpg", false, 3, 3, 11, true, false},
    {"trees.epub", "Trees", "en", "EPUB/package.opf", "EPUB/cover.jpg", false, 2, 3, 12, false,
     false},
    {"wasteland.epub", "The Waste Land", "en-US", "EPUB/wasteland.opf", "EPUB/wasteland-cover.jpg",
     false, 6, 1, 9, false, false},
};

static void check_passage_shape(const struct epub_book *b, const char *tag)
{
	size_t short_mid = 0, over = 0, not_spine = 0, bad_utf8 = 0;

	CHECK(b->passages.n > 0, "%s: no passages", tag);
	for (size_t i = 0; i < b->passages.n; i++) {
		const struct passage *p = &b->passages.items[i];
		size_t len = strlen(p->text);
		bool last_of_chapter =
		    i + 1 == b->passages.n || strcmp(b->passages.items[i + 1].href, p->href) != 0;
		if (!in_spine(b, p->href)) {
			if (!not_spine++)
				fprintf(stderr, "  %s: passage %zu href %s not in spine\n", tag, i,
				        p->href);
		}
		if (len > PASSAGE_MAX)
			over++;
		/* short only when the next paragraph could not have joined it under the cap */
		if (!last_of_chapter && len < PASSAGE_MIN &&
		    len + 1 + strcspn(b->passages.items[i + 1].text, "\n") <= PASSAGE_MAX) {
			if (!short_mid++)
				fprintf(stderr,
				        "  %s: passage %zu of %s is %zu bytes (< %d) but not the "
				        "last of "
				        "its chapter; next starts \"%.40s\"\n",
				        tag, i, p->href, len, PASSAGE_MIN,
				        b->passages.items[i + 1].text);
		}
		if (!utf8_valid(p->text, len))
			bad_utf8++;
	}
	CHECK_EQ_INT(not_spine, 0);
	CHECK_EQ_INT(over, 0);
	CHECK(short_mid == 0,
	      "%s: %zu passages shorter than PASSAGE_MIN that the next paragraph "
	      "could have filled",
	      tag, short_mid);
	CHECK_EQ_INT(bad_utf8, 0);
}

static void test_corpus(void)
{
	const char *root = getenv("SHUXIANG_CORPUS");
	char epubdir[512];
	DIR *d;
	struct dirent *de;
	size_t found = 0;

	if (!root)
		root = "../shared/corpus";
	snprintf(epubdir, sizeof(epubdir), "%s/epub", root);
	d = opendir(epubdir);
	CHECK(d != NULL, "corpus: cannot open %s (set SHUXIANG_CORPUS)", epubdir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		struct corpus_want *w = NULL;
		struct epub_book b;
		char path[1024], dir[256], err[256];
		struct dir_scan s;
		double t0;
		int rc;

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".epub") != 0)
			continue;
		found++;
		for (size_t i = 0; i < sizeof(corpus_wants) / sizeof(corpus_wants[0]); i++)
			if (strcmp(corpus_wants[i].file, de->d_name) == 0)
				w = &corpus_wants[i];
		CHECK(w != NULL, "corpus: %s has no expected values in this test", de->d_name);
		if (!w)
			continue;
		w->seen = true;
		snprintf(path, sizeof(path), "%s/%s", epubdir, de->d_name);
		t0 = now_s();
		rc = read_into(path, NULL, &b, err, sizeof(err), dir, sizeof(dir));
		printf("corpus %-32s rc=%d title=\"%s\" lang=%s cover=%s chapters=%zu spine=%zu "
		       "files=%zu passages=%zu (%.0f ms)%s%s\n",
		       w->file, rc, check_s(b.meta.title), check_s(b.meta.language),
		       check_s(b.cover_path), epub_chapter_count(&b), b.nspine, b.nfiles,
		       b.passages.n, (now_s() - t0) * 1000, rc ? " err=" : "", rc ? err : "");
		CHECK_EQ_INT(rc, 0);
		CHECK_STR(b.meta.title, w->title);
		CHECK_STR(b.meta.language, w->language);
		CHECK_STR(b.version, "3.0");
		CHECK_STR(b.opf_path, w->opf);
		CHECK_EQ_INT(epub_chapter_count(&b), w->chapters);
		CHECK_EQ_INT(b.ntoc, w->chapters);
		CHECK_EQ_INT(b.nspine, w->nspine);
		CHECK_EQ_INT(b.nfiles, w->nfiles);
		CHECK(b.rtl == w->rtl, "corpus %s: rtl %d", w->file, b.rtl);
		/* cover: the book's path, and our copy of it is really that image */
		CHECK_STR(b.cover_path, w->cover);
		CHECK_STR(b.cover_media_type, w->png ? "image/png" : "image/jpeg");
		CHECK(epub_stored_name(&b, w->cover) != NULL, "corpus %s: cover not stored",
		      w->file);
		CHECK(stored_starts_with(&b, dir, w->cover, w->png ? PNG_MAGIC : JPEG_MAGIC,
		                         w->png ? sizeof(PNG_MAGIC) : sizeof(JPEG_MAGIC)),
		      "corpus %s: stored cover lacks %s magic", w->file, w->png ? "PNG" : "JPEG");
		/* the OPF maps to our copy of the OPF */
		CHECK(epub_stored_name(&b, w->opf) != NULL, "corpus %s: OPF not mapped", w->file);
		CHECK(stored_starts_with(&b, dir, w->opf, "<?xml", 5),
		      "corpus %s: stored OPF is not the OPF", w->file);
		CHECK(epub_stored_name(&b, "META-INF/container.xml") != NULL,
		      "corpus %s: container.xml not mapped", w->file);
		/* the directory holds only our names, one per regular file of the zip */
		s = scan_dir(dir);
		CHECK_EQ_INT(s.foreign, 0);
		CHECK_EQ_INT(s.links, 0);
		CHECK_EQ_INT(s.other, 0);
		CHECK_EQ_INT(s.regular, w->nfiles);
		for (size_t i = 0; i < b.nfiles; i++)
			CHECK(our_name(b.files[i].stored) && b.files[i].media_type,
			      "corpus %s: file %s stored as %s", w->file, b.files[i].path,
			      b.files[i].stored);
		for (size_t i = 0; i < b.ntoc; i++)
			CHECK(b.toc[i].title && b.toc[i].href && b.toc[i].depth >= 0,
			      "corpus %s: toc %zu incomplete", w->file, i);
		check_passage_shape(&b, w->file);
		epub_book_release(&b);
	}
	closedir(d);
	CHECK_EQ_INT(found, sizeof(corpus_wants) / sizeof(corpus_wants[0]));
	for (size_t i = 0; i < sizeof(corpus_wants) / sizeof(corpus_wants[0]); i++)
		CHECK(corpus_wants[i].seen, "corpus: %s missing", corpus_wants[i].file);
}

/* ---------- 2. a Chinese EPUB 3 ---------- */

static const char *const SENTENCES[] = {"却说甄士隐梦中见一僧一道且行且谈。",
                                        "那僧笑道此事说来好笑竟是千古未闻的罕事！",
                                        "士隐听了不便再问只得抱了女儿撤身进去。",
                                        "那道人道既如此便随你去来？",
                                        "只见一块鲜明美玉上面字迹分明镌着通灵宝玉四字；",
                                        "后面还有几行小字正欲细看时。",
                                        "那僧便说已到幻境便强从手中夺了去。",
                                        "与道人竟过一大石牌坊上书四个大字乃是太虚幻境。"};

/* A paragraph of k sentences starting at seed (no spaces, no markup). */
static void para_of(struct sb *b, int k, int seed)
{
	for (int i = 0; i < k; i++)
		sb_puts(b, SENTENCES[(seed + i) % 8]);
}

struct chapter_fixture {
	const char *path; /* the book's path */
	struct sb xhtml;
	struct sb plain;  /* what the chapter's plain text must be: paragraphs + "\n" each */
	char *first_para; /* text of the first <p> */
};

static void chapter_para(struct chapter_fixture *c, const char *tag, const char *markup,
                         const char *plain)
{
	sb_printf(&c->xhtml, "<%s>%s</%s>\n", tag, markup, tag);
	sb_puts(&c->plain, plain);
	sb_puts(&c->plain, "\n");
	if (strcmp(tag, "p") == 0 && !c->first_para)
		c->first_para = strdup(plain);
}

static void chapter_build(struct chapter_fixture *c, int which)
{
	static const char *const heads[] = {"第一回甄士隐梦幻识通灵", "第二回贾夫人仙逝扬州城",
	                                    "第三回托内兄如海荐西宾"};
	struct sb p = {0};

	sb_printf(&c->xhtml,
	          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
	          "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"zh-CN\">\n"
	          "<head><title>%s</title><link rel=\"stylesheet\" type=\"text/css\" "
	          "href=\"../Styles/style.css\"/><style>p{text-indent:2em}</style></head>\n"
	          "<body>\n",
	          heads[which]);
	chapter_para(c, "h1", heads[which], heads[which]);
	if (which == 0) {
		for (int i = 0; i < 6; i++) {
			p.n = 0;
			para_of(&p, 12, i);
			chapter_para(c, "p", p.s, p.s);
		}
	} else if (which == 1) {
		p.n = 0;
		para_of(&p, 4, 3);
		chapter_para(c, "p", p.s, p.s);
		p.n = 0;
		para_of(&p, 110, 1); /* ~4.5 KB: cut on a sentence end */
		chapter_para(c, "p", p.s, p.s);
		p.n = 0;
		para_of(&p, 8, 5);
		chapter_para(c, "p", p.s, p.s);
	} else {
		p.n = 0;
		for (int i = 0; i < 900; i++) /* 2,700 bytes without a sentence end */
			sb_puts(&p, "石");
		chapter_para(c, "p", p.s, p.s);
		chapter_para(c, "p",
		             "黛玉<em>方</em>进入房时，<ruby>只见<rt>zhi jian</rt></ruby>两个人"
		             "搀着一位鬓发如银的老母迎上来。",
		             "黛玉方进入房时，只见两个人搀着一位鬓发如银的老母迎上来。");
		for (int i = 0; i < 5; i++) {
			p.n = 0;
			para_of(&p, 9, i * 3);
			chapter_para(c, "p", p.s, p.s);
		}
	}
	sb_puts(&c->xhtml, "</body>\n</html>\n");
	free(p.s);
}

static const char ZH_OPF[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" unique-identifier=\"bookid\" "
    "xml:lang=\"zh-CN\">\n"
    "  <metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "    <dc:identifier id=\"bookid\">urn:isbn:9787020002207</dc:identifier>\n"
    "    <dc:title id=\"t1\">红楼梦</dc:title>\n"
    "    <meta refines=\"#t1\" property=\"title-type\">main</meta>\n"
    "    <dc:title id=\"t2\">石头记</dc:title>\n"
    "    <meta refines=\"#t2\" property=\"title-type\">subtitle</meta>\n"
    "    <dc:creator id=\"c1\">曹雪芹</dc:creator>\n"
    "    <meta refines=\"#c1\" property=\"role\" scheme=\"marc:relators\">aut</meta>\n"
    "    <dc:contributor id=\"c2\">杨宪益</dc:contributor>\n"
    "    <meta refines=\"#c2\" property=\"role\" scheme=\"marc:relators\">trl</meta>\n"
    "    <dc:language>zh-CN</dc:language>\n"
    "    <dc:publisher>人民文学出版社</dc:publisher>\n"
    "    <dc:date>1982-03</dc:date>\n"
    "    <dc:subject>古典小说</dc:subject>\n"
    "    <dc:subject>章回体</dc:subject>\n"
    "    <dc:description>\n      中国古典四大名著之一，\n      以贾史王薛四大家族的兴衰为背景。\n"
    "    </dc:description>\n"
    "    <meta property=\"belongs-to-collection\" id=\"coll\">中国古典文学读本丛书</meta>\n"
    "    <meta refines=\"#coll\" property=\"collection-type\">series</meta>\n"
    "    <meta refines=\"#coll\" property=\"group-position\">3</meta>\n"
    "    <meta property=\"dcterms:modified\">2024-01-01T00:00:00Z</meta>\n"
    "  </metadata>\n"
    "  <manifest>\n"
    "    <item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
    "properties=\"nav\"/>\n"
    "    <item id=\"cover-img\" href=\"Images/cover.png\" media-type=\"image/png\" "
    "properties=\"cover-image\"/>\n"
    "    <item id=\"css\" href=\"Styles/style.css\" media-type=\"text/css\"/>\n"
    "    <item id=\"ch1\" href=\"Text/ch1.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
    "    <item id=\"ch2\" href=\"Text/ch2.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
    "    <item id=\"ch3\" href=\"Text/ch3.xhtml\" media-type=\"application/xhtml+xml\"/>\n"
    "  </manifest>\n"
    "  <spine page-progression-direction=\"rtl\">\n"
    "    <itemref idref=\"ch1\"/>\n    <itemref idref=\"ch2\"/>\n    <itemref idref=\"ch3\"/>\n"
    "  </spine>\n"
    "</package>\n";

static const char ZH_NAV[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
    "<head><title>目录</title></head>\n<body>\n"
    "<nav epub:type=\"toc\" id=\"toc\"><h1>目录</h1>\n<ol>\n"
    "  <li><a href=\"Text/ch1.xhtml\">第一回 甄士隐梦幻识通灵</a>\n"
    "    <ol>\n"
    "      <li><a href=\"Text/ch1.xhtml#s1\">一僧一道</a></li>\n"
    "      <li><a href=\"Text/ch1.xhtml#s2\">通灵宝玉</a>\n"
    "        <ol><li><a href=\"Text/ch1.xhtml#s2a\">太虚幻境</a></li></ol></li>\n"
    "    </ol></li>\n"
    "  <li><a href=\"Text/ch2.xhtml\">第二回 贾夫人仙逝扬州城</a></li>\n"
    "  <li><a href=\"Text/ch3.xhtml\">第三回 托内兄如海荐西宾</a></li>\n"
    "</ol></nav>\n"
    "<nav epub:type=\"landmarks\" hidden=\"\"><ol>\n"
    "  <li><a epub:type=\"bodymatter\" href=\"Text/ch1.xhtml\">正文</a></li>\n"
    "  <li><a epub:type=\"cover\" href=\"Images/cover.png\">封面</a></li>\n"
    "</ol></nav>\n"
    "</body>\n</html>\n";

static void test_chinese_epub3(void)
{
	static const struct {
		const char *title, *href;
		int depth;
	} want_toc[] = {
	    {"第一回 甄士隐梦幻识通灵", "OEBPS/Text/ch1.xhtml", 0},
	    {"一僧一道", "OEBPS/Text/ch1.xhtml#s1", 1},
	    {"通灵宝玉", "OEBPS/Text/ch1.xhtml#s2", 1},
	    {"太虚幻境", "OEBPS/Text/ch1.xhtml#s2a", 2},
	    {"第二回 贾夫人仙逝扬州城", "OEBPS/Text/ch2.xhtml", 0},
	    {"第三回 托内兄如海荐西宾", "OEBPS/Text/ch3.xhtml", 0},
	};
	struct chapter_fixture ch[3] = {
	    {.path = "OEBPS/Text/ch1.xhtml"},
	    {.path = "OEBPS/Text/ch2.xhtml"},
	    {.path = "OEBPS/Text/ch3.xhtml"},
	};
	struct zent ents[16];
	size_t n = 0;
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	for (int i = 0; i < 3; i++)
		chapter_build(&ch[i], i);
	ents[n++] = (struct zent){"mimetype", "application/epub+zip", 0, Z_FILE};
	ents[n++] = (struct zent){"META-INF/", NULL, 0, Z_DIR};
	ents[n++] = (struct zent){"META-INF/container.xml", CONTAINER, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/content.opf", ZH_OPF, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/nav.xhtml", ZH_NAV, 0, Z_FILE};
	ents[n++] = (struct zent){"OEBPS/Images/", NULL, 0, Z_DIR};
	ents[n++] = (struct zent){"OEBPS/Images/cover.png", PNG_1x1, sizeof(PNG_1x1), Z_FILE};
	ents[n++] = (struct zent){"OEBPS/Styles/style.css", "p { margin: 0 }\n", 0, Z_FILE};
	for (int i = 0; i < 3; i++)
		ents[n++] = (struct zent){ch[i].path, ch[i].xhtml.s, ch[i].xhtml.n, Z_FILE};
	path_in(epub, sizeof(epub), "hongloumeng.epub");
	CHECK_EQ_INT(write_zip(epub, ents, n), 0);

	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	printf("zh-epub3: rc=%d title=%s toc=%zu passages=%zu %s\n", rc, check_s(b.meta.title),
	       b.ntoc, b.passages.n, err);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(b.version, "3.0");
	CHECK_STR(b.opf_path, "OEBPS/content.opf");
	CHECK_STR(b.meta.title, "红楼梦");
	CHECK_STR(b.meta.subtitle, "石头记");
	CHECK_EQ_INT(b.meta.nauthors, 2);
	CHECK_STR(b.meta.authors[0].name, "曹雪芹");
	CHECK_STR(b.meta.authors[0].role, "aut");
	CHECK_STR(b.meta.authors[1].name, "杨宪益");
	CHECK_STR(b.meta.authors[1].role, "trl");
	CHECK_CONTAINS(b.meta.isbn, "9787020002207");
	CHECK_STR(b.meta.language, "zh-CN");
	CHECK_STR(b.meta.publisher, "人民文学出版社");
	CHECK_STR(b.meta.date, "1982-03");
	CHECK_EQ_INT(b.meta.nsubjects, 2);
	CHECK_STR(b.meta.subjects[0], "古典小说");
	CHECK_STR(b.meta.subjects[1], "章回体");
	/* layout whitespace in the OPF collapses */
	CHECK_STR(b.meta.description, "中国古典四大名著之一， 以贾史王薛四大家族的兴衰为背景。");
	CHECK_STR(b.meta.series, "中国古典文学读本丛书");
	CHECK_STR(b.meta.series_index, "3");
	CHECK(b.rtl, "page-progression-direction=rtl not seen");
	CHECK(!b.has_scripts, "no scripts in this book");

	/* cover: the path, the type, and our copy is the PNG byte for byte */
	CHECK_STR(b.cover_path, "OEBPS/Images/cover.png");
	CHECK_STR(b.cover_media_type, "image/png");
	{
		const char *stored = epub_stored_name(&b, "OEBPS/Images/cover.png");
		char full[512];
		size_t len = 0;
		char *data;
		snprintf(full, sizeof(full), "%s/%s", dir, stored ? stored : "none");
		data = slurp(full, &len);
		CHECK(data && len == sizeof(PNG_1x1) && memcmp(data, PNG_1x1, len) == 0,
		      "stored cover %s differs from the PNG", check_s(stored));
		CHECK(stored && strcmp(stored + strlen(stored) - 4, ".png") == 0,
		      "stored cover name %s", check_s(stored));
		free(data);
	}

	/* files: 9 regular (mimetype, container, OPF, nav, PNG, CSS, 3 chapters); the two
	 * directory entries are not files; all under our names */
	CHECK_EQ_INT(b.nfiles, 9);
	{
		struct dir_scan s = scan_dir(dir);
		CHECK_EQ_INT(s.regular, 9);
		CHECK_EQ_INT(s.other, 0);
		CHECK_EQ_INT(s.foreign, 0);
	}
	for (size_t i = 0; i < b.nfiles; i++) {
		if (strcmp(b.files[i].path, "OEBPS/Styles/style.css") == 0)
			CHECK_STR(b.files[i].media_type, "text/css");
		if (strcmp(b.files[i].path, "OEBPS/Text/ch2.xhtml") == 0) {
			CHECK_STR(b.files[i].media_type, "application/xhtml+xml");
			CHECK_EQ_INT(b.files[i].size, ch[1].xhtml.n);
		}
	}

	/* spine and toc */
	CHECK_EQ_INT(b.nspine, 3);
	for (size_t i = 0; i < 3 && i < b.nspine; i++)
		CHECK_STR(b.spine[i], ch[i].path);
	CHECK_EQ_INT(b.ntoc, 6); /* the landmarks nav is not the table of contents */
	CHECK_EQ_INT(epub_chapter_count(&b), 6);
	for (size_t i = 0; i < 6 && i < b.ntoc; i++) {
		CHECK_STR(b.toc[i].title, want_toc[i].title);
		CHECK_STR(b.toc[i].href, want_toc[i].href);
		CHECK_EQ_INT(b.toc[i].depth, want_toc[i].depth);
	}

	/* passages: each is the chapter's plain text at its offset; together they cover the
	 * chapter with nothing but paragraph breaks between them */
	for (int c = 0; c < 3; c++) {
		const char *plain = ch[c].plain.s;
		size_t plen = ch[c].plain.n, next = 0, count = 0, bad = 0;
		bool first = true;
		for (size_t i = 0; i < b.passages.n; i++) {
			const struct passage *p = &b.passages.items[i];
			size_t len = strlen(p->text);
			if (strcmp(p->href, ch[c].path) != 0)
				continue;
			count++;
			if (p->offset + len > plen ||
			    memcmp(plain + p->offset, p->text, len) != 0) {
				if (!bad++)
					fprintf(stderr,
					        "  passage %zu of %s at %u (%zu bytes) is not the "
					        "chapter text there: \"%.60s\"\n",
					        i, p->href, p->offset, len, p->text);
				continue;
			}
			/* what lies between the previous passage and this one is only "\n" */
			for (size_t k = next; k < p->offset; k++)
				if (plain[k] != '\n') {
					bad++;
					fprintf(stderr, "  text lost in %s before offset %u\n",
					        p->href, p->offset);
					break;
				}
			if (first) {
				CHECK_EQ_INT(p->offset, 0);
				first = false;
			}
			CHECK(len <= PASSAGE_MAX, "%s passage %zu: %zu bytes", p->href, i, len);
			CHECK(utf8_valid(p->text, len), "%s passage %zu cut inside a character",
			      p->href, i);
			next = p->offset + len;
		}
		CHECK(count > 0, "no passages for %s", ch[c].path);
		CHECK_EQ_INT(bad, 0);
		CHECK_EQ_INT(next, plen - 1); /* up to the final paragraph break */
	}
	/* chapter 2: the first passage starts with the chapter's heading, then its first
	 * paragraph; the 4.5 KB paragraph was cut on sentence ends */
	{
		const struct passage *first2 = NULL;
		size_t n2 = 0;
		struct sb want = {0};
		sb_puts(&want, "第二回贾夫人仙逝扬州城\n");
		sb_puts(&want, ch[1].first_para);
		for (size_t i = 0; i < b.passages.n; i++)
			if (strcmp(b.passages.items[i].href, ch[1].path) == 0) {
				if (!first2)
					first2 = &b.passages.items[i];
				n2++;
			}
		CHECK(first2 && strncmp(first2->text, want.s, want.n) == 0,
		      "chapter 2 first passage \"%.80s\"", first2 ? first2->text : "(none)");
		CHECK(first2 && first2->offset == 0, "chapter 2 first passage offset");
		CHECK(n2 >= 3, "chapter 2 has %zu passages; its long paragraph was not cut", n2);
		for (size_t i = 0; i < b.passages.n; i++) {
			const struct passage *p = &b.passages.items[i];
			size_t len = strlen(p->text);
			if (strcmp(p->href, ch[1].path) == 0 && len >= PASSAGE_MIN &&
			    len < strlen(ch[1].plain.s) - 10)
				CHECK(strcmp(p->text + len - 3, "。") == 0 ||
				          strcmp(p->text + len - 3, "！") == 0 ||
				          strcmp(p->text + len - 3, "？") == 0 ||
				          strcmp(p->text + len - 3, "；") == 0,
				      "chapter 2 passage %zu does not end on a sentence end", i);
		}
		free(want.s);
	}
	CHECK(passages_have(&b, "黛玉方进入房时，只见两个人"),
	      "inline markup (<em>, <ruby>) breaks the paragraph");
	CHECK(!passages_have(&b, "zhi jian"), "<rt> text is not reading text");
	CHECK(!passages_have(&b, "text-indent"), "<style> text in passages");
	CHECK(!passages_have(&b, "目录"), "nav is not in the spine, so not in passages");
	epub_book_release(&b);

	/* max_passages caps what is kept for search */
	{
		struct epub_limits lim;
		epub_limits_default(&lim);
		lim.max_passages = 2;
		rc = read_into(epub, &lim, &b, err, sizeof(err), dir, sizeof(dir));
		CHECK_EQ_INT(rc, 0);
		CHECK_EQ_INT(b.passages.n, 2);
		CHECK_STR(b.meta.title, "红楼梦");
		epub_book_release(&b);
	}

	for (int i = 0; i < 3; i++) {
		free(ch[i].xhtml.s);
		free(ch[i].plain.s);
		free(ch[i].first_para);
	}
}

/* ---------- 3. EPUB 2 ---------- */

static const char E2_CONTAINER[] =
    "<?xml version=\"1.0\"?>\n"
    "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
    "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
    "media-type=\"application/oebps-package+xml\"/></rootfiles></container>\n";

static const char E2_OPF[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"2.0\" unique-identifier=\"uid\">\n"
    "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
    "xmlns:opf=\"http://www.idpf.org/2007/opf\">\n"
    "<dc:title>三国演义</dc:title>\n"
    "<dc:creator opf:role=\"aut\" opf:file-as=\"Luo, Guanzhong\">罗贯中</dc:creator>\n"
    "<dc:creator opf:role=\"edt\">毛宗岗</dc:creator>\n"
    "<dc:contributor opf:role=\"ill\">某画家</dc:contributor>\n"
    "<dc:language>zh</dc:language>\n"
    "<dc:identifier id=\"uid\" opf:scheme=\"ISBN\">9787020008735</dc:identifier>\n"
    "<dc:identifier opf:scheme=\"calibre\">4f1c2d3e</dc:identifier>\n"
    "<dc:description>&lt;p&gt;东汉末年，群雄并起。&lt;/p&gt;</dc:description>\n"
    "<meta name=\"cover\" content=\"img-front\"/>\n"
    "<meta name=\"calibre:series\" content=\"四大名著\"/>\n"
    "<meta name=\"calibre:series_index\" content=\"2\"/>\n"
    "</metadata>\n"
    "<manifest>\n"
    /* a decoy image whose id says "cover", listed first: the meta must win */
    "<item id=\"back-cover\" href=\"images/back.jpg\" media-type=\"image/jpeg\"/>\n"
    "<item id=\"img-front\" href=\"images/front.jpg\" media-type=\"image/jpeg\"/>\n"
    "<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>\n"
    "<item id=\"c1\" href=\"text/c1.html\" media-type=\"application/xhtml+xml\"/>\n"
    "<item id=\"c2\" href=\"text/c2.html\" media-type=\"application/xhtml+xml\"/>\n"
    "</manifest>\n"
    "<spine toc=\"ncx\"><itemref idref=\"c1\"/><itemref idref=\"c2\"/></spine>\n"
    "<guide><reference type=\"cover\" title=\"封面\" href=\"text/c1.html\"/></guide>\n"
    "</package>\n";

static const char E2_NCX[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<!DOCTYPE ncx PUBLIC \"-//NISO//DTD ncx 2005-1//EN\" "
    "\"http://www.daisy.org/z3986/2005/ncx-2005-1.dtd\">\n"
    "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\">\n"
    "<head><meta name=\"dtb:uid\" content=\"9787020008735\"/><meta name=\"dtb:depth\" "
    "content=\"2\"/></head>\n"
    "<docTitle><text>三国演义</text></docTitle>\n"
    "<docAuthor><text>罗贯中</text></docAuthor>\n"
    "<navMap>\n"
    "<navPoint id=\"n1\" playOrder=\"1\"><navLabel><text>第一回</text></navLabel>"
    "<content src=\"text/c1.html\"/>\n"
    "  <navPoint id=\"n2\" playOrder=\"2\"><navLabel><text>宴桃园豪杰三结义</text></navLabel>"
    "<content src=\"text/c1.html#a\"/></navPoint>\n"
    "  <navPoint id=\"n3\" playOrder=\"3\"><navLabel><text>斩黄巾英雄首立功</text></navLabel>"
    "<content src=\"text/c1.html#b\"/></navPoint>\n"
    "</navPoint>\n"
    "<navPoint id=\"n4\" playOrder=\"4\"><navLabel><text>第二回</text></navLabel>"
    "<content src=\"text/c2.html\"/></navPoint>\n"
    "</navMap>\n"
    "<pageList><navLabel><text>页码</text></navLabel>\n"
    "<pageTarget id=\"p1\" type=\"normal\" value=\"1\" playOrder=\"5\"><navLabel><text>1</text>"
    "</navLabel><content src=\"text/c1.html#page1\"/></pageTarget>\n"
    "</pageList>\n"
    "</ncx>\n";

static const char E2_C1[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" "
    "\"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\">\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>第一回</title></head><body>\n"
    "<h2 id=\"a\">宴桃园豪杰三结义</h2>\n"
    "<p>话说天下大势，分久必合，合久必分。&nbsp;NBSP_AFTER&mdash;续</p>\n"
    "<h2 id=\"b\">斩黄巾英雄首立功</h2>\n<p>且说张飞拍案而起。</p>\n"
    "</body></html>\n";

static const char E2_C2[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>第二回</title></head><body>\n"
    "<h2>第二回</h2><p>张翼德怒鞭督邮。</p></body></html>\n";

static void test_epub2(void)
{
	static const struct {
		const char *title, *href;
		int depth;
	} want_toc[] = {
	    {"第一回", "OEBPS/text/c1.html", 0},
	    {"宴桃园豪杰三结义", "OEBPS/text/c1.html#a", 1},
	    {"斩黄巾英雄首立功", "OEBPS/text/c1.html#b", 1},
	    {"第二回", "OEBPS/text/c2.html", 0},
	};
	struct zent ents[] = {
	    {"mimetype", "application/epub+zip", 0, Z_FILE},
	    {"META-INF/container.xml", E2_CONTAINER, 0, Z_FILE},
	    {"OEBPS/content.opf", E2_OPF, 0, Z_FILE},
	    {"OEBPS/toc.ncx", E2_NCX, 0, Z_FILE},
	    {"OEBPS/images/back.jpg", JPEG_STUB, sizeof(JPEG_STUB), Z_FILE},
	    {"OEBPS/images/front.jpg", JPEG_STUB, sizeof(JPEG_STUB), Z_FILE},
	    {"OEBPS/text/c1.html", E2_C1, 0, Z_FILE},
	    {"OEBPS/text/c2.html", E2_C2, 0, Z_FILE},
	};
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	path_in(epub, sizeof(epub), "sanguo-epub2.epub");
	CHECK_EQ_INT(write_zip(epub, ents, sizeof(ents) / sizeof(ents[0])), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	printf("epub2: rc=%d title=%s toc=%zu cover=%s %s\n", rc, check_s(b.meta.title), b.ntoc,
	       check_s(b.cover_path), err);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(b.version, "2.0");
	CHECK_STR(b.meta.title, "三国演义");
	CHECK_STR(b.meta.language, "zh");
	CHECK_STR(b.meta.isbn, "9787020008735");
	CHECK_EQ_INT(b.meta.nauthors, 3);
	CHECK_STR(b.meta.authors[0].name, "罗贯中");
	CHECK_STR(b.meta.authors[0].role, "aut");
	CHECK_STR(b.meta.authors[1].name, "毛宗岗");
	CHECK_STR(b.meta.authors[1].role, "edt");
	CHECK_STR(b.meta.authors[2].name, "某画家");
	CHECK_STR(b.meta.authors[2].role, "ill");
	CHECK_STR(b.meta.series, "四大名著");
	CHECK_STR(b.meta.series_index, "2");
	/* bookmeta.h: description is plain text, markup removed; calibre escapes HTML here */
	CHECK_STR(b.meta.description, "东汉末年，群雄并起。");
	/* meta name="cover" wins over an image whose id merely says cover */
	CHECK_STR(b.cover_path, "OEBPS/images/front.jpg");
	CHECK_STR(b.cover_media_type, "image/jpeg");
	CHECK(stored_starts_with(&b, dir, "OEBPS/images/front.jpg", JPEG_MAGIC, 3),
	      "stored EPUB 2 cover is not a JPEG");
	CHECK(!b.rtl, "EPUB 2 book is not rtl");
	/* toc from the NCX navMap, nesting as depth; the pageList is not the table of contents */
	CHECK_EQ_INT(b.ntoc, 4);
	CHECK_EQ_INT(epub_chapter_count(&b), 4);
	for (size_t i = 0; i < 4 && i < b.ntoc; i++) {
		CHECK_STR(b.toc[i].title, want_toc[i].title);
		CHECK_STR(b.toc[i].href, want_toc[i].href);
		CHECK_EQ_INT(b.toc[i].depth, want_toc[i].depth);
	}
	for (size_t i = 0; i < b.ntoc; i++)
		CHECK(!check_has(b.toc[i].href, "#page1"), "pageList target %s in the toc",
		      b.toc[i].href);
	/* an XHTML 1.1 DOCTYPE with &nbsp; (EPUB 2 books are full of them) reads through */
	CHECK(passages_have(&b, "NBSP_AFTER"), "text after &nbsp; lost");
	CHECK(passages_have(&b, "且说张飞拍案而起。"), "text after the entity's paragraph lost");
	CHECK(passages_have(&b, "张翼德怒鞭督邮。"), "chapter 2 text missing");
	epub_book_release(&b);
}

/* A nav whose links wrap their label in a <span> (common in publisher books). */
static void test_nav_span_in_link(void)
{
	static const char nav[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
	    "xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
	    "<head><title>目录</title></head><body>\n"
	    "<nav epub:type=\"toc\"><ol>\n"
	    "<li><a href=\"ch1.xhtml\"><span class=\"n\">1</span> 第一章</a></li>\n"
	    "<li><a href=\"ch2.xhtml\"><span>第二章</span></a></li>\n"
	    "</ol></nav></body></html>\n";
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	CHECK_EQ_INT(build_epub("navspan.epub", NULL, nav, NULL, NULL, 0, epub, sizeof(epub)), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(b.ntoc, 2);
	if (b.ntoc == 2) {
		CHECK_STR(b.toc[0].title, "1 第一章");
		CHECK_STR(b.toc[0].href, "OEBPS/ch1.xhtml");
		CHECK_STR(b.toc[1].title, "第二章");
		CHECK_STR(b.toc[1].href, "OEBPS/ch2.xhtml");
	}
	epub_book_release(&b);
}

/* ---------- 4. hostile input ---------- */

static int read_bytes_as_epub(const char *name, const void *data, size_t len, char *err,
                              size_t errlen)
{
	char path[256], dir[256];
	struct epub_book b;
	int rc;

	path_in(path, sizeof(path), name);
	if (write_bytes(path, data, len) != 0)
		return 12345;
	rc = read_into(path, NULL, &b, err, errlen, dir, sizeof(dir));
	epub_book_release(&b);
	return rc;
}

static void test_no_container(void)
{
	struct zent ents[] = {
	    {"mimetype", "application/epub+zip", 0, Z_FILE},
	    {"OEBPS/content.opf", MIN_OPF, 0, Z_FILE},
	    {"OEBPS/ch1.xhtml", MIN_CH1, 0, Z_FILE},
	};
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	path_in(epub, sizeof(epub), "nocontainer.epub");
	CHECK_EQ_INT(write_zip(epub, ents, 3), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK_CONTAINS(err, "container.xml");
	epub_book_release(&b);
}

static void test_missing_opf(void)
{
	static const char container[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">"
	    "<rootfiles><rootfile full-path=\"OEBPS/missing.opf\" "
	    "media-type=\"application/oebps-package+xml\"/></rootfiles></container>\n";
	struct zent ents[] = {
	    {"mimetype", "application/epub+zip", 0, Z_FILE},
	    {"META-INF/container.xml", container, 0, Z_FILE},
	    {"OEBPS/content.opf", MIN_OPF, 0, Z_FILE},
	    {"OEBPS/ch1.xhtml", MIN_CH1, 0, Z_FILE},
	};
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	path_in(epub, sizeof(epub), "missingopf.epub");
	CHECK_EQ_INT(write_zip(epub, ents, 4), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK(err[0] != '\0', "missing OPF: no error text");
	epub_book_release(&b);
}

static void test_entities(void)
{
	/* billion laughs: ten levels of ten references each */
	struct sb opf = {0};
	char epub[256], dir[256], err[256];
	struct epub_book b;
	double t0, dt;
	int rc;

	sb_puts(&opf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE package [\n"
	              "  <!ENTITY x0 \"哈哈哈哈哈哈哈哈哈哈\">\n");
	for (int i = 1; i < 10; i++) {
		sb_printf(&opf, "  <!ENTITY x%d \"", i);
		for (int k = 0; k < 10; k++)
			sb_printf(&opf, "&x%d;", i - 1);
		sb_puts(&opf, "\">\n");
	}
	sb_puts(&opf, "]>\n"
	              "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">\n"
	              "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
	              "<dc:title>&x9;</dc:title><dc:language>zh</dc:language></metadata>\n"
	              "<manifest><item id=\"ch1\" href=\"ch1.xhtml\" "
	              "media-type=\"application/xhtml+xml\"/></manifest>\n"
	              "<spine><itemref idref=\"ch1\"/></spine></package>\n");
	CHECK_EQ_INT(build_epub("laughs.epub", opf.s, NULL, NULL, NULL, 0, epub, sizeof(epub)), 0);
	t0 = now_s();
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	dt = now_s() - t0;
	printf("hostile billion-laughs: rc=%d in %.1f ms: %s\n", rc, dt * 1000, err);
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK_CONTAINS(err, "实体");
	CHECK(dt < 2.0, "entity OPF took %.2f s", dt);
	CHECK(b.meta.title == NULL || strlen(b.meta.title) < 1000, "entities were expanded");
	epub_book_release(&b);
	free(opf.s);

	/* one internal entity in a chapter */
	{
		static const char ch1[] =
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<!DOCTYPE html [<!ENTITY secret \"ENTITY_TEXT\">]>\n"
		    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>x</title></head>"
		    "<body><p>&secret;</p></body></html>\n";
		CHECK_EQ_INT(
		    build_epub("chapent.epub", NULL, NULL, ch1, NULL, 0, epub, sizeof(epub)), 0);
		rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
		CHECK_EQ_INT(rc, -EBADMSG);
		CHECK_CONTAINS(err, "实体");
		CHECK(!passages_have(&b, "ENTITY_TEXT"), "chapter entity expanded");
		epub_book_release(&b);
	}
	/* an external entity (file read) in a chapter */
	{
		static const char ch1[] =
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<!DOCTYPE html [<!ENTITY ext SYSTEM \"file:///etc/passwd\">]>\n"
		    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>x</title></head>"
		    "<body><p>&ext;</p></body></html>\n";
		CHECK_EQ_INT(
		    build_epub("extent.epub", NULL, NULL, ch1, NULL, 0, epub, sizeof(epub)), 0);
		rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
		CHECK_EQ_INT(rc, -EBADMSG);
		CHECK(!passages_have(&b, "root:"), "external entity read a file");
		epub_book_release(&b);
	}
	/* an entity declaration in the nav of a book that also has an NCX: still refused */
	{
		static const char opf2[] =
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">\n"
		    "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
		    "<dc:title>导航实体</dc:title><dc:language>zh</dc:language></metadata>\n"
		    "<manifest>"
		    "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
		    "properties=\"nav\"/>"
		    "<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>"
		    "<item id=\"ch1\" href=\"ch1.xhtml\" media-type=\"application/xhtml+xml\"/>"
		    "</manifest>\n"
		    "<spine toc=\"ncx\"><itemref idref=\"ch1\"/></spine></package>\n";
		static const char nav[] =
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<!DOCTYPE html [<!ENTITY t \"NAV_ENTITY\">]>\n"
		    "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
		    "xmlns:epub=\"http://www.idpf.org/2007/ops\"><head><title>t</title></"
		    "head><body>"
		    "<nav epub:type=\"toc\"><ol><li><a href=\"ch1.xhtml\">&t;</a></li></ol></nav>"
		    "</body></html>\n";
		static const char ncx[] =
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\">"
		    "<navMap><navPoint id=\"n1\"><navLabel><text>第一章</text></navLabel>"
		    "<content src=\"ch1.xhtml\"/></navPoint></navMap></ncx>\n";
		struct zent extra[] = {{"OEBPS/toc.ncx", ncx, 0, Z_FILE}};
		CHECK_EQ_INT(
		    build_epub("navent.epub", opf2, nav, NULL, extra, 1, epub, sizeof(epub)), 0);
		rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
		printf("hostile nav-entity-with-ncx: rc=%d ntoc=%zu %s\n", rc, b.ntoc, err);
		CHECK_EQ_INT(rc, -EBADMSG);
		CHECK_CONTAINS(err, "实体");
		epub_book_release(&b);
	}
}

static void test_scripts(void)
{
	static const char with_script[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>s</title>"
	    "<script type=\"text/javascript\">var HEAD_SCRIPT = 1;</script></head>\n"
	    "<body><p>脚本之前的文字VISIBLE_ONE</p>"
	    "<script>document.write('BODY_SCRIPT_TEXT');</script>"
	    "<p>脚本之后的文字VISIBLE_TWO</p></body></html>\n";
	static const char with_onclick[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>s</title></head>\n"
	    "<body><p onclick=\"steal()\">点我VISIBLE_THREE</p></body></html>\n";
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	CHECK_EQ_INT(
	    build_epub("script.epub", NULL, NULL, with_script, NULL, 0, epub, sizeof(epub)), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, 0);
	CHECK(b.has_scripts, "<script> not noticed");
	CHECK(passages_have(&b, "VISIBLE_ONE") && passages_have(&b, "VISIBLE_TWO"),
	      "text around the script lost");
	CHECK(!passages_have(&b, "BODY_SCRIPT_TEXT"), "script text in passages");
	CHECK(!passages_have(&b, "HEAD_SCRIPT"), "head script text in passages");
	epub_book_release(&b);

	CHECK_EQ_INT(
	    build_epub("onclick.epub", NULL, NULL, with_onclick, NULL, 0, epub, sizeof(epub)), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, 0);
	CHECK(b.has_scripts, "onclick not noticed");
	CHECK(passages_have(&b, "VISIBLE_THREE"), "onclick paragraph text lost");
	CHECK(!passages_have(&b, "steal"), "attribute value in passages");
	epub_book_release(&b);

	/* and the plain book says it has none */
	CHECK_EQ_INT(build_epub("noscript.epub", NULL, NULL, NULL, NULL, 0, epub, sizeof(epub)), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, 0);
	CHECK(!b.has_scripts, "a book without scripts flagged");
	CHECK(passages_have(&b, "FIRST_CHAPTER") && passages_have(&b, "SECOND_CHAPTER"),
	      "minimal book passages");
	epub_book_release(&b);
}

static void test_traversal_and_links(void)
{
	struct zent extras[] = {
	    {"../../evil.txt", "EVIL", 0, Z_FILE},
	    {"/abs/evil.txt", "EVIL", 0, Z_FILE},
	    {"OEBPS/../../evil2.txt", "EVIL", 0, Z_FILE},
	    {"OEBPS/link.xhtml", "/etc/passwd", 0, Z_LINK},
	    {"OEBPS/uplink", "../../../../../../tmp", 0, Z_LINK},
	};
	char epub[256], deep[256], dir[512], err[256], probe[700];
	struct epub_book b;
	struct dir_scan s;
	int rc;

	CHECK_EQ_INT(build_epub("traversal.epub", NULL, NULL, NULL, extras, 5, epub, sizeof(epub)),
	             0);
	/* unpack three levels down so that "../../" would still land inside our temp dir */
	path_in(deep, sizeof(deep), "t1");
	mkdir(deep, 0700);
	path_in(deep, sizeof(deep), "t1/t2");
	mkdir(deep, 0700);
	snprintf(dir, sizeof(dir), "%s/u", deep);
	mkdir(dir, 0700);
	rc = epub_read(epub, dir, NULL, &b, err, sizeof(err));
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(b.meta.title, "最小的书");
	for (const char *const *p =
	         (const char *const[]){"t1/t2/evil.txt", "t1/evil.txt", "evil.txt", "t1/evil2.txt",
	                               "t1/t2/evil2.txt", NULL};
	     *p; p++) {
		path_in(probe, sizeof(probe), *p);
		CHECK(!exists(probe), "%s was written", probe);
	}
	CHECK(!exists("/abs/evil.txt"), "/abs/evil.txt was written");
	CHECK(!exists("/evil.txt"), "/evil.txt was written");
	s = scan_dir(dir);
	CHECK_EQ_INT(s.links, 0);
	CHECK_EQ_INT(s.other, 0);
	CHECK_EQ_INT(s.foreign, 0);
	CHECK_EQ_INT(s.regular, b.nfiles);
	CHECK_EQ_INT(b.nfiles, 6); /* the book's own six, nothing else */
	for (const char *const *p =
	         (const char *const[]){"../../evil.txt", "evil.txt", "/abs/evil.txt",
	                               "abs/evil.txt", "evil2.txt", "OEBPS/link.xhtml",
	                               "OEBPS/uplink", NULL};
	     *p; p++)
		CHECK(epub_stored_name(&b, *p) == NULL, "map has %s", *p);
	for (size_t i = 0; i < b.nfiles; i++)
		CHECK(!strstr(b.files[i].path, "evil") && !strstr(b.files[i].path, "link") &&
		          b.files[i].path[0] != '/' && !strstr(b.files[i].path, ".."),
		      "map has %s", b.files[i].path);
	epub_book_release(&b);
}

static void test_limits(void)
{
	struct zent bomb[] = {
	    {"mimetype", "application/epub+zip", 0, Z_FILE},
	    {"META-INF/container.xml", CONTAINER, 0, Z_FILE},
	    {"OEBPS/content.opf", MIN_OPF, 0, Z_FILE},
	    {"OEBPS/zeros.bin", NULL, (size_t)300 << 20, Z_ZEROS},
	    {"OEBPS/nav.xhtml", MIN_NAV, 0, Z_FILE},
	    {"OEBPS/ch1.xhtml", MIN_CH1, 0, Z_FILE},
	    {"OEBPS/ch2.xhtml", MIN_CH2, 0, Z_FILE},
	};
	char epub[256], dir[256], err[256];
	struct epub_book b;
	struct epub_limits lim;
	struct stat st;
	double t0;
	int rc;

	/* a zip bomb: 300 MiB of zeros deflated (about 1,000:1) */
	path_in(epub, sizeof(epub), "bomb.epub");
	t0 = now_s();
	CHECK_EQ_INT(write_zip(epub, bomb, sizeof(bomb) / sizeof(bomb[0])), 0);
	CHECK(stat(epub, &st) == 0 && st.st_size < (2 << 20), "bomb is %lld bytes",
	      (long long)st.st_size);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	printf("hostile zip-bomb: %lld bytes → 300 MiB, rc=%d (%.1f s) %s\n", (long long)st.st_size,
	       rc, now_s() - t0, err);
	CHECK_EQ_INT(rc, -E2BIG);
	CHECK(err[0] != '\0', "bomb: no error text");
	epub_book_release(&b);
	unlink(epub);
	rm_tree(dir);

	/* total size over the limit */
	CHECK_EQ_INT(build_epub("limits.epub", NULL, NULL, NULL, NULL, 0, epub, sizeof(epub)), 0);
	epub_limits_default(&lim);
	lim.max_total = 1000;
	rc = read_into(epub, &lim, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, -EFBIG);
	CHECK(err[0] != '\0', "max_total: no error text");
	epub_book_release(&b);
	/* ... and the same book within the limit */
	lim.max_total = 1 << 20;
	rc = read_into(epub, &lim, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, 0);
	epub_book_release(&b);

	/* too many entries: the book has 6 */
	epub_limits_default(&lim);
	lim.max_entries = 5;
	rc = read_into(epub, &lim, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, -E2BIG);
	CHECK(err[0] != '\0', "max_entries: no error text");
	epub_book_release(&b);
	lim.max_entries = 6;
	rc = read_into(epub, &lim, &b, err, sizeof(err), dir, sizeof(dir));
	CHECK_EQ_INT(rc, 0);
	epub_book_release(&b);
}

static void test_garbage(void)
{
	char path[256], err[256], cut[256];
	unsigned char rnd[8192];
	uint32_t x = 2463534242u;
	char *whole;
	size_t len = 0;
	int rc;
	static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
	                          "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
	                          "trailer << /Root 1 0 R >>\n%%EOF\n";

	/* truncated: a valid EPUB cut at several points (half first) */
	CHECK_EQ_INT(build_epub("whole.epub", NULL, NULL, NULL, NULL, 0, path, sizeof(path)), 0);
	whole = slurp(path, &len);
	CHECK(whole && len > 100, "whole.epub");
	if (whole) {
		const size_t cuts[] = {len / 2, len / 4, len * 3 / 4, len - 10, 30};
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			snprintf(cut, sizeof(cut), "cut%zu.epub", i);
			rc = read_bytes_as_epub(cut, whole, cuts[i], err, sizeof(err));
			if (i == 0)
				printf("hostile truncated: rc=%d %s\n", rc, err);
			CHECK(rc < 0, "EPUB cut at %zu of %zu bytes: rc %d", cuts[i], len, rc);
		}
		free(whole);
	}

	for (size_t i = 0; i < sizeof(rnd); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rnd[i] = (unsigned char)x;
	}
	rnd[0] = 'Q'; /* never "PK" */
	rc = read_bytes_as_epub("random.epub", rnd, sizeof(rnd), err, sizeof(err));
	CHECK_EQ_INT(rc, -EBADMSG);
	CHECK(err[0] != '\0', "random bytes: no error text");

	rc = read_bytes_as_epub("empty.epub", "", 0, err, sizeof(err));
	CHECK_EQ_INT(rc, -EBADMSG);

	rc = read_bytes_as_epub("document.epub", pdf, sizeof(pdf) - 1, err, sizeof(err));
	CHECK_EQ_INT(rc, -EBADMSG);

	/* a missing file is not a crash either */
	{
		char dir[256];
		struct epub_book b;
		path_in(path, sizeof(path), "does-not-exist.epub");
		rc = read_into(path, NULL, &b, err, sizeof(err), dir, sizeof(dir));
		CHECK(rc < 0, "missing file rc %d", rc);
		epub_book_release(&b);
	}
}

static void test_no_title(void)
{
	static const char opf[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">\n"
	    "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	    "<dc:creator>无名氏</dc:creator><dc:language>zh</dc:language></metadata>\n"
	    "<manifest><item id=\"ch1\" href=\"ch1.xhtml\" media-type=\"application/xhtml+xml\"/>"
	    "</manifest>\n<spine><itemref idref=\"ch1\"/></spine></package>\n";
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	CHECK_EQ_INT(build_epub("notitle.epub", opf, NULL, NULL, NULL, 0, epub, sizeof(epub)), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	/* the book still reads; the caller names it (manifest title, file name) */
	CHECK_EQ_INT(rc, 0);
	CHECK(b.meta.title == NULL, "no title invented by the reader");
	CHECK(b.meta.nauthors == 1, "the rest of the metadata is read");
	epub_book_release(&b);
}

static void test_tag_soup(void)
{
	static const char soup[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>soup</title></head>\n"
	    "<body>\n<p>错误之前的第一段BEFORE_SOUP\n<p>错误之前的第二段ALSO_BEFORE<br>\n"
	    "<p>这里有一个&nbsp;AFTER_NBSP\n</body></html>\n";
	char epub[256], dir[256], err[256];
	struct epub_book b;
	int rc;

	CHECK_EQ_INT(build_epub("soup.epub", NULL, NULL, soup, NULL, 0, epub, sizeof(epub)), 0);
	rc = read_into(epub, NULL, &b, err, sizeof(err), dir, sizeof(dir));
	printf("hostile tag-soup: rc=%d passages=%zu\n", rc, b.passages.n);
	CHECK_EQ_INT(rc, 0);
	CHECK(passages_have(&b, "BEFORE_SOUP"), "text before the error lost");
	CHECK(passages_have(&b, "ALSO_BEFORE"), "second paragraph before the error lost");
	CHECK(passages_have(&b, "SECOND_CHAPTER"), "the chapter after the tag soup not read");
	CHECK_STR(b.meta.title, "最小的书");
	epub_book_release(&b);
}

/* The list fills up in the middle of a paragraph far longer than a passage: the rest is
 * dropped, never copied past the buffer (a 15 MB book once crashed the server here). */
static void test_passage_list_full(void)
{
	struct passage_list pl = {.max_items = 1};
	size_t n = 10000;
	char *text = malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	text[n] = '\0';
	CHECK_EQ_INT(passage_split(&pl, "c.xhtml", "short\n", 6), 0);
	CHECK_EQ_INT(passage_split(&pl, "c.xhtml", text, n), 0);
	CHECK(pl.n == 1, "one passage kept (%zu)", pl.n);
	passage_list_release(&pl);
	pl.max_items = 2;
	CHECK_EQ_INT(passage_split(&pl, "c.xhtml", text, n), 0);
	CHECK(pl.n == 2, "two passages kept (%zu)", pl.n);
	for (size_t i = 0; i < pl.n; i++)
		CHECK(strlen(pl.items[i].text) <= PASSAGE_MAX, "passage %zu within the cap", i);
	passage_list_release(&pl);
	free(text);
}

int main(void)
{
	snprintf(g_base, sizeof(g_base), "/tmp/sx-test-epub-XXXXXX");
	if (!mkdtemp(g_base)) {
		perror("mkdtemp");
		return 2;
	}

	test_passage_list_full();
	test_corpus();
	test_chinese_epub3();
	test_epub2();
	test_nav_span_in_link();
	test_no_container();
	test_missing_opf();
	test_entities();
	test_scripts();
	test_traversal_and_links();
	test_limits();
	test_garbage();
	test_no_title();
	test_tag_soup();

	CHECK(rm_tree(g_base) == 0 && !exists(g_base), "could not remove %s", g_base);
	CHECK_DONE();
}
