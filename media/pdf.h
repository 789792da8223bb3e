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
 * Open the PDF at path. Errors: -ENOENT, -EBADMSG (not a PDF or damaged: err says so in
 * Chinese), -EACCES (encrypted with a password), -ENOMEM.
 */
int pdf_open(struct pdf_doc **out, const char *path, char *err, size_t errlen);
void pdf_close(struct pdf_doc *d);

int pdf_page_count(const struct pdf_doc *d);

/* Title, author(s) (split on ; , 、 and "and"), subject → description, keywords → subjects,
 * creation date → date. Fields absent in the file stay NULL. Returns 0 or -ENOMEM. */
int pdf_meta(struct pdf_doc *d, struct book_meta *meta);

/*
 * Render page index (0-based) at a scale that fits COVER_MAX_W × COVER_MAX_H, on a white
 * background, and write the cover files into dir with cover_from_bgra. Returns what that
 * returns, or -EINVAL for a bad page.
 */
int pdf_render_cover(struct pdf_doc *d, int page, const char *dir, struct cover_info *out,
                     char *err, size_t errlen);

/* Text of pages [0, max_pages) (0 = all) cut into passages with href "page=N". 0 or -ENOMEM. */
int pdf_passages(struct pdf_doc *d, int max_pages, struct passage_list *out);

#endif
