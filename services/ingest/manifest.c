/*
 * Bundle manifests. The CSV reader is written here rather than taken from a library: RFC 4180
 * is a page long, the file is small and capped, and Debian has no CSV library worth a
 * dependency (libcsv is unmaintained and would still leave encoding and headers to us).
 */
#include "manifest.h"
#include "utf8.h"

#include <errno.h>
#include <iconv.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX (64u * 1024) /* one cell; a long description is a few KB */
#define FIELDS_MAX 256         /* columns in one record */

/* Column names as staff write them; English ones are matched without regard to case. */
static const struct column {
	const char *names[4];
	size_t off;
} columns[] = {
    {{"file", "文件"}, offsetof(struct manifest_row, file)},
    {{"kind", "类型"}, offsetof(struct manifest_row, kind)},
    {{"title", "题名", "书名"}, offsetof(struct manifest_row, title)},
    {{"authors", "作者", "责任者"}, offsetof(struct manifest_row, authors)},
    {{"category", "分类", "类别"}, offsetof(struct manifest_row, category)},
    {{"clc", "中图分类号", "中图分类"}, offsetof(struct manifest_row, clc)},
    {{"isbn"}, offsetof(struct manifest_row, isbn)},
    {{"description", "简介", "内容简介"}, offsetof(struct manifest_row, description)},
    {{"licence", "license", "许可", "授权"}, offsetof(struct manifest_row, licence)},
    {{"loan_days", "借期"}, offsetof(struct manifest_row, loan_days)},
    {{"kiosk_month", "上架月份"}, offsetof(struct manifest_row, kiosk_month)},
    {{"publisher", "出版社"}, offsetof(struct manifest_row, publisher)},
    {{"language", "语言"}, offsetof(struct manifest_row, language)},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))
#define COL_FILE 0
#define COL_AUTHORS 3

static char **slot(struct manifest_row *r, size_t col)
{
	return (char **)((char *)r + columns[col].off);
}

/* A cut in the middle of a UTF-8 sequence would show as garbage in the staff page. */
static void trim_utf8_tail(char *s)
{
	size_t n = strlen(s), i = n, need;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || (unsigned char)s[i - 1] < 0x80)
		return;
	need = (unsigned char)s[i - 1] >= 0xF0 ? 4 : (unsigned char)s[i - 1] >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		trim_utf8_tail(err);
	}
	return rc;
}

/*
 * Spaces around a cell are never meant: ASCII blanks, the ideographic space a Chinese input
 * method types (U+3000), no-break space, and stray BOMs that Excel leaves in a header cell.
 */
static void trim(const char **s, size_t *n)
{
	const char *p = *s, *e = *s + *n;

	for (;;) {
		if (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		else if (e - p >= 3 && !memcmp(p, "\xE3\x80\x80", 3))
			p += 3;
		else if (e - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
			p += 3;
		else if (e - p >= 2 && !memcmp(p, "\xC2\xA0", 2))
			p += 2;
		else
			break;
	}
	for (;;) {
		if (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
			e--;
		else if (e - p >= 3 && !memcmp(e - 3, "\xE3\x80\x80", 3))
			e -= 3;
		else if (e - p >= 3 && !memcmp(e - 3, "\xEF\xBB\xBF", 3))
			e -= 3;
		else if (e - p >= 2 && !memcmp(e - 2, "\xC2\xA0", 2))
			e -= 2;
		else
			break;
	}
	*s = p;
	*n = (size_t)(e - p);
}

/* Locale-free: only ASCII letters fold, so Chinese names compare byte for byte. */
static bool name_eq(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n && b[i]; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return i == n && !b[i];
}

static int find_column(const char *name, size_t n)
{
	trim(&name, &n);
	for (size_t c = 0; c < NCOLUMNS; c++)
		for (size_t k = 0; k < 4 && columns[c].names[k]; k++)
			if (name_eq(name, n, columns[c].names[k]))
				return (int)c;
	return -1;
}

/* Store a trimmed copy; an empty value stays NULL. */
static int set_value(char **dst, const char *s, size_t n)
{
	char *p;

	trim(&s, &n);
	if (!n)
		return 0;
	p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, s, n);
	p[n] = '\0';
	free(*dst);
	*dst = p;
	return 0;
}

static void free_row(struct manifest_row *r)
{
	for (size_t c = 0; c < NCOLUMNS; c++)
		free(*slot(r, c));
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free_row(&m->rows[i]);
	free(m->rows);
	m->rows = NULL;
	m->n = 0;
}

static int count_lines(const char *s, size_t n)
{
	int line = 1;

	for (size_t i = 0; i < n; i++)
		line += s[i] == '\n';
	return line;
}

/* ---- CSV ---- */

struct csv {
	const char *p, *end;
	int line;  /* physical line of p */
	char *buf; /* the record's cells, back to back */
	size_t len, cap;
	size_t start[FIELDS_MAX], flen[FIELDS_MAX];
	size_t nfields;
	int rec_line; /* where the record began */
};

static int csv_put(struct csv *c, char ch, char *err, size_t errlen)
{
	if (c->len - c->start[c->nfields] >= FIELD_MAX)
		return fail(-EBADMSG, err, errlen, "manifest.csv 第 %d 行：单元格超过 %u KiB",
		            c->rec_line, FIELD_MAX / 1024);
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		char *p = realloc(c->buf, cap);
		if (!p)
			return fail(-ENOMEM, err, errlen, "内存不足，无法读取清单");
		c->buf = p;
		c->cap = cap;
	}
	c->buf[c->len++] = ch;
	return 0;
}

/* One record into c->start/flen. Returns 0, 1 at the end of the text, or a negative errno. */
static int csv_record(struct csv *c, char *err, size_t errlen)
{
	int rc;

	if (c->p == c->end)
		return 1;
	c->len = 0;
	c->nfields = 0;
	c->rec_line = c->line;
	for (;;) {
		const char *q = c->p;

		if (c->nfields == FIELDS_MAX)
			return fail(-EBADMSG, err, errlen, "manifest.csv 第 %d 行：超过 %d 列",
			            c->rec_line, FIELDS_MAX);
		c->start[c->nfields] = c->len;
		while (q < c->end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < c->end && *q == '"') {
			int open_line = c->line;

			c->p = q + 1;
			for (;;) {
				char ch;

				if (c->p == c->end)
					return fail(-EBADMSG, err, errlen,
					            "manifest.csv 第 %d 行：引号未闭合", open_line);
				ch = *c->p++;
				if (ch == '"') {
					if (c->p < c->end && *c->p == '"')
						c->p++;
					else
						break;
				} else if (ch == '\r' || ch == '\n') {
					/* a line break inside a cell, kept as LF */
					if (ch == '\r' && c->p < c->end && *c->p == '\n')
						c->p++;
					ch = '\n';
					c->line++;
				}
				if ((rc = csv_put(c, ch, err, errlen)))
					return rc;
			}
			while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
				c->p++;
			if (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n')
				return fail(-EBADMSG, err, errlen,
				            "manifest.csv 第 %d 行：引号闭合后还有多余字符",
				            c->line);
		} else {
			/* a stray quote inside an unquoted cell is kept as written */
			while (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n')
				if ((rc = csv_put(c, *c->p++, err, errlen)))
					return rc;
		}
		c->flen[c->nfields] = c->len - c->start[c->nfields];
		c->nfields++;
		if (c->p == c->end)
			return 0;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
			c->p++;
		c->p++;
		c->line++;
		return 0;
	}
}

static bool csv_blank(const struct csv *c)
{
	for (size_t i = 0; i < c->nfields; i++) {
		const char *s = c->buf + c->start[i];
		size_t n = c->flen[i];
		trim(&s, &n);
		if (n)
			return false;
	}
	return true;
}

/*
 * Text as UTF-8: valid UTF-8 is taken as it is (the BOM dropped); anything else is read as
 * GB18030, which covers GBK as Excel on Chinese Windows writes it. *owned is set when a
 * converted copy was made.
 */
static int csv_decode(const char *buf, size_t len, const char **text, size_t *tlen, char **owned,
                      const char **charset, char *err, size_t errlen)
{
	iconv_t cd;
	char *in, *out, *o;
	size_t inleft, outleft;
	int rc;

	*owned = NULL;
	if (len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
	                 ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF)))
		return fail(-EBADMSG, err, errlen,
		            "manifest.csv 是 UTF-16 编码：请在 Excel 中另存为“CSV UTF-8”或“CSV”");
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
		buf += 3;
		len -= 3;
	}
	if (utf8_valid(buf, len)) {
		*text = buf;
		*tlen = len;
		*charset = "UTF-8";
		return 0;
	}
	cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return fail(-EBADMSG, err, errlen, "manifest.csv 不是 UTF-8，且本机不支持 GB18030");
	/* two GB18030 bytes make at most three UTF-8 bytes; four make at most four */
	out = malloc(len / 2 * 3 + 4);
	if (!out) {
		rc = fail(-ENOMEM, err, errlen, "内存不足，无法读取清单");
		goto out;
	}
	in = (char *)buf;
	inleft = len;
	o = out;
	outleft = len / 2 * 3 + 3;
	if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
		rc = fail(-EBADMSG, err, errlen,
		          "manifest.csv 第 %d 行：既不是 UTF-8 也不是 GBK/GB18030 编码",
		          count_lines(buf, len - inleft));
		goto out;
	}
	*o = '\0';
	*text = out;
	*tlen = (size_t)(o - out);
	*owned = out;
	*charset = "GB18030";
	out = NULL;
	rc = 0;
out:
	free(out);
	iconv_close(cd);
	return rc;
}

static int grow_rows(struct manifest *m, size_t *cap)
{
	struct manifest_row *p;
	size_t ncap;

	if (m->n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > MANIFEST_MAX_ROWS)
		ncap = MANIFEST_MAX_ROWS;
	if (ncap <= m->n) /* the caller checks the cap first; never write past it */
		return -E2BIG;
	p = realloc(m->rows, ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	m->rows = p;
	*cap = ncap;
	return 0;
}

static int parse_csv(const char *buf, size_t len, struct manifest *m, char *err, size_t errlen)
{
	struct csv *c = NULL;
	const char *text = NULL;
	char *owned = NULL;
	size_t tlen = 0, rows_cap = 0, ncols;
	int colmap[FIELDS_MAX], rc;
	bool have_file = false;

	rc = csv_decode(buf, len, &text, &tlen, &owned, &m->charset, err, errlen);
	if (rc)
		goto out;
	if (memchr(text, '\0', tlen)) {
		rc = fail(
		    -EBADMSG, err, errlen, "manifest.csv 第 %d 行：含空字符（不是文本文件？）",
		    count_lines(text, (size_t)((const char *)memchr(text, '\0', tlen) - text)));
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = fail(-ENOMEM, err, errlen, "内存不足，无法读取清单");
		goto out;
	}
	c->p = text;
	c->end = text + tlen;
	c->line = 1;

	/* the header: the first record that is not blank */
	do {
		rc = csv_record(c, err, errlen);
		if (rc == 1) {
			rc = fail(-EBADMSG, err, errlen, "manifest.csv 是空的：第一行应为列名");
			goto out;
		}
		if (rc)
			goto out;
	} while (csv_blank(c));
	ncols = c->nfields;
	for (size_t i = 0; i < ncols; i++) {
		/* columns we do not know (notes, shelf marks) are ignored, not refused */
		colmap[i] = find_column(c->buf + c->start[i], c->flen[i]);
		for (size_t k = 0; k < i && colmap[i] >= 0; k++)
			if (colmap[k] == colmap[i]) {
				rc = fail(-EBADMSG, err, errlen,
				          "manifest.csv 第 %d 行：第 %zu 列与第 %zu 列都是“%s”",
				          c->rec_line, k + 1, i + 1, columns[colmap[i]].names[0]);
				goto out;
			}
		have_file |= colmap[i] == COL_FILE;
	}
	if (!have_file) {
		rc = fail(-EBADMSG, err, errlen, "manifest.csv 第 %d 行：缺少“文件”（file）列",
		          c->rec_line);
		goto out;
	}

	for (;;) {
		struct manifest_row *r;

		rc = csv_record(c, err, errlen);
		if (rc == 1)
			break;
		if (rc)
			goto out;
		if (csv_blank(c))
			continue;
		if (m->n == MANIFEST_MAX_ROWS) {
			rc = fail(-EBADMSG, err, errlen, "manifest.csv 第 %d 行：超过 %d 行的上限",
			          c->rec_line, MANIFEST_MAX_ROWS);
			goto out;
		}
		for (size_t i = ncols; i < c->nfields; i++)
			if (c->flen[i]) {
				rc = fail(-EBADMSG, err, errlen,
				          "manifest.csv 第 %d 行：有 %zu 列，而表头只有 %zu "
				          "列（引号是否漏了？）",
				          c->rec_line, c->nfields, ncols);
				goto out;
			}
		if ((rc = grow_rows(m, &rows_cap))) {
			rc = fail(rc, err, errlen, "内存不足，无法读取清单");
			goto out;
		}
		r = &m->rows[m->n++];
		memset(r, 0, sizeof(*r));
		r->line = c->rec_line;
		for (size_t i = 0; i < ncols && i < c->nfields; i++) {
			if (colmap[i] < 0)
				continue;
			rc =
			    set_value(slot(r, (size_t)colmap[i]), c->buf + c->start[i], c->flen[i]);
			if (rc) {
				rc = fail(rc, err, errlen, "内存不足，无法读取清单");
				goto out;
			}
		}
	}
	rc = 0;
out:
	if (c)
		free(c->buf);
	free(c);
	free(owned);
	return rc;
}

/* ---- JSON ---- */

/* A value as text: strings as written, numbers as JSON would print them; NULL stays absent. */
static int json_cell(json_t *v, size_t index, const char *key, char **dst, char *err, size_t errlen)
{
	char num[64];
	const char *s;
	size_t n;

	switch (json_typeof(v)) {
	case JSON_NULL:
		return 0;
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = num;
		n = strlen(num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		s = num;
		n = strlen(num);
		break;
	default:
		return fail(-EBADMSG, err, errlen, "manifest.json 第 %zu 项：“%s”应为字符串或数字",
		            index, key);
	}
	if (n > FIELD_MAX)
		return fail(-EBADMSG, err, errlen, "manifest.json 第 %zu 项：“%s”超过 %u KiB",
		            index, key, FIELD_MAX / 1024);
	if (set_value(dst, s, n))
		return fail(-ENOMEM, err, errlen, "内存不足，无法读取清单");
	return 0;
}

/* "authors": ["张三", "李四"] becomes "张三; 李四", the form a CSV cell holds. */
static int json_authors(json_t *v, size_t index, const char *key, char **dst, char *err,
                        size_t errlen)
{
	char *joined = NULL;
	size_t len = 0, i;
	json_t *a;
	int rc;

	if (!json_is_array(v))
		return json_cell(v, index, key, dst, err, errlen);
	json_array_foreach(v, i, a)
	{
		const char *s;
		size_t n;
		char *p;

		if (!json_is_string(a)) {
			rc = fail(-EBADMSG, err, errlen,
			          "manifest.json 第 %zu 项：“%s”数组里应全是字符串", index, key);
			goto out;
		}
		s = json_string_value(a);
		n = json_string_length(a);
		trim(&s, &n);
		if (!n)
			continue;
		if (len + n + 2 > FIELD_MAX) {
			rc = fail(-EBADMSG, err, errlen, "manifest.json 第 %zu 项：“%s”超过 %u KiB",
			          index, key, FIELD_MAX / 1024);
			goto out;
		}
		p = realloc(joined, len + n + 3);
		if (!p) {
			rc = fail(-ENOMEM, err, errlen, "内存不足，无法读取清单");
			goto out;
		}
		joined = p;
		if (len) {
			memcpy(joined + len, "; ", 2);
			len += 2;
		}
		memcpy(joined + len, s, n);
		len += n;
		joined[len] = '\0';
	}
	free(*dst);
	*dst = joined;
	joined = NULL;
	rc = 0;
out:
	free(joined);
	return rc;
}

static int parse_json(const char *buf, size_t len, struct manifest *m, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *items, *item, *v;
	const char *key;
	size_t i;
	int rc;

	m->charset = "UTF-8";
	/* Notepad on Windows saves UTF-8 with a BOM, which JSON does not allow */
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
		buf += 3;
		len -= 3;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(-EBADMSG, err, errlen, "manifest.json 第 %d 行第 %d 列：格式错误（%s）",
		            jerr.line, jerr.column, jerr.text);
	items = json_is_object(root) ? json_object_get(root, "items") : root;
	if (!json_is_array(items)) {
		rc = fail(-EBADMSG, err, errlen,
		          "manifest.json：最外层应为数组，或带 items 数组的对象");
		goto out;
	}
	if (json_array_size(items) > MANIFEST_MAX_ROWS) {
		rc = fail(-EBADMSG, err, errlen, "manifest.json：有 %zu 项，超过 %d 项的上限",
		          json_array_size(items), (int)MANIFEST_MAX_ROWS);
		goto out;
	}
	if (json_array_size(items)) {
		m->rows = calloc(json_array_size(items), sizeof(*m->rows));
		if (!m->rows) {
			rc = fail(-ENOMEM, err, errlen, "内存不足，无法读取清单");
			goto out;
		}
	}
	/*
	 * Walked by hand rather than with json_unpack_ex(JSON_STRICT): each field has English and
	 * Chinese names, and keys we do not know (notes added by staff tools) are ignored, as in
	 * the CSV.
	 */
	json_array_foreach(items, i, item)
	{
		struct manifest_row *r = &m->rows[m->n++];
		const char *seen[NCOLUMNS] = {0};

		r->line = (int)i + 1;
		if (!json_is_object(item)) {
			rc = fail(-EBADMSG, err, errlen, "manifest.json 第 %zu 项：应为对象 {…}",
			          i + 1);
			goto out;
		}
		json_object_foreach(item, key, v)
		{
			int col = find_column(key, strlen(key));

			if (col < 0)
				continue;
			if (seen[col]) {
				rc = fail(-EBADMSG, err, errlen,
				          "manifest.json 第 %zu 项：“%s”与“%s”重复", i + 1,
				          seen[col], key);
				goto out;
			}
			seen[col] = key;
			rc = col == COL_AUTHORS
			         ? json_authors(v, i + 1, key, slot(r, (size_t)col), err, errlen)
			         : json_cell(v, i + 1, key, slot(r, (size_t)col), err, errlen);
			if (rc)
				goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int manifest_parse(const char *buf, size_t len, bool json, struct manifest *out, char *err,
                   size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->charset = "UTF-8";
	if (err && errlen)
		err[0] = '\0';
	if (len > MANIFEST_MAX_BYTES)
		return fail(-EFBIG, err, errlen, "%s 超过 %u MiB 的上限",
		            json ? "manifest.json" : "manifest.csv", MANIFEST_MAX_BYTES >> 20);
	rc = json ? parse_json(buf, len, out, err, errlen) : parse_csv(buf, len, out, err, errlen);
	if (rc)
		manifest_release(out);
	return rc;
}
