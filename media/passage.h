#ifndef SHUXIANG_PASSAGE_H
#define SHUXIANG_PASSAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Passage text for in-book search: a chapter's plain text cut into pieces of 1–2 KB on
 * paragraph boundaries (a paragraph longer than 2 KB is cut on a sentence end or, failing that,
 * a UTF-8 boundary). A piece is shorter than 1 KB only at the end of a chapter or when the next
 * paragraph would take it past 2 KB: paragraphs are never split to fill a piece. Each passage
 * remembers where it came from: the chapter href (or "page=N" for PDF) and the byte offset of its
 * first character in that chapter's text.
 */

#define PASSAGE_MIN 1024
#define PASSAGE_MAX 2048

struct passage {
	char *href;      /* owned */
	uint32_t offset; /* bytes into the chapter's plain text */
	char *text;      /* owned, UTF-8, paragraphs separated by "\n" */
};

struct passage_list {
	struct passage *items; /* owned */
	size_t n, cap;
	size_t max_items; /* 0 = unlimited; further text is dropped once reached */
	size_t bytes;     /* sum of text lengths */
};

/*
 * Cut text (UTF-8, paragraphs separated by one or more '\n') of the chapter href into passages
 * appended to list. Returns 0 or -ENOMEM.
 */
int passage_split(struct passage_list *list, const char *href, const char *text, size_t len);

/* Free every passage. Accepts NULL. */
void passage_list_release(struct passage_list *list);

#endif
