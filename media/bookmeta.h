#ifndef SHUXIANG_BOOKMETA_H
#define SHUXIANG_BOOKMETA_H

#include <stdbool.h>
#include <stddef.h>

/*
 * What a book says about itself (OPF, PDF info dictionary, TXT heading lines). Every string is
 * UTF-8, trimmed, malloc'd and owned by the record (NULL when absent); book_meta_release frees
 * them. Plain record shared by media/epub, media/pdf, media/txt and services/ingest.
 */

#define BOOK_MAX_AUTHORS 16
#define BOOK_MAX_SUBJECTS 16

struct book_author {
	char *name;
	char role[4]; /* MARC relator code: "aut" (default), "trl", "edt", "ill", "nrt" … */
};

struct book_meta {
	char *title;
	char *subtitle;
	struct book_author authors[BOOK_MAX_AUTHORS];
	int nauthors;
	char *publisher;
	char *date;     /* as written: "2019", "2019-05-01" */
	char *language; /* BCP 47 as written: "zh", "zh-CN", "en" */
	char *isbn;     /* raw identifier text that looked like an ISBN (not yet validated) */
	char *subjects[BOOK_MAX_SUBJECTS];
	int nsubjects;
	char *description; /* plain text (markup removed) */
	char *series;
	char *series_index;
};

/* Free every string and zero the record. Accepts NULL. */
void book_meta_release(struct book_meta *m);

/*
 * Store a copy of text into *field (replacing what was there): whitespace runs collapsed to
 * one space, trimmed, at most max bytes (cut on a UTF-8 boundary). Empty → NULL.
 * Returns 0 or -ENOMEM.
 */
int book_meta_set(char **field, const char *text, size_t len, size_t max);

/* Add an author (copied, normalised like book_meta_set); role NULL = "aut". Authors past
 * BOOK_MAX_AUTHORS are dropped. Returns 0 or -ENOMEM. */
int book_meta_add_author(struct book_meta *m, const char *name, size_t len, const char *role);

#endif
