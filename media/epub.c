/*
 * EPUB reading: unpack the zip under names we build, then read container.xml → OPF (metadata,
 * manifest, spine, cover) → nav or NCX (table of contents) → the spine's XHTML (plain text cut
 * into passages). Everything in the zip is untrusted: limits are counted while inflating, paths
 * are only keys of a map, and XML entity declarations make the book fail instead of expanding.
 *
 * One file past the ~1,000-line guideline on purpose: the OPF, nav/NCX and XHTML readers share
 * the expat plumbing (entity refusal, GBK handler, path resolution) and the book record.
 */
#include "epub.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define XML_CHUNK 65536
#define CHAPTER_TEXT_MAX (8u << 20) /* plain text kept per chapter for passages */
#define RATIO_FLOOR (1u << 20)      /* ratios of tiny books mean nothing */
#define PATH_MAX_BYTES 1024
#define TOC_MAX 10000

void epub_limits_default(struct epub_limits *lim)
{
	lim->max_entries = 10000;
	lim->max_total = (uint64_t)1 << 30;
	lim->max_ratio = 1000;
	lim->max_passages = 20000;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---------- paths ---------- */

/*
 * Normalise a path inside the book: '\\' as '/', "." and empty parts dropped, ".." resolved
 * against what came before. Returns a malloc'd string, or NULL when the path leaves the book,
 * is absolute, holds control bytes or is too long.
 */
static char *clean_path(const char *in, size_t len)
{
	char *out, *parts[256];
	size_t np = 0, o = 0;
	char *buf;

	if (!len || len > PATH_MAX_BYTES || in[0] == '/' || in[0] == '\\')
		return NULL;
	buf = strndup(in, len);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7F) {
			free(buf);
			return NULL;
		}
		if (buf[i] == '\\')
			buf[i] = '/';
	}
	for (char *p = buf, *next; p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		if (!*p || strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0) {
			if (!np) {
				free(buf);
				return NULL;
			}
			np--;
			continue;
		}
		if (np == sizeof(parts) / sizeof(parts[0])) {
			free(buf);
			return NULL;
		}
		parts[np++] = p;
	}
	out = malloc(len + 1);
	if (out && np) {
		for (size_t i = 0; i < np; i++) {
			size_t l = strlen(parts[i]);
			if (i)
				out[o++] = '/';
			memcpy(out + o, parts[i], l);
			o += l;
		}
	}
	if (out)
		out[o] = '\0';
	free(buf);
	if (out && !o) {
		free(out);
		return NULL;
	}
	return out;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * An href of a file in base_dir (the folder of the OPF or nav) → the book's path, fragment
 * kept apart. Percent escapes are decoded; URLs with a scheme are not ours (NULL).
 */
static char *resolve_href(const char *base_dir, const char *href, char **fragment)
{
	char tmp[PATH_MAX_BYTES * 2 + 2];
	size_t o = 0, bl = strlen(base_dir);
	const char *hash, *end;

	if (fragment)
		*fragment = NULL;
	if (!*href || strchr(href, ':') || href[0] == '/')
		return NULL; /* "http://", "data:", absolute: never a file of the book */
	hash = strchr(href, '#');
	end = hash ? hash : href + strlen(href);
	if (fragment && hash && hash[1])
		*fragment = strdup(hash + 1);
	if (bl) {
		if (bl > PATH_MAX_BYTES)
			return NULL;
		memcpy(tmp, base_dir, bl);
		o = bl;
		tmp[o++] = '/';
	}
	for (const char *p = href; p < end && o < sizeof(tmp) - 1; p++) {
		if (*p == '%' && p + 2 < end && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			tmp[o++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else if (*p == '?') {
			break;
		} else {
			tmp[o++] = *p;
		}
	}
	return clean_path(tmp, o);
}

static void dir_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t l = slash ? (size_t)(slash - path) : 0;

	if (l >= n)
		l = n - 1;
	memcpy(out, path, l);
	out[l] = '\0';
}

/* ---------- unpacking ---------- */

static const char *safe_ext(const char *name)
{
	static const char *const known[] = {
	    "xhtml", "html", "htm", "xml",  "opf",  "ncx",  "css",   "jpg", "jpeg", "png",
	    "gif",   "webp", "svg", "ttf",  "otf",  "woff", "woff2", "js",  "smil", "mp3",
	    "m4a",   "mp4",  "ogg", "opus", "webm", "txt",  "pls",   "vtt", "json"};
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');

	if (!dot || (slash && dot < slash))
		return "bin";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(dot + 1, known[i]) == 0)
			return known[i];
	return "bin";
}

static const char *guess_type(const char *ext)
{
	static const char *const map[][2] = {{"xhtml", "application/xhtml+xml"},
	                                     {"html", "text/html"},
	                                     {"htm", "text/html"},
	                                     {"css", "text/css"},
	                                     {"jpg", "image/jpeg"},
	                                     {"jpeg", "image/jpeg"},
	                                     {"png", "image/png"},
	                                     {"gif", "image/gif"},
	                                     {"webp", "image/webp"},
	                                     {"svg", "image/svg+xml"},
	                                     {"ncx", "application/x-dtbncx+xml"},
	                                     {"opf", "application/oebps-package+xml"},
	                                     {"xml", "application/xml"},
	                                     {"ttf", "font/ttf"},
	                                     {"otf", "font/otf"},
	                                     {"woff", "font/woff"},
	                                     {"woff2", "font/woff2"},
	                                     {"js", "application/javascript"},
	                                     {"mp3", "audio/mpeg"},
	                                     {"m4a", "audio/mp4"},
	                                     {"mp4", "video/mp4"},
	                                     {"txt", "text/plain"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(ext, map[i][0]) == 0)
			return map[i][1];
	return "application/octet-stream";
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct epub_file *)a)->path, ((const struct epub_file *)b)->path);
}

/* By path, then by the order of the zip (our names count up), so duplicates keep the first. */
static int file_cmp_order(const void *a, const void *b)
{
	const struct epub_file *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : strcmp(x->stored, y->stored);
}

static int unpack(struct archive *a, const char *dir, const struct epub_limits *lim,
                  struct epub_book *book, char *err, size_t errlen)
{
	struct archive_entry *e;
	uint64_t total = 0;
	uint32_t entries = 0;
	size_t cap = 0;
	char *buf = malloc(XML_CHUNK);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		const char *name;
		char *path = NULL, stored[32], full[4096];
		struct epub_file *f;
		int r = archive_read_next_header(a, &e), fd;
		uint64_t size = 0;

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			set_err(err, errlen, "EPUB 文件已损坏（压缩包无法读取）");
			rc = -EBADMSG;
			goto out;
		}
		if (++entries > lim->max_entries) {
			set_err(err, errlen, "EPUB 内文件过多（超过 %u 个）", lim->max_entries);
			rc = -E2BIG;
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue; /* folders, links, devices: nothing a reader needs */
		name = archive_entry_pathname_utf8(e);
		if (!name)
			name = archive_entry_pathname(e);
		if (!name || !(path = clean_path(name, strlen(name))))
			continue; /* "../x", "/etc/x": never a file of the book */
		snprintf(stored, sizeof(stored), "f%04zu.%s", book->nfiles, safe_ext(path));
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, stored) >= sizeof(full)) {
			free(path);
			rc = -ENAMETOOLONG;
			goto out;
		}
		fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			free(path);
			set_err(err, errlen, "无法写入临时目录");
			rc = -EIO;
			goto out;
		}
		for (;;) {
			la_ssize_t n = archive_read_data(a, buf, XML_CHUNK);
			int64_t raw;
			if (n == 0)
				break;
			if (n < 0) {
				set_err(err, errlen, "EPUB 文件已损坏（%s 无法解压）", path);
				rc = -EBADMSG;
				break;
			}
			size += (uint64_t)n;
			total += (uint64_t)n;
			if (total > lim->max_total) {
				set_err(err, errlen, "EPUB 解压后过大（超过 %llu MB）",
				        (unsigned long long)(lim->max_total >> 20));
				rc = -EFBIG;
				break;
			}
			raw = archive_filter_bytes(a, -1);
			if (total > RATIO_FLOOR && raw > 0 &&
			    total / (uint64_t)raw > lim->max_ratio) {
				set_err(err, errlen, "EPUB 压缩比异常（疑似压缩炸弹），已拒绝");
				rc = -E2BIG;
				break;
			}
			if ((rc = write_all(fd, buf, (size_t)n))) {
				set_err(err, errlen, "无法写入临时目录");
				break;
			}
		}
		close(fd);
		if (rc) {
			free(path);
			goto out;
		}
		if (book->nfiles == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct epub_file *nf = realloc(book->files, nc * sizeof(*nf));
			if (!nf) {
				free(path);
				rc = -ENOMEM;
				goto out;
			}
			book->files = nf;
			cap = nc;
		}
		f = &book->files[book->nfiles];
		memset(f, 0, sizeof(*f));
		f->path = path;
		f->stored = strdup(stored);
		f->size = size;
		book->nfiles++;
		if (!f->stored) {
			rc = -ENOMEM;
			goto out;
		}
	}
	/* One sort for lookups; a name the zip holds twice counts once (the first copy). */
	qsort(book->files, book->nfiles, sizeof(*book->files), file_cmp_order);
	{
		size_t w = 0;
		for (size_t r = 0; r < book->nfiles; r++) {
			if (w && strcmp(book->files[w - 1].path, book->files[r].path) == 0) {
				free(book->files[r].path);
				free(book->files[r].stored);
				continue;
			}
			book->files[w++] = book->files[r];
		}
		book->nfiles = w;
	}
out:
	free(buf);
	return rc;
}

const char *epub_stored_name(const struct epub_book *book, const char *path)
{
	struct epub_file key = {.path = (char *)path};
	const struct epub_file *f;

	if (!book->nfiles)
		return NULL;
	f = bsearch(&key, book->files, book->nfiles, sizeof(*book->files), file_cmp);
	return f ? f->stored : NULL;
}

static struct epub_file *find_file(struct epub_book *book, const char *path)
{
	struct epub_file key = {.path = (char *)path};

	if (!book->nfiles || !path)
		return NULL;
	return bsearch(&key, book->files, book->nfiles, sizeof(*book->files), file_cmp);
}

/* ---------- XML through expat ---------- */

struct xml_run {
	XML_Parser p;
	bool entity_refused;
	void *user;
};

/* An entity declaration anywhere (internal subset) stops the parse: we never expand them. */
static void on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                           int value_len, const XML_Char *base, const XML_Char *system_id,
                           const XML_Char *public_id, const XML_Char *notation)
{
	struct xml_run *run = ud;

	(void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)system_id;
	(void)public_id, (void)notation;
	run->entity_refused = true;
	XML_StopParser(run->p, XML_FALSE);
}

/* Element names without their prefix: OPF files spell "dc:title", "opf:meta" or "title". */
static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');
	return c ? c + 1 : name;
}

static const char *attr(const XML_Char **atts, const char *name)
{
	for (int i = 0; atts[i]; i += 2)
		if (strcmp(local(atts[i]), name) == 0)
			return atts[i + 1];
	return NULL;
}

/*
 * XHTML and OPF files declared as GBK/GB2312/GB18030 (older Chinese EPUBs): expat knows only
 * UTF-8/16 and Latin-1, so it asks us. GBK is one byte below 0x80 and two bytes from a lead
 * byte 0x81–0xFE; each pair is converted with iconv. (GB18030's four-byte forms are outside
 * what expat can describe and come out as an error, which ends that file's text.)
 */
static int gbk_convert(void *data, const char *s)
{
	iconv_t cd = data;
	char in[2] = {s[0], s[1]}, out[8];
	char *ip = in, *op = out;
	size_t il = 2, ol = sizeof(out);
	unsigned char *u = (unsigned char *)out;

	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || sizeof(out) - ol != 4)
		return -1;
	return (int)((uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	             (uint32_t)u[3] << 24);
}

static void gbk_release(void *data)
{
	iconv_close((iconv_t)data);
}

static int on_unknown_encoding(void *ud, const XML_Char *name, XML_Encoding *info)
{
	iconv_t cd;

	(void)ud;
	if (strcasecmp(name, "gbk") && strcasecmp(name, "gb2312") && strcasecmp(name, "gb18030") &&
	    strcasecmp(name, "cp936"))
		return XML_STATUS_ERROR;
	cd = iconv_open("UTF-32LE", "GBK");
	if (cd == (iconv_t)-1)
		return XML_STATUS_ERROR;
	for (int i = 0; i < 256; i++)
		info->map[i] = i < 0x80 ? i : (i >= 0x81 && i <= 0xFE) ? -2 : -1;
	info->data = cd;
	info->convert = gbk_convert;
	info->release = gbk_release;
	return XML_STATUS_OK;
}

/*
 * Parse the stored file of path with the handlers already set on run->p. Returns 0, -ENOENT,
 * -EBADMSG (not well-formed; *partial tells whether some was read), or -EPERM (entities).
 */
static int xml_parse_file(struct xml_run *run, const char *dir, const char *stored)
{
	char full[4096], *buf;
	int fd, rc = 0;

	if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, stored) >= sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -ENOENT;
	buf = malloc(XML_CHUNK);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	XML_SetUserData(run->p, run);
	XML_SetEntityDeclHandler(run->p, on_entity_decl);
	XML_SetParamEntityParsing(run->p, XML_PARAM_ENTITY_PARSING_NEVER);
	XML_SetUnknownEncodingHandler(run->p, on_unknown_encoding, NULL);
	for (;;) {
		ssize_t n = read(fd, buf, XML_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -EIO;
			break;
		}
		if (XML_Parse(run->p, buf, (int)n, n == 0) != XML_STATUS_OK) {
			rc = run->entity_refused ? -EPERM : -EBADMSG;
			break;
		}
		if (n == 0)
			break;
	}
	free(buf);
	close(fd);
	return rc;
}

/* ---------- container.xml ---------- */

struct container_ctx {
	struct xml_run run;
	char *rootfile;
};

static void container_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct container_ctx *c = ud;
	const char *fp, *mt;

	if (strcmp(local(name), "rootfile") || c->rootfile)
		return;
	fp = attr(atts, "full-path");
	mt = attr(atts, "media-type");
	if (fp && (!mt || strcmp(mt, "application/oebps-package+xml") == 0))
		c->rootfile = clean_path(fp, strlen(fp));
}

/* ---------- OPF ---------- */

struct opf_item {
	char *id, *path, *media_type, *properties;
};

struct opf_meta { /* dc:creator / dc:title with id, and <meta refines=…> */
	char *id;
	char *text;
	int kind; /* 1 creator, 2 title, 3 contributor */
	char role[4];
	char title_type[16];
};

struct opf_ctx {
	struct xml_run run;
	struct epub_book *book;
	char base[PATH_MAX_BYTES + 1];
	struct opf_item *items;
	size_t nitems, cap_items;
	char **spine_ids;
	size_t nspine, cap_spine;
	struct opf_meta *metas;
	size_t nmetas, cap_metas;
	char *ncx_id, *cover_id;
	/* the element whose text we collect */
	char *text;
	size_t tlen;
	bool collecting;
	char cur[24];
	char cur_id[128];
	char cur_role[4];
	char cur_scheme[32];
	char cur_property[64];
	char cur_refines[128];
	char cur_name[64];
	bool in_metadata;
	int depth_err;
};

/* Append character data to a growing, NUL-terminated buffer, up to max bytes (the rest of an
 * over-long element is dropped: titles and labels have no business being longer). */
static void text_append(char **text, size_t *tlen, const XML_Char *s, int len, size_t max)
{
	char *n;

	if (*tlen + (size_t)len > max)
		return;
	n = realloc(*text, *tlen + (size_t)len + 1);
	if (!n)
		return;
	*text = n;
	memcpy(*text + *tlen, s, (size_t)len);
	*tlen += (size_t)len;
	(*text)[*tlen] = '\0';
}

static void opf_text(void *ud, const XML_Char *s, int len)
{
	struct opf_ctx *c = ud;

	if (c->collecting)
		text_append(&c->text, &c->tlen, s, len, 65536);
}

static void copy_attr(char *dst, size_t n, const char *v)
{
	snprintf(dst, n, "%s", v ? v : "");
}

static void opf_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct opf_ctx *c = ud;
	const char *l = local(name);

	if (strcmp(l, "package") == 0) {
		copy_attr(c->book->version, sizeof(c->book->version), attr(atts, "version"));
	} else if (strcmp(l, "metadata") == 0) {
		c->in_metadata = true;
	} else if (strcmp(l, "item") == 0 && !c->in_metadata) {
		const char *id = attr(atts, "id"), *href = attr(atts, "href");
		struct opf_item *it;
		char *path;

		if (!id || !href || c->nitems >= 20000 ||
		    !(path = resolve_href(c->base, href, NULL)))
			return;
		if (c->nitems == c->cap_items) {
			size_t nc = c->cap_items ? c->cap_items * 2 : 32;
			struct opf_item *ni = realloc(c->items, nc * sizeof(*ni));
			if (!ni) {
				free(path);
				return;
			}
			c->items = ni;
			c->cap_items = nc;
		}
		it = &c->items[c->nitems++];
		it->id = strdup(id);
		it->path = path;
		it->media_type = strdup(attr(atts, "media-type") ? attr(atts, "media-type") : "");
		it->properties = strdup(attr(atts, "properties") ? attr(atts, "properties") : "");
	} else if (strcmp(l, "spine") == 0) {
		const char *toc = attr(atts, "toc"),
		           *ppd = attr(atts, "page-progression-direction");
		if (toc && !c->ncx_id)
			c->ncx_id = strdup(toc);
		if (ppd && strcmp(ppd, "rtl") == 0)
			c->book->rtl = true;
	} else if (strcmp(l, "itemref") == 0) {
		const char *idref = attr(atts, "idref"), *linear = attr(atts, "linear");
		if (!idref || (linear && strcmp(linear, "no") == 0) || c->nspine >= 20000)
			return;
		if (c->nspine == c->cap_spine) {
			size_t nc = c->cap_spine ? c->cap_spine * 2 : 32;
			char **ns = realloc(c->spine_ids, nc * sizeof(*ns));
			if (!ns)
				return;
			c->spine_ids = ns;
			c->cap_spine = nc;
		}
		c->spine_ids[c->nspine] = strdup(idref);
		if (c->spine_ids[c->nspine])
			c->nspine++;
	} else if (c->in_metadata) {
		if (strcmp(l, "meta") == 0 && attr(atts, "name")) {
			const char *mname = attr(atts, "name"), *content = attr(atts, "content");
			if (!content)
				return;
			if (strcmp(mname, "cover") == 0 && !c->cover_id)
				c->cover_id = strdup(content);
			else if (strcmp(mname, "calibre:series") == 0 && !c->book->meta.series)
				book_meta_set(&c->book->meta.series, content, strlen(content), 200);
			else if (strcmp(mname, "calibre:series_index") == 0 &&
			         !c->book->meta.series_index)
				book_meta_set(&c->book->meta.series_index, content, strlen(content),
				              16);
			return;
		}
		copy_attr(c->cur, sizeof(c->cur), l);
		copy_attr(c->cur_id, sizeof(c->cur_id), attr(atts, "id"));
		copy_attr(c->cur_role, sizeof(c->cur_role), attr(atts, "role"));
		copy_attr(c->cur_scheme, sizeof(c->cur_scheme), attr(atts, "scheme"));
		copy_attr(c->cur_property, sizeof(c->cur_property), attr(atts, "property"));
		copy_attr(c->cur_refines, sizeof(c->cur_refines), attr(atts, "refines"));
		c->collecting = true;
		c->tlen = 0;
		if (c->text)
			c->text[0] = '\0';
	}
}

static bool looks_like_isbn(const char *s, const char *scheme)
{
	int digits = 0;

	if (strncasecmp(s, "urn:isbn:", 9) == 0 || strcasecmp(scheme, "ISBN") == 0 ||
	    strncasecmp(s, "isbn", 4) == 0) {
		for (const char *p = s; *p; p++)
			digits += (*p >= '0' && *p <= '9') || *p == 'X' || *p == 'x';
		return digits == 10 || digits == 13;
	}
	return false;
}

static void add_meta(struct opf_ctx *c, int kind, const char *text)
{
	struct opf_meta *m;

	if (c->nmetas >= 256)
		return;
	if (c->nmetas == c->cap_metas) {
		size_t nc = c->cap_metas ? c->cap_metas * 2 : 16;
		struct opf_meta *nm = realloc(c->metas, nc * sizeof(*nm));
		if (!nm)
			return;
		c->metas = nm;
		c->cap_metas = nc;
	}
	m = &c->metas[c->nmetas];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->id = c->cur_id[0] ? strdup(c->cur_id) : NULL;
	m->text = strdup(text);
	if (!m->text) {
		free(m->id);
		return;
	}
	copy_attr(m->role, sizeof(m->role), c->cur_role);
	c->nmetas++;
}

/* Descriptions often hold escaped HTML ("&lt;p&gt;…" from calibre): keep the text only, with
 * block ends as spaces and the few entities such markup carries. */
static void set_plain(char **field, const char *t, size_t max)
{
	static const char *const ents[][2] = {{"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
	                                      {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
	size_t n = strlen(t), o = 0;
	char *buf = malloc(n + 1);

	if (!buf)
		return;
	for (size_t i = 0; i < n;) {
		if (t[i] == '<') {
			const char *gt = strchr(t + i, '>');
			if (gt) {
				buf[o++] = ' ';
				i = (size_t)(gt - t) + 1;
				continue;
			}
		}
		if (t[i] == '&') {
			bool hit = false;
			for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]) && !hit; k++) {
				size_t el = strlen(ents[k][0]);
				if (strncmp(t + i, ents[k][0], el) == 0) {
					buf[o++] = ents[k][1][0];
					i += el;
					hit = true;
				}
			}
			if (hit)
				continue;
		}
		buf[o++] = t[i++];
	}
	book_meta_set(field, buf, o, max);
	free(buf);
}

static void opf_end(void *ud, const XML_Char *name)
{
	struct opf_ctx *c = ud;
	struct book_meta *bm = &c->book->meta;
	const char *l = local(name), *t;

	if (strcmp(l, "metadata") == 0) {
		c->in_metadata = false;
		return;
	}
	if (!c->collecting || strcmp(l, c->cur))
		return;
	c->collecting = false;
	t = c->text ? c->text : "";
	if (!*t)
		return;
	if (strcmp(l, "title") == 0)
		add_meta(c, 2, t);
	else if (strcmp(l, "creator") == 0)
		add_meta(c, 1, t);
	else if (strcmp(l, "contributor") == 0)
		add_meta(c, 3, t);
	else if (strcmp(l, "language") == 0 && !bm->language)
		book_meta_set(&bm->language, t, strlen(t), 35);
	else if (strcmp(l, "publisher") == 0 && !bm->publisher)
		book_meta_set(&bm->publisher, t, strlen(t), 200);
	else if (strcmp(l, "date") == 0 && !bm->date)
		book_meta_set(&bm->date, t, strlen(t), 32);
	else if (strcmp(l, "description") == 0 && !bm->description)
		set_plain(&bm->description, t, 8000);
	else if (strcmp(l, "subject") == 0 && bm->nsubjects < BOOK_MAX_SUBJECTS) {
		book_meta_set(&bm->subjects[bm->nsubjects], t, strlen(t), 200);
		if (bm->subjects[bm->nsubjects])
			bm->nsubjects++;
	} else if (strcmp(l, "identifier") == 0 && !bm->isbn && looks_like_isbn(t, c->cur_scheme)) {
		book_meta_set(&bm->isbn, t, strlen(t), 64);
	} else if (strcmp(l, "meta") == 0 && c->cur_property[0]) {
		if ((strcmp(c->cur_property, "role") == 0 ||
		     strcmp(c->cur_property, "title-type") == 0) &&
		    c->cur_refines[0] == '#') {
			/* applied once every creator and title is known: a refinement may come
			 * before the element it refines */
			snprintf(c->cur_id, sizeof(c->cur_id), "%s", c->cur_refines + 1);
			snprintf(c->cur_role, sizeof(c->cur_role), "%s",
			         strcmp(c->cur_property, "role") == 0 ? "r" : "t");
			add_meta(c, 4, t);
		} else if (strcmp(c->cur_property, "belongs-to-collection") == 0 && !bm->series)
			book_meta_set(&bm->series, t, strlen(t), 200);
		else if (strcmp(c->cur_property, "group-position") == 0 && !bm->series_index)
			book_meta_set(&bm->series_index, t, strlen(t), 16);
	}
}

static struct opf_item *item_by_id(struct opf_ctx *c, const char *id)
{
	for (size_t i = 0; i < c->nitems; i++)
		if (c->items[i].id && strcmp(c->items[i].id, id) == 0)
			return &c->items[i];
	return NULL;
}

static bool has_property(const char *props, const char *want)
{
	size_t wl = strlen(want);

	for (const char *p = props; (p = strstr(p, want)); p += wl)
		if ((p == props || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' '))
			return true;
	return false;
}

static void opf_release(struct opf_ctx *c)
{
	for (size_t i = 0; i < c->nitems; i++) {
		free(c->items[i].id);
		free(c->items[i].path);
		free(c->items[i].media_type);
		free(c->items[i].properties);
	}
	free(c->items);
	for (size_t i = 0; i < c->nspine; i++)
		free(c->spine_ids[i]);
	free(c->spine_ids);
	for (size_t i = 0; i < c->nmetas; i++) {
		free(c->metas[i].id);
		free(c->metas[i].text);
	}
	free(c->metas);
	free(c->ncx_id);
	free(c->cover_id);
	free(c->text);
}

/* Titles, creators and their roles once every <meta refines> has been seen. */
static void opf_finish_meta(struct opf_ctx *c)
{
	struct book_meta *bm = &c->book->meta;

	for (size_t i = 0; i < c->nmetas; i++) {
		struct opf_meta *r = &c->metas[i], *target = NULL;
		if (r->kind != 4 || !r->id)
			continue;
		for (size_t k = 0; k < c->nmetas && !target; k++)
			if (c->metas[k].kind != 4 && c->metas[k].id &&
			    strcmp(c->metas[k].id, r->id) == 0)
				target = &c->metas[k];
		if (!target)
			continue;
		if (r->role[0] == 'r' && strlen(r->text) == 3)
			copy_attr(target->role, sizeof(target->role), r->text);
		else if (r->role[0] == 't')
			copy_attr(target->title_type, sizeof(target->title_type), r->text);
	}

	for (size_t i = 0; i < c->nmetas; i++) {
		struct opf_meta *m = &c->metas[i];
		if (m->kind == 2) {
			bool sub = strcmp(m->title_type, "subtitle") == 0;
			char **field = sub ? &bm->subtitle : &bm->title;
			if (!*field)
				book_meta_set(field, m->text, strlen(m->text), 500);
		}
	}
	for (int pass = 1; pass <= 3; pass += 2) /* creators first, then contributors */
		for (size_t i = 0; i < c->nmetas; i++)
			if (c->metas[i].kind == pass)
				book_meta_add_author(bm, c->metas[i].text, strlen(c->metas[i].text),
				                     c->metas[i].role[0]
				                         ? c->metas[i].role
				                         : (pass == 1 ? "aut" : "ctb"));
	/* a book whose only title is marked "subtitle" still needs a title */
	if (!bm->title && bm->subtitle) {
		bm->title = bm->subtitle;
		bm->subtitle = NULL;
	}
}

/* ---------- table of contents: nav (EPUB 3) and NCX (EPUB 2) ---------- */

struct toc_ctx {
	struct xml_run run;
	struct epub_book *book;
	char base[PATH_MAX_BYTES + 1];
	bool ncx;
	int in_toc_nav; /* nesting depth inside <nav epub:type="toc">, 0 = outside */
	int depth;      /* <ol> nesting (nav) or navPoint nesting (NCX) */
	char *href;     /* pending entry */
	char *text;
	size_t tlen;
	bool collecting;
	bool in_a;     /* nav: inside <a>, whose label may hold spans */
	int in_navmap; /* NCX: inside <navMap> (pageList and navList are not chapters) */
	size_t cap;
};

static void toc_text(void *ud, const XML_Char *s, int len)
{
	struct toc_ctx *c = ud;

	if (c->collecting)
		text_append(&c->text, &c->tlen, s, len, 2048);
}

static void toc_add(struct toc_ctx *c)
{
	struct epub_book *b = c->book;
	struct epub_toc *t;
	char *title = NULL;

	if (!c->href || b->ntoc >= TOC_MAX)
		goto out;
	book_meta_set(&title, c->text ? c->text : "", c->tlen, 500);
	if (!title)
		goto out;
	if (b->ntoc == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		struct epub_toc *nt = realloc(b->toc, nc * sizeof(*nt));
		if (!nt) {
			free(title);
			goto out;
		}
		b->toc = nt;
		c->cap = nc;
	}
	t = &b->toc[b->ntoc++];
	t->title = title;
	t->href = c->href;
	t->depth = c->depth > 0 ? c->depth - 1 : 0;
	c->href = NULL;
out:
	free(c->href);
	c->href = NULL;
	c->tlen = 0;
	if (c->text)
		c->text[0] = '\0';
}

static char *toc_href(struct toc_ctx *c, const char *href)
{
	char *frag = NULL, *path = resolve_href(c->base, href, &frag), *out = NULL;

	if (path) {
		size_t n = strlen(path) + (frag ? strlen(frag) + 1 : 0) + 1;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s%s%s", path, frag ? "#" : "", frag ? frag : "");
	}
	free(path);
	free(frag);
	return out;
}

static void toc_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct toc_ctx *c = ud;
	const char *l = local(name);

	if (c->ncx) {
		if (strcmp(l, "navMap") == 0) {
			c->in_navmap++;
		} else if (!c->in_navmap) {
			return; /* docTitle, docAuthor, pageList, navList */
		} else if (strcmp(l, "navPoint") == 0) {
			c->depth++;
		} else if (strcmp(l, "text") == 0) {
			c->collecting = true;
			c->tlen = 0;
			if (c->text)
				c->text[0] = '\0';
		} else if (strcmp(l, "content") == 0 && attr(atts, "src")) {
			free(c->href);
			c->href = toc_href(c, attr(atts, "src"));
			toc_add(c);
		}
		return;
	}
	if (strcmp(l, "nav") == 0) {
		const char *type = attr(atts, "type");
		if (c->in_toc_nav)
			c->in_toc_nav++;
		else if (type && has_property(type, "toc"))
			c->in_toc_nav = 1;
		return;
	}
	if (!c->in_toc_nav)
		return;
	if (strcmp(l, "ol") == 0) {
		c->depth++;
	} else if (strcmp(l, "a") == 0 || (strcmp(l, "span") == 0 && !c->in_a)) {
		const char *href = attr(atts, "href");
		c->in_a = strcmp(l, "a") == 0;
		free(c->href);
		c->href = href ? toc_href(c, href) : NULL;
		c->collecting = true;
		c->tlen = 0;
		if (c->text)
			c->text[0] = '\0';
	}
}

static void toc_end(void *ud, const XML_Char *name)
{
	struct toc_ctx *c = ud;
	const char *l = local(name);

	if (c->ncx) {
		if (strcmp(l, "navMap") == 0 && c->in_navmap)
			c->in_navmap--;
		else if (strcmp(l, "navPoint") == 0 && c->in_navmap)
			c->depth--;
		else if (strcmp(l, "text") == 0)
			c->collecting = false;
		return;
	}
	if (strcmp(l, "nav") == 0 && c->in_toc_nav) {
		c->in_toc_nav--;
	} else if (c->in_toc_nav && strcmp(l, "ol") == 0) {
		c->depth--;
	} else if (c->in_toc_nav && c->collecting &&
	           (strcmp(l, "a") == 0 || (strcmp(l, "span") == 0 && !c->in_a))) {
		c->collecting = false;
		c->in_a = false;
		if (c->href)
			toc_add(c);
	}
}

/* NCX puts the label before the content element: collect, then attach on <content>. */
static int read_toc(struct epub_book *book, const char *dir, const char *path, bool ncx)
{
	struct toc_ctx c = {.book = book, .ncx = ncx};
	const char *stored = epub_stored_name(book, path);
	int rc;

	if (!stored)
		return -ENOENT;
	dir_of(path, c.base, sizeof(c.base));
	c.run.p = XML_ParserCreate(NULL);
	if (!c.run.p)
		return -ENOMEM;
	XML_SetElementHandler(c.run.p, toc_start, toc_end);
	XML_SetCharacterDataHandler(c.run.p, toc_text);
	rc = xml_parse_file(&c.run, dir, stored);
	/* XML_SetUserData points at run, which is the first member of c */
	XML_ParserFree(c.run.p);
	free(c.href);
	free(c.text);
	return rc;
}

/* ---------- chapter text ---------- */

struct text_ctx {
	struct xml_run run;
	struct epub_book *book;
	char *text;
	size_t len, cap;
	int skip;    /* inside head/script/style */
	bool inbody; /* some XHTML has no <body> we can trust; text counts after <body> */
};

static bool is_block(const char *l)
{
	static const char *const blocks[] = {
	    "p",  "div",        "br",      "h1",      "h2",  "h3", "h4", "h5",         "h6", "li",
	    "tr", "blockquote", "section", "article", "pre", "dt", "dd", "figcaption", "hr"};
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strcasecmp(l, blocks[i]) == 0)
			return true;
	return false;
}

static void text_put(struct text_ctx *c, const char *s, size_t n)
{
	if (c->len + n + 1 > CHAPTER_TEXT_MAX) {
		/* enough of this chapter: stop reading it (the text so far is kept) */
		XML_StopParser(c->run.p, XML_FALSE);
		return;
	}
	if (c->len + n + 1 > c->cap) {
		size_t nc = c->cap ? c->cap : 4096;
		char *nt;
		while (nc < c->len + n + 1)
			nc *= 2;
		nt = realloc(c->text, nc);
		if (!nt)
			return;
		c->text = nt;
		c->cap = nc;
	}
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len] = '\0';
}

static void text_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct text_ctx *c = ud;
	const char *l = local(name);

	if (strcasecmp(l, "script") == 0)
		c->book->has_scripts = true;
	for (int i = 0; atts[i]; i += 2)
		if (strncasecmp(local(atts[i]), "on", 2) == 0)
			c->book->has_scripts = true;
	if (strcasecmp(l, "body") == 0)
		c->inbody = true;
	if (strcasecmp(l, "head") == 0 || strcasecmp(l, "script") == 0 ||
	    strcasecmp(l, "style") == 0 || strcasecmp(l, "rt") == 0)
		c->skip++;
	else if (is_block(l) && c->len && c->text[c->len - 1] != '\n')
		text_put(c, "\n", 1);
}

static void text_end(void *ud, const XML_Char *name)
{
	struct text_ctx *c = ud;
	const char *l = local(name);

	if (strcasecmp(l, "head") == 0 || strcasecmp(l, "script") == 0 ||
	    strcasecmp(l, "style") == 0 || strcasecmp(l, "rt") == 0) {
		if (c->skip)
			c->skip--;
	} else if (is_block(l) && c->len && c->text[c->len - 1] != '\n') {
		text_put(c, "\n", 1);
	}
}

static void text_data(void *ud, const XML_Char *s, int len)
{
	struct text_ctx *c = ud;
	size_t i = 0;

	if (c->skip || !c->inbody)
		return;
	/* layout newlines inside a paragraph are spaces; paragraphs end at block elements */
	while (i < (size_t)len) {
		size_t j = i;
		while (j < (size_t)len && s[j] != '\n' && s[j] != '\r' && s[j] != '\t' &&
		       s[j] != ' ')
			j++;
		text_put(c, s + i, j - i);
		if (j < (size_t)len && c->len && c->text[c->len - 1] != ' ' &&
		    c->text[c->len - 1] != '\n')
			text_put(c, " ", 1);
		i = j + 1;
	}
}

/* HTML entities in XHTML without a readable DTD come as skipped entities: the common ones. */
static void text_skipped(void *ud, const XML_Char *name, int is_param)
{
	struct text_ctx *c = ud;

	if (is_param || c->skip || !c->inbody)
		return;
	if (strcmp(name, "nbsp") == 0 || strcmp(name, "ensp") == 0 || strcmp(name, "emsp") == 0)
		text_put(c, " ", 1);
	else if (strcmp(name, "mdash") == 0)
		text_put(c, "—", strlen("—"));
	else if (strcmp(name, "hellip") == 0)
		text_put(c, "…", strlen("…"));
	else if (strcmp(name, "ldquo") == 0)
		text_put(c, "“", strlen("“"));
	else if (strcmp(name, "rdquo") == 0)
		text_put(c, "”", strlen("”"));
}

static int chapter_text(struct epub_book *book, const char *dir, const char *path,
                        const struct epub_limits *lim)
{
	struct text_ctx c = {.book = book};
	const char *stored = epub_stored_name(book, path);
	int rc;

	if (!stored)
		return 0; /* the spine names a file the zip lacks: nothing to index */
	c.run.p = XML_ParserCreate(NULL);
	if (!c.run.p)
		return -ENOMEM;
	XML_SetElementHandler(c.run.p, text_start, text_end);
	XML_SetCharacterDataHandler(c.run.p, text_data);
	XML_SetSkippedEntityHandler(c.run.p, text_skipped);
	rc = xml_parse_file(&c.run, dir, stored);
	XML_ParserFree(c.run.p);
	if (rc == -EBADMSG)
		rc = 0; /* tag soup: keep the text read before the error */
	if (!rc && c.len) {
		book->passages.max_items = lim->max_passages;
		rc = passage_split(&book->passages, path, c.text, c.len);
	}
	free(c.text);
	return rc;
}

/* ---------- the whole book ---------- */

static int read_opf(struct epub_book *book, const char *dir, const struct epub_limits *lim,
                    char *err, size_t errlen)
{
	struct opf_ctx c = {.book = book};
	const char *stored = epub_stored_name(book, book->opf_path);
	struct opf_item *nav = NULL, *ncx = NULL, *cover = NULL;
	int rc;

	if (!stored) {
		set_err(err, errlen, "EPUB 缺少 OPF 文件（%s）", book->opf_path);
		return -EBADMSG;
	}
	dir_of(book->opf_path, c.base, sizeof(c.base));
	c.run.p = XML_ParserCreate(NULL);
	if (!c.run.p)
		return -ENOMEM;
	XML_SetElementHandler(c.run.p, opf_start, opf_end);
	XML_SetCharacterDataHandler(c.run.p, opf_text);
	rc = xml_parse_file(&c.run, dir, stored);
	if (rc == -EPERM) {
		set_err(err, errlen, "OPF 文件含有 XML 实体声明，出于安全原因已拒绝");
		rc = -EBADMSG;
		goto out;
	}
	if (rc) {
		set_err(err, errlen, "OPF 文件格式错误（第 %lu 行：%s）",
		        (unsigned long)XML_GetCurrentLineNumber(c.run.p),
		        XML_ErrorString(XML_GetErrorCode(c.run.p)));
		rc = -EBADMSG;
		goto out;
	}
	opf_finish_meta(&c);

	for (size_t i = 0; i < c.nitems; i++) {
		struct opf_item *it = &c.items[i];
		struct epub_file *f = find_file(book, it->path);
		if (f && !f->media_type && *it->media_type)
			f->media_type = strdup(it->media_type);
		if (!nav && has_property(it->properties, "nav"))
			nav = it;
		if (!cover && has_property(it->properties, "cover-image"))
			cover = it;
		if (!ncx && strcmp(it->media_type, "application/x-dtbncx+xml") == 0)
			ncx = it;
	}
	if (c.ncx_id && item_by_id(&c, c.ncx_id))
		ncx = item_by_id(&c, c.ncx_id);
	if (!cover && c.cover_id)
		cover = item_by_id(&c, c.cover_id);
	if (!cover) /* books that only name their cover "cover" (common in EPUB 2 tools) */
		for (size_t i = 0; i < c.nitems && !cover; i++)
			if (strncmp(c.items[i].media_type, "image/", 6) == 0 &&
			    strcasestr(c.items[i].id, "cover"))
				cover = &c.items[i];
	if (cover && find_file(book, cover->path) && strncmp(cover->media_type, "image/", 6) == 0) {
		book->cover_path = strdup(cover->path);
		book->cover_media_type = strdup(cover->media_type);
	}

	book->spine = calloc(c.nspine ? c.nspine : 1, sizeof(*book->spine));
	if (!book->spine) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.nspine; i++) {
		struct opf_item *it = item_by_id(&c, c.spine_ids[i]);
		if (it && (book->spine[book->nspine] = strdup(it->path)))
			book->nspine++;
	}
	if (!book->nspine) {
		set_err(err, errlen, "EPUB 没有可阅读的章节（spine 为空）");
		rc = -EBADMSG;
		goto out;
	}
	if (nav)
		rc = read_toc(book, dir, nav->path, false);
	if (rc != -EPERM && (!nav || !book->ntoc) && ncx)
		rc = read_toc(book, dir, ncx->path, true);
	if (rc == -EPERM) {
		set_err(err, errlen, "目录文件含有 XML 实体声明，出于安全原因已拒绝");
		rc = -EBADMSG;
		goto out;
	}
	rc = 0; /* a broken table of contents is not a broken book */
	for (size_t i = 0; i < book->nspine; i++) {
		bool again = false;
		/* a spine may list one file many times: its text is read once */
		for (size_t k = 0; k < i && !again; k++)
			again = strcmp(book->spine[k], book->spine[i]) == 0;
		if (again)
			continue;
		if (lim->max_passages && book->passages.n >= lim->max_passages)
			break; /* search has enough of this book */
		rc = chapter_text(book, dir, book->spine[i], lim);
		if (rc == -EPERM) {
			set_err(err, errlen, "章节文件含有 XML 实体声明，出于安全原因已拒绝");
			rc = -EBADMSG;
		}
		if (rc)
			goto out;
	}
out:
	XML_ParserFree(c.run.p);
	opf_release(&c);
	return rc;
}

int epub_read(const char *path, const char *dir, const struct epub_limits *lim,
              struct epub_book *book, char *err, size_t errlen)
{
	struct epub_limits defaults;
	struct archive *a = NULL;
	struct container_ctx cc = {0};
	const char *stored;
	int rc;

	memset(book, 0, sizeof(*book));
	if (err && errlen)
		err[0] = '\0';
	if (!lim) {
		epub_limits_default(&defaults);
		lim = &defaults;
	}
	a = archive_read_new();
	if (!a)
		return -ENOMEM;
	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		set_err(err, errlen, "文件不是 EPUB（无法作为 zip 打开）");
		rc = -EBADMSG;
		goto out;
	}
	if ((rc = unpack(a, dir, lim, book, err, errlen)))
		goto out;
	stored = epub_stored_name(book, "META-INF/container.xml");
	if (!stored) {
		set_err(err, errlen, "EPUB 缺少 META-INF/container.xml");
		rc = -EBADMSG;
		goto out;
	}
	cc.run.p = XML_ParserCreate(NULL);
	if (!cc.run.p) {
		rc = -ENOMEM;
		goto out;
	}
	XML_SetStartElementHandler(cc.run.p, container_start);
	rc = xml_parse_file(&cc.run, dir, stored);
	XML_ParserFree(cc.run.p);
	if (rc == -EPERM) {
		set_err(err, errlen, "container.xml 含有 XML 实体声明，出于安全原因已拒绝");
		rc = -EBADMSG;
		goto out;
	}
	if (rc || !cc.rootfile) {
		set_err(err, errlen, "container.xml 无效：找不到 OPF 文件");
		rc = -EBADMSG;
		goto out;
	}
	book->opf_path = cc.rootfile;
	cc.rootfile = NULL;
	if ((rc = read_opf(book, dir, lim, err, errlen)))
		goto out;
	for (size_t i = 0; i < book->nfiles; i++)
		if (!book->files[i].media_type && !(book->files[i].media_type = strdup(guess_type(
		                                        safe_ext(book->files[i].path))))) {
			rc = -ENOMEM;
			goto out;
		}
out:
	free(cc.rootfile);
	if (a)
		archive_read_free(a);
	return rc;
}

void epub_book_release(struct epub_book *book)
{
	if (!book)
		return;
	book_meta_release(&book->meta);
	free(book->opf_path);
	free(book->cover_path);
	free(book->cover_media_type);
	for (size_t i = 0; i < book->nfiles; i++) {
		free(book->files[i].path);
		free(book->files[i].stored);
		free(book->files[i].media_type);
	}
	free(book->files);
	for (size_t i = 0; i < book->nspine; i++)
		free(book->spine[i]);
	free(book->spine);
	for (size_t i = 0; i < book->ntoc; i++) {
		free(book->toc[i].title);
		free(book->toc[i].href);
	}
	free(book->toc);
	passage_list_release(&book->passages);
	memset(book, 0, sizeof(*book));
}

size_t epub_chapter_count(const struct epub_book *book)
{
	return book->ntoc ? book->ntoc : book->nspine;
}
