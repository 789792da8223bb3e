/*
 * Plain-text books: charset detection, conversion to UTF-8, chapter split and an EPUB 3 written
 * with libarchive's zip writer. Everything works on one in-memory copy of the file (the caller
 * caps its size), with no global state, so several conversions can run at once.
 *
 * The file is a little over the house ~1,000-line guideline on purpose: detection, conversion,
 * split and the EPUB writer share the UTF-8 helpers and the limits below, and splitting them
 * into modules would export helpers that nothing else needs.
 */
#include "txt.h"
#include "utf8.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <uchardet.h>
#include <unistd.h>

/* uchardet decides within the first few KB; more only costs time on a 10 MB novel. */
#define TXT_DETECT_SAMPLE (512 * 1024)
/* Stray bytes tolerated by the conversion before the file counts as not being in charset. */
#define TXT_BAD_BYTES(len) (8 + (len) / 256)
#define TXT_MAX_CHAPTERS 5000
#define TXT_HEADING_CHARS 40
/* Text before the first heading becomes a chapter of its own beyond this many visible bytes. */
#define TXT_FRONT_MIN 200
#define TXT_AUTHOR_LINES 20
#define TXT_META_MAX 500 /* bytes kept of a title, author or identifier */
/* A chapter longer than this (escaped XHTML) continues in a further file: reading systems
 * choke on multi-megabyte spine items. One paragraph is never longer than TXT_PIECE. */
#define TXT_PAGE_BYTES (512 * 1024)
#define TXT_PIECE (128 * 1024)
#define TXT_XHTML_MAX (64 * 1024 * 1024)
#define TXT_EPUB_MAX ((size_t)1 << 30)

/* --- growable buffer ---------------------------------------------------------------------- */

/* The error sticks: after a failed append the others do nothing and every call returns it,
 * so a writer appends a whole file and checks once (FFmpeg's AVBPrint works the same way). */
struct sbuf {
	char *p;
	size_t len, cap, max;
	int err;
};

/* Make room for n more bytes (plus the NUL that always follows the text). */
static int sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (n > b->max - b->len)
		return b->err = -ENOMEM;
	if (b->p && b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	p = realloc(b->p, cap + 1);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int sbuf_add(struct sbuf *b, const void *s, size_t n)
{
	if (sbuf_reserve(b, n))
		return b->err;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int sbuf_puts(struct sbuf *b, const char *s)
{
	return sbuf_add(b, s, strlen(s));
}

/* Append each string argument up to a NULL. */
static int sbuf_cat(struct sbuf *b, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)))
		sbuf_puts(b, s);
	va_end(ap);
	return b->err;
}

static void sbuf_release(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

/* --- UTF-8 -------------------------------------------------------------------------------- */

/* A file cut in the middle of its last character is still UTF-8: the conversion turns the
 * stump into U+FFFD instead of reading the whole book as GB18030. */
static bool utf8_valid_but_tail(const unsigned char *p, size_t n)
{
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		size_t k;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_next(p + i, n - i, &cp);
		if (!k) {
			if (n - i >= 4 || p[i] < 0xC2)
				return false;
			for (size_t j = i + 1; j < n; j++)
				if ((p[j] & 0xC0) != 0x80)
					return false;
			return true;
		}
		i += k;
	}
	return true;
}

/* Bytes of the "space" at p: ASCII blanks, NBSP, the ideographic space U+3000 that Chinese
 * files indent with, and a stray BOM. 0 when p is not one. */
static size_t space_at(const unsigned char *p, size_t n)
{
	if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v')
		return 1;
	if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
		return 2;
	if (n >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return 3;
	return 0;
}

/* Trim spaces from both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t len = *n, k;

	while (len && (k = space_at(p, len))) {
		p += k;
		len -= k;
	}
	for (;;) {
		if (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
		            p[len - 1] == '\f' || p[len - 1] == '\v' || p[len - 1] == '\n'))
			len--;
		else if (len >= 2 && p[len - 2] == 0xC2 && p[len - 1] == 0xA0)
			len -= 2;
		else if (len >= 3 && space_at(p + len - 3, 3) == 3)
			len -= 3;
		else
			break;
	}
	*s = (const char *)p;
	*n = len;
}

static size_t visible_bytes(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0, i = 0, k;

	while (i < n) {
		if ((k = space_at(p + i, n - i))) {
			i += k;
			continue;
		}
		count++;
		i++;
	}
	return count;
}

/* Cut at most max bytes from s without splitting a character. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Append s escaped for XML text and attribute values. Bytes that are not UTF-8 become U+FFFD;
 * characters XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE/U+FFFF) and the C1 controls
 * are dropped, since epubcheck rejects the one and reading systems show boxes for the other. */
static int sbuf_xml(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		const char *rep = NULL;
		size_t skip = 1;
		unsigned char c = p[i];
		uint32_t cp;

		if (c >= 0x80) {
			skip = utf8_next(p + i, n - i, &cp);
			if (!skip) {
				skip = 1;
				rep = "\xEF\xBF\xBD";
			} else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF) {
				rep = "";
			}
		} else if (c == '&') {
			rep = "&amp;";
		} else if (c == '<') {
			rep = "&lt;";
		} else if (c == '>') {
			rep = "&gt;";
		} else if (c == '"') {
			rep = "&quot;";
		} else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
			rep = "";
		}
		if (rep) {
			sbuf_add(b, p + run, i - run);
			sbuf_puts(b, rep);
			run = i + skip;
		}
		i += skip;
	}
	return sbuf_add(b, p + run, n - run);
}

/* --- detection ---------------------------------------------------------------------------- */

/* Text files carry tab, LF, CR, FF, VT, the ISO-2022 escapes (ESC, SO, SI) and a DOS end mark
 * (^Z); anything else below 0x20, or a NUL, is a sign of a binary file. */
static bool looks_binary(const unsigned char *p, size_t n)
{
	size_t nul = 0, ctl = 0;

	while (n && p[n - 1] == 0)
		n--; /* some editors pad the end with NULs */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c != 0x7F)
			continue;
		if (c == 0)
			nul++;
		else if (c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' &&
		         c != 0x1B && c != 0x0E && c != 0x0F && c != 0x1A)
			ctl++;
	}
	return nul > 4 + n / 1000 || nul + ctl > 1 + n / 100;
}

/* Charsets uchardet 0.0.7 names that we pass on when iconv can open them. The Chinese GB
 * family is widened to GB18030 (a superset that also decodes what GBK editors add). */
static const char *const known_charsets[] = {
    "UTF-8",        "BIG5",         "EUC-TW",       "ISO-2022-CN",  "EUC-JP",       "SHIFT_JIS",
    "ISO-2022-JP",  "EUC-KR",       "ISO-2022-KR",  "UTF-16LE",     "UTF-16BE",     "KOI8-R",
    "IBM855",       "IBM866",       "MAC-CYRILLIC", "TIS-620",      "VISCII",       "WINDOWS-1250",
    "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254", "WINDOWS-1255", "WINDOWS-1256",
    "WINDOWS-1257", "WINDOWS-1258", "ISO-8859-1",   "ISO-8859-2",   "ISO-8859-3",   "ISO-8859-4",
    "ISO-8859-5",   "ISO-8859-6",   "ISO-8859-7",   "ISO-8859-8",   "ISO-8859-9",   "ISO-8859-10",
    "ISO-8859-11",  "ISO-8859-13",  "ISO-8859-15",  "ISO-8859-16",
};

static const char *gb_family[] = {"GB18030", "GB2312", "GBK",      "HZ-GB-2312",
                                  "HZ",      "EUC-CN", "X-EUC-CN", "CP936"};

static const char *charset_from_uchardet(const char *name)
{
	if (!name || !*name)
		return NULL;
	for (size_t i = 0; i < sizeof(gb_family) / sizeof(gb_family[0]); i++)
		if (strcasecmp(name, gb_family[i]) == 0)
			return "GB18030";
	for (size_t i = 0; i < sizeof(known_charsets) / sizeof(known_charsets[0]); i++) {
		iconv_t cd;

		if (strcasecmp(name, known_charsets[i]) != 0)
			continue;
		cd = iconv_open("UTF-8", known_charsets[i]);
		if (cd == (iconv_t)-1)
			return NULL;
		iconv_close(cd);
		return known_charsets[i];
	}
	return NULL;
}

int txt_detect(const void *buf, size_t len, const char **charset)
{
	const unsigned char *p = buf;
	const char *name;
	uchardet_t ud;

	*charset = NULL;
	if (!buf || !len)
		return -EINVAL;
	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		*charset = "UTF-8";
		return 0;
	}
	if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
		*charset = "UTF-16LE";
		return 0;
	}
	if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
		*charset = "UTF-16BE";
		return 0;
	}
	if (looks_binary(p, len))
		return -EBADMSG;
	if (utf8_valid_but_tail(p, len)) {
		*charset = "UTF-8";
		return 0;
	}
	ud = uchardet_new();
	if (!ud)
		return -ENOMEM;
	if (uchardet_handle_data(ud, buf, len < TXT_DETECT_SAMPLE ? len : TXT_DETECT_SAMPLE)) {
		uchardet_delete(ud);
		return -ENOMEM;
	}
	uchardet_data_end(ud);
	/* An empty answer means "not sure": most unlabelled Chinese files are GBK, and when they
	 * are not text at all the conversion's count of bad bytes says so. */
	name = charset_from_uchardet(uchardet_get_charset(ud));
	uchardet_delete(ud);
	*charset = name ? name : "GB18030";
	return 0;
}

/* --- conversion --------------------------------------------------------------------------- */

/* Valid input is copied; each byte that starts no UTF-8 sequence becomes U+FFFD. */
static int utf8_copy(const unsigned char *p, size_t n, struct sbuf *out, size_t *bad)
{
	size_t i = 0, run = 0;
	uint32_t cp;
	int rc;

	while (i < n) {
		size_t k;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_next(p + i, n - i, &cp);
		if (k) {
			i += k;
			continue;
		}
		if ((rc = sbuf_add(out, p + run, i - run)) || (rc = sbuf_puts(out, "\xEF\xBF\xBD")))
			return rc;
		(*bad)++;
		run = ++i;
	}
	return sbuf_add(out, p + run, n - run);
}

static int iconv_copy(const unsigned char *p, size_t n, const char *charset, struct sbuf *out,
                      size_t *bad)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	char *in = (char *)(uintptr_t)p;
	size_t inleft = n;
	/* A bad UTF-16 unit is skipped whole, or every character after it would be misread. */
	size_t unit = strncasecmp(charset, "UTF-16", 6) == 0 ? 2 : 1;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	while (inleft) {
		char *o;
		size_t oleft, r;
		int e;

		/* CJK → UTF-8 grows by half at most; E2BIG comes back here for the rest. */
		if ((rc = sbuf_reserve(out, inleft + inleft / 2 + 16)))
			goto out;
		o = out->p + out->len;
		oleft = out->cap - out->len;
		r = iconv(cd, &in, &inleft, &o, &oleft);
		e = errno;
		out->len = (size_t)(o - out->p);
		if (r != (size_t)-1)
			break;
		if (e == E2BIG)
			continue;
		if (e != EILSEQ && e != EINVAL) {
			rc = -EIO;
			goto out;
		}
		/* Skip one byte (unit) and resynchronise; an incomplete tail (EINVAL) ends it. */
		(*bad)++;
		if ((rc = sbuf_add(out, "\xEF\xBF\xBD", 3)))
			goto out;
		if (e == EINVAL || inleft <= unit)
			break;
		in += unit;
		inleft -= unit;
	}
out:
	iconv_close(cd);
	return rc;
}

/* CRLF and CR become LF; NUL characters go (they would cut every C string made from the
 * text). Works in place: the text only shrinks. */
static size_t normalise_lines(char *s, size_t n)
{
	size_t o = 0;

	if (!memchr(s, '\r', n) && !memchr(s, '\0', n))
		return n;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else if (s[i] != '\0') {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

int txt_to_utf8(const void *buf, size_t len, const char *charset, char **out, size_t *outlen)
{
	const unsigned char *p = buf;
	struct sbuf b = {.max = TXT_EPUB_MAX};
	size_t bad = 0;
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	if (!charset || (!buf && len))
		return -EINVAL;
	if (strcasecmp(charset, "UTF-8") == 0) {
		if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
			p += 3;
			len -= 3;
		}
		rc = len ? utf8_copy(p, len, &b, &bad) : 0;
	} else if (len) {
		if (len >= 2 &&
		    ((strcasecmp(charset, "UTF-16LE") == 0 && p[0] == 0xFF && p[1] == 0xFE) ||
		     (strcasecmp(charset, "UTF-16BE") == 0 && p[0] == 0xFE && p[1] == 0xFF))) {
			p += 2;
			len -= 2;
		}
		rc = iconv_copy(p, len, charset, &b, &bad);
	}
	if (!rc)
		rc = sbuf_add(&b, "", 0); /* an empty text is still a string */
	if (rc)
		goto out;
	if (bad > TXT_BAD_BYTES(len)) {
		rc = -EBADMSG;
		goto out;
	}
	/* GB18030 and UTF-16 files can carry a BOM of their own inside the converted text. */
	if (b.len >= 3 && memcmp(b.p, "\xEF\xBB\xBF", 3) == 0) {
		memmove(b.p, b.p + 3, b.len - 3 + 1);
		b.len -= 3;
	}
	b.len = normalise_lines(b.p, b.len);
	*out = b.p;
	*outlen = b.len;
	b.p = NULL;
out:
	sbuf_release(&b);
	return rc;
}

/* --- chapter split ------------------------------------------------------------------------ */

struct cursor {
	const unsigned char *p;
	size_t n, i;
};

static size_t char_len(const struct cursor *c)
{
	uint32_t cp;
	size_t k;

	if (c->i >= c->n)
		return 0;
	k = utf8_next(c->p + c->i, c->n - c->i, &cp);
	return k ? k : 1;
}

static bool take(struct cursor *c, const char *lit)
{
	size_t k = strlen(lit);

	if (c->n - c->i < k || memcmp(c->p + c->i, lit, k) != 0)
		return false;
	c->i += k;
	return true;
}

static bool take_ci(struct cursor *c, const char *lit)
{
	size_t k = strlen(lit);

	if (c->n - c->i < k || strncasecmp((const char *)c->p + c->i, lit, k) != 0)
		return false;
	c->i += k;
	return true;
}

/* set is a string of whole UTF-8 characters, so a match can only start on a character. */
static bool take_set(struct cursor *c, const char *set)
{
	size_t k = char_len(c);

	if (!k || !memmem(set, strlen(set), c->p + c->i, k))
		return false;
	c->i += k;
	return true;
}

static size_t take_spaces(struct cursor *c)
{
	size_t count = 0, k;

	while (c->i < c->n && (k = space_at(c->p + c->i, c->n - c->i))) {
		c->i += k;
		count++;
	}
	return count;
}

static size_t take_run(struct cursor *c, const char *set, size_t max)
{
	size_t count = 0, start = c->i;

	while (take_set(c, set))
		count++;
	if (count > max) {
		c->i = start;
		return 0;
	}
	return count;
}

static const char cn_numerals[] =
    "零〇一二三四五六七八九十百千万萬两兩壹贰貳叁參肆伍陆陸柒捌玖拾佰仟"
    "0123456789０１２３４５６７８９";

/* What may sit between a heading's number and its title ("第一章 风雪", "Chapter 3: …"). */
static bool at_separator(const struct cursor *c)
{
	struct cursor t = *c;

	return take_set(&t, " \t\xC2\xA0　:：、.．·・-－—–_(（[【《「『");
}

/* The heading ends here or a title follows after a separator. */
static bool heading_tail(const struct cursor *c)
{
	return c->i == c->n || at_separator(c);
}

static bool english_number(struct cursor *c)
{
	static const char *const words[] = {
	    "one",     "two",     "three",     "four",     "five",     "six",      "seven",
	    "eight",   "nine",    "ten",       "eleven",   "twelve",   "thirteen", "fourteen",
	    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"};
	size_t start = c->i;

	if (take_run(c, "0123456789", 6) && heading_tail(c))
		return true;
	c->i = start;
	/* capitals only: "Chapter Mild" is not chapter 1,551 */
	if (take_run(c, "IVXLCDM", 10) && heading_tail(c))
		return true;
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		c->i = start;
		if (take_ci(c, words[w]) && heading_tail(c))
			return true;
	}
	c->i = start;
	return false;
}

/* Sentences end in these; titles practically never do. */
static bool ends_like_sentence(const char *s, size_t n)
{
	static const char *const ends[] = {"。", "，", "；", "："};

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (n >= 3 && memcmp(s + n - 3, ends[i], 3) == 0)
			return true;
	return false;
}

/*
 * Is the trimmed line s a chapter heading? *title_at gets the offset where the title starts
 * ("正文 第一章" is titled "第一章"). Sentences that merely start like a heading ("第一回见面时，
 * 她才十六岁。", "第一部分是……") are told apart by the separator after the number and by their
 * punctuation.
 */
static bool heading_match(const char *s, size_t n, size_t *title_at)
{
	struct cursor c = {(const unsigned char *)s, n, 0};
	static const char *const words[] = {"序章", "序言", "自序", "序",   "前言", "楔子",
	                                    "引子", "后记", "後記", "尾声", "尾聲"};
	size_t chars = 0;

	if (n > TXT_HEADING_CHARS * 4)
		return false;
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xC0) != 0x80;
	if (chars > TXT_HEADING_CHARS)
		return false;
	if (take(&c, "正文") && !take_spaces(&c))
		return false;
	*title_at = c.i;
	if (take(&c, "第")) {
		struct cursor unit;

		take_spaces(&c);
		if (!take_run(&c, cn_numerals, 12))
			return false;
		take_spaces(&c);
		unit = c;
		if (!take_set(&c, "章回节節卷部篇集") || ends_like_sentence(s, n))
			return false;
		if (heading_tail(&c))
			return true;
		/* A title glued to the number ("第一章风雪") only after 章 or 回: "第一部分",
		 * "第三集团军", "第一节课" and "第三回合" are ordinary words. */
		if (take(&unit, "章") || (take(&unit, "回") && !take(&unit, "合"))) {
			struct cursor rest = c;

			while (rest.i < rest.n) {
				if (take_set(&rest, "，。！？；…,!?;"))
					return false;
				rest.i += char_len(&rest);
			}
			return true;
		}
		return false;
	}
	if (take(&c, "卷")) {
		take_spaces(&c);
		return take_run(&c, cn_numerals, 12) && heading_tail(&c) &&
		       !ends_like_sentence(s, n);
	}
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		struct cursor t = c;

		if (take(&t, words[w]) && heading_tail(&t))
			return true;
	}
	if (take_ci(&c, "chapter"))
		return take_spaces(&c) && english_number(&c);
	if (take_ci(&c, "prologue") || take_ci(&c, "epilogue"))
		return heading_tail(&c);
	return false;
}

struct head {
	const char *title; /* inside the text */
	size_t tlen;
	size_t line; /* offset of the heading line */
	size_t body; /* offset of the line after it */
	size_t idx;
	bool drop;
};

static int head_cmp(const void *a, const void *b)
{
	const struct head *x = *(const struct head *const *)a;
	const struct head *y = *(const struct head *const *)b;
	int d = memcmp(x->title, y->title, x->tlen < y->tlen ? x->tlen : y->tlen);

	if (d)
		return d;
	if (x->tlen != y->tlen)
		return x->tlen < y->tlen ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A table of contents at the top repeats every heading with nothing under it, and scraped
 * files often print a heading twice: a heading with an empty body whose title comes again
 * later is not a chapter. */
static int drop_repeated(struct head *h, size_t n, const char *text, size_t len)
{
	struct head **v;

	if (n < 2)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = &h[i];
	qsort(v, n, sizeof(*v), head_cmp);
	for (size_t i = 0; i + 1 < n; i++) {
		struct head *x = v[i], *y = v[i + 1];
		size_t end = x->idx + 1 < n ? h[x->idx + 1].line : len;

		if (x->tlen == y->tlen && memcmp(x->title, y->title, x->tlen) == 0 &&
		    !visible_bytes(text + x->body, end - x->body))
			x->drop = true;
	}
	free(v);
	return 0;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

struct split_info {
	bool headings;      /* false: the whole text is one chapter */
	bool front_chapter; /* the text before the first heading is chapter 0 */
	size_t front_end;   /* where the first heading line starts */
};

static int split_text(const char *text, size_t len, struct txt_chapter **out, size_t *n,
                      struct split_info *info)
{
	struct head *h = NULL;
	struct txt_chapter *ch = NULL;
	size_t nh = 0, caph = 0, nch = 0, kept = 0, pos = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	memset(info, 0, sizeof(*info));
	/* Past the cap, headings stay in the text of the last chapter. */
	while (pos < len && nh < TXT_MAX_CHAPTERS) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t end = eol ? (size_t)(eol - text) : len, sl = end - pos, at;
		const char *s = text + pos;
		unsigned char c0;

		trim(&s, &sl);
		c0 = sl ? (unsigned char)*s : 0;
		/* every heading starts with 第卷序前楔引后後尾正自 (E5–E8 lead bytes) or C/P/E */
		if (sl && ((c0 >= 0xE5 && c0 <= 0xE8) || strchr("CcPpEe", c0)) &&
		    heading_match(s, sl, &at)) {
			if (nh == caph) {
				size_t cap = caph ? caph * 2 : 64;
				struct head *t = realloc(h, cap * sizeof(*h));

				if (!t) {
					rc = -ENOMEM;
					goto out;
				}
				h = t;
				caph = cap;
			}
			h[nh] = (struct head){.title = s + at,
			                      .tlen = sl - at,
			                      .line = pos,
			                      .body = eol ? end + 1 : len,
			                      .idx = nh};
			nh++;
		}
		pos = eol ? end + 1 : len;
	}
	if ((rc = drop_repeated(h, nh, text, len)))
		goto out;
	for (size_t i = 0; i < nh; i++)
		kept += !h[i].drop;
	if (!kept) {
		ch = calloc(1, sizeof(*ch));
		if (!ch || !(ch[0].title = dup_n("正文", strlen("正文")))) {
			rc = -ENOMEM;
			goto out;
		}
		ch[0].len = len;
		nch = 1;
		goto done;
	}
	info->headings = true;
	info->front_end = h[0].line;
	info->front_chapter = visible_bytes(text, h[0].line) > TXT_FRONT_MIN;
	ch = calloc(kept + info->front_chapter, sizeof(*ch));
	if (!ch) {
		rc = -ENOMEM;
		goto out;
	}
	if (info->front_chapter) {
		if (!(ch[0].title = dup_n("正文", strlen("正文")))) {
			rc = -ENOMEM;
			goto out;
		}
		ch[0].len = h[0].line;
		nch = 1;
	}
	for (size_t i = 0; i < nh; i++) {
		/* A dropped heading still ends the chapter before it: its line is not text. */
		size_t end = i + 1 < nh ? h[i + 1].line : len;

		if (h[i].drop)
			continue;
		if (!(ch[nch].title = dup_n(h[i].title, h[i].tlen))) {
			rc = -ENOMEM;
			goto out;
		}
		ch[nch].start = h[i].body;
		ch[nch].len = end - h[i].body;
		nch++;
	}
done:
	*out = ch;
	*n = nch;
	ch = NULL;
out:
	if (ch)
		txt_chapters_free(ch, nch + 1);
	free(h);
	return rc;
}

int txt_split(const char *text, size_t len, struct txt_chapter **out, size_t *n)
{
	struct split_info info;

	if (!text && len) {
		*out = NULL;
		*n = 0;
		return -EINVAL;
	}
	return split_text(text ? text : "", len, out, n, &info);
}

void txt_chapters_free(struct txt_chapter *ch, size_t n)
{
	if (!ch)
		return;
	for (size_t i = 0; i < n; i++)
		free(ch[i].title);
	free(ch);
}

/* --- front matter ------------------------------------------------------------------------- */

/* "作者：金庸", "作者: 金庸", "作者 金庸" or "Author: …" in the first lines. */
static int find_author(const char *text, size_t len, char **out)
{
	size_t pos = 0;

	*out = NULL;
	for (int line = 0; line < TXT_AUTHOR_LINES && pos < len; line++) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t end = eol ? (size_t)(eol - text) : len, sl = end - pos;
		const char *s = text + pos;
		struct cursor c;
		bool spaced;

		pos = eol ? end + 1 : len;
		trim(&s, &sl);
		c = (struct cursor){(const unsigned char *)s, sl, 0};
		if (!take(&c, "作者") && !take_ci(&c, "author"))
			continue;
		spaced = take_spaces(&c) > 0;
		if (!take_set(&c, ":：︰") && !spaced)
			continue;
		s += c.i;
		sl -= c.i;
		trim(&s, &sl);
		if (!sl)
			continue;
		*out = dup_n(s, utf8_cut(s, sl, 200));
		return *out ? 0 : -ENOMEM;
	}
	return 0;
}

/* Title, author and table-of-contents lines before the first heading are already on the title
 * page and in the navigation; what else is there ("内容简介", a dedication) is kept. */
static bool front_noise(const char *s, size_t n, const char *title, size_t tlen)
{
	struct cursor c = {(const unsigned char *)s, n, 0};

	if (n == tlen && memcmp(s, title, n) == 0)
		return true;
	if (n == tlen + 6 && memcmp(s, "《", 3) == 0 && memcmp(s + 3, title, tlen) == 0 &&
	    memcmp(s + 3 + tlen, "》", 3) == 0)
		return true;
	if (take(&c, "作者") || take(&c, "书名") || take(&c, "書名") || take_ci(&c, "author")) {
		bool spaced = take_spaces(&c) > 0;

		return take_set(&c, ":：︰") || spaced || c.i == n; /* not "作者简介：…" */
	}
	return (take(&c, "目录") || take(&c, "目錄") || take_ci(&c, "contents")) && c.i == n;
}

/* --- EPUB --------------------------------------------------------------------------------- */

struct page_ref {
	size_t chapter;
	size_t part; /* 1 = the chapter's first file */
};

struct writer {
	struct archive *a;
	struct sbuf zip;  /* the archive, built in memory (see zip_bare_mimetype) */
	struct sbuf page; /* the file being written */
	const char *lang;
	long long mtime;
	const char *const *titles; /* per chapter */
	struct page_ref *pages;    /* chNNNN.xhtml is pages[NNNN - 1] */
	size_t npages, cap;
};

/* The single place where libarchive's failures become errno codes. */
static int zip_errno(struct archive *a)
{
	return archive_errno(a) == ENOMEM ? -ENOMEM : -EIO;
}

static la_ssize_t zip_out(struct archive *a, void *ctx, const void *buf, size_t n)
{
	if (sbuf_add(ctx, buf, n)) {
		archive_set_error(a, ENOMEM, "EPUB too large");
		return -1;
	}
	return (la_ssize_t)n;
}

static int add_entry(struct writer *w, const char *name, const void *data, size_t n)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	if (!e)
		return -ENOMEM;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_mtime(e, (time_t)w->mtime, 0);
	if (archive_write_header(w->a, e) < ARCHIVE_WARN)
		rc = zip_errno(w->a);
	else if (n && archive_write_data(w->a, data, n) != (la_ssize_t)n)
		rc = zip_errno(w->a);
	archive_entry_free(e);
	return rc;
}

/* Store the page built in w->page. */
static int add_page(struct writer *w, const char *name)
{
	return w->page.err ? w->page.err : add_entry(w, name, w->page.p, w->page.len);
}

/* The label of a chapter's part-th file, escaped: "第一章", then "第一章（2）". */
static void add_label(struct sbuf *b, const char *title, size_t part)
{
	char num[32];

	sbuf_xml(b, title, strlen(title));
	if (part > 1) {
		snprintf(num, sizeof(num), "（%zu）", part);
		sbuf_puts(b, num);
	}
}

static void page_begin(struct writer *w, const char *title, size_t part, const char *h)
{
	struct sbuf *b = &w->page;

	b->len = 0;
	sbuf_cat(b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
	         "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"",
	         w->lang, "\" lang=\"", w->lang, "\">\n<head>\n<title>", NULL);
	add_label(b, title, part);
	sbuf_puts(b, "</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"style.css\"/>\n"
	             "</head>\n<body>\n");
	if (h) {
		sbuf_cat(b, "<", h, ">", NULL);
		add_label(b, title, 1);
		sbuf_cat(b, "</", h, ">\n", NULL);
	}
}

static void page_para(struct writer *w, const char *s, size_t n, const char *cls)
{
	if (cls)
		sbuf_cat(&w->page, "<p class=\"", cls, "\">", NULL);
	else
		sbuf_puts(&w->page, "<p>");
	sbuf_xml(&w->page, s, n);
	sbuf_puts(&w->page, "</p>\n");
}

/* Close the page and store it as the next chNNNN.xhtml. */
static int page_end(struct writer *w, size_t chapter, size_t part)
{
	char path[64];

	if (w->npages == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct page_ref *t = realloc(w->pages, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		w->pages = t;
		w->cap = cap;
	}
	w->pages[w->npages++] = (struct page_ref){chapter, part};
	snprintf(path, sizeof(path), "OEBPS/ch%04zu.xhtml", w->npages);
	sbuf_puts(&w->page, "</body>\n</html>\n");
	return add_page(w, path);
}

/* One <p> per non-empty line, indentation dropped; a long chapter continues in further files
 * and a paragraph longer than TXT_PIECE is cut on a character boundary. */
static int write_chapter(struct writer *w, size_t chapter, const char *body, size_t blen)
{
	const char *title = w->titles[chapter];
	size_t pos = 0, part = 1, paras = 0;
	int rc = 0;

	page_begin(w, title, 1, "h2");
	while (!rc && pos < blen) {
		const char *eol = memchr(body + pos, '\n', blen - pos);
		size_t end = eol ? (size_t)(eol - body) : blen, sl = end - pos;
		const char *s = body + pos;

		pos = eol ? end + 1 : blen;
		trim(&s, &sl);
		while (!rc && sl) {
			size_t k = utf8_cut(s, sl, TXT_PIECE);

			if (!k) /* not UTF-8 after all: cut anywhere */
				k = sl < TXT_PIECE ? sl : TXT_PIECE;
			if (w->page.len > TXT_PAGE_BYTES && paras) {
				if ((rc = page_end(w, chapter, part)))
					break;
				page_begin(w, title, ++part, NULL);
				paras = 0;
			}
			page_para(w, s, k, NULL);
			paras++;
			s += k;
			sl -= k;
		}
	}
	return rc ? rc : page_end(w, chapter, part);
}

/* The title page: the book's title and author and whatever the text says before its first
 * heading that is not just the title or author again. false when there is nothing else. */
static bool front_text(struct writer *w, const char *text, size_t front_end, const char *title,
                       const char *author)
{
	size_t pos = 0, tlen = strlen(title);
	bool any = false;

	page_begin(w, title, 1, "h1");
	if (author)
		page_para(w, author, strlen(author), "author");
	while (pos < front_end) {
		const char *eol = memchr(text + pos, '\n', front_end - pos);
		size_t end = eol ? (size_t)(eol - text) : front_end, sl = end - pos;
		const char *s = text + pos;

		pos = eol ? end + 1 : front_end;
		trim(&s, &sl);
		if (sl && !front_noise(s, sl, title, tlen)) {
			page_para(w, s, sl, NULL);
			any = true;
		}
	}
	sbuf_puts(&w->page, "</body>\n</html>\n");
	return any;
}

static const char txt_css[] = "body { margin: 0 5%; line-height: 1.8; }\n"
                              "h1, h2 { text-align: center; margin: 1.5em 0 1em; }\n"
                              "p { text-indent: 2em; margin: 0 0 0.4em; }\n"
                              "p.author { text-align: center; text-indent: 0; }\n";

static const char txt_container[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
    "<rootfiles>\n<rootfile full-path=\"OEBPS/content.opf\" "
    "media-type=\"application/oebps-package+xml\"/>\n</rootfiles>\n</container>\n";

static int write_nav(struct writer *w)
{
	struct sbuf *b = &w->page;
	char href[32];

	b->len = 0;
	sbuf_cat(b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
	         "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
	         "xmlns:epub=\"http://www.idpf.org/2007/ops\" xml:lang=\"",
	         w->lang, "\" lang=\"", w->lang,
	         "\">\n<head>\n<title>目录</title>\n</head>\n<body>\n"
	         "<nav epub:type=\"toc\" id=\"toc\">\n<h1>目录</h1>\n<ol>\n",
	         NULL);
	for (size_t i = 0; i < w->npages; i++) {
		snprintf(href, sizeof(href), "ch%04zu.xhtml", i + 1);
		sbuf_cat(b, "<li><a href=\"", href, "\">", NULL);
		add_label(b, w->titles[w->pages[i].chapter], w->pages[i].part);
		sbuf_puts(b, "</a></li>\n");
	}
	sbuf_puts(b, "</ol>\n</nav>\n</body>\n</html>\n");
	return add_page(w, "OEBPS/nav.xhtml");
}

/* EPUB 2 reading systems (older e-ink readers) only know the NCX. */
static int write_ncx(struct writer *w, const char *id, const char *title)
{
	struct sbuf *b = &w->page;
	char num[32], href[32];

	b->len = 0;
	sbuf_cat(
	    b,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\" xml:lang=\"",
	    w->lang, "\">\n<head>\n<meta name=\"dtb:uid\" content=\"", NULL);
	sbuf_xml(b, id, strlen(id));
	sbuf_puts(b, "\"/>\n<meta name=\"dtb:depth\" content=\"1\"/>\n"
	             "<meta name=\"dtb:totalPageCount\" content=\"0\"/>\n"
	             "<meta name=\"dtb:maxPageNumber\" content=\"0\"/>\n</head>\n<docTitle><text>");
	sbuf_xml(b, title, strlen(title));
	sbuf_puts(b, "</text></docTitle>\n<navMap>\n");
	for (size_t i = 0; i < w->npages; i++) {
		snprintf(num, sizeof(num), "%zu", i + 1);
		snprintf(href, sizeof(href), "ch%04zu.xhtml", i + 1);
		sbuf_cat(b, "<navPoint id=\"np", num, "\" playOrder=\"", num, "\"><navLabel><text>",
		         NULL);
		add_label(b, w->titles[w->pages[i].chapter], w->pages[i].part);
		sbuf_cat(b, "</text></navLabel><content src=\"", href, "\"/></navPoint>\n", NULL);
	}
	sbuf_puts(b, "</navMap>\n</ncx>\n");
	return add_page(w, "OEBPS/toc.ncx");
}

static int write_opf(struct writer *w, const char *id, const char *title, const char *author,
                     bool front)
{
	struct sbuf *b = &w->page;
	char stamp[32], num[32];
	time_t t = w->mtime > 0 ? (time_t)w->mtime : 0;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	b->len = 0;
	sbuf_cat(b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" "
	         "unique-identifier=\"bookid\" xml:lang=\"",
	         w->lang,
	         "\">\n<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
	         "<dc:identifier id=\"bookid\">",
	         NULL);
	sbuf_xml(b, id, strlen(id));
	sbuf_puts(b, "</dc:identifier>\n<dc:title>");
	sbuf_xml(b, title, strlen(title));
	sbuf_cat(b, "</dc:title>\n<dc:language>", w->lang, "</dc:language>\n", NULL);
	if (author) {
		sbuf_puts(b, "<dc:creator>");
		sbuf_xml(b, author, strlen(author));
		sbuf_puts(b, "</dc:creator>\n");
	}
	sbuf_cat(b, "<meta property=\"dcterms:modified\">", stamp,
	         "</meta>\n</metadata>\n<manifest>\n"
	         "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
	         "properties=\"nav\"/>\n"
	         "<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>\n"
	         "<item id=\"css\" href=\"style.css\" media-type=\"text/css\"/>\n",
	         NULL);
	if (front)
		sbuf_puts(b, "<item id=\"front\" href=\"front.xhtml\" "
		             "media-type=\"application/xhtml+xml\"/>\n");
	for (size_t i = 0; i < w->npages; i++) {
		snprintf(num, sizeof(num), "%04zu", i + 1);
		sbuf_cat(b, "<item id=\"c", num, "\" href=\"ch", num,
		         ".xhtml\" media-type=\"application/xhtml+xml\"/>\n", NULL);
	}
	sbuf_puts(b, "</manifest>\n<spine toc=\"ncx\">\n");
	if (front)
		sbuf_puts(b, "<itemref idref=\"front\"/>\n");
	for (size_t i = 0; i < w->npages; i++) {
		snprintf(num, sizeof(num), "%04zu", i + 1);
		sbuf_cat(b, "<itemref idref=\"c", num, "\"/>\n", NULL);
	}
	sbuf_puts(b, "</spine>\n</package>\n");
	return add_page(w, "OEBPS/content.opf");
}

static uint32_t rd16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const unsigned char *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

static void wr16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void wr32(unsigned char *p, uint32_t v)
{
	wr16(p, v);
	wr16(p + 2, v >> 16);
}

/*
 * libarchive's zip writer gives every entry "UT" and "ux" extra fields and a trailing data
 * descriptor, but OCF wants the first entry bare (epubcheck PKG-005): "mimetype" at byte 30,
 * no extra field, the 20 stored bytes at byte 38, so that a reading system can sniff the type
 * from the first 58 bytes. Rewrite that one local header in the finished archive and move
 * every later offset back by the bytes removed. The archive is ours and small (no Zip64).
 */
static int zip_bare_mimetype(struct sbuf *z)
{
	unsigned char *p = (unsigned char *)z->p;
	size_t len = z->len, extra, desc = 0, cut, eocd, cd, cdsize, entries, q;
	uint32_t flags;

	if (len < 58 + 22 || memcmp(p, "PK\3\4", 4) != 0 || rd16(p + 8) != 0 || rd16(p + 26) != 8 ||
	    memcmp(p + 30, "mimetype", 8) != 0)
		return -EIO;
	extra = rd16(p + 28);
	flags = rd16(p + 6);
	if (flags & 8) {
		q = 38 + extra + 20;
		if (len < q + 16 || memcmp(p + q, "PK\7\10", 4) != 0)
			return -EIO;
		memcpy(p + 14, p + q + 4, 12); /* CRC-32, sizes: same layout as the header's */
		wr16(p + 6, flags & ~8u);
		desc = 16;
	}
	cut = extra + desc;
	eocd = len - 22;
	if (memcmp(p + eocd, "PK\5\6", 4) != 0 ||
	    (eocd >= 20 && !memcmp(p + eocd - 20, "PK\6\7", 4)))
		return -EIO;
	entries = rd16(p + eocd + 10);
	cdsize = rd32(p + eocd + 12);
	cd = rd32(p + eocd + 16);
	if (cd < 58 + cut || cdsize > eocd - cd)
		return -EIO;
	q = cd;
	for (size_t i = 0; i < entries; i++) {
		uint32_t off;

		if (q + 46 > eocd || memcmp(p + q, "PK\1\2", 4) != 0)
			return -EIO;
		off = rd32(p + q + 42);
		if (off == 0)
			wr16(p + q + 8, rd16(p + q + 8) & ~8u);
		else if (off < 58 + cut || off == 0xFFFFFFFFu)
			return -EIO;
		else
			wr32(p + q + 42, (uint32_t)(off - cut));
		q += 46 + rd16(p + q + 28) + rd16(p + q + 30) + rd16(p + q + 32);
	}
	wr32(p + eocd + 16, (uint32_t)(cd - cut));
	wr16(p + 28, 0);
	memmove(p + 38, p + 38 + extra, 20);
	memmove(p + 58, p + 58 + cut, len - 58 - cut);
	z->len = len - cut;
	return 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EIO;
	while (off < len) {
		ssize_t k = write(fd, data + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = -EIO;
			break;
		}
		off += (size_t)k;
	}
	if (close(fd) && !rc)
		rc = -EIO;
	if (rc)
		unlink(path);
	return rc;
}

static int write_epub(const char *path, const char *text, const struct txt_chapter *ch, size_t nch,
                      const struct split_info *info, const char *id, const char *title,
                      const char *author, const char *lang, long long mtime, bool store)
{
	struct writer w = {.lang = lang, .mtime = mtime > 0 ? mtime : 0};
	const char **titles = calloc(nch ? nch : 1, sizeof(*titles));
	bool front = false;
	int rc;

	w.zip.max = TXT_EPUB_MAX;
	w.page.max = TXT_XHTML_MAX;
	w.titles = titles;
	w.a = archive_write_new();
	if (!titles || !w.a) {
		rc = -ENOMEM;
		goto out;
	}
	/* A book without headings is one chapter named after the book. */
	for (size_t i = 0; i < nch; i++)
		titles[i] = info->headings ? ch[i].title : title;
	/* bytes_in_last_block 1: no padding after the end of the zip */
	if (archive_write_set_format_zip(w.a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_store(w.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w.a, 64 * 1024) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	    archive_write_open2(w.a, &w.zip, NULL, zip_out, NULL, NULL) != ARCHIVE_OK) {
		rc = zip_errno(w.a);
		goto out;
	}
	if ((rc = add_entry(&w, "mimetype", "application/epub+zip", 20)))
		goto out;
	if (!store && archive_write_zip_set_compression_deflate(w.a) != ARCHIVE_OK) {
		rc = zip_errno(w.a);
		goto out;
	}
	if ((rc = add_entry(&w, "META-INF/container.xml", txt_container, strlen(txt_container))) ||
	    (rc = add_entry(&w, "OEBPS/style.css", txt_css, strlen(txt_css))))
		goto out;
	if (info->headings && !info->front_chapter &&
	    front_text(&w, text, info->front_end, title, author)) {
		front = true;
		if ((rc = add_page(&w, "OEBPS/front.xhtml")))
			goto out;
	}
	for (size_t i = 0; i < nch; i++)
		if ((rc = write_chapter(&w, i, text + ch[i].start, ch[i].len)))
			goto out;
	if ((rc = write_nav(&w)) || (rc = write_ncx(&w, id, title)) ||
	    (rc = write_opf(&w, id, title, author, front)))
		goto out;
	if (archive_write_close(w.a) != ARCHIVE_OK) {
		rc = zip_errno(w.a);
		goto out;
	}
	if ((rc = zip_bare_mimetype(&w.zip)))
		goto out;
	rc = write_file(path, w.zip.p, w.zip.len);
out:
	if (w.a)
		archive_write_free(w.a);
	sbuf_release(&w.zip);
	sbuf_release(&w.page);
	free(w.pages);
	free(titles);
	return rc;
}

/* --- the whole conversion ----------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg)
{
	size_t n, lead;
	uint32_t cp;

	if (!err || !errlen)
		return;
	snprintf(err, errlen, "%s", msg);
	/* A short buffer must not end in half a character. */
	n = strlen(err);
	lead = n;
	while (lead > 0 && n - lead < 4 && ((unsigned char)err[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead > 0 && (unsigned char)err[lead - 1] >= 0x80 &&
	    !utf8_next((unsigned char *)err + lead - 1, n - lead + 1, &cp))
		err[lead - 1] = '\0';
}

static int read_all(const char *path, size_t max, unsigned char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	unsigned char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EIO;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = -EIO;
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	/* One byte more than the file so that a file still growing is noticed. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf + len, cap - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = -EIO;
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max) {
			rc = -EFBIG;
			goto out;
		}
		if (len == cap) {
			unsigned char *t = realloc(buf, cap * 2 + 1);

			if (!t) {
				rc = -ENOMEM;
				goto out;
			}
			buf = t;
			cap *= 2;
		}
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

static const char *lang_or_default(const char *l)
{
	size_t n = l ? strlen(l) : 0;

	if (!n || n > 35)
		return "zh-CN";
	for (size_t i = 0; i < n; i++) {
		char c = l[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i && ((c >= '0' && c <= '9') || c == '-'))))
			return "zh-CN";
	}
	return l;
}

int txt_to_epub(const char *txt_path, const char *epub_path, size_t max_bytes,
                const struct txt_epub_opts *opts, struct txt_epub_result *res, char *err,
                size_t errlen)
{
	unsigned char *raw = NULL;
	char *text = NULL, *author = NULL, *title = NULL, *id = NULL;
	struct txt_chapter *ch = NULL;
	struct split_info info;
	const char *charset = NULL, *s;
	size_t rawlen = 0, len = 0, nch = 0, sl;
	int rc;

	if (res)
		memset(res, 0, sizeof(*res));
	set_err(err, errlen, "");
	if (!txt_path || !epub_path || !opts || !opts->title || !opts->identifier) {
		rc = -EINVAL;
		set_err(err, errlen, "参数错误：缺少文件、书名或标识符");
		goto out;
	}
	s = opts->identifier;
	sl = strlen(s);
	trim(&s, &sl);
	if (!sl || !(id = dup_n(s, utf8_cut(s, sl, TXT_META_MAX)))) {
		rc = sl ? -ENOMEM : -EINVAL;
		set_err(err, errlen, sl ? "内存不足" : "参数错误：标识符是空的");
		goto out;
	}
	s = opts->title;
	sl = strlen(s);
	trim(&s, &sl);
	if (!sl) {
		s = "未命名";
		sl = strlen(s);
	}
	if (!(title = dup_n(s, utf8_cut(s, sl, TXT_META_MAX)))) {
		rc = -ENOMEM;
		goto out;
	}

	rc = read_all(txt_path, max_bytes, &raw, &rawlen);
	if (rc == -EFBIG) {
		char msg[128];

		if (max_bytes >= 1024 * 1024)
			snprintf(msg, sizeof(msg), "文件太大（上限 %zu MB）",
			         max_bytes / (1024 * 1024));
		else
			snprintf(msg, sizeof(msg), "文件太大（上限 %zu 字节）", max_bytes);
		set_err(err, errlen, msg);
	}
	if (rc == -ENOENT)
		set_err(err, errlen, "找不到文件");
	if (rc)
		goto out;
	rc = txt_detect(raw, rawlen, &charset);
	if (!rc)
		rc = txt_to_utf8(raw, rawlen, charset, &text, &len);
	free(raw);
	raw = NULL;
	if (!rc && !visible_bytes(text, len))
		rc = -EINVAL; /* only spaces (or only a BOM) */
	if (rc == -EINVAL)
		set_err(err, errlen, "文件是空的");
	if (rc == -EBADMSG)
		set_err(err, errlen, "文件不是文本（无法识别的字符编码）");
	if (rc)
		goto out;

	if ((rc = split_text(text, len, &ch, &nch, &info)))
		goto out;
	if (opts->author) {
		s = opts->author;
		sl = strlen(s);
		trim(&s, &sl);
		if (sl && !(author = dup_n(s, utf8_cut(s, sl, TXT_META_MAX)))) {
			rc = -ENOMEM;
			goto out;
		}
	} else if ((rc = find_author(text, len, &author))) {
		goto out;
	}
	rc = write_epub(epub_path, text, ch, nch, &info, id, title, author,
	                lang_or_default(opts->language), opts->modified, opts->store);
	if (rc == -ENOENT)
		rc = -EIO; /* the directory of epub_path is the caller's business */
	if (rc == -EIO)
		set_err(err, errlen, "写入 EPUB 文件失败");
	if (rc)
		goto out;
	if (res) {
		res->charset = charset;
		res->chapters = nch;
		res->author = author;
		author = NULL;
	}
out:
	if (rc == -ENOMEM)
		set_err(err, errlen, "内存不足");
	else if (rc == -EIO && err && errlen && !err[0])
		set_err(err, errlen, "读取文件失败");
	txt_chapters_free(ch, nch);
	free(raw);
	free(text);
	free(author);
	free(title);
	free(id);
	return rc;
}

void txt_epub_result_release(struct txt_epub_result *res)
{
	if (!res)
		return;
	free(res->author);
	memset(res, 0, sizeof(*res));
}
