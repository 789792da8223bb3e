#ifndef SHUXIANG_EPUB_H
#define SHUXIANG_EPUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bookmeta.h"
#include "passage.h"

/*
 * EPUB 2 and 3 through libarchive and expat. The book is unpacked into a directory the caller
 * made, every file under a name we build ("f0007.xhtml"), never a path from the archive; the
 * map from the book's own paths to ours is in epub_book.files so that the content server can
 * answer the reader's requests by the book's paths. XML is parsed with entity declarations
 * refused (no expansion, no external entities). Scripts are kept (has_scripts tells) and must
 * be served under "Content-Security-Policy: sandbox".
 */

struct epub_limits {
	uint32_t max_entries;  /* files in the zip (10,000) */
	uint64_t max_total;    /* uncompressed bytes (1 GiB) */
	uint32_t max_ratio;    /* uncompressed ÷ compressed (1,000) */
	uint32_t max_passages; /* passages kept for search (0 = unlimited) */
};

void epub_limits_default(struct epub_limits *lim);

struct epub_file {
	char *path;       /* owned: the book's path ("OEBPS/Text/ch1.xhtml"), normalised */
	char *stored;     /* owned: our file name in the directory ("f0003.xhtml") */
	char *media_type; /* owned: from the OPF manifest, or guessed from the name */
	uint64_t size;
};

struct epub_toc {
	char *title; /* owned */
	char *href;  /* owned: the book's path plus fragment ("OEBPS/ch1.xhtml#s2") */
	int depth;   /* 0 = top level */
};

struct epub_book {
	struct book_meta meta;
	char version[8];         /* the OPF's version ("2.0", "3.0") */
	char *opf_path;          /* owned */
	char *cover_path;        /* owned: the book's path of the cover image, or NULL */
	char *cover_media_type;  /* owned, or NULL */
	bool rtl;                /* page-progression-direction="rtl" (vertical CJK books) */
	bool has_scripts;        /* some XHTML has <script> or on* attributes */
	struct epub_file *files; /* owned; every regular file in the zip */
	size_t nfiles;
	char **spine; /* owned: the book's paths in reading order (linear items) */
	size_t nspine;
	struct epub_toc *toc; /* owned: from nav (EPUB 3) or NCX (EPUB 2), else from the spine */
	size_t ntoc;
	struct passage_list passages; /* href = the book's path of the chapter */
};

/*
 * Read the EPUB at path and unpack it into dir (which must exist and be empty). A book without
 * dc:title reads with meta.title NULL: the caller names it (manifest, file name). Fills *book
 * (release with epub_book_release, also after a failure). Errors, with err in Chinese for
 * staff: -EBADMSG (not a zip, damaged, no container.xml, no OPF, OPF not well-formed, entity
 * declarations), -EFBIG / -E2BIG (limits: size, entry count, compression ratio), -EIO, -ENOMEM.
 */
int epub_read(const char *path, const char *dir, const struct epub_limits *lim,
              struct epub_book *book, char *err, size_t errlen);

void epub_book_release(struct epub_book *book);

/* Our stored name of a book path, or NULL. Borrowed from book. */
const char *epub_stored_name(const struct epub_book *book, const char *path);

/* Chapters shown to readers: entries of the table of contents (every level), or spine items
 * when the book has no table of contents. */
size_t epub_chapter_count(const struct epub_book *book);

#endif
