#ifndef SHUXIANG_TXT_H
#define SHUXIANG_TXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Plain-text books (the way Chinese novels circulate): charset detection, conversion to UTF-8,
 * chapter split on Chinese and English headings, and an EPUB 3 written with libarchive's zip
 * writer so that the reader pipeline has only one kind of book.
 */

/*
 * Guess the charset of buf: a BOM (UTF-8, UTF-16LE/BE) wins; valid UTF-8 → "UTF-8"; else
 * uchardet's answer when it names a charset iconv knows (GBK/GB2312 are widened to "GB18030");
 * else "GB18030". *charset is a static string. -EINVAL for an empty buffer; -EBADMSG when the
 * bytes are not text at all (NUL bytes or mostly control characters after the BOM check).
 * (When uchardet is unsure the answer is "GB18030" and it is txt_to_utf8 that says -EBADMSG
 * if the bytes are not GB18030 either; uchardet reads at most the first 512 KB.)
 */
int txt_detect(const void *buf, size_t len, const char **charset);

/*
 * Convert buf from charset to UTF-8 (BOM dropped, CRLF/CR → LF). *out is malloc'd (NUL
 * terminated, caller frees), *outlen its length. -EBADMSG when the bytes are not valid in
 * charset (more than a few stray bytes; isolated ones become U+FFFD), -ENOMEM.
 */
int txt_to_utf8(const void *buf, size_t len, const char *charset, char **out, size_t *outlen);

struct txt_chapter {
	char *title; /* owned: the heading line, trimmed ("第十二章 风雪山神庙"); "正文" for text
	                before the first heading when it is long enough to be a chapter */
	size_t start; /* byte offset of the chapter body (after the heading line) in the text */
	size_t len;   /* body length in bytes */
};

/*
 * Split UTF-8 text into chapters on heading lines: 第…章/回/节/卷/部/篇/集 with Chinese or
 * Arabic numerals, 卷一 …, 序/序言/前言/楔子/引子/后记/尾声, "Chapter 3"/"CHAPTER III"/
 * "Prologue". A heading is a short line (≤ 40 characters). Text without headings is one
 * chapter. *out is malloc'd (free with txt_chapters_free). -ENOMEM.
 *
 * Details: lines are trimmed of ASCII, no-break and ideographic (U+3000) spaces; a heading
 * line that reads like a sentence (ends in 。，；：, or a title glued to anything but 章/回)
 * is text. Text before the first heading is chapter "正文" only when it has more than 200
 * visible bytes; text without headings is one chapter titled "正文". A heading with an empty
 * body whose title recurs later (a table of contents at the top) is dropped. After 5,000
 * chapters further headings stay in the last chapter's text. Every offset is into text.
 */
int txt_split(const char *text, size_t len, struct txt_chapter **out, size_t *n);
void txt_chapters_free(struct txt_chapter *ch, size_t n);

struct txt_epub_opts {
	const char *title;      /* required (e.g. the file name without ".txt"); "" = "未命名" */
	const char *author;     /* NULL = taken from a "作者：…" line near the top, else none;
	                           "" = none */
	const char *language;   /* NULL = "zh-CN" (also used for a value that is no language tag) */
	const char *identifier; /* required: unique id, e.g. "urn:sha256:<hex>" ("urn:uuid:" ones
	                           must be real UUIDs or epubcheck warns) */
	long long modified;     /* epoch seconds for dcterms:modified */
	bool store;             /* true: entries stored, not deflated — for an EPUB that is
	                           unpacked at once (ingest): deflate was a third of the time */
};

struct txt_epub_result {
	const char *charset; /* static: what txt_detect said */
	size_t chapters;     /* from txt_split (a chapter over ~512 KB spans several files) */
	char *author;        /* owned (may be NULL): the author used */
};

/*
 * Read the TXT file at txt_path (at most max_bytes, else -EFBIG), convert it, split it, and
 * write an EPUB 3 to epub_path (mimetype entry first and stored; OPF, nav.xhtml, toc.ncx, one
 * XHTML file per chapter; text escaped; paragraphs as <p>) that epubcheck accepts with 0
 * errors. The file is written to epub_path directly (the caller picks a temporary name).
 * err gets a Chinese sentence for staff on failure. Errors: -ENOENT, -EFBIG, -EINVAL (empty),
 * -EBADMSG (not text), -EIO, -ENOMEM.
 *
 * Details: res may be NULL; on failure *res is zeroed and nothing is written at epub_path
 * (a partly written file is removed). The chapter files are OEBPS/ch0001.xhtml …; a book
 * without headings is one chapter named after the book; short text before the first heading
 * other than the title/author lines (a blurb) goes on a title page OEBPS/front.xhtml. The
 * book is converted and zipped in memory, a few times max_bytes at most. Thread-safe: no
 * shared state.
 */
int txt_to_epub(const char *txt_path, const char *epub_path, size_t max_bytes,
                const struct txt_epub_opts *opts, struct txt_epub_result *res, char *err,
                size_t errlen);
void txt_epub_result_release(struct txt_epub_result *res);

#endif
