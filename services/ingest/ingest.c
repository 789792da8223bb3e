/*
 * Ingest: blob → resource. One function per source format builds the renditions in a staging
 * directory; one transaction creates the row and renames the directory to DATA/media/<id>, so a
 * reader never sees a half-made book and a crash leaves at most an orphan staging folder.
 */
#include "ingest.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "bundle.h"
#include "catalog/isbn.h"
#include "catalog/resource.h"
#include "cover.h"
#include "epub.h"
#include "fsutil.h"
#include "log.h"
#include "oplog.h"
#include "pdf.h"
#include "txt.h"

#define BOOK_MAX_BYTES ((uint64_t)1 << 30)
#define MANIFEST_NAME_CSV "manifest.csv"
#define MANIFEST_NAME_JSON "manifest.json"

/* ---------- what a file is ---------- */

enum book_format { FMT_EPUB, FMT_PDF, FMT_TXT, FMT_NONE };

/* A zip whose first entry is "mimetype" (or that holds META-INF/container.xml) is a book. */
static bool zip_is_epub(const char *path)
{
	struct bundle_limits lim;
	struct bundle *b;
	struct bundle_entry e;
	bool epub = false;
	char err[64];

	bundle_limits_default(&lim);
	if (bundle_open(&b, path, &lim, err, sizeof(err)))
		return false;
	for (int i = 0; i < 8; i++) {
		int rc = bundle_next(b, &e);
		if (rc == 1 || (rc < 0 && rc != -EPERM))
			break;
		if (rc == 0 && (strcmp(e.name, "mimetype") == 0 ||
		                strcmp(e.name, "META-INF/container.xml") == 0)) {
			epub = true;
			break;
		}
	}
	bundle_close(b);
	return epub;
}

static ssize_t read_head(const char *path, unsigned char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n);
	close(fd);
	return r;
}

static enum book_format sniff_book(const char *path)
{
	unsigned char head[4096];
	const char *charset;
	ssize_t n = read_head(path, head, sizeof(head));

	if (n <= 0)
		return FMT_NONE;
	if (n >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return FMT_PDF;
	if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0)
		return zip_is_epub(path) ? FMT_EPUB : FMT_NONE;
	/* cut the sample on a character boundary is not needed: detection tolerates a tail */
	if (txt_detect(head, (size_t)n, &charset) == 0)
		return FMT_TXT;
	return FMT_NONE;
}

/* Audio and video containers by their first bytes; playlists too (#EXTM3U, ffconcat), so
 * that they reach the media job and are refused there with a reason instead of being taken
 * for text. */
static bool is_media_head(const unsigned char *h, ssize_t n)
{
	if (n >= 12 && memcmp(h + 4, "ftyp", 4) == 0)
		return true; /* MP4, MOV, M4A, M4B, 3GP */
	if (n >= 4 && memcmp(h, "\x1a\x45\xdf\xa3", 4) == 0)
		return true; /* Matroska, WebM */
	if (n >= 12 && memcmp(h, "RIFF", 4) == 0 &&
	    (memcmp(h + 8, "AVI ", 4) == 0 || memcmp(h + 8, "WAVE", 4) == 0))
		return true;
	if (n >= 4 && (memcmp(h, "OggS", 4) == 0 || memcmp(h, "fLaC", 4) == 0))
		return true;
	if (n >= 3 && (memcmp(h, "ID3", 3) == 0 || memcmp(h, "FLV", 3) == 0))
		return true;
	if (n >= 2 && h[0] == 0xff && (h[1] & 0xe0) == 0xe0)
		return true; /* an MPEG audio or ADTS frame: UTF-8 and GBK text never hold 0xFF */
	if (n >= 377 && h[0] == 0x47 && h[188] == 0x47 && h[376] == 0x47)
		return true; /* MPEG-TS */
	if (n >= 7 && memcmp(h, "#EXTM3U", 7) == 0)
		return true;
	if (n >= 16 && memcmp(h, "ffconcat version", 16) == 0)
		return true;
	return false;
}

enum ingest_kind ingest_sniff_path(const char *path)
{
	unsigned char head[512];
	ssize_t n = read_head(path, head, sizeof(head));

	if (is_media_head(head, n))
		return INGEST_MEDIA;

	if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0)
		return zip_is_epub(path) ? INGEST_FILE : INGEST_BUNDLE;
	if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return INGEST_BUNDLE; /* gzip: a .tar.gz bundle */
	if (n >= 262 && memcmp(head + 257, "ustar", 5) == 0)
		return INGEST_BUNDLE;
	return n > 0 ? INGEST_FILE : INGEST_UNKNOWN;
}

/* ---------- renditions ---------- */

struct built {
	struct book_meta meta;
	struct passage_list passages;
	enum book_format fmt;
	int pages, chapters;
	struct cover_info cover;
	bool have_cover, cover_generated;
	long long epub_bytes;
};

static void built_release(struct built *b)
{
	book_meta_release(&b->meta);
	passage_list_release(&b->passages);
}

/* book.json beside the unpacked files: the map from the book's paths to ours, the spine and
 * the table of contents, for the reader and the content server. */
static int write_book_json(const struct epub_book *book, const char *dir)
{
	json_t *files = json_object(), *spine = json_array(), *toc = json_array(), *root;
	char path[4096];
	int rc;

	for (size_t i = 0; i < book->nfiles; i++)
		json_object_set_new(files, book->files[i].path,
		                    json_pack("{s:s,s:s,s:I}", "file", book->files[i].stored,
		                              "type", book->files[i].media_type, "bytes",
		                              (json_int_t)book->files[i].size));
	for (size_t i = 0; i < book->nspine; i++)
		json_array_append_new(spine, json_string(book->spine[i]));
	for (size_t i = 0; i < book->ntoc; i++)
		json_array_append_new(toc, json_pack("{s:s,s:s,s:i}", "title", book->toc[i].title,
		                                     "href", book->toc[i].href, "depth",
		                                     book->toc[i].depth));
	root = json_pack(
	    "{s:s,s:s,s:o,s:b,s:b,s:o,s:o,s:o}", "version", book->version, "opf", book->opf_path,
	    "cover", book->cover_path ? json_string(book->cover_path) : json_null(), "rtl",
	    book->rtl, "scripts", book->has_scripts, "spine", spine, "toc", toc, "files", files);
	if (!root)
		return -ENOMEM;
	ingest_pathf(path, sizeof(path), "%s/book.json", dir);
	rc = json_dump_file(root, path, JSON_COMPACT) ? -EIO : 0;
	json_decref(root);
	return rc;
}

static int read_file_mem(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t got = 0;

	*out = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* An EPUB (uploaded, or written from a TXT) → tmp/epub + metadata + passages + its cover. */
static int build_epub(const char *src, const char *tmp, struct built *b, struct ingest_outcome *out)
{
	struct epub_book book;
	char dir[4096], err[256];
	int rc;

	snprintf(dir, sizeof(dir), "%s/epub", tmp);
	if (mkdir(dir, 0750)) {
		ingest_fail(out, true, "无法创建临时目录");
		return -EIO;
	}
	rc = epub_read(src, dir, NULL, &book, err, sizeof(err));
	if (rc) {
		ingest_fail(out, rc == -EIO, "%s", err[0] ? err : "EPUB 无法读取");
		epub_book_release(&book);
		return rc;
	}
	if ((rc = write_book_json(&book, dir))) {
		/* -ENOMEM is also what a book path that is not UTF-8 gives: not worth a retry */
		ingest_fail(out, rc == -EIO, "EPUB 的文件名无法识别或无法写入 book.json");
		epub_book_release(&book);
		return rc;
	}
	b->meta = book.meta;
	memset(&book.meta, 0, sizeof(book.meta));
	b->passages = book.passages;
	memset(&book.passages, 0, sizeof(book.passages));
	b->chapters = (int)epub_chapter_count(&book);
	ingest_dir_bytes(dir, &b->epub_bytes);
	if (book.cover_path) {
		const char *stored = epub_stored_name(&book, book.cover_path);
		char cpath[4096], cdir[4096];
		char *img = NULL;
		size_t len = 0;

		ingest_pathf(cpath, sizeof(cpath), "%s/%s", dir, stored);
		snprintf(cdir, sizeof(cdir), "%s/cover", tmp);
		if (stored && read_file_mem(cpath, 64u << 20, &img, &len) == 0 &&
		    mkdir(cdir, 0750) == 0 &&
		    cover_from_image(img, len, cdir, &b->cover, err, sizeof(err)) == 0)
			b->have_cover = true;
		else
			fs_remove_tree(cdir); /* a broken cover image: a drawn one replaces it */
		free(img);
	}
	epub_book_release(&book);
	return 0;
}

static int build_pdf(const char *src, const char *tmp, struct built *b, struct ingest_outcome *out)
{
	struct pdf_doc *d = NULL;
	char err[256], dir[4096], dst[4096];
	int rc;

	rc = pdf_open(&d, src, err, sizeof(err));
	if (rc) {
		ingest_fail(out, false, "%s", err[0] ? err : "PDF 无法打开");
		return rc;
	}
	b->pages = pdf_page_count(d);
	if ((rc = pdf_meta(d, &b->meta)) || (rc = pdf_passages(d, 0, &b->passages))) {
		ingest_fail(out, true, "PDF 读取失败（内存不足）");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/cover", tmp);
	if (mkdir(dir, 0750) == 0 && pdf_render_cover(d, 0, dir, &b->cover, err, sizeof(err)) == 0)
		b->have_cover = true;
	else
		fs_remove_tree(dir);
	/* The PDF itself is the rendition pdf.js reads: a hard link to the immutable blob. */
	snprintf(dir, sizeof(dir), "%s/pdf", tmp);
	ingest_pathf(dst, sizeof(dst), "%s/book.pdf", dir);
	if (mkdir(dir, 0750) || (link(src, dst) && fs_copy_file(src, dst, 0640))) {
		ingest_fail(out, true, "无法写入 PDF 副本");
		rc = -EIO;
	}
out:
	pdf_close(d);
	return rc;
}

static int build_txt(const char *src, const char *tmp, const char *hex, const char *title,
                     const struct manifest_row *row, struct ingest_ctx *x, struct built *b,
                     struct ingest_outcome *out)
{
	struct txt_epub_opts opts = {0};
	struct txt_epub_result res = {0};
	char epub[4096], ident[96], err[256];
	int rc;

	snprintf(epub, sizeof(epub), "%s/txt.epub", tmp);
	snprintf(ident, sizeof(ident), "urn:sha256:%s", hex);
	opts.title = row && row->title && *row->title ? row->title : title;
	opts.author = row && row->authors && *row->authors ? row->authors : NULL;
	opts.language = row && row->language && *row->language ? row->language : NULL;
	opts.identifier = ident;
	opts.modified = x->app->now();
	opts.store = true; /* unpacked right below, then removed */
	rc = txt_to_epub(src, epub, 256u << 20, &opts, &res, err, sizeof(err));
	txt_epub_result_release(&res);
	if (rc) {
		ingest_fail(out, rc == -EIO || rc == -ENOMEM, "%s",
		            err[0] ? err : "TXT 无法转换为 EPUB");
		return rc;
	}
	rc = build_epub(epub, tmp, b, out);
	unlink(epub); /* the unpacked book is the rendition; the TXT stays as the source blob */
	return rc;
}

/* ---------- one file ---------- */

int ingest_blob(struct ingest_ctx *x, const char *hex, const char *name,
                const struct manifest_row *row, struct ingest_outcome *out)
{
	struct app *app = x->app;
	struct built b = {0};
	struct ingest_terms terms;
	struct resource_new rn = {0};
	struct resource_rendition rend[3];
	char src[4096], tmp[4096] = "", title[512];
	int nrend = 0, rc;
	struct db *db;

	if (ingest_prelude(x, hex, row, &db, &terms, out))
		return 0;
	if ((rc = blob_path(app->blobs, hex, src, sizeof(src))) || access(src, R_OK)) {
		ingest_fail(out, false, "上传的文件已不存在（请重新上传）");
		return 0;
	}
	if ((uint64_t)ingest_file_size(src) > BOOK_MAX_BYTES) {
		ingest_fail(out, false, "文件过大（单本电子书最大 %llu MB）",
		            (unsigned long long)(BOOK_MAX_BYTES >> 20));
		return 0;
	}
	ingest_title_from_name(name, title, sizeof(title));
	if (ingest_mkdtemp(x, tmp, out))
		return 0;
	b.fmt = sniff_book(src);
	switch (b.fmt) {
	case FMT_EPUB:
		rc = build_epub(src, tmp, &b, out);
		break;
	case FMT_PDF:
		rc = build_pdf(src, tmp, &b, out);
		break;
	case FMT_TXT:
		rc = build_txt(src, tmp, hex, title, row, x, &b, out);
		break;
	default:
		if (ingest_file_size(src) == 0)
			ingest_fail(out, false, "文件是空的");
		else
			ingest_fail(out, false,
			            "不支持的文件类型：内容既不是 EPUB、PDF，也不是文本");
		rc = -EBADMSG;
	}
	if (rc)
		goto out;
	if (x->job && !x->in_bundle && job_progress(x->job, 80) == -ECANCELED) {
		rc = -ECANCELED;
		goto out;
	}
	if ((rc = ingest_apply_row(&b.meta, row))) {
		ingest_fail(out, true, "内存不足");
		goto out;
	}
	if (!b.meta.title && (rc = book_meta_set(&b.meta.title, title, strlen(title), 500)))
		goto out;
	if (!b.meta.title && (rc = book_meta_set(&b.meta.title, "未命名", strlen("未命名"), 500)))
		goto out;
	if (!b.have_cover)
		b.have_cover = b.cover_generated =
		    ingest_draw_cover(tmp, &b.meta, &terms, &b.cover);
	/* An ISBN the book states is kept only when it is valid; the manifest's was checked. */
	if (!terms.has_isbn && b.meta.isbn && isbn_normalize(b.meta.isbn, terms.isbn) == 0)
		terms.has_isbn = true;

	rn.kind = "ebook";
	rn.format = b.fmt == FMT_EPUB ? "epub" : b.fmt == FMT_PDF ? "pdf" : "txt";
	rn.meta = &b.meta;
	ingest_terms_apply(&terms, &rn);
	rn.source_blob = hex;
	rn.source_name = name;
	rn.source_bytes = ingest_file_size(src);
	if (b.have_cover)
		rend[nrend++] = ingest_cover_rendition(tmp, &b.cover, b.cover_generated, &rn);
	if (b.fmt == FMT_PDF)
		rend[nrend++] = (struct resource_rendition){.name = "pdf",
		                                            .media_type = "application/pdf",
		                                            .path = "pdf/book.pdf",
		                                            .bytes = rn.source_bytes};
	else
		rend[nrend++] = (struct resource_rendition){.name = "epub",
		                                            .media_type = "application/epub+zip",
		                                            .path = "epub",
		                                            .bytes = b.epub_bytes};
	rn.pages = b.pages;
	rn.chapters = b.chapters;
	rn.job_id = x->job_id;
	rn.created_by = x->account_id;
	rc = ingest_store(x, db, tmp, &rn, rend, nrend, &b.passages, out);
out:
	if (tmp[0])
		fs_remove_tree(tmp);
	built_release(&b);
	return ingest_end(rc, out);
}

/* ---------- bundles ---------- */

static bool is_book_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (strcasecmp(dot, ".epub") == 0 || strcasecmp(dot, ".txt") == 0 ||
	               strcasecmp(dot, ".pdf") == 0);
}

/* A bundle's files that become resources: books, audio and video. */
static bool is_item_name(const char *name)
{
	return is_book_name(name) || ingest_is_media_name(name);
}

static bool is_manifest(const char *name, bool *json, size_t *prefix)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;

	/* at the top, or in the bundle's single top folder */
	if (slash && strchr(name, '/') != slash)
		return false;
	*prefix = slash ? (size_t)(slash - name + 1) : 0;
	if (strcasecmp(base, MANIFEST_NAME_CSV) == 0) {
		*json = false;
		return true;
	}
	if (strcasecmp(base, MANIFEST_NAME_JSON) == 0) {
		*json = true;
		return true;
	}
	return false;
}

/* A manifest's path for a file: "./books\\a.epub" → "books/a.epub", relative to the folder
 * that holds the manifest. */
static void norm_manifest_path(const char *in, const char *prefix, size_t plen, char *out, size_t n)
{
	size_t o = 0;

	if (plen && plen < n) {
		memcpy(out, prefix, plen);
		o = plen;
	}
	while (in[0] == '.' && (in[1] == '/' || in[1] == '\\'))
		in += 2;
	while (*in == '/')
		in++;
	for (; *in && o + 1 < n; in++) {
		char c = *in == '\\' ? '/' : *in;
		if (c == '/' && o && out[o - 1] == '/')
			continue;
		out[o++] = c;
	}
	out[o] = '\0';
}

struct bundle_row {
	const struct manifest_row *row; /* NULL: a file the manifest does not name */
	char file[1100];                /* a folder's ends with '/' */
	int line;
	bool seen;
	bool submitted;          /* handed to a row worker */
	bool folder;             /* an audiobook folder: its audio files are its chapters */
	int in_folder;           /* a chapter: the index of its folder's row; -1 none */
	char hex[BLOB_HEX_SIZE]; /* audio and video: the stored file */
	long long job;           /* the media job queued for it (status INGEST_QUEUED) */
	struct ingest_outcome oc;
};

static json_t *report_row(const struct bundle_row *r)
{
	const char *status = r->oc.status == INGEST_OK          ? "ok"
	                     : r->oc.status == INGEST_DUPLICATE ? "duplicate"
	                     : r->oc.status == INGEST_QUEUED    ? "queued"
	                                                        : "failed";
	json_t *res =
	    r->oc.resource_id
	        ? json_pack("{s:I,s:s}", "id", (json_int_t)r->oc.resource_id, "title", r->oc.title)
	        : json_null();

	return json_pack(
	    "{s:o,s:s,s:s,s:o,s:o,s:o}", "line", r->line ? json_integer(r->line) : json_null(),
	    "file", r->file, "status", status, "reason",
	    r->oc.status == INGEST_FAILED ? json_string(r->oc.reason) : json_null(), "resource",
	    res ? res : json_null(), "job", r->job ? json_integer(r->job) : json_null());
}

static int add_refused(json_t **list, const char *why)
{
	if (!*list && !(*list = json_array()))
		return -ENOMEM;
	if (json_array_size(*list) >= 1000)
		return 0; /* the count is what matters past this */
	json_t *s = json_string(why);

	if (!s)
		s = json_string("不安全的条目，已拒绝");
	return json_array_append_new(*list, s) ? -ENOMEM : 0;
}

/* Extract the current entry to staging and store it: 0 with hex set, 1 when the row failed
 * alone (reason in r->oc), or a negative errno when the archive cannot be read further. */
static int extract_to_blob(struct ingest_ctx *x, struct bundle *bd, struct bundle_row *r,
                           char hex[BLOB_HEX_SIZE])
{
	struct app *app = x->app;
	char path[4096];
	uint64_t written = 0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/staging/entry-XXXXXX", app->cfg.data);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		ingest_fail(&r->oc, true, "无法创建临时文件（磁盘已满？）");
		return 1;
	}
	rc = bundle_extract_fd(bd, fd, &written);
	if (rc) {
		close(fd);
		unlink(path);
		ingest_fail(&r->oc, false, "%s", bundle_errmsg(bd));
		/* a bomb or a damaged archive: the rest of the archive cannot be trusted */
		return rc == -EFBIG ? 1 : rc;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 || blob_put_fd(app->blobs, fd, hex, NULL)) {
		close(fd);
		unlink(path);
		ingest_fail(&r->oc, true, "无法保存文件（磁盘已满？）");
		return 1;
	}
	close(fd);
	unlink(path);
	return 0;
}

/*
 * The rows of a bundle are ingested by a few threads while the job's own thread reads the
 * archive (which can only be read in order): a monthly update of hundreds of books uses every
 * core. Only the job's thread reports progress and sees cancellation; workers take tasks from
 * a small queue, so staging never holds more than a few extracted files' worth of work.
 */
#define ROW_QUEUE 8

struct row_task {
	struct bundle_row *row;
	char hex[BLOB_HEX_SIZE];
};

struct row_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, room;
	struct row_task q[ROW_QUEUE];
	size_t head, len;
	size_t finished;
	bool closing;
	struct ingest_ctx x; /* job = NULL: workers never touch the job row */
	pthread_t threads[16];
	int nthreads;
};

static void *row_worker(void *arg)
{
	struct row_pool *p = arg;

	for (;;) {
		struct row_task t;

		pthread_mutex_lock(&p->lock);
		while (!p->len && !p->closing)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->len) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		t = p->q[p->head];
		p->head = (p->head + 1) % ROW_QUEUE;
		p->len--;
		pthread_cond_broadcast(&p->room);
		pthread_mutex_unlock(&p->lock);

		if (ingest_blob(&p->x, t.hex, t.row->file, t.row->row, &t.row->oc) < 0)
			ingest_fail(&t.row->oc, true, "处理被中断");
		pthread_mutex_lock(&p->lock);
		p->finished++;
		pthread_cond_broadcast(&p->room);
		pthread_mutex_unlock(&p->lock);
	}
}

static int pool_start(struct row_pool *p, struct ingest_ctx *x, int threads)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->room, NULL);
	p->x = *x;
	p->x.job = NULL;
	p->x.in_bundle = true;
	if (threads > (int)(sizeof(p->threads) / sizeof(p->threads[0])))
		threads = (int)(sizeof(p->threads) / sizeof(p->threads[0]));
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, row_worker, p))
			break;
		p->nthreads++;
	}
	return p->nthreads ? 0 : -EAGAIN;
}

/* Queue a row; waits while the queue is full. */
static void pool_submit(struct row_pool *p, struct bundle_row *row, const char *hex)
{
	pthread_mutex_lock(&p->lock);
	while (p->len == ROW_QUEUE)
		pthread_cond_wait(&p->room, &p->lock);
	p->q[(p->head + p->len) % ROW_QUEUE].row = row;
	memcpy(p->q[(p->head + p->len) % ROW_QUEUE].hex, hex, BLOB_HEX_SIZE);
	p->len++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

static size_t pool_finished(struct row_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->finished;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Let the workers finish what is queued (drop = true: what is not started is dropped and
 * marked), then join them. */
static void pool_finish(struct row_pool *p, bool drop)
{
	pthread_mutex_lock(&p->lock);
	if (drop) {
		for (; p->len; p->len--, p->head = (p->head + 1) % ROW_QUEUE)
			ingest_fail(&p->q[p->head].row->oc, false, "任务已取消");
	}
	p->closing = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->room);
	pthread_mutex_destroy(&p->lock);
}

/* Rows handed to the workers: extracted and stored without a failure of their own. */
static size_t submitted_count(const struct bundle_row *rows, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += rows[i].seen && rows[i].submitted;
	return c;
}

/*
 * Audio files that share a folder (two or more, or one in a folder the manifest names) are
 * the chapters of one audiobook: a folder row is added for them (or the manifest's row for
 * the folder becomes it), and each file points to it. Files the manifest names one by one
 * stay single items. Returns the new row count (rows has room for the folders).
 */
static bool chapter_of(const struct bundle_row *r, const char *dir, size_t dl)
{
	return !r->row && r->in_folder < 0 && !r->folder && ingest_is_audio_name(r->file) &&
	       strncmp(r->file, dir, dl) == 0 && r->file[dl] == '/' &&
	       !strchr(r->file + dl + 1, '/');
}

static size_t group_folders(struct bundle_row *rows, size_t n)
{
	size_t total = n;

	for (size_t i = 0; i < n; i++) {
		char dir[1100];
		const char *slash = strrchr(rows[i].file, '/');
		size_t dl, count = 0;
		long folder = -1;

		if (!slash || !chapter_of(&rows[i], rows[i].file, (size_t)(slash - rows[i].file)))
			continue;
		dl = (size_t)(slash - rows[i].file);
		snprintf(dir, sizeof(dir), "%.*s", (int)dl, rows[i].file);
		for (size_t k = 0; k < total && folder < 0; k++) {
			size_t fl = strlen(rows[k].file);
			if (rows[k].row && !ingest_is_media_name(rows[k].file) &&
			    (fl == dl || (fl == dl + 1 && rows[k].file[dl] == '/')) &&
			    strncmp(rows[k].file, dir, dl) == 0)
				folder = (long)k; /* the manifest describes the folder */
		}
		for (size_t k = i; k < n; k++)
			count += chapter_of(&rows[k], dir, dl);
		if (folder < 0 && count < 2)
			continue;
		if (folder < 0) {
			if (dl + 2 > sizeof(rows[0].file))
				continue;
			folder = (long)total++;
			memset(&rows[folder], 0, sizeof(rows[0]));
			memcpy(rows[folder].file, dir, dl);
			memcpy(rows[folder].file + dl, "/", 2);
		} else if (strlen(rows[folder].file) == dl) {
			snprintf(rows[folder].file + dl, sizeof(rows[0].file) - dl, "/");
		}
		rows[folder].folder = true;
		rows[folder].in_folder = -1;
		for (size_t k = i; k < n; k++)
			if (chapter_of(&rows[k], dir, dl))
				rows[k].in_folder = (int)folder;
	}
	return total;
}

/* Hand a stored audio or video file (or a folder's files, parts) on: a "media" job of its own
 * in the transcode lane, child of the bundle's; offline, ingested here and now. Returns 0
 * (r->oc set), or -ECANCELED. */
static int media_item(struct ingest_ctx *x, struct bundle_row *r, const struct ingest_part *parts,
                      size_t nparts)
{
	struct ingest_ctx here = *x;
	char folder[1100];
	const char *name = r->file;

	if (r->folder) { /* "有声/三国演义/" → "有声/三国演义" */
		snprintf(folder, sizeof(folder), "%.*s", (int)(strlen(r->file) - 1), r->file);
		name = folder;
	}
	if (x->job) {
		int rc = ingest_queue_media(x, parts ? NULL : r->hex, parts, nparts, name, r->row,
		                            &r->job);
		if (rc)
			ingest_fail(&r->oc, true, "无法排入转码队列（数据库错误 %d）", rc);
		else
			r->oc.status = INGEST_QUEUED;
		return 0;
	}
	here.in_bundle = true;
	return parts ? ingest_audiobook(&here, parts, nparts, name, r->row, &r->oc)
	             : ingest_media(&here, r->hex, name, r->row, &r->oc);
}

struct chapter_ref {
	const char *file;
	size_t row;
};

static int chapter_cmp(const void *a, const void *b)
{
	return ingest_natural_cmp(((const struct chapter_ref *)a)->file,
	                          ((const struct chapter_ref *)b)->file);
}

/* The folder row f: its chapters in natural order (第2集 before 第10集) → one audiobook. */
static int folder_item(struct ingest_ctx *x, struct bundle_row *rows, size_t n, size_t f)
{
	struct chapter_ref *refs = calloc(n, sizeof(*refs));
	struct ingest_part *parts = calloc(n, sizeof(*parts));
	size_t k = 0;
	int rc = 0;

	if (!refs || !parts) {
		ingest_fail(&rows[f].oc, true, "内存不足");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].in_folder != (int)f)
			continue;
		rows[f].seen = true;
		if (rows[i].oc.status == INGEST_FAILED) {
			ingest_fail(&rows[f].oc, rows[i].oc.retry, "「%s」：%s", rows[i].file,
			            rows[i].oc.reason);
			goto out;
		}
		if (!rows[i].seen) {
			ingest_fail(&rows[f].oc, false, "压缩包中没有「%s」", rows[i].file);
			goto out;
		}
		refs[k++] = (struct chapter_ref){rows[i].file, i};
	}
	if (!k)
		goto out; /* reported as missing */
	qsort(refs, k, sizeof(*refs), chapter_cmp);
	for (size_t i = 0; i < k; i++)
		parts[i] = (struct ingest_part){.hex = rows[refs[i].row].hex, .name = refs[i].file};
	rc = media_item(x, &rows[f], parts, k);
out:
	free(refs);
	free(parts);
	return rc;
}

int ingest_bundle(struct ingest_ctx *x, const char *hex, const char *name, json_t **report,
                  char *reason, size_t reasonlen)
{
	struct app *app = x->app;
	struct bundle_limits lim;
	struct bundle *bd = NULL;
	struct bundle_entry e;
	struct manifest man = {0};
	struct bundle_row *rows = NULL;
	size_t nrows = 0, cap = 0, done = 0, prefix = 0;
	char src[4096], err[256], prefix_s[1100] = "";
	char *mbuf = NULL;
	bool mjson = false, have_manifest = false;
	int rc;
	json_t *arr = NULL, *refused = NULL;
	int counts[4] = {0, 0, 0, 0};
	size_t media_done = 0;
	struct row_pool pool;
	bool pool_running = false;

	*report = NULL;
	bundle_limits_default(&lim);
	if ((rc = blob_path(app->blobs, hex, src, sizeof(src))))
		return rc;
	/* Pass 1: the manifest and the names of the book files (no data read). */
	if ((rc = bundle_open(&bd, src, &lim, err, sizeof(err)))) {
		snprintf(reason, reasonlen, "%s", err);
		return rc;
	}
	while ((rc = bundle_next(bd, &e)) != 1) {
		if (rc == -EPERM)
			continue; /* an unsafe name is refused, the bundle goes on */
		if (rc < 0) {
			snprintf(reason, reasonlen, "%s", bundle_errmsg(bd));
			goto out;
		}
		if (!have_manifest && is_manifest(e.name, &mjson, &prefix)) {
			size_t len;
			if ((rc = bundle_read_mem(bd, MANIFEST_MAX_BYTES, &mbuf, &len))) {
				snprintf(reason, reasonlen, "%s", bundle_errmsg(bd));
				goto out;
			}
			snprintf(prefix_s, sizeof(prefix_s), "%.*s", (int)prefix, e.name);
			if ((rc = manifest_parse(mbuf, len, mjson, &man, err, sizeof(err)))) {
				snprintf(reason, reasonlen, "%s", err);
				goto out;
			}
			have_manifest = true;
			continue;
		}
		if (!is_item_name(e.name))
			continue;
		if (nrows == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct bundle_row *nr = realloc(rows, nc * sizeof(*nr));
			if (!nr) {
				rc = -ENOMEM;
				goto out;
			}
			rows = nr;
			cap = nc;
		}
		memset(&rows[nrows], 0, sizeof(rows[0]));
		snprintf(rows[nrows].file, sizeof(rows[0].file), "%s", e.name);
		nrows++;
	}
	bundle_close(bd);
	bd = NULL;

	/* Rows: the manifest's, in its order, then the book files it does not name. */
	{
		size_t nfiles = nrows;
		struct bundle_row *files = rows;
		/* room for the audiobook folders: each has two files or more */
		size_t total = man.n + nfiles + nfiles / 2 + 1;

		rows = calloc(total ? total : 1, sizeof(*rows));
		if (!rows) {
			rows = files;
			rc = -ENOMEM;
			goto out;
		}
		nrows = 0;
		for (size_t i = 0; i < man.n; i++) {
			struct bundle_row *r = &rows[nrows++];
			r->row = &man.rows[i];
			r->line = man.rows[i].line;
			norm_manifest_path(man.rows[i].file ? man.rows[i].file : "", prefix_s,
			                   strlen(prefix_s), r->file, sizeof(r->file));
		}
		for (size_t f = 0; f < nfiles; f++) {
			bool named = false;
			for (size_t i = 0; i < man.n && !named; i++)
				named = strcmp(rows[i].file, files[f].file) == 0;
			if (!named)
				rows[nrows++] = files[f];
		}
		free(files);
		for (size_t i = 0; i < nrows; i++)
			rows[i].in_folder = -1;
		nrows = group_folders(rows, nrows);
	}
	if (!nrows) {
		snprintf(reason, reasonlen,
		         "批量包中没有电子书（EPUB、TXT、PDF）或音视频文件，也没有 manifest");
		rc = -EBADMSG;
		goto out;
	}

	/* Pass 2: each named file is extracted to staging, stored, ingested. */
	if ((rc = bundle_open(&bd, src, &lim, err, sizeof(err)))) {
		snprintf(reason, reasonlen, "%s", err);
		goto out;
	}
	if ((rc = pool_start(&pool, x, (int)app->cfg.job_threads))) {
		snprintf(reason, reasonlen, "无法启动处理线程");
		goto out;
	}
	pool_running = true;
	while ((rc = bundle_next(bd, &e)) != 1) {
		if (rc == -EPERM) {
			/* refused, never written: staff see it in the report */
			if ((rc = add_refused(&refused, bundle_errmsg(bd))))
				goto out;
			continue;
		}
		if (rc < 0) {
			snprintf(reason, reasonlen, "%s", bundle_errmsg(bd));
			goto out;
		}
		for (size_t i = 0; i < nrows; i++) {
			struct bundle_row *r = &rows[i];
			char bhex[BLOB_HEX_SIZE];
			if (r->seen || r->folder || strcmp(r->file, e.name))
				continue;
			r->seen = true;
			rc = extract_to_blob(x, bd, r, bhex);
			if (rc < 0) {
				snprintf(reason, reasonlen, "%s", bundle_errmsg(bd));
				goto out;
			}
			if (rc == 0 && ingest_is_media_name(r->file)) {
				/* a chapter waits for its folder; a video or audio file is its own
				 * job */
				memcpy(r->hex, bhex, sizeof(bhex));
				if (r->in_folder < 0 && (rc = media_item(x, r, NULL, 0)) < 0)
					goto out;
				media_done++;
			} else if (rc == 0) {
				r->submitted = true;
				pool_submit(&pool, r, bhex);
			}
			done = pool_finished(&pool) + media_done;
			if (x->job &&
			    job_progress(x->job, (int)(done * 99 / nrows)) == -ECANCELED) {
				rc = -ECANCELED;
				goto out;
			}
			break; /* the same file named twice: the first row gets it */
		}
	}
	/* wait for the workers, reporting progress as rows finish */
	pthread_mutex_lock(&pool.lock);
	while (pool.len || pool.finished < submitted_count(rows, nrows)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&pool.room, &pool.lock, &until);
		done = pool.finished;
		pthread_mutex_unlock(&pool.lock);
		if (x->job && job_progress(x->job, (int)(done * 99 / nrows)) == -ECANCELED) {
			rc = -ECANCELED;
			goto out;
		}
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	pool_finish(&pool, false);
	pool_running = false;
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].folder && (rc = folder_item(x, rows, nrows, i)) < 0)
			goto out;
	rc = 0;
	arr = json_array();
	for (size_t i = 0; i < nrows; i++) {
		if (rows[i].in_folder >= 0)
			continue; /* reported by its folder */
		if (!rows[i].seen)
			ingest_fail(&rows[i].oc, false, "压缩包中没有 manifest 所列的文件「%s」",
			            rows[i].file);
		counts[rows[i].oc.status]++;
		json_array_append_new(arr, report_row(&rows[i]));
	}
	for (size_t i = 0; refused && i < json_array_size(refused); i++) {
		counts[INGEST_FAILED]++;
		json_array_append_new(arr,
		                      json_pack("{s:n,s:s,s:s,s:O,s:n}", "line", "file",
		                                "（不安全的条目）", "status", "failed", "reason",
		                                json_array_get(refused, i), "resource"));
	}
	*report = json_pack("{s:s,s:o,s:{s:i,s:i,s:i,s:i}}", "name", name, "rows", arr, "counts",
	                    "ok", counts[INGEST_OK], "duplicate", counts[INGEST_DUPLICATE],
	                    "failed", counts[INGEST_FAILED], "queued", counts[INGEST_QUEUED]);
	if (!*report)
		rc = -ENOMEM;
out:
	if (pool_running)
		pool_finish(&pool, true);
	if (rc && rc != -ECANCELED && reason[0]) {
		/* what came in before the stop stays, and staff must know it did */
		size_t l = strlen(reason), okc = 0;
		for (size_t i = 0; i < nrows; i++)
			okc += rows[i].seen && rows[i].oc.status == INGEST_OK;
		if (okc)
			snprintf(reason + l, reasonlen - l, "（此前已导入 %zu 本）", okc);
	}
	json_decref(refused);
	bundle_close(bd);
	manifest_release(&man);
	free(mbuf);
	free(rows);
	return rc;
}

/* ---------- start-up ---------- */

int ingest_sweep_staging(struct app *app, int *removed)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;

	*removed = 0;
	if (!ingest_pathf(dir, sizeof(dir), "%s/staging", app->cfg.data) || !(d = opendir(dir)))
		return -errno;
	while ((de = readdir(d))) {
		char p[4096 + 256];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!ingest_pathf(p, sizeof(p), "%s/%s", dir, de->d_name))
			continue;
		if (fs_remove_tree(p) == 0)
			(*removed)++;
	}
	closedir(d);
	return 0;
}

/* ---------- job kinds ---------- */

static int payload_blob(struct job_ctx *job, const char **hex, const char **name)
{
	json_t *p = job_payload(job);

	if (!p || json_unpack(p, "{s:s,s:s}", "blob", hex, "name", name)) {
		job_set_error(job, false, "任务参数无效");
		return -EINVAL;
	}
	return 0;
}

static int job_ingest(void *ctx, struct job_ctx *job)
{
	struct ingest_ctx x = {.app = ctx, .job = job, .job_id = job_id(job)};
	struct ingest_outcome oc;
	const char *hex, *name;
	int rc;

	if ((rc = payload_blob(job, &hex, &name)))
		return rc;
	{
		json_t *by = json_object_get(job_payload(job), "account");
		x.account_id = json_is_integer(by) ? json_integer_value(by) : 0;
	}
	if ((rc = ingest_blob(&x, hex, name, NULL, &oc)))
		return rc;
	return ingest_job_finish(job, name, &oc);
}

static int job_bundle(void *ctx, struct job_ctx *job)
{
	struct ingest_ctx x = {.app = ctx, .job = job, .job_id = job_id(job), .in_bundle = true};
	const char *hex, *name;
	json_t *report = NULL;
	char reason[512] = "", *text;
	int rc;

	if ((rc = payload_blob(job, &hex, &name)))
		return rc;
	{
		json_t *by = json_object_get(job_payload(job), "account");
		x.account_id = json_is_integer(by) ? json_integer_value(by) : 0;
	}
	rc = ingest_bundle(&x, hex, name, &report, reason, sizeof(reason));
	if (rc == -ECANCELED)
		return rc;
	if (rc) {
		job_set_error(job, rc == -ENOMEM || rc == -EIO, "%s",
		              reason[0] ? reason : "批量包无法读取");
		return rc;
	}
	text = json_dumps(report, JSON_COMPACT);
	json_decref(report);
	if (!text)
		return -ENOMEM;
	job_set_result(job, text);
	free(text);
	return 0;
}

const struct job_kind ingest_job_kinds[] = {
    {"ingest", job_ingest},
    {"bundle", job_bundle},
    {"media", ingest_job_media},
};
const int ingest_job_kinds_count = 3;
