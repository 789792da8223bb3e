/*
 * bundle: archives built here with libarchive's writer, and hostile zips written byte by byte
 * where the writer would not produce them (GBK names without the UTF-8 flag, "../", absolute
 * names, a symlink with Unix mode bits).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "../check.h"

static char dir[64];

/* A path in the test's directory; the buffer is reused by the next call. */
static const char *tmp_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

#define KEEP_PATH(var, name)                                                                       \
	char var[256];                                                                             \
	snprintf(var, sizeof(var), "%s", tmp_path(name))

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL, "cannot create %s", path);
	if (!f)
		return;
	CHECK(fwrite(data, 1, len, f) == len, "short write to %s", path);
	fclose(f);
}

/* ---- fixtures through libarchive's writer ---- */

struct fx {
	const char *name;
	const char *data; /* NULL: a directory */
	size_t len;
	const char *symlink; /* non-NULL: a symlink to this */
	const char *hardlink;
	unsigned type; /* AE_IFIFO etc. when none of the above says */
};

enum fx_format { FX_ZIP, FX_TARGZ };

static struct archive *writer(enum fx_format fmt, const char *path)
{
	struct archive *a = archive_write_new();

	if (fmt == FX_ZIP) {
		archive_write_set_format_zip(a);
	} else {
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
	}
	CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK, "%s", archive_error_string(a));
	return a;
}

static void build(enum fx_format fmt, const char *path, const struct fx *fx, size_t n)
{
	struct archive *a = writer(fmt, path);

	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname_utf8(e, fx[i].name);
		if (fx[i].type) {
			archive_entry_set_filetype(e, fx[i].type);
			archive_entry_set_perm(e, 0644);
		} else if (fx[i].symlink) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, fx[i].symlink);
		} else if (fx[i].hardlink) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, fx[i].hardlink);
		} else if (!fx[i].data) {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)fx[i].len);
		}
		CHECK(archive_write_header(a, e) == ARCHIVE_OK, "%s", archive_error_string(a));
		if (fx[i].data && fx[i].len)
			CHECK(archive_write_data(a, fx[i].data, fx[i].len) == (la_ssize_t)fx[i].len,
			      "%s", archive_error_string(a));
		archive_entry_free(e);
	}
	CHECK(archive_write_free(a) == ARCHIVE_OK, "closing %s", path);
}

/* One entry of `size` zero bytes, written in pieces so the test never holds it in memory. */
static void build_zeros(enum fx_format fmt, const char *path, size_t size)
{
	struct archive *a = writer(fmt, path);
	struct archive_entry *e = archive_entry_new();
	static const char zero[64 * 1024];

	archive_entry_set_pathname(e, "zeros.bin");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	CHECK(archive_write_header(a, e) == ARCHIVE_OK, "%s", archive_error_string(a));
	for (size_t done = 0; done < size; done += sizeof(zero))
		archive_write_data(a, zero, sizeof(zero));
	archive_entry_free(e);
	CHECK(archive_write_free(a) == ARCHIVE_OK, "closing %s", path);
}

/* Bytes that deflate cannot shrink, so a cut lands inside entry data. */
static char *noise(size_t len, uint32_t seed)
{
	char *p = malloc(len);

	for (size_t i = 0; p && i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (char)(seed & 0xFF);
	}
	return p;
}

/* ---- zips by hand: stored entries, local headers, central directory ---- */

struct bytes {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put16(struct bytes *b, unsigned v)
{
	unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	put(b, c, 2);
}

static void put32(struct bytes *b, uint32_t v)
{
	unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	put(b, c, 4);
}

static uint32_t crc32_of(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return ~c;
}

struct raw_entry {
	const char *name; /* raw bytes as stored */
	const char *data;
	unsigned mode; /* Unix mode for the central directory, 0: none (made on FAT) */
	bool utf8_flag;
};

static void build_raw_zip(const char *path, const struct raw_entry *e, size_t n)
{
	struct bytes z = {0}, cd = {0};
	uint32_t offsets[32];

	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name), dl = strlen(e[i].data);
		uint32_t crc = crc32_of(e[i].data, dl);
		unsigned flags = e[i].utf8_flag ? 0x0800 : 0;

		offsets[i] = (uint32_t)z.n;
		put32(&z, 0x04034b50);
		put16(&z, 20);    /* version needed */
		put16(&z, flags); /* bit 11: names are UTF-8 */
		put16(&z, 0);     /* stored */
		put16(&z, 0);
		put16(&z, 0x21);
		put32(&z, crc);
		put32(&z, (uint32_t)dl);
		put32(&z, (uint32_t)dl);
		put16(&z, (unsigned)nl);
		put16(&z, 0);
		put(&z, e[i].name, nl);
		put(&z, e[i].data, dl);

		put32(&cd, 0x02014b50);
		put16(&cd, e[i].mode ? (3u << 8 | 20) : 20); /* made by: Unix or FAT */
		put16(&cd, 20);
		put16(&cd, flags);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0x21);
		put32(&cd, crc);
		put32(&cd, (uint32_t)dl);
		put32(&cd, (uint32_t)dl);
		put16(&cd, (unsigned)nl);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, (uint32_t)e[i].mode << 16);
		put32(&cd, offsets[i]);
		put(&cd, e[i].name, nl);
	}
	uint32_t cd_off = (uint32_t)z.n;
	put(&z, cd.p, cd.n);
	put32(&z, 0x06054b50);
	put16(&z, 0);
	put16(&z, 0);
	put16(&z, (unsigned)n);
	put16(&z, (unsigned)n);
	put32(&z, (uint32_t)cd.n);
	put32(&z, cd_off);
	put16(&z, 0);
	write_file(path, z.p, z.n);
	free(z.p);
	free(cd.p);
}

static char *to_gbk(const char *utf8)
{
	static char out[256];
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	char *in = (char *)utf8, *o = out;
	size_t il = strlen(utf8), ol = sizeof(out) - 1;

	CHECK(cd != (iconv_t)-1, "no GB18030 in iconv");
	if (cd == (iconv_t)-1)
		return out;
	CHECK(iconv(cd, &in, &il, &o, &ol) != (size_t)-1, "iconv %s", utf8);
	*o = '\0';
	iconv_close(cd);
	return out;
}

/* ---- helpers over the API ---- */

static struct bundle *open_ok(const char *path, const struct bundle_limits *lim)
{
	struct bundle *b = NULL;
	char err[256];
	int rc = bundle_open(&b, path, lim, err, sizeof(err));

	CHECK(rc == 0, "open %s: %d %s", path, rc, err);
	return b;
}

/* Next entry must be name with content data. */
static void expect_entry(struct bundle *b, const char *name, const char *data)
{
	struct bundle_entry e;
	char *p = NULL;
	size_t n = 0;
	int rc = bundle_next(b, &e);

	CHECK(rc == 0, "next: %d %s (wanted %s)", rc, bundle_errmsg(b), name);
	if (rc)
		return;
	CHECK_STR(e.name, name);
	rc = bundle_read_mem(b, 1 << 20, &p, &n);
	CHECK_EQ_INT(rc, 0);
	if (data) {
		CHECK_EQ_INT(n, strlen(data));
		CHECK(p && memcmp(p, data, n) == 0, "content of %s", name);
		CHECK(p && p[n] == '\0', "NUL-terminated");
	}
	free(p);
}

static void expect_refused(struct bundle *b, int want, const char *msg_part)
{
	struct bundle_entry e;
	int rc = bundle_next(b, &e);

	CHECK_EQ_INT(rc, want);
	CHECK_CONTAINS(bundle_errmsg(b), msg_part);
}

static void expect_end(struct bundle *b)
{
	struct bundle_entry e;
	int rc = bundle_next(b, &e);

	CHECK(rc == 1, "wanted end, got %d %s", rc, bundle_errmsg(b));
}

/* ---- cases ---- */

static void test_zip_utf8(void)
{
	static const struct fx fx[] = {
	    {"readme.txt", "hello", 5, NULL, NULL, 0},
	    {"书/", NULL, 0, NULL, NULL, 0},
	    {"书/三国演义.epub", "PK-not-really", 13, NULL, NULL, 0},
	    {"./docs//a.txt", "a", 1, NULL, NULL, 0},
	    {"empty.txt", "", 0, NULL, NULL, 0},
	};
	KEEP_PATH(path, "utf8.zip");
	struct bundle *b;

	build(FX_ZIP, path, fx, sizeof(fx) / sizeof(fx[0]));
	b = open_ok(path, NULL);
	if (!b)
		return;
	CHECK_STR(bundle_errmsg(b), "");
	expect_entry(b, "readme.txt", "hello");
	expect_entry(b, "书/三国演义.epub", "PK-not-really");
	expect_entry(b, "docs/a.txt", "a");
	expect_entry(b, "empty.txt", "");
	expect_end(b);
	CHECK_EQ_INT(bundle_entries(b), 5); /* the directory counts */
	bundle_close(b);
}

static void test_zip_gbk(void)
{
	char name1[64], name2[64], name3[64];
	KEEP_PATH(path, "gbk.zip");
	struct raw_entry e[5];
	struct bundle *b;

	snprintf(name1, sizeof(name1), "%s", to_gbk("三国演义.epub"));
	/* Windows separators, and a character whose GBK trail byte is 0x5C ('\\') */
	snprintf(name2, sizeof(name2), "%s", to_gbk("中文\\淺說.txt"));
	snprintf(name3, sizeof(name3), "%s", "plain-utf8-no-flag-红楼梦.txt");
	e[0] = (struct raw_entry){name1, "epub bytes", 0, false};
	e[1] = (struct raw_entry){name2, "shallow", 0, false};
	e[2] = (struct raw_entry){name3, "red", 0, false};
	/* the UTF-8 flag over GBK bytes: libarchive gives no name at all, so it is refused */
	e[3] = (struct raw_entry){name1, "liar", 0, true};
	e[4] = (struct raw_entry){"flagged-水浒传.txt", "water", 0, true};
	build_raw_zip(path, e, 5);

	b = open_ok(path, NULL);
	if (!b)
		return;
	expect_entry(b, "三国演义.epub", "epub bytes");
	expect_entry(b, "中文/淺說.txt", "shallow");
	expect_entry(b, "plain-utf8-no-flag-红楼梦.txt", "red");
	expect_refused(b, -EPERM, "文件名无法识别");
	expect_entry(b, "flagged-水浒传.txt", "water");
	expect_end(b);
	bundle_close(b);
}

static void test_targz(void)
{
	static const struct fx fx[] = {
	    {"bundle/", NULL, 0, NULL, NULL, 0},
	    {"bundle/manifest.csv", "file,title\n", 11, NULL, NULL, 0},
	    {"bundle/西游记.txt", "第一回", 9, NULL, NULL, 0},
	    {"bundle/link", NULL, 0, "/etc/shadow", NULL, 0},
	    {"bundle/hard", NULL, 0, NULL, "bundle/西游记.txt", 0},
	    {"bundle/fifo", NULL, 0, NULL, NULL, AE_IFIFO},
	    {"bundle/tty", NULL, 0, NULL, NULL, AE_IFCHR},
	    {"bundle/after.txt", "after", 5, NULL, NULL, 0},
	};
	KEEP_PATH(path, "b.tar.gz");
	struct bundle *b;

	build(FX_TARGZ, path, fx, sizeof(fx) / sizeof(fx[0]));
	b = open_ok(path, NULL);
	if (!b)
		return;
	expect_entry(b, "bundle/manifest.csv", "file,title\n");
	expect_entry(b, "bundle/西游记.txt", "第一回");
	expect_refused(b, -EPERM, "符号链接");
	expect_refused(b, -EPERM, "硬链接");
	expect_refused(b, -EPERM, "命名管道");
	expect_refused(b, -EPERM, "设备文件");
	expect_entry(b, "bundle/after.txt", "after");
	expect_end(b);
	CHECK_EQ_INT(bundle_entries(b), 8);
	bundle_close(b);
}

static void test_hostile_names(void)
{
	static const struct raw_entry e[] = {
	    {"../evil.txt", "x", 0, false},
	    {"ok1.txt", "1", 0, false},
	    {"/etc/passwd", "x", 0, false},
	    {"ok2.txt", "2", 0, false},
	    {"link", "/etc/passwd", 0120777, false},
	    {"ok3.txt", "3", 0, false},
	    {"..\\..\\windows.txt", "x", 0, false},
	    {"a/../../b.txt", "x", 0, false},
	    {"C:/boot.ini", "x", 0, false},
	    {"bad\x01name", "x", 0, false},
	    {"./", "x", 0, false},
	    {"ok4.txt", "4", 0100644, false},
	};
	KEEP_PATH(path, "hostile.zip");
	struct bundle *b;

	build_raw_zip(path, e, sizeof(e) / sizeof(e[0]));
	b = open_ok(path, NULL);
	if (!b)
		return;
	expect_refused(b, -EPERM, "“..”");
	CHECK_CONTAINS(bundle_errmsg(b), "../evil.txt");
	expect_entry(b, "ok1.txt", "1");
	expect_refused(b, -EPERM, "绝对路径");
	expect_entry(b, "ok2.txt", "2");
	expect_refused(b, -EPERM, "符号链接");
	expect_entry(b, "ok3.txt", "3");
	expect_refused(b, -EPERM, "“..”");
	expect_refused(b, -EPERM, "“..”");
	expect_refused(b, -EPERM, "绝对路径");
	expect_refused(b, -EPERM, "控制字符");
	/* "./" names a directory by its slash, so it is skipped, not refused */
	expect_entry(b, "ok4.txt", "4");
	expect_end(b);
	CHECK_EQ_INT(bundle_entries(b), 12);
	bundle_close(b);
}

static void bomb(enum fx_format fmt, const char *name, size_t size)
{
	KEEP_PATH(path, name);
	struct bundle_entry e;
	struct bundle *b;
	struct stat st;
	uint64_t written = 0;
	int fd, rc;

	build_zeros(fmt, path, size);
	CHECK(stat(path, &st) == 0 && st.st_size < (off_t)(size / 500), "%s is %lld bytes", name,
	      (long long)st.st_size);
	b = open_ok(path, NULL);
	if (!b)
		return;
	CHECK_EQ_INT(bundle_next(b, &e), 0);
	CHECK_EQ_INT(e.size, (int64_t)size); /* what the header claims; not trusted */
	fd = open(tmp_path("out.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = bundle_extract_fd(b, fd, &written);
	CHECK_EQ_INT(rc, -E2BIG);
	CHECK_CONTAINS(bundle_errmsg(b), "压缩比异常（疑似压缩炸弹）");
	/*
	 * Deflated zeros approach 1032:1, so with the headers counted the running ratio passes
	 * 1000:1 after about 2.3 MiB (zip) or 5.5 MiB (tar.gz); extraction must stop right there,
	 * not at the end of the entry.
	 */
	CHECK(written >= (1u << 20) && written < (8u << 20), "wrote %llu bytes",
	      (unsigned long long)written);
	CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == written, "file has %lld bytes",
	      (long long)st.st_size);
	close(fd);
	/* the bundle is over: no more entries after a bomb */
	CHECK_EQ_INT(bundle_next(b, &e), -E2BIG);
	bundle_close(b);
}

static void test_ratio_grace(void)
{
	/* 900 KiB of one repeated line compresses far past 1000:1 and is still fine */
	size_t len = 900 * 1024;
	char *text = malloc(len);
	KEEP_PATH(path, "text.zip");
	struct fx fx[1] = {{"long.txt", text, len, NULL, NULL, 0}};
	struct bundle *b;
	uint64_t written = 0;
	struct bundle_entry e;
	int fd;

	memset(text, 'a', len);
	build(FX_ZIP, path, fx, 1);
	b = open_ok(path, NULL);
	if (b) {
		CHECK_EQ_INT(bundle_next(b, &e), 0);
		fd = open(tmp_path("out.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK_EQ_INT(bundle_extract_fd(b, fd, &written), 0);
		CHECK_EQ_INT(written, len);
		close(fd);
		expect_end(b);
		bundle_close(b);
	}
	free(text);
}

static void test_max_entry(void)
{
	char *big = noise(5000, 7);
	KEEP_PATH(path, "big.zip");
	struct fx fx[] = {
	    {"big.bin", big, 5000, NULL, NULL, 0},
	    {"small.txt", "small", 5, NULL, NULL, 0},
	    {"big2.bin", big, 5000, NULL, NULL, 0},
	};
	struct bundle_limits lim;
	struct bundle_entry e;
	struct bundle *b;
	uint64_t written = 0;
	char *p = NULL;
	size_t n = 0;
	int fd;

	build(FX_ZIP, path, fx, 3);
	bundle_limits_default(&lim);
	lim.max_entry = 1000;
	b = open_ok(path, &lim);
	if (b) {
		CHECK_EQ_INT(bundle_next(b, &e), 0);
		fd = open(tmp_path("out.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK_EQ_INT(bundle_extract_fd(b, fd, &written), -EFBIG);
		CHECK(written <= 1000, "wrote %llu", (unsigned long long)written);
		CHECK_CONTAINS(bundle_errmsg(b), "big.bin");
		close(fd);
		/* one oversized file does not end the bundle */
		expect_entry(b, "small.txt", "small");
		/* bundle_read_mem has its own cap */
		CHECK_EQ_INT(bundle_next(b, &e), 0);
		CHECK_EQ_INT(bundle_read_mem(b, 100, &p, &n), -EFBIG);
		CHECK(p == NULL, "no buffer on error");
		expect_end(b);
		bundle_close(b);
	}

	/* the total over all entries */
	bundle_limits_default(&lim);
	lim.max_total = 7000;
	b = open_ok(path, &lim);
	if (b) {
		expect_entry(b, "big.bin", NULL);
		expect_entry(b, "small.txt", "small");
		CHECK_EQ_INT(bundle_next(b, &e), 0);
		CHECK_EQ_INT(bundle_read_mem(b, 1 << 20, &p, &n), -EFBIG);
		CHECK_CONTAINS(bundle_errmsg(b), "总量");
		CHECK_EQ_INT(bundle_next(b, &e), -EFBIG);
		bundle_close(b);
	}
	free(big);
}

static void test_too_many(void)
{
	struct fx fx[15];
	char names[15][24];
	KEEP_PATH(path, "many.zip");
	struct bundle_limits lim;
	struct bundle_entry e;
	struct bundle *b;
	int rc = 0, ok = 0;

	for (int i = 0; i < 15; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02d.txt", i);
		fx[i] = (struct fx){names[i], "x", 1, NULL, NULL, 0};
	}
	build(FX_ZIP, path, fx, 15);
	bundle_limits_default(&lim);
	lim.max_entries = 10;
	b = open_ok(path, &lim);
	if (!b)
		return;
	while ((rc = bundle_next(b, &e)) == 0)
		ok++;
	CHECK_EQ_INT(rc, -E2BIG);
	CHECK_EQ_INT(ok, 10);
	CHECK_EQ_INT(bundle_entries(b), 11);
	CHECK_CONTAINS(bundle_errmsg(b), "条目过多");
	bundle_close(b);
}

static void truncated(enum fx_format fmt, const char *name)
{
	char *d1 = noise(100000, 1), *d2 = noise(100000, 2), *d3 = noise(100000, 3);
	struct fx fx[] = {
	    {"one.bin", d1, 100000, NULL, NULL, 0},
	    {"two.bin", d2, 100000, NULL, NULL, 0},
	    {"three.bin", d3, 100000, NULL, NULL, 0},
	};
	KEEP_PATH(path, name);
	struct bundle_entry e;
	struct bundle *b = NULL;
	struct stat st;
	char err[256];
	int rc, fd;
	uint64_t written;

	build(fmt, path, fx, 3);
	CHECK(stat(path, &st) == 0, "stat");
	CHECK(truncate(path, st.st_size / 2) == 0, "truncate");
	rc = bundle_open(&b, path, NULL, err, sizeof(err));
	if (rc == 0) {
		fd = open(tmp_path("out.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		for (int i = 0; i < 10 && rc == 0; i++) {
			rc = bundle_next(b, &e);
			if (rc == 0)
				rc = bundle_extract_fd(b, fd, &written);
		}
		close(fd);
		CHECK_CONTAINS(bundle_errmsg(b), "压缩包已损坏或不完整");
	} else {
		CHECK_CONTAINS(err, "压缩包已损坏或不完整");
	}
	CHECK_EQ_INT(rc, -EBADMSG);
	bundle_close(b);
	free(d1);
	free(d2);
	free(d3);
}

static void test_not_archive(void)
{
	struct bundle *b = (struct bundle *)1;
	char err[256];
	int rc;

	write_file(tmp_path("notes.txt"), "这只是一个文本文件。\n", 31);
	rc = bundle_open(&b, tmp_path("notes.txt"), NULL, err, sizeof(err));
	CHECK(rc == -ENOTSUP || rc == -EBADMSG, "rc %d", rc);
	CHECK(b == NULL, "*out cleared");
	CHECK(err[0] != '\0', "a message");

	rc = bundle_open(&b, tmp_path("no-such.zip"), NULL, err, sizeof(err));
	CHECK_EQ_INT(rc, -ENOENT);
	CHECK_CONTAINS(err, "找不到");
}

static void test_path_limits(void)
{
	static const struct fx fx[] = {
	    {"short.txt", "s", 1, NULL, NULL, 0},
	    {"a-name-that-is-forty-bytes-long-0123.txt", "x", 1, NULL, NULL, 0},
	};
	static const struct fx deep[] = {
	    {"a/b/c.txt", "c", 1, NULL, NULL, 0},
	    {"a/b/c/d.txt", "d", 1, NULL, NULL, 0},
	};
	struct bundle_limits lim;
	struct bundle *b;

	build(FX_ZIP, tmp_path("long.zip"), fx, 2);
	bundle_limits_default(&lim);
	lim.max_path = 32;
	b = open_ok(tmp_path("long.zip"), &lim);
	if (b) {
		expect_entry(b, "short.txt", "s");
		expect_refused(b, -E2BIG, "路径过长");
		bundle_close(b);
	}

	build(FX_TARGZ, tmp_path("deep.tar.gz"), deep, 2);
	bundle_limits_default(&lim);
	lim.max_depth = 2;
	b = open_ok(tmp_path("deep.tar.gz"), &lim);
	if (b) {
		expect_entry(b, "a/b/c.txt", "c");
		expect_refused(b, -E2BIG, "层级过深");
		bundle_close(b);
	}
}

static void test_misuse(void)
{
	struct bundle *b;
	uint64_t written = 1;

	build(FX_ZIP, tmp_path("one.zip"), (struct fx[]){{"a.txt", "a", 1, NULL, NULL, 0}}, 1);
	b = open_ok(tmp_path("one.zip"), NULL);
	if (!b)
		return;
	/* no bundle_next yet */
	CHECK_EQ_INT(bundle_extract_fd(b, 1, &written), -EINVAL);
	CHECK_EQ_INT(written, 0);
	bundle_close(b);
	bundle_close(NULL);
}

static void cleanup(void)
{
	static const char *const files[] = {
	    "utf8.zip",  "gbk.zip",  "b.tar.gz",    "hostile.zip", "bomb.zip",  "bomb.tar.gz",
	    "out.bin",   "text.zip", "big.zip",     "many.zip",    "trunc.zip", "trunc.tar.gz",
	    "notes.txt", "long.zip", "deep.tar.gz", "one.zip",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tmp_path(files[i]));
	rmdir(dir);
}

int main(void)
{
	/* as main() does: libarchive converts names through the locale */
	setlocale(LC_ALL, "C.UTF-8");
	snprintf(dir, sizeof(dir), "/tmp/sx_bundle_XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_zip_utf8();
	test_zip_gbk();
	test_targz();
	test_hostile_names();
	bomb(FX_ZIP, "bomb.zip", (size_t)200 << 20);
	bomb(FX_TARGZ, "bomb.tar.gz", (size_t)64 << 20);
	test_ratio_grace();
	test_max_entry();
	test_too_many();
	truncated(FX_ZIP, "trunc.zip");
	truncated(FX_TARGZ, "trunc.tar.gz");
	test_not_archive();
	test_path_limits();
	test_misuse();
	cleanup();
	CHECK_DONE();
}
