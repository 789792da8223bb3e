/*
 * Bundle reading through libarchive. Everything in an uploaded archive is hostile until shown
 * otherwise: sizes and counts in headers are ignored (we count what actually comes out), names
 * are decoded and checked here, and nothing is ever created under a name from the archive.
 */
#include "bundle.h"
#include "utf8.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64u * 1024)
/* Below this much output a high ratio is normal (a few KB of repetitive XML or text). */
#define RATIO_GRACE (1u << 20)
#define ERRMSG_MAX 512
/* libarchive's ARCHIVE_ERRNO_FILE_FORMAT is not in its public header; without EFTYPE it is EILSEQ.
 */
#ifdef EFTYPE
#define LA_ERRNO_FILE_FORMAT EFTYPE
#else
#define LA_ERRNO_FILE_FORMAT EILSEQ
#endif

struct bundle {
	struct archive *a;
	int fd;
	struct bundle_limits lim;
	uint32_t entries;
	uint64_t total;       /* uncompressed bytes handed out, all entries */
	uint64_t entry_bytes; /* uncompressed bytes handed out, current entry */
	bool have_entry;      /* bundle_next returned 0 and the data is still unread */
	int fatal;            /* once set, every later call returns it */
	iconv_t gb;           /* GB18030 -> UTF-8, opened on the first name that needs it */
	char *name;
	size_t name_cap;
	char *conv; /* scratch for the converted name */
	size_t conv_cap;
	char errmsg[ERRMSG_MAX];
	unsigned char buf[CHUNK];
};

void bundle_limits_default(struct bundle_limits *lim)
{
	lim->max_entries = 10000;
	lim->max_total = (uint64_t)20 << 30;
	lim->max_entry = (uint64_t)1 << 30;
	lim->max_ratio = 1000;
	lim->max_path = 1024;
	lim->max_depth = 16;
}

/* snprintf cuts at a byte count; drop a UTF-8 sequence the cut left incomplete. */
static void trim_utf8_tail(char *s)
{
	size_t n = strlen(s), i = n, need;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	if (lead < 0x80)
		return;
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

static int fail(struct bundle *b, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct bundle *b, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->errmsg, sizeof(b->errmsg), fmt, ap);
	va_end(ap);
	trim_utf8_tail(b->errmsg);
	return rc;
}

static void copy_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen) {
		snprintf(err, errlen, "%s", msg);
		trim_utf8_tail(err);
	}
}

/*
 * The one place libarchive results become errno values. libarchive's own text is English and
 * may quote bytes from the archive, so it is appended for the log with control characters
 * masked.
 */
static int archive_fail(struct bundle *b, bool opening)
{
	int e = archive_errno(b->a);
	const char *detail = archive_error_string(b->a);
	char clean[160];
	size_t i = 0;

	if (e == ENOMEM)
		return fail(b, -ENOMEM, "内存不足，无法读取压缩包");
	/* only ASCII passes: anything else came from the archive and may not even be UTF-8 */
	for (; detail && detail[i] && i + 1 < sizeof(clean); i++)
		clean[i] = detail[i] >= 0x20 && detail[i] < 0x7F ? detail[i] : '?';
	clean[i] = '\0';
	/* At open time the only format-level failure is "no reader recognised this". */
	if (opening && e == LA_ERRNO_FILE_FORMAT)
		return fail(b, -ENOTSUP, "不支持的压缩包格式（只接受 zip、tar、tar.gz）");
	return fail(b, -EBADMSG, "压缩包已损坏或不完整（%s）", i ? clean : "无详情");
}

static void release(struct bundle *b)
{
	if (b->a)
		archive_read_free(b->a);
	if (b->fd >= 0)
		close(b->fd);
	if (b->gb != (iconv_t)-1)
		iconv_close(b->gb);
	free(b->name);
	free(b->conv);
	free(b);
}

int bundle_open(struct bundle **out, const char *path, const struct bundle_limits *lim, char *err,
                size_t errlen)
{
	struct bundle *b;
	struct stat st;
	int rc;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b) {
		copy_err(err, errlen, "内存不足，无法读取压缩包");
		return -ENOMEM;
	}
	b->fd = -1;
	b->gb = (iconv_t)-1;
	if (lim)
		b->lim = *lim;
	else
		bundle_limits_default(&b->lim);

	b->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (b->fd < 0) {
		rc = errno == ENOENT ? fail(b, -ENOENT, "找不到压缩包文件")
		                     : fail(b, -EIO, "无法打开压缩包文件（errno %d）", errno);
		goto out;
	}
	if (fstat(b->fd, &st) || !S_ISREG(st.st_mode)) {
		rc = fail(b, -ENOTSUP, "不是普通文件，不能作为压缩包读取");
		goto out;
	}

	b->a = archive_read_new();
	if (!b->a) {
		rc = fail(b, -ENOMEM, "内存不足，无法读取压缩包");
		goto out;
	}
	/*
	 * Both zip readers: the seekable one (chosen when the central directory is there) knows
	 * Unix modes, so symlinks are seen; the streaming one still reads a zip cut short. gzip
	 * must be built in: a WARN would mean libarchive runs an external gzip, which we don't
	 * want.
	 */
	if (archive_read_support_format_zip(b->a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(b->a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(b->a) != ARCHIVE_OK) {
		rc = fail(b, -ENOTSUP, "本机的 libarchive 不支持 zip、tar 或 gzip");
		goto out;
	}
	if (archive_read_open_fd(b->a, b->fd, CHUNK) != ARCHIVE_OK) {
		rc = archive_fail(b, true);
		goto out;
	}
	*out = b;
	b = NULL;
	rc = 0;
out:
	if (b) {
		copy_err(err, errlen, b->errmsg);
		release(b);
	} else if (err && errlen) {
		err[0] = '\0';
	}
	return rc;
}

void bundle_close(struct bundle *b)
{
	if (b)
		release(b);
}

static int grow(char **buf, size_t *cap, size_t need)
{
	char *p;

	if (*cap >= need)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = need;
	return 0;
}

/*
 * Point *name at the entry's name in UTF-8 (libarchive's, or ours in b->conv). libarchive
 * gives UTF-8 when it can; zips made on Chinese Windows carry GBK names without the UTF-8
 * flag, which it cannot, so those raw bytes are read as GB18030 (a superset of GBK). Raw bytes
 * that already are UTF-8 (zips from tools that forget the flag) are kept. The length cap
 * applies before and after conversion.
 */
static int entry_name_utf8(struct bundle *b, struct archive_entry *ae, const char **name)
{
	const char *s = archive_entry_pathname_utf8(ae);
	char *in, *outp;
	size_t n, inleft, outleft;

	/* checked again: what reaches a staff page or a JSON report must be UTF-8 */
	if (s && utf8_valid(s, strlen(s))) {
		n = strlen(s);
		if (n > b->lim.max_path)
			return fail(b, -E2BIG, "条目路径过长（超过 %u 字节）", b->lim.max_path);
		*name = s;
		return 0;
	}
	s = archive_entry_pathname(ae);
	if (!s || !*s)
		return fail(b, -EPERM, "已拒绝第 %u 个条目：文件名无法识别", b->entries);
	n = strlen(s);
	if (n > b->lim.max_path)
		return fail(b, -E2BIG, "条目路径过长（超过 %u 字节）", b->lim.max_path);
	if (utf8_valid(s, n)) {
		*name = s;
		return 0;
	}
	if (b->gb == (iconv_t)-1) {
		b->gb = iconv_open("UTF-8", "GB18030");
		if (b->gb == (iconv_t)-1)
			return fail(b, -EPERM, "已拒绝第 %u 个条目：本机不支持 GB18030 文件名转换",
			            b->entries);
	}
	/* GB18030 to UTF-8 grows at most 3 bytes per 2 */
	if (grow(&b->conv, &b->conv_cap, n / 2 * 3 + 4))
		return fail(b, -ENOMEM, "内存不足，无法读取压缩包");
	iconv(b->gb, NULL, NULL, NULL, NULL);
	in = (char *)s;
	inleft = n;
	outp = b->conv;
	outleft = b->conv_cap - 1;
	if (iconv(b->gb, &in, &inleft, &outp, &outleft) == (size_t)-1 || inleft)
		return fail(b, -EPERM, "已拒绝第 %u 个条目：文件名既不是 UTF-8 也不是 GBK 编码",
		            b->entries);
	*outp = '\0';
	if ((size_t)(outp - b->conv) > b->lim.max_path)
		return fail(b, -E2BIG, "条目路径过长（超过 %u 字节）", b->lim.max_path);
	*name = b->conv;
	return 0;
}

/*
 * Check and normalise a decoded name into b->name. '\\' counts as a separator because zips
 * from Windows tools use it ("..\\..\\x" must not slip through); doing this after decoding
 * matters, since a GBK trail byte can be 0x5C.
 */
static int clean_name(struct bundle *b, const char *in)
{
	size_t n = strlen(in), o = 0, i = 0;
	uint32_t depth = 0;

	if (grow(&b->name, &b->name_cap, n + 1))
		return fail(b, -ENOMEM, "内存不足，无法读取压缩包");
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)in[k];
		if (c < 0x20 || c == 0x7F)
			return fail(b, -EPERM, "已拒绝第 %u 个条目：文件名含控制字符", b->entries);
	}
	if (in[0] == '/' || in[0] == '\\' ||
	    (((in[0] | 0x20) >= 'a' && (in[0] | 0x20) <= 'z') && in[1] == ':'))
		return fail(b, -EPERM, "已拒绝不安全的条目「%s」：绝对路径", in);

	while (i < n) {
		size_t start = i, len;

		while (i < n && in[i] != '/' && in[i] != '\\')
			i++;
		len = i - start;
		if (i < n)
			i++; /* the separator */
		if (len == 0 || (len == 1 && in[start] == '.'))
			continue;
		if (len == 2 && in[start] == '.' && in[start + 1] == '.')
			return fail(b, -EPERM, "已拒绝不安全的条目「%s」：路径含“..”", in);
		if (o) {
			b->name[o++] = '/';
			depth++;
		}
		memcpy(b->name + o, in + start, len);
		o += len;
	}
	b->name[o] = '\0';
	if (o == 0)
		return fail(b, -EPERM, "已拒绝第 %u 个条目：文件名为空", b->entries);
	if (depth > b->lim.max_depth)
		return fail(b, -E2BIG, "条目目录层级过深（超过 %u 层）：%s", b->lim.max_depth,
		            b->name);
	return 0;
}

static const char *kind_refused(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return "硬链接";
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return NULL;
	case AE_IFLNK:
		return "符号链接";
	case AE_IFCHR:
	case AE_IFBLK:
		return "设备文件";
	case AE_IFIFO:
		return "命名管道";
	case AE_IFSOCK:
		return "套接字";
	default:
		return "未知类型";
	}
}

int bundle_next(struct bundle *b, struct bundle_entry *e)
{
	struct archive_entry *ae;
	const char *name = NULL, *refused;
	int r, rc;

	b->have_entry = false;
	if (b->fatal)
		return b->fatal;
	for (;;) {
		r = archive_read_next_header(b->a, &ae);
		if (r == ARCHIVE_EOF)
			return 1;
		/* WARN is e.g. a name libarchive could not convert: we decode names ourselves. */
		if (r < ARCHIVE_WARN) {
			rc = archive_fail(b, false);
			goto fatal;
		}
		if (++b->entries > b->lim.max_entries) {
			rc = fail(b, -E2BIG, "压缩包条目过多（超过 %u 个）", b->lim.max_entries);
			goto fatal;
		}
		/* Directories are never created from an archive, so their names do not matter. */
		if (archive_entry_filetype(ae) != AE_IFDIR)
			break;
	}

	rc = entry_name_utf8(b, ae, &name);
	if (!rc)
		rc = clean_name(b, name);
	if (rc == -EPERM)
		return rc;
	if (rc)
		goto fatal;
	refused = kind_refused(ae);
	if (refused)
		return fail(b, -EPERM, "已拒绝不安全的条目「%s」：%s", b->name, refused);
	if (archive_entry_is_encrypted(ae))
		return fail(b, -EPERM, "已拒绝条目「%s」：已加密，无法读取", b->name);

	e->name = b->name;
	e->size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
	b->entry_bytes = 0;
	b->have_entry = true;
	b->errmsg[0] = '\0';
	return 0;
fatal:
	b->fatal = rc;
	return rc;
}

/*
 * Raw bytes consumed from the file so far. For a seekable zip this is the read position,
 * which also catches entries that share one compressed stream (overlapping-file bombs).
 */
static bool ratio_exceeded(struct bundle *b)
{
	int64_t raw;

	if (b->total < RATIO_GRACE)
		return false;
	raw = archive_filter_bytes(b->a, -1);
	if (raw < 1)
		raw = 1;
	if (b->lim.max_ratio == 0)
		return true;
	if ((uint64_t)raw > UINT64_MAX / b->lim.max_ratio)
		return false;
	return b->total > (uint64_t)raw * b->lim.max_ratio;
}

typedef int (*sink_fn)(struct bundle *b, void *ctx, const unsigned char *p, size_t n);

/* Pull the current entry through sink, counting before anything is handed on. */
static int pump(struct bundle *b, sink_fn sink, void *ctx, uint64_t *got)
{
	int rc;

	*got = 0;
	if (b->fatal)
		return b->fatal;
	if (!b->have_entry)
		return fail(b, -EINVAL, "没有可读取的条目");
	for (;;) {
		la_ssize_t n = archive_read_data(b->a, b->buf, sizeof(b->buf));

		if (n == 0)
			break;
		if (n < 0) {
			rc = archive_fail(b, false);
			goto fatal;
		}
		if (b->entry_bytes + (uint64_t)n > b->lim.max_entry) {
			/* The archive itself is fine: the caller may go on with the next entry. */
			b->have_entry = false;
			return fail(b, -EFBIG, "文件「%s」过大（超过 %llu 字节）", b->name,
			            (unsigned long long)b->lim.max_entry);
		}
		if (b->total + (uint64_t)n > b->lim.max_total) {
			rc = fail(b, -EFBIG, "压缩包解压后总量超过上限（%llu 字节）",
			          (unsigned long long)b->lim.max_total);
			goto fatal;
		}
		b->entry_bytes += (uint64_t)n;
		b->total += (uint64_t)n;
		if (ratio_exceeded(b)) {
			rc = fail(b, -E2BIG, "压缩比异常（疑似压缩炸弹），超过 %u:1",
			          b->lim.max_ratio);
			goto fatal;
		}
		rc = sink(b, ctx, b->buf, (size_t)n);
		if (rc) {
			b->have_entry = false;
			return rc;
		}
		*got += (uint64_t)n;
	}
	b->have_entry = false;
	return 0;
fatal:
	b->have_entry = false;
	b->fatal = rc;
	return rc;
}

static int fd_sink(struct bundle *b, void *ctx, const unsigned char *p, size_t n)
{
	int fd = *(int *)ctx;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(b, -EIO, "写入解压文件失败（%s）",
			            w < 0 && errno == ENOSPC ? "磁盘空间不足" : "输入输出错误");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int bundle_extract_fd(struct bundle *b, int fd, uint64_t *written)
{
	return pump(b, fd_sink, &fd, written);
}

struct mem_sink {
	char *p;
	size_t len, cap, max;
};

static int mem_sink(struct bundle *b, void *ctx, const unsigned char *p, size_t n)
{
	struct mem_sink *m = ctx;

	if (n > m->max - m->len)
		return fail(b, -EFBIG, "文件「%s」过大（超过 %zu 字节）", b->name, m->max);
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : CHUNK;
		while (cap < m->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (cap > m->max + 1)
			cap = m->max + 1;
		char *np = realloc(m->p, cap);
		if (!np)
			return fail(b, -ENOMEM, "内存不足，无法读取压缩包");
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return 0;
}

int bundle_read_mem(struct bundle *b, size_t max, char **out, size_t *len)
{
	struct mem_sink m = {.max = max < SIZE_MAX ? max : SIZE_MAX - 1};
	uint64_t got;
	int rc;

	*out = NULL;
	*len = 0;
	rc = pump(b, mem_sink, &m, &got);
	if (rc)
		goto out;
	if (!m.p) {
		m.p = malloc(1);
		if (!m.p) {
			rc = fail(b, -ENOMEM, "内存不足，无法读取压缩包");
			goto out;
		}
	}
	m.p[m.len] = '\0';
	*out = m.p;
	*len = m.len;
	m.p = NULL;
out:
	free(m.p);
	return rc;
}

const char *bundle_errmsg(const struct bundle *b)
{
	return b ? b->errmsg : "";
}

uint32_t bundle_entries(const struct bundle *b)
{
	return b ? b->entries : 0;
}
