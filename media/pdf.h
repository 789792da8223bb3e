#ifndef SHUXIANG_PDF_H
#define SHUXIANG_PDF_H

#include <stddef.h>

#include "bookmeta.h"
#include "cover.h"
#include "passage.h"

/*
 * PDF books through poppler-glib (GPL-2.0-or-later, compatible with our GPL-3.0-or-later;
 * docs/media.md says why not MuPDF): metadata, page count, the first page rendered (cairo) as
 * the cover, and page text cut into passages (href "page=N", 1-based).
 */

struct pdf_doc;

/*
 * Open the PDF at path (a regular file that says "%PDF-" in its first KiB). *out is set to
 * NULL on failure; free with pdf_close. A pdf_doc is used by one thread at a time; separate
 * documents may be used from separate threads. A PDF protected only by an owner password
 * (printing/copying restrictions) opens normally. Errors: -ENOENT, -EBADMSG (not a PDF,
 * damaged beyond repair or without pages: err says so in Chinese), -EACCES (encrypted with a
 * user password), -EIO, -ENOMEM.
 */
int pdf_open(struct pdf_doc **out, const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void pdf_close(struct pdf_doc *d);

/* Pages in the document (at least 1 for an open one; 0 for NULL). */
int pdf_page_count(const struct pdf_doc *d);

/* Title, author(s) (split on ; ； , ， 、 " and " " & "; "Smith, John" stays one name),
 * subject → description, keywords (split on ; , ， ； 、) → subjects, creation date → date
 * as YYYY-MM-DD (years up to 1970 are producers' placeholders and skipped). Fields absent in
 * the file are left as they were; authors and subjects are appended. 0 or -ENOMEM. */
int pdf_meta(struct pdf_doc *d, struct book_meta *meta);

/*
 * Render page index (0-based) at a scale that fits COVER_MAX_W × COVER_MAX_H (so the bitmap
 * never exceeds that, whatever size the page claims), on a white background, and write the
 * cover files into dir with cover_from_bgra. Returns what that returns, -EINVAL for a page
 * out of range, or -EBADMSG for a page that cannot be read or has an absurd size.
 */
int pdf_render_cover(struct pdf_doc *d, int page, const char *dir, struct cover_info *out,
                     char *err, size_t errlen);

/*
 * Text of pages [0, max_pages) (0 = all) cut into passages with href "page=N" and appended to
 * out (its max_items is honoured). Printed lines are joined into paragraphs (no space between
 * CJK lines, hyphenated words rejoined); a blank line, an indented line or a short line ending
 * a sentence ends a paragraph. At most 1 MiB of text per page. 0 or -ENOMEM.
 */
int pdf_passages(struct pdf_doc *d, int max_pages, struct passage_list *out);

#endif
