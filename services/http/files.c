/* File responses (ETag, 304, single byte ranges) and static pages under a root directory. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *ext;
	const char *type;
} mime_table[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"webp", "image/webp"},
    {"gif", "image/gif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"webmanifest", "application/manifest+json"},
    {"xml", "application/xml"},
    {"xhtml", "application/xhtml+xml"},
    {"epub", "application/epub+zip"},
    {"pdf", "application/pdf"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"ts", "video/mp2t"},
    {"m4s", "video/iso.segment"},
    {"mp4", "video/mp4"},
    {"m4a", "audio/mp4"},
    {"mp3", "audio/mpeg"},
    {"aac", "audio/aac"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"bin", "application/octet-stream"},
};

const char *http_mime_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');

	if (dot && (!slash || dot > slash)) {
		for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
			if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
				return mime_table[i].type;
	}
	return "application/octet-stream";
}

/* True when the If-None-Match list names etag (or is "*"). */
static bool etag_listed(const char *list, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static bool parse_u64(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

/*
 * One byte range of a file of `size` bytes: 1 = satisfiable (*off, *len), 0 = ignore the header
 * (absent, malformed or several ranges: send it all), -1 = not satisfiable (416).
 */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t a, b;
	const char *p;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	p = h + 6;
	if (*p == '-') {
		p++;
		if (!parse_u64(&p, &b) || *p)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 1;
	}
	if (!parse_u64(&p, &a) || *p != '-')
		return 0;
	p++;
	if (*p == '\0')
		b = size ? size - 1 : 0;
	else if (!parse_u64(&p, &b) || *p || b < a)
		return 0;
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

int http_send_file(struct http_req *req, struct http_resp *resp, int fd, const struct stat *known,
                   const char *content_type, const char *cache_control)
{
	struct stat sb;
	const char *inm, *range, *if_range;
	char *etag, *lastmod;
	char datebuf[64];
	struct tm tm;
	uint64_t off = 0, len;
	int r;

	if (known)
		sb = *known;
	else if (fstat(fd, &sb) < 0)
		sb.st_mode = 0;
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	etag =
	    arena_printf(req->arena, "\"%" PRIx64 "-%" PRIx64 "-%lx\"", (uint64_t)sb.st_size,
	                 (uint64_t)sb.st_mtim.tv_sec * 1000000000u + (uint64_t)sb.st_mtim.tv_nsec,
	                 (unsigned long)sb.st_ino);
	gmtime_r(&sb.st_mtim.tv_sec, &tm);
	strftime(datebuf, sizeof(datebuf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	lastmod = arena_strdup(req->arena, datebuf);
	if (!etag || !lastmod) {
		close(fd);
		return -ENOMEM;
	}
	resp_header(resp, "ETag", etag);
	resp_header(resp, "Last-Modified", lastmod);
	resp_header(resp, "Cache-Control", cache_control ? cache_control : "no-cache");
	resp_header(resp, "Accept-Ranges", "bytes");
	resp->content_type = content_type;

	inm = http_req_header(req, "If-None-Match");
	if (inm && etag_listed(inm, etag)) {
		close(fd);
		resp->status = 304;
		return 0;
	}
	len = (uint64_t)sb.st_size;
	range = http_req_header(req, "Range");
	if_range = http_req_header(req, "If-Range");
	if (range && if_range && strcmp(if_range, etag) != 0)
		range = NULL; /* the file changed since the client's copy: send it whole */
	r = parse_range(range, (uint64_t)sb.st_size, &off, &len);
	if (r < 0) {
		close(fd);
		resp_header(resp, "Content-Range",
		            arena_printf(req->arena, "bytes */%" PRIu64, (uint64_t)sb.st_size));
		return resp_error(resp, 416, "range_not_satisfiable",
		                  "请求的范围超出文件大小 (range not satisfiable)");
	}
	if (r > 0) {
		resp_header(resp, "Content-Range",
		            arena_printf(req->arena, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
		                         off + len - 1, (uint64_t)sb.st_size));
		resp->status = 206;
	} else {
		off = 0;
		len = (uint64_t)sb.st_size;
		resp->status = 200;
	}
	resp->fd = fd;
	resp->offset = off;
	resp->length = len;
	return 0;
}

/* Reject anything but plain relative segments: no "..", ".", hidden names, backslashes. */
static bool safe_rel_path(const char *p)
{
	const char *seg = p;

	if (strchr(p, '\\'))
		return false;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n > 0 && seg[0] == '.')
			return false;
		if (!end)
			return true;
		seg = end + 1;
	}
}

/* Open rel below the directory dirfd, never outside it (no "..", no link leading out). */
static int open_beneath(int dirfd, const char *rel)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS) /* kernels before 5.6: no links at all */
		fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -ENOENT : (int)fd;
}

int http_open_beneath(int dirfd, const char *rel)
{
	struct stat sb;
	int fd;

	if (dirfd < 0 || !*rel || strlen(rel) > 1024 || !safe_rel_path(rel))
		return -ENOENT;
	fd = open_beneath(dirfd, rel);
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int http_static_serve(int root_fd, struct http_req *req, struct http_resp *resp)
{
	const char *rel = req->path, *name;
	struct stat sb;
	int fd;

	while (*rel == '/')
		rel++;
	if (root_fd < 0 || strlen(rel) > 1024 || !safe_rel_path(rel))
		return -ENOENT;
	fd = open_beneath(root_fd, *rel ? rel : ".");
	if (fd < 0)
		return fd;
	name = rel;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -ENOENT;
	}
	if (S_ISDIR(sb.st_mode)) {
		int dir = fd;

		fd = open_beneath(dir, "index.html");
		close(dir);
		if (fd < 0)
			return fd; /* no listing */
		if (fstat(fd, &sb) < 0) {
			close(fd);
			return -ENOENT;
		}
		name = "index.html";
	}
	/* Vite puts content-hashed names under assets/: they never change. */
	return http_send_file(
	    req, resp, fd, &sb, http_mime_type(name),
	    strncmp(rel, "assets/", 7) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
}
