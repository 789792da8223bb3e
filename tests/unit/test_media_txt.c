/* media/txt: charset detection, conversion, chapter split and the generated EPUB (checked with
 * libarchive and with epubcheck). Every fixture is made here: GBK and Big5 bytes come from
 * glibc's iconv, random bytes from a fixed-seed generator. */
#include "txt.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#define EPUBCHECK_JAR "/usr/share/java/epubcheck.jar"

static char tmpdir[64];

/* Simplified Chinese prose, long enough for uchardet to be sure. */
static const char *const story[] = {
    "那年冬天，城西的旧书馆里来了一位年轻的管理员。她每天天不亮就打开大门，把昨夜落在台阶上的雪"
    "扫干净，再把一排排书架擦得发亮。",
    "老馆长说，这座书馆已经有一百多年了，墙上的砖还是当年从河边一块一块运来的。来借书的人不多，"
    "多半是附近学校的孩子和退了休的老人。",
    "管理员喜欢在午后的阳光里整理旧报纸。她发现有些报纸的边角写着铅笔字，像是有人在很久以前留下"
    "的读书笔记，字迹清秀，却没有署名。",
    "“这些字是谁写的？”她问老馆长。老馆长摘下眼镜，想了很久，才慢慢地说：“也许是一个和你一样"
    "喜欢书的人吧。”",
    "从那以后，她开始把这些笔记一张一张地抄下来，按照日期排好，装进一个蓝色的文件夹里。冬天过去"
    "了，文件夹也渐渐厚了起来。",
};

/* The same story in traditional characters, for Big5. */
static const char *const story_tw[] = {
    "那年冬天，城西的舊書館裡來了一位年輕的管理員。她每天天不亮就打開大門，把昨夜落在台階上的雪"
    "掃乾淨，再把一排排書架擦得發亮。",
    "老館長說，這座書館已經有一百多年了，牆上的磚還是當年從河邊一塊一塊運來的。來借書的人不多，"
    "多半是附近學校的孩子和退了休的老人。",
    "管理員喜歡在午後的陽光裡整理舊報紙。她發現有些報紙的邊角寫著鉛筆字，像是有人在很久以前留下"
    "的讀書筆記，字跡清秀，卻沒有署名。",
    "「這些字是誰寫的？」她問老館長。老館長摘下眼鏡，想了很久，才慢慢地說：「也許是一個和你一樣"
    "喜歡書的人吧。」",
};

/* --- helpers ------------------------------------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Convert UTF-8 to charset with iconv; exits when the fixture itself cannot be encoded. */
static struct buf encode(const char *utf8, size_t len, const char *charset)
{
	struct buf out = {0};
	iconv_t cd = iconv_open(charset, "UTF-8");
	char *in = (char *)utf8, *o;
	size_t inleft = len, oleft;

	if (cd == (iconv_t)-1) {
		fprintf(stderr, "iconv_open %s failed\n", charset);
		exit(2);
	}
	out.cap = len * 2 + 16;
	out.p = malloc(out.cap);
	o = out.p;
	oleft = out.cap - 1;
	if (!out.p || iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1) {
		fprintf(stderr, "fixture cannot be encoded in %s\n", charset);
		exit(2);
	}
	out.len = (size_t)(o - out.p);
	out.p[out.len] = '\0';
	iconv_close(cd);
	return out;
}

static void story_text(struct buf *b, const char *const *paras, size_t n, size_t rounds)
{
	for (size_t r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++) {
			buf_puts(b, "　　");
			buf_puts(b, paras[i]);
			buf_puts(b, "\n");
		}
}

static void write_fixture(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

/* xorshift: the same "random" bytes on every run. */
static void random_bytes(unsigned char *p, size_t n, uint32_t seed, unsigned lo)
{
	uint32_t x = seed;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(lo + x % (256 - lo));
	}
}

/* The named entry of a zip, read with libarchive; NULL when absent. */
static char *zip_entry(const char *zip, const char *name, size_t *len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *out = NULL;

	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, zip, 16384) != ARCHIVE_OK)
		goto done;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct buf b = {0};
		char chunk[8192];
		la_ssize_t k;

		if (strcmp(archive_entry_pathname(e), name) != 0)
			continue;
		buf_add(&b, "", 0);
		while ((k = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			buf_add(&b, chunk, (size_t)k);
		out = b.p;
		if (len)
			*len = b.len;
		break;
	}
done:
	archive_read_free(a);
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* epubcheck takes a few seconds per book (JVM start-up): start them all, then collect. */
struct epubcheck {
	FILE *f;
	bool skipped; /* the jar is not installed */
	char path[128];
	char out[16384];
	int status;
};

static void epubcheck_start(struct epubcheck *c, const char *path)
{
	char cmd[512];

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (access(EPUBCHECK_JAR, R_OK) != 0) {
		c->skipped = true;
		return;
	}
	snprintf(cmd, sizeof(cmd), "java -jar %s '%s' 2>&1", EPUBCHECK_JAR, path);
	c->f = popen(cmd, "r");
}

static void epubcheck_finish(struct epubcheck *c)
{
	size_t len = 0, k;

	if (!c->f) {
		c->status = -1;
		return;
	}
	while ((k = fread(c->out + len, 1, sizeof(c->out) - 1 - len, c->f)) > 0)
		len += k;
	c->out[len] = '\0';
	c->status = pclose(c->f);
	c->f = NULL;
}

static void epubcheck_assert(struct epubcheck *c)
{
	CHECK(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0, "epubcheck %s exit %d:\n%s",
	      c->path, c->status, c->out);
	CHECK_CONTAINS(c->out, "No errors or warnings detected");
	CHECK(!strstr(c->out, "ERROR") && !strstr(c->out, "WARNING"), "%s", c->out);
	printf("epubcheck %s: %s\n", strrchr(c->path, '/') + 1,
	       strstr(c->out, "No errors or warnings detected") ? "0 errors, 0 warnings"
	                                                        : "FAILED");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- detection and conversion ------------------------------------------------------------- */

static void test_detect(void)
{
	struct buf u = {0}, b;
	const char *cs = NULL;
	char *out = NULL;
	size_t outlen = 0;
	unsigned char rnd[8192];

	story_text(&u, story, 5, 1);

	CHECK_EQ_INT(txt_detect(u.p, u.len, &cs), 0);
	CHECK_STR(cs, "UTF-8");

	/* UTF-8 with a BOM: detected by the BOM, which the conversion drops */
	b = (struct buf){0};
	buf_puts(&b, "\xEF\xBB\xBF");
	buf_add(&b, u.p, u.len);
	CHECK_EQ_INT(txt_detect(b.p, b.len, &cs), 0);
	CHECK_STR(cs, "UTF-8");
	CHECK_EQ_INT(txt_to_utf8(b.p, b.len, cs, &out, &outlen), 0);
	CHECK(outlen == u.len && out && memcmp(out, u.p, u.len) == 0, "BOM not dropped");
	free(out);
	free(b.p);

	/* UTF-16 with either BOM */
	for (int be = 0; be < 2; be++) {
		struct buf w = encode(u.p, u.len, be ? "UTF-16BE" : "UTF-16LE");

		b = (struct buf){0};
		buf_add(&b, be ? "\xFE\xFF" : "\xFF\xFE", 2);
		buf_add(&b, w.p, w.len);
		CHECK_EQ_INT(txt_detect(b.p, b.len, &cs), 0);
		CHECK_STR(cs, be ? "UTF-16BE" : "UTF-16LE");
		CHECK_EQ_INT(txt_to_utf8(b.p, b.len, cs, &out, &outlen), 0);
		CHECK(outlen == u.len && out && memcmp(out, u.p, u.len) == 0,
		      "UTF-16%s round trip differs", be ? "BE" : "LE");
		free(out);
		free(b.p);
		free(w.p);
	}

	/* GBK novel text: the GB family is reported as GB18030 */
	b = encode(u.p, u.len, "GBK");
	CHECK_EQ_INT(txt_detect(b.p, b.len, &cs), 0);
	CHECK_STR(cs, "GB18030");
	free(b.p);

	/* a single GBK line is still GBK */
	b = encode("第十二章 风雪山神庙\n", strlen("第十二章 风雪山神庙\n"), "GBK");
	CHECK_EQ_INT(txt_detect(b.p, b.len, &cs), 0);
	CHECK_STR(cs, "GB18030");
	free(b.p);

	/* Big5 */
	{
		struct buf t = {0};

		story_text(&t, story_tw, 4, 1);
		b = encode(t.p, t.len, "BIG5");
		CHECK_EQ_INT(txt_detect(b.p, b.len, &cs), 0);
		CHECK_STR(cs, "BIG5");
		CHECK_EQ_INT(txt_to_utf8(b.p, b.len, cs ? cs : "BIG5", &out, &outlen), 0);
		CHECK(out && outlen == t.len && memcmp(out, t.p, t.len) == 0, "Big5 round trip");
		free(out);
		free(b.p);
		free(t.p);
	}

	/* random bytes: full range (NULs, controls) and high bytes only */
	random_bytes(rnd, sizeof(rnd), 12345, 0);
	CHECK_EQ_INT(txt_detect(rnd, sizeof(rnd), &cs), -EBADMSG);
	random_bytes(rnd, sizeof(rnd), 777, 0x80);
	{
		int rc = txt_detect(rnd, sizeof(rnd), &cs);

		if (rc == 0) /* no control bytes: the conversion is what refuses it */
			rc = txt_to_utf8(rnd, sizeof(rnd), cs, &out, &outlen);
		CHECK_EQ_INT(rc, -EBADMSG);
		CHECK(out == NULL, "no output on failure");
	}

	/* a text with a NUL in every few bytes is binary, one stray control byte is not */
	CHECK_EQ_INT(txt_detect("ab\0cd\0ef\0gh\0ij\0kl\0mn\0op\0", 24, &cs), -EBADMSG);
	b = (struct buf){0};
	buf_add(&b, u.p, u.len);
	buf_add(&b, "\x01", 1);
	CHECK_EQ_INT(txt_detect(b.p, b.len, &cs), 0);
	free(b.p);

	/* empty */
	CHECK_EQ_INT(txt_detect("", 0, &cs), -EINVAL);
	CHECK(cs == NULL, "no charset for an empty buffer");
	free(u.p);
}

static void test_convert(void)
{
	struct buf u = {0}, g;
	char *out = NULL;
	size_t outlen = 0;
	const char *line = "第十二章 风雪山神庙\n林冲道：“这雪下得紧。”\n";

	/* GBK → UTF-8 gives back exactly the Chinese text */
	story_text(&u, story, 5, 3);
	buf_puts(&u, line);
	g = encode(u.p, u.len, "GBK");
	CHECK(g.len < u.len, "GBK is denser than UTF-8 (%zu vs %zu)", g.len, u.len);
	CHECK_EQ_INT(txt_to_utf8(g.p, g.len, "GB18030", &out, &outlen), 0);
	CHECK(out && outlen == u.len && memcmp(out, u.p, u.len) == 0, "GBK round trip differs");
	CHECK_CONTAINS(out, "林冲道：“这雪下得紧。”");
	free(out);

	/* a couple of stray bytes become U+FFFD ... */
	g.p[10] = (char)0xFF;
	CHECK_EQ_INT(txt_to_utf8(g.p, g.len, "GB18030", &out, &outlen), 0);
	CHECK_CONTAINS(out, "\xEF\xBF\xBD");
	free(out);
	/* ... but bytes that are not this charset at all are refused */
	CHECK_EQ_INT(txt_to_utf8(g.p, g.len, "UTF-8", &out, &outlen), -EBADMSG);
	CHECK(out == NULL && outlen == 0, "nothing returned on failure");
	free(g.p);

	/* CRLF and CR become LF, a stray invalid UTF-8 byte becomes U+FFFD */
	CHECK_EQ_INT(txt_to_utf8("a\r\nb\rc\xFF\n", 8, "UTF-8", &out, &outlen), 0);
	CHECK_STR(out, "a\nb\nc\xEF\xBF\xBD\n");
	CHECK_EQ_INT(outlen, 9);
	free(out);

	/* a lone surrogate in UTF-16 costs one character, not the rest of the text */
	CHECK_EQ_INT(txt_to_utf8("\xFF\xFE\x2C\x7B\x00\xD8\x00\x4E\xE0\x7AX\x00", 12, "UTF-16LE",
	                         &out, &outlen),
	             0);
	CHECK_STR(out, "第\xEF\xBF\xBD一章X");
	free(out);

	/* an unknown charset name */
	CHECK_EQ_INT(txt_to_utf8("abc", 3, "NO-SUCH-CHARSET", &out, &outlen), -EINVAL);
	free(u.p);
}

/* --- chapter split ------------------------------------------------------------------------ */

struct split {
	struct txt_chapter *ch;
	size_t n;
	const char *text;
};

static struct split split(const char *text)
{
	struct split s = {NULL, 0, text};
	int rc = txt_split(text, strlen(text), &s.ch, &s.n);

	CHECK_EQ_INT(rc, 0);
	return s;
}

static char *body(const struct split *s, size_t i)
{
	char *b = malloc(s->ch[i].len + 1);

	memcpy(b, s->text + s->ch[i].start, s->ch[i].len);
	b[s->ch[i].len] = '\0';
	return b;
}

static void test_split(void)
{
	struct split s;
	char *b;
	struct buf t = {0};

	/* Chinese numerals with a title; the body lies between the headings */
	s = split("第十一章 林教头刺配沧州道\n一路上风雪交加。\n第十二章 风雪山神庙\n"
	          "　　那雪正下得紧。\n林冲回到草厅。\n");
	CHECK_EQ_INT(s.n, 2);
	if (s.n == 2) {
		CHECK_STR(s.ch[0].title, "第十一章 林教头刺配沧州道");
		CHECK_STR(s.ch[1].title, "第十二章 风雪山神庙");
		b = body(&s, 1);
		CHECK_STR(b, "　　那雪正下得紧。\n林冲回到草厅。\n");
		free(b);
		b = body(&s, 0);
		CHECK_STR(b, "一路上风雪交加。\n");
		free(b);
	}
	txt_chapters_free(s.ch, s.n);

	/* 第三回 alone, indented with full-width spaces; 回目 with two halves */
	s = split("　　第三回　\n话说当日。\n第四回 赵员外重修文殊院，鲁智深大闹五台山\n"
	          "且说鲁达。\n");
	CHECK_EQ_INT(s.n, 2);
	if (s.n == 2) {
		CHECK_STR(s.ch[0].title, "第三回");
		CHECK_STR(s.ch[1].title, "第四回 赵员外重修文殊院，鲁智深大闹五台山");
	}
	txt_chapters_free(s.ch, s.n);

	/* 卷一 / 卷十二 and the whole-line words */
	s = split("序\n这是序文。\n卷一\n第一章 出山\n下山了。\n卷十二 归隐\n山中无甲子。\n楔子\n"
	          "很久以前。\n尾声\n完。\n后记\n写于北京。\n");
	CHECK_EQ_INT(s.n, 7);
	if (s.n == 7) {
		CHECK_STR(s.ch[0].title, "序");
		CHECK_STR(s.ch[1].title, "卷一");
		CHECK_EQ_INT(s.ch[1].len, 0);
		CHECK_STR(s.ch[2].title, "第一章 出山");
		CHECK_STR(s.ch[3].title, "卷十二 归隐");
		CHECK_STR(s.ch[4].title, "楔子");
		CHECK_STR(s.ch[5].title, "尾声");
		CHECK_STR(s.ch[6].title, "后记");
	}
	txt_chapters_free(s.ch, s.n);

	/* English headings */
	s = split("Prologue\nIt was dark.\nChapter 3\nThe storm came.\nCHAPTER III\nAgain.\n"
	          "Chapter 12: The Library\nBooks.\nEpilogue\nThe end.\n");
	CHECK_EQ_INT(s.n, 5);
	if (s.n == 5) {
		CHECK_STR(s.ch[0].title, "Prologue");
		CHECK_STR(s.ch[1].title, "Chapter 3");
		CHECK_STR(s.ch[2].title, "CHAPTER III");
		CHECK_STR(s.ch[3].title, "Chapter 12: The Library");
		CHECK_STR(s.ch[4].title, "Epilogue");
	}
	txt_chapters_free(s.ch, s.n);

	/* full-width and Arabic digits, a title glued to 章, a "正文" prefix */
	s = split("第１２章 全角数字\n甲。\n第 13 章 半角数字\n乙。\n第十四章风雪夜归人\n丙。\n"
	          "正文 第十五章 前缀\n丁。\n");
	CHECK_EQ_INT(s.n, 4);
	if (s.n == 4) {
		CHECK_STR(s.ch[0].title, "第１２章 全角数字");
		CHECK_STR(s.ch[1].title, "第 13 章 半角数字");
		CHECK_STR(s.ch[2].title, "第十四章风雪夜归人");
		CHECK_STR(s.ch[3].title, "第十五章 前缀");
	}
	txt_chapters_free(s.ch, s.n);

	/* text without headings is one chapter holding everything */
	story_text(&t, story, 5, 1);
	s = split(t.p);
	CHECK_EQ_INT(s.n, 1);
	if (s.n == 1) {
		CHECK_STR(s.ch[0].title, "正文");
		CHECK_EQ_INT(s.ch[0].start, 0);
		CHECK_EQ_INT(s.ch[0].len, t.len);
	}
	txt_chapters_free(s.ch, s.n);

	/* lines that mention a chapter are not headings */
	s = split(
	    "第一章 开始\n他翻到第三章的时候，天已经亮了。\n"
	    "第三章里写的那些事情，后来一件一件都应验了，谁也没有想到会是这样的结局，真是叫人"
	    "感慨万千啊。\n第一回见面时，她才十六岁。\n第一部分是序言。\n第三回合开始了\n"
	    "第二天，雪停了。\nChapter and verse were quoted.\n序言写得很长，一直写到天亮。\n");
	CHECK_EQ_INT(s.n, 1);
	if (s.n == 1)
		CHECK_STR(s.ch[0].title, "第一章 开始");
	txt_chapters_free(s.ch, s.n);

	/* a long heading-like line (over 40 characters) is text */
	s = split(
	    "第一章 开始\n第二章 这一行虽然以章节的样子开头但是它实在太长了根本不可能是一个真正的"
	    "章节标题吧\n第三章 "
	    "这一行刚好四十个字符以章节的样子开头也不算太长所以它还是一个标题无疑了吧\n");
	CHECK_EQ_INT(s.n, 2);
	if (s.n == 2)
		CHECK_STR(
		    s.ch[1].title,
		    "第三章 "
		    "这一行刚好四十个字符以章节的样子开头也不算太长所以它还是一个标题无疑了吧");
	txt_chapters_free(s.ch, s.n);

	/* substantial text before the first heading is a chapter "正文", a title line is not */
	s = split(t.p);
	txt_chapters_free(s.ch, s.n);
	{
		struct buf f = {0};

		buf_add(&f, t.p, t.len);
		buf_puts(&f, "第一章 开端\n正文。\n");
		s = split(f.p);
		CHECK_EQ_INT(s.n, 2);
		if (s.n == 2) {
			CHECK_STR(s.ch[0].title, "正文");
			CHECK_EQ_INT(s.ch[0].start, 0);
			CHECK_EQ_INT(s.ch[0].len, t.len);
			CHECK_STR(s.ch[1].title, "第一章 开端");
		}
		txt_chapters_free(s.ch, s.n);
		free(f.p);
	}
	s = split("旧书馆\n作者：林雪\n\n第一章 开端\n正文。\n");
	CHECK_EQ_INT(s.n, 1);
	if (s.n == 1)
		CHECK_STR(s.ch[0].title, "第一章 开端");
	txt_chapters_free(s.ch, s.n);

	/* a table of contents repeating the headings does not make empty chapters */
	s = split("目录\n第一章 开端\n第二章 相遇\n\n第一章 开端\n甲。\n第二章 相遇\n乙。\n");
	CHECK_EQ_INT(s.n, 2);
	if (s.n == 2) {
		b = body(&s, 0);
		CHECK_STR(b, "甲。\n");
		free(b);
		b = body(&s, 1);
		CHECK_STR(b, "乙。\n");
		free(b);
	}
	txt_chapters_free(s.ch, s.n);

	/* past the chapter cap, headings stay in the last chapter's text */
	{
		struct buf m = {0};
		char line[64];

		for (int i = 1; i <= 5003; i++) {
			snprintf(line, sizeof(line), "第%d章\n正文。\n", i);
			buf_puts(&m, line);
		}
		s = split(m.p);
		CHECK_EQ_INT(s.n, 5000);
		if (s.n == 5000) {
			CHECK_STR(s.ch[4999].title, "第5000章");
			b = body(&s, 4999);
			CHECK_STR(b,
			          "正文。\n第5001章\n正文。\n第5002章\n正文。\n第5003章\n正文。\n");
			free(b);
		}
		txt_chapters_free(s.ch, s.n);
		free(m.p);
	}

	/* CRLF text (txt_split on unconverted input) and a heading on the last line */
	s = split("第一章 甲\r\n一。\r\n第二章 乙");
	CHECK_EQ_INT(s.n, 2);
	if (s.n == 2) {
		CHECK_STR(s.ch[0].title, "第一章 甲");
		CHECK_STR(s.ch[1].title, "第二章 乙");
		CHECK_EQ_INT(s.ch[1].len, 0);
	}
	txt_chapters_free(s.ch, s.n);
	free(t.p);
}

/* --- EPUB --------------------------------------------------------------------------------- */

static void check_mimetype_first(const char *epub)
{
	unsigned char h[58];
	FILE *f = fopen(epub, "rb");
	struct archive *a = archive_read_new();
	struct archive_entry *e = NULL;
	size_t n = f ? fread(h, 1, sizeof(h), f) : 0;

	if (f)
		fclose(f);
	/* The OCF layout: "mimetype" is entry 1, stored (method 0), no extra field. */
	CHECK_EQ_INT(n, 58);
	if (n == 58) {
		CHECK(memcmp(h, "PK\3\4", 4) == 0, "local header");
		CHECK_EQ_INT(h[8] | h[9] << 8, 0);   /* stored */
		CHECK_EQ_INT(h[28] | h[29] << 8, 0); /* extra field length */
		CHECK(memcmp(h + 30, "mimetype", 8) == 0, "name at byte 30");
		CHECK(memcmp(h + 38, "application/epub+zip", 20) == 0, "content at byte 38");
	}
	archive_read_support_format_zip(a);
	CHECK_EQ_INT(archive_read_open_filename(a, epub, 16384), ARCHIVE_OK);
	CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
	if (e) {
		char data[64] = {0};

		CHECK_STR(archive_entry_pathname(e), "mimetype");
		CHECK_EQ_INT(archive_read_data(a, data, sizeof(data) - 1), 20);
		CHECK_STR(data, "application/epub+zip");
	}
	archive_read_free(a);
}

/* A GBK novel with five chapters, an author line, a short front matter, XML specials and a
 * control character. */
static void make_novel(struct buf *u)
{
	static const char *const heads[] = {"第一章 初雪", "第二章 旧报纸", "第三章 铅笔字",
	                                    "第四章 蓝色文件夹", "第五章 春天"};

	buf_puts(u, "旧书馆\r\n作者：林雪\r\n内容简介：一个关于书的故事。\r\n\r\n");
	for (size_t i = 0; i < 5; i++) {
		buf_puts(u, heads[i]);
		buf_puts(u, "\r\n");
		for (size_t j = 0; j < 5; j++) {
			buf_puts(u, "　　");
			buf_puts(u, story[(i + j) % 5]);
			buf_puts(u, "\r\n");
		}
	}
	buf_puts(u, "　　书单：<诗经> & 《楚辞》\x07 \"全本\"\r\n");
}

static void test_epub(struct epubcheck *checks, size_t *nchecks)
{
	struct buf u = {0}, g;
	char src[128], dst[128], err[256];
	struct txt_epub_opts o = {
	    .title = "旧书馆", .identifier = "urn:sha256:0123456789abcdef", .modified = 1700000000};
	struct txt_epub_result r;
	char *opf, *nav, *ncx, *ch5, *front, *page;
	int rc;

	make_novel(&u);
	g = encode(u.p, u.len, "GBK");
	path_in_tmp(src, sizeof(src), "novel.txt");
	path_in_tmp(dst, sizeof(dst), "novel.epub");
	write_fixture(src, g.p, g.len);

	rc = txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err));
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(err, "");
	CHECK_STR(r.charset, "GB18030");
	CHECK_EQ_INT(r.chapters, 5);
	CHECK_STR(r.author, "林雪");
	txt_epub_result_release(&r);
	CHECK(r.author == NULL, "released");
	check_mimetype_first(dst);

	opf = zip_entry(dst, "OEBPS/content.opf", NULL);
	nav = zip_entry(dst, "OEBPS/nav.xhtml", NULL);
	ncx = zip_entry(dst, "OEBPS/toc.ncx", NULL);
	ch5 = zip_entry(dst, "OEBPS/ch0005.xhtml", NULL);
	front = zip_entry(dst, "OEBPS/front.xhtml", NULL);
	page = zip_entry(dst, "META-INF/container.xml", NULL);
	CHECK_CONTAINS(page, "full-path=\"OEBPS/content.opf\"");
	free(page);
	CHECK_CONTAINS(opf, "<dc:title>旧书馆</dc:title>");
	CHECK_CONTAINS(opf, "<dc:creator>林雪</dc:creator>");
	CHECK_CONTAINS(opf, "<dc:language>zh-CN</dc:language>");
	CHECK_CONTAINS(opf, "unique-identifier=\"bookid\"");
	CHECK_CONTAINS(opf, "<dc:identifier id=\"bookid\">urn:sha256:0123456789abcdef<");
	CHECK_CONTAINS(opf, "<meta property=\"dcterms:modified\">2023-11-14T22:13:20Z</meta>");
	CHECK_EQ_INT(count(opf, "<itemref "), 6); /* the front page and five chapters */
	CHECK_CONTAINS(opf, "properties=\"nav\"");
	CHECK_EQ_INT(count(nav, "<li>"), 5);
	CHECK_CONTAINS(nav, "<a href=\"ch0004.xhtml\">第四章 蓝色文件夹</a>");
	CHECK_CONTAINS(ncx, "<meta name=\"dtb:uid\" content=\"urn:sha256:0123456789abcdef\"/>");
	CHECK_EQ_INT(count(ncx, "<navPoint "), 5);
	CHECK_CONTAINS(ch5, "xml:lang=\"zh-CN\" lang=\"zh-CN\"");
	CHECK_CONTAINS(ch5, "<h2>第五章 春天</h2>");
	CHECK_CONTAINS(ch5, "<p>从那以后，她开始把"); /* full-width indentation trimmed */
	CHECK_CONTAINS(ch5, "<p>书单：&lt;诗经&gt; &amp; 《楚辞》 &quot;全本&quot;</p>");
	CHECK(ch5 && !strchr(ch5, '\x07') && !strchr(ch5, '\r'), "control characters stripped");
	CHECK_EQ_INT(count(ch5, "<p>"), 6);
	/* the front matter: title and author on the title page, the blurb kept */
	CHECK_CONTAINS(front, "<h1>旧书馆</h1>");
	CHECK_CONTAINS(front, "<p class=\"author\">林雪</p>");
	CHECK_CONTAINS(front, "<p>内容简介：一个关于书的故事。</p>");
	CHECK(front && !strstr(front, "作者"), "author line not repeated");
	free(opf);
	free(nav);
	free(ncx);
	free(ch5);
	free(front);
	epubcheck_start(&checks[(*nchecks)++], dst);

	/* an explicit author wins over the 作者 line; another language */
	o.author = "佚名";
	o.language = "zh-TW";
	path_in_tmp(dst, sizeof(dst), "novel-tw.epub");
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), 0);
	CHECK_STR(r.author, "佚名");
	txt_epub_result_release(&r);
	opf = zip_entry(dst, "OEBPS/content.opf", NULL);
	CHECK_CONTAINS(opf, "<dc:creator>佚名</dc:creator>");
	CHECK_CONTAINS(opf, "<dc:language>zh-TW</dc:language>");
	free(opf);
	free(g.p);
	free(u.p);
}

/* No headings, UTF-8, and one chapter far over the per-file size: the chapter is named after
 * the book and continues in further files, none of them much over TXT_PAGE_BYTES. */
static void test_epub_big_chapter(struct epubcheck *checks, size_t *nchecks)
{
	struct buf u = {0};
	char src[128], dst[128], err[256], name[64];
	struct txt_epub_opts o = {.title = "Tom & Jerry <1>",
	                          .identifier = "urn:uuid:3f1c2a6e-8d4b-4c1a-9b7e-2d5f6a7b8c9d",
	                          .modified = 0};
	struct txt_epub_result r;
	size_t files = 0;
	char *nav, *opf, *page;

	while (u.len < 3 * 1024 * 1024)
		story_text(&u, story, 5, 1);
	buf_puts(&u, "一行没有换行的长段落");
	for (int i = 0; i < 20000; i++)
		buf_puts(&u, "很长很长");
	buf_puts(&u, "\n");
	path_in_tmp(src, sizeof(src), "big.txt");
	path_in_tmp(dst, sizeof(dst), "big.epub");
	write_fixture(src, u.p, u.len);
	CHECK_EQ_INT(txt_to_epub(src, dst, 64 << 20, &o, &r, err, sizeof(err)), 0);
	CHECK_STR(r.charset, "UTF-8");
	CHECK_EQ_INT(r.chapters, 1);
	CHECK(r.author == NULL, "no author line");
	txt_epub_result_release(&r);
	for (files = 1;; files++) {
		size_t len = 0;

		snprintf(name, sizeof(name), "OEBPS/ch%04zu.xhtml", files);
		page = zip_entry(dst, name, &len);
		if (!page)
			break;
		CHECK(len < 1200 * 1024, "%s is %zu bytes", name, len);
		free(page);
	}
	files--;
	CHECK(files >= 6, "3 MB split into %zu files", files);
	nav = zip_entry(dst, "OEBPS/nav.xhtml", NULL);
	opf = zip_entry(dst, "OEBPS/content.opf", NULL);
	CHECK_CONTAINS(nav, ">Tom &amp; Jerry &lt;1&gt;</a>");
	CHECK_CONTAINS(nav, ">Tom &amp; Jerry &lt;1&gt;（2）</a>");
	CHECK_CONTAINS(opf, "<dc:title>Tom &amp; Jerry &lt;1&gt;</dc:title>");
	CHECK_CONTAINS(opf, "1970-01-01T00:00:00Z");
	CHECK(opf && !strstr(opf, "dc:creator"), "no creator without an author");
	free(nav);
	free(opf);
	epubcheck_start(&checks[(*nchecks)++], dst);
	free(u.p);
}

static void test_epub_errors(void)
{
	char src[128], dst[128], err[256];
	struct txt_epub_opts o = {.title = "x", .identifier = "urn:x"};
	struct txt_epub_result r;
	unsigned char rnd[20000];

	path_in_tmp(dst, sizeof(dst), "err.epub");

	path_in_tmp(src, sizeof(src), "missing.txt");
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), -ENOENT);
	CHECK_CONTAINS(err, "找不到");

	path_in_tmp(src, sizeof(src), "empty.txt");
	write_fixture(src, "", 0);
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "文件是空的");
	write_fixture(src, "\xEF\xBB\xBF \r\n\xE3\x80\x80\n", 9);
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "文件是空的");

	path_in_tmp(src, sizeof(src), "random.txt");
	random_bytes(rnd, sizeof(rnd), 99, 0);
	write_fixture(src, rnd, sizeof(rnd));
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "文件不是文本（无法识别的字符编码）");
	random_bytes(rnd, sizeof(rnd), 4242, 0x80);
	write_fixture(src, rnd, sizeof(rnd));
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), -EBADMSG);
	CHECK_CONTAINS(err, "不是文本");
	CHECK(access(dst, F_OK) != 0, "no EPUB left behind");

	CHECK_EQ_INT(txt_to_epub(src, dst, 100, &o, &r, err, sizeof(err)), -EFBIG);
	CHECK_CONTAINS(err, "文件太大");

	/* an err buffer too small never ends in half a character */
	CHECK_EQ_INT(txt_to_epub(src, dst, 100, &o, &r, err, 8), -EFBIG);
	CHECK_STR(err, "文件");

	o.identifier = NULL;
	CHECK_EQ_INT(txt_to_epub(src, dst, 1 << 20, &o, &r, err, sizeof(err)), -EINVAL);
}

/* Several conversions at once give what one gives alone (no shared state). */
struct job {
	char src[128], dst[128];
	int rc;
	size_t chapters;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct txt_epub_opts o = {.title = "并发", .identifier = "urn:x", .modified = 1};
	struct txt_epub_result r;
	char err[128];

	j->rc = txt_to_epub(j->src, j->dst, 8 << 20, &o, &r, err, sizeof(err));
	j->chapters = r.chapters;
	txt_epub_result_release(&r);
	return NULL;
}

static void test_threads(void)
{
	struct job jobs[4];
	pthread_t th[4];
	struct buf u = {0}, g;

	make_novel(&u);
	g = encode(u.p, u.len, "GBK");
	for (int i = 0; i < 4; i++) {
		snprintf(jobs[i].src, sizeof(jobs[i].src), "%s/t%d.txt", tmpdir, i);
		snprintf(jobs[i].dst, sizeof(jobs[i].dst), "%s/t%d.epub", tmpdir, i);
		/* half GBK, half UTF-8 */
		write_fixture(jobs[i].src, i % 2 ? g.p : u.p, i % 2 ? g.len : u.len);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, run_job, &jobs[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(jobs[i].rc, 0);
		CHECK_EQ_INT(jobs[i].chapters, 5);
	}
	free(g.p);
	free(u.p);
}

/* The spec's target is a 10 MB GBK novel to EPUB (and index) in ≤ 2 s; the time is printed,
 * not asserted, since shared CI machines vary. */
static void test_ten_megabytes(void)
{
	struct buf u = {0}, g;
	char src[128], dst[128], err[256], head[64];
	struct txt_epub_opts o = {.title = "十兆", .identifier = "urn:x", .modified = 1};
	struct txt_epub_result r;
	size_t chapters = 0;
	double t0, t1;
	clock_t c0, c1;
	int rc;

	while (u.len < 15 * 1024 * 1024) {
		chapters++;
		snprintf(head, sizeof(head), "第%zu章 第%zu个冬天\n", chapters, chapters);
		buf_puts(&u, head);
		story_text(&u, story, 5, 6);
	}
	g = encode(u.p, u.len, "GBK");
	free(u.p);
	path_in_tmp(src, sizeof(src), "ten.txt");
	path_in_tmp(dst, sizeof(dst), "ten.epub");
	write_fixture(src, g.p, g.len);
	c0 = clock();
	t0 = now();
	rc = txt_to_epub(src, dst, 64 << 20, &o, &r, err, sizeof(err));
	t1 = now();
	c1 = clock();
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(r.charset, "GB18030");
	CHECK_EQ_INT(r.chapters, chapters);
	printf("10 MB GBK → EPUB: %.1f MB, %zu chapters in %.3f s (%.3f s CPU)\n",
	       (double)g.len / 1048576.0, chapters, t1 - t0, (double)(c1 - c0) / CLOCKS_PER_SEC);
	txt_epub_result_release(&r);
	free(g.p);
}

int main(void)
{
	struct epubcheck checks[4];
	size_t nchecks = 0;
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sx-txt-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_ten_megabytes(); /* first: the epubcheck JVMs below would slow it down */
	test_detect();
	test_convert();
	test_split();
	test_epub_errors();
	test_threads();
	test_epub(checks, &nchecks);
	test_epub_big_chapter(checks, &nchecks);
	for (size_t i = 0; i < nchecks; i++) {
		if (checks[i].skipped) {
			printf("note: %s missing, epubcheck skipped for %s\n", EPUBCHECK_JAR,
			       checks[i].path);
			continue;
		}
		epubcheck_finish(&checks[i]);
		epubcheck_assert(&checks[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	CHECK_DONE();
}
