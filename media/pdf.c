/*
 * PDF books through poppler-glib (docs/media.md says why not MuPDF): the info dictionary, the
 * first page drawn with cairo onto white paper, and page text for search. A pdf_doc is used by
 * one thread at a time; separate documents may be used from separate threads.
 */
#include "pdf.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <poppler.h>

#define META_MAX 512                /* bytes kept of a title, a name or a keyword */
#define DESCRIPTION_MAX 4096        /* bytes kept of the subject */
#define PAGE_TEXT_MAX (1024 * 1024) /* bytes of one page's text that are indexed */
#define MAGIC_WINDOW 1024           /* "%PDF-" must start within this many bytes */
/* Points; PDF itself stops at 14,400 but UserUnit can scale a page past that. */
#define PAGE_MAX_PT 200000.0

struct pdf_doc {
	PopplerDocument *doc; /* owned */
	int npages;
};

static int set_err(char *err, size_t errlen, int rc, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

/* The one place poppler's and GLib's error codes become errno values. */
static int from_gerror(const GError *e)
{
	if (!e)
		return -EBADMSG;
	if (e->domain == POPPLER_ERROR)
		return e->code == POPPLER_ERROR_ENCRYPTED ? -EACCES : -EBADMSG;
	if (e->domain == G_FILE_ERROR) {
		if (e->code == G_FILE_ERROR_NOENT)
			return -ENOENT;
		if (e->code == G_FILE_ERROR_NOMEM)
			return -ENOMEM;
		return -EIO;
	}
	return -EBADMSG;
}

static const char *open_message(int rc)
{
	switch (rc) {
	case -ENOENT:
		return "PDF 文件不存在";
	case -EACCES:
		return "PDF 已加密，需要密码";
	case -ENOMEM:
		return "打开 PDF 时内存不足";
	case -EIO:
		return "PDF 文件无法读取";
	default:
		return "PDF 文件损坏或不是 PDF";
	}
}

/* Poppler repairs almost anything it is given; only hand it files that claim to be PDF. */
static int has_pdf_magic(int fd)
{
	char head[MAGIC_WINDOW];
	ssize_t n = pread(fd, head, sizeof(head), 0);

	if (n < 0)
		return -EIO;
	return memmem(head, (size_t)n, "%PDF-", 5) ? 0 : -EBADMSG;
}

int pdf_open(struct pdf_doc **out, const char *path, char *err, size_t errlen)
{
	struct pdf_doc *d = NULL;
	GError *gerr = NULL;
	struct stat st;
	int fd = -1, rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		rc = -EINVAL;
		goto out;
	}
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = errno == ENOENT ? -ENOENT : -EIO;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = -EIO;
		goto out;
	}
	/* A FIFO or device would make poppler copy the whole stream into memory. */
	if (!S_ISREG(st.st_mode)) {
		rc = -EBADMSG;
		goto out;
	}
	rc = has_pdf_magic(fd);
	if (rc)
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto out;
	}
	/* Poppler owns fd from here, on failure too. */
	d->doc = poppler_document_new_from_fd(fd, NULL, &gerr);
	fd = -1;
	if (!d->doc) {
		rc = from_gerror(gerr);
		goto out;
	}
	d->npages = poppler_document_get_n_pages(d->doc);
	if (d->npages < 1) {
		rc = -EBADMSG;
		goto out;
	}
	*out = d;
	d = NULL;
	rc = 0;
out:
	if (rc)
		set_err(err, errlen, rc, rc == -EINVAL ? "PDF 路径无效" : open_message(rc));
	if (gerr)
		g_error_free(gerr);
	if (fd >= 0)
		close(fd);
	pdf_close(d);
	return rc;
}

void pdf_close(struct pdf_doc *d)
{
	if (!d)
		return;
	if (d->doc)
		g_object_unref(d->doc);
	free(d);
}

int pdf_page_count(const struct pdf_doc *d)
{
	return d ? d->npages : 0;
}

/* ---- metadata ---- */

/* Length of a list separator at p, or 0. Names are also separated by " and " / " & ". */
static size_t separator_at(const char *p, bool names)
{
	if (*p == ';' || *p == ',')
		return 1;
	if (strncmp(p, "；", 3) == 0 || strncmp(p, "，", 3) == 0 || strncmp(p, "、", 3) == 0)
		return 3;
	if (names && strncasecmp(p, " and ", 5) == 0)
		return 5;
	if (names && strncmp(p, " & ", 3) == 0)
		return 3;
	return 0;
}

static bool latin_name_part(const char *s, size_t len, bool one_word)
{
	size_t i = 0, words = 0;

	while (i < len) {
		while (i < len && s[i] == ' ')
			i++;
		if (i >= len)
			break;
		words++;
		while (i < len && s[i] != ' ') {
			char c = s[i++];
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
			      c == '-' || c == '\''))
				return false;
		}
	}
	return words >= 1 && (one_word ? words == 1 : words <= 3);
}

/* "Smith, John" is one author written surname first, not two authors. */
static bool is_inverted_name(const char *s)
{
	const char *comma = strchr(s, ',');
	size_t seps = 0;

	if (!comma)
		return false;
	for (const char *p = s; *p; p++)
		if (separator_at(p, true))
			seps++;
	return seps == 1 && latin_name_part(s, (size_t)(comma - s), true) &&
	       latin_name_part(comma + 1, strlen(comma + 1), false);
}

static int add_author_piece(struct book_meta *m, const char *s, size_t len)
{
	return book_meta_add_author(m, s, len, NULL);
}

static int add_subject_piece(struct book_meta *m, const char *s, size_t len)
{
	int rc;

	if (m->nsubjects >= BOOK_MAX_SUBJECTS)
		return 0;
	rc = book_meta_set(&m->subjects[m->nsubjects], s, len, META_MAX);
	if (rc == 0 && m->subjects[m->nsubjects])
		m->nsubjects++;
	return rc;
}

static int split_list(struct book_meta *m, const char *s, bool names,
                      int (*add)(struct book_meta *, const char *, size_t))
{
	const char *start = s, *p = s;
	int rc;

	while (*p) {
		size_t sep = separator_at(p, names);
		if (!sep) {
			p++;
			continue;
		}
		if (p > start) {
			rc = add(m, start, (size_t)(p - start));
			if (rc)
				return rc;
		}
		p += sep;
		start = p;
	}
	return p > start ? add(m, start, (size_t)(p - start)) : 0;
}

int pdf_meta(struct pdf_doc *d, struct book_meta *m)
{
	GDateTime *dt = NULL;
	gchar *s = NULL;
	int rc = 0;

	s = poppler_document_get_title(d->doc);
	if (s && *s)
		rc = book_meta_set(&m->title, s, strlen(s), META_MAX);
	g_free(s);
	if (rc)
		goto out;

	s = poppler_document_get_author(d->doc);
	if (s && *s)
		rc = is_inverted_name(s) ? add_author_piece(m, s, strlen(s))
		                         : split_list(m, s, true, add_author_piece);
	g_free(s);
	if (rc)
		goto out;

	s = poppler_document_get_subject(d->doc);
	if (s && *s)
		rc = book_meta_set(&m->description, s, strlen(s), DESCRIPTION_MAX);
	g_free(s);
	if (rc)
		goto out;

	s = poppler_document_get_keywords(d->doc);
	if (s && *s)
		rc = split_list(m, s, false, add_subject_piece);
	g_free(s);
	if (rc)
		goto out;

	dt = poppler_document_get_creation_date_time(d->doc);
	if (dt) {
		int y, mo, dd;
		char date[16];
		g_date_time_get_ymd(dt, &y, &mo, &dd);
		/* Producers write 0000 or 1970 for "unknown"; neither dates a book. */
		if (y > 1970 && y <= 9999) {
			snprintf(date, sizeof(date), "%04d-%02d-%02d", y, mo, dd);
			rc = book_meta_set(&m->date, date, strlen(date), sizeof(date));
		}
	}
out:
	if (dt)
		g_date_time_unref(dt);
	return rc;
}

/* ---- cover ---- */

int pdf_render_cover(struct pdf_doc *d, int page, const char *dir, struct cover_info *out,
                     char *err, size_t errlen)
{
	PopplerPage *p = NULL;
	cairo_surface_t *surface = NULL;
	cairo_t *cr = NULL;
	double w = 0, h = 0, scale;
	int pw, ph, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!d || !dir || page < 0 || page >= d->npages)
		return set_err(err, errlen, -EINVAL, "PDF 页码无效");
	p = poppler_document_get_page(d->doc, page);
	if (!p) {
		rc = set_err(err, errlen, -EBADMSG, "PDF 页面无法读取");
		goto out;
	}
	poppler_page_get_size(p, &w, &h); /* points, rotation applied */
	if (!(w >= 1 && h >= 1 && w <= PAGE_MAX_PT && h <= PAGE_MAX_PT)) {
		rc = set_err(err, errlen, -EBADMSG, "PDF 页面尺寸无效");
		goto out;
	}
	/* Drawn straight at cover size: the bitmap never exceeds COVER_MAX_W × COVER_MAX_H
	 * whatever the page claims, and vector pages stay sharp when they are small. */
	scale = COVER_MAX_W / w < COVER_MAX_H / h ? COVER_MAX_W / w : COVER_MAX_H / h;
	pw = (int)(w * scale + 0.5);
	ph = (int)(h * scale + 0.5);
	pw = pw < 1 ? 1 : (pw > COVER_MAX_W ? COVER_MAX_W : pw);
	ph = ph < 1 ? 1 : (ph > COVER_MAX_H ? COVER_MAX_H : ph);

	surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		rc = set_err(err, errlen, -ENOMEM, "PDF 封面渲染内存不足");
		goto out;
	}
	cr = cairo_create(surface);
	cairo_set_source_rgb(cr, 1, 1, 1); /* paper: pages draw no background of their own */
	cairo_paint(cr);
	cairo_scale(cr, scale, scale);
	poppler_page_render(p, cr);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		rc = set_err(err, errlen, -EBADMSG, "PDF 页面无法渲染");
		goto out;
	}
	cairo_destroy(cr);
	cr = NULL;
	cairo_surface_flush(surface);
	{
		uint8_t *px = cairo_image_surface_get_data(surface);
		int stride = cairo_image_surface_get_stride(surface);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		/* ARGB32 is a native-endian word: A,R,G,B in memory here, B,G,R,A is wanted. */
		for (int y = 0; y < ph; y++)
			for (uint8_t *q = px + (size_t)y * stride;
			     q < px + (size_t)y * stride + pw * 4; q += 4) {
				uint8_t t0 = q[0], t1 = q[1];
				q[0] = q[3];
				q[1] = q[2];
				q[2] = t1;
				q[3] = t0;
			}
#endif
		rc = cover_from_bgra(px, pw, ph, stride, dir, out, err, errlen);
	}
out:
	if (cr)
		cairo_destroy(cr);
	if (surface)
		cairo_surface_destroy(surface);
	if (p)
		g_object_unref(p);
	return rc;
}

/* ---- passages ---- */

static bool is_cjk_cp(uint32_t c)
{
	return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
	       (c >= 0xFF00 && c <= 0xFFEF) || (c >= 0x20000 && c <= 0x3FFFD);
}

static bool is_blank_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200A);
}

static bool is_terminal_cp(uint32_t c)
{
	return c == '.' || c == '!' || c == '?' || c == ':' || c == '"' || c == 0x3002 ||
	       c == 0xFF01 || c == 0xFF1F || c == 0xFF1A || c == 0x201D || c == 0x300D ||
	       c == 0x300F || c == 0x2026;
}

/* Display width of a line's text (CJK counts 2) and its last visible code point. */
static size_t line_width(const unsigned char *s, const unsigned char *eol, uint32_t *last)
{
	size_t w = 0;

	*last = 0;
	while (s < eol) {
		uint32_t c;
		size_t n = utf8_next(s, (size_t)(eol - s), &c);
		if (!n) {
			s++;
			continue;
		}
		if (!is_blank_cp(c) && c >= 0x20) {
			w += is_cjk_cp(c) ? 2 : 1;
			*last = c;
		} else {
			w += 1;
		}
		s += n;
	}
	return w;
}

static const unsigned char *line_end(const unsigned char *s, const unsigned char *end)
{
	while (s < end && *s != '\n' && *s != '\r' && *s != '\f')
		s++;
	return s;
}

/*
 * Page text as poppler gives it (one line per printed line, no blank lines between paragraphs)
 * → paragraphs, one per output line. Printed lines are joined: with nothing after CJK or a
 * hyphen (dropping the hyphen between lower-case letters: search wants "manipulation", and
 * compounds broken at their own hyphen are rarer), else with a space. A paragraph ends at a blank
 * line, before an indented line (two leading spaces or an ideographic space, Chinese typesetting's
 * paragraph mark), and after a line that ends a sentence well short of the page's longest line (the
 * last line of a justified paragraph). Whitespace runs become one space; control characters and
 * invalid UTF-8 are dropped. Writes at most len bytes to out; returns the length.
 */
static size_t page_paragraphs(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in, *end = s + len;
	size_t o = 0, max_width = 0;
	uint32_t last = 0, before_last = 0; /* last code points written; 0 at a paragraph start */
	bool new_para = false;

	for (const unsigned char *p = s; p < end;) {
		const unsigned char *eol = line_end(p, end);
		uint32_t lc;
		size_t w = line_width(p, eol, &lc);
		if (w > max_width)
			max_width = w;
		p = eol < end ? eol + 1 : eol;
	}
	while (s < end) {
		const unsigned char *eol = line_end(s, end);
		bool line_started = false, space = false;
		uint32_t lc;
		size_t width = line_width(s, eol, &lc);
		int lead = 0;

		while (s < eol) {
			uint32_t c;
			size_t n = utf8_next(s, (size_t)(eol - s), &c);
			if (!n) {
				s++;
				continue;
			}
			if (is_blank_cp(c)) {
				if (!line_started)
					lead += c == 0x3000 ? 2 : 1;
				else
					space = true;
				s += n;
				continue;
			}
			if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
				s += n;
				continue;
			}
			if (!line_started) {
				line_started = true;
				if (last && (new_para || lead >= 2)) {
					out[o++] = '\n';
					last = 0;
				} else if (last == '-' && before_last >= 'a' &&
				           before_last <= 'z' && c >= 'a' && c <= 'z') {
					o--; /* "manip-" + "ulation": a word the typesetter
					        hyphenated */
				} else if (last &&
				           !(is_cjk_cp(last) || last == '-' || is_cjk_cp(c))) {
					out[o++] = ' ';
				}
				new_para = false;
			} else if (space) {
				out[o++] = ' ';
			}
			space = false;
			memcpy(out + o, s, n);
			o += n;
			before_last = last;
			last = c;
			s += n;
		}
		if (!line_started && last)
			new_para = true; /* a blank line */
		else if (line_started && is_terminal_cp(lc) && width * 5 < max_width * 4)
			new_para = true; /* a short line that ends a sentence */
		s = eol < end ? eol + 1 : eol;
	}
	return o;
}

int pdf_passages(struct pdf_doc *d, int max_pages, struct passage_list *out)
{
	char *para = NULL, href[32];
	int n = d->npages, rc = 0;

	if (max_pages > 0 && max_pages < n)
		n = max_pages;
	/* Joining never adds bytes: one '\n' or ' ' replaces each line end, so len suffices. */
	para = malloc(PAGE_TEXT_MAX);
	if (!para)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		PopplerPage *p = poppler_document_get_page(d->doc, i);
		char *text;
		size_t len;

		if (!p)
			continue;
		text = poppler_page_get_text(p);
		g_object_unref(p);
		if (!text)
			continue;
		len = strnlen(text, PAGE_TEXT_MAX);
		len = page_paragraphs(text, len, para);
		g_free(text);
		if (len == 0)
			continue;
		snprintf(href, sizeof(href), "page=%d", i + 1);
		rc = passage_split(out, href, para, len);
		if (rc)
			break;
		if (out->max_items && out->n >= out->max_items)
			break;
	}
	free(para);
	return rc;
}
