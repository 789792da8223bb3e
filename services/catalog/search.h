#ifndef SHUXIANG_SEARCH_H
#define SHUXIANG_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/*
 * Search (specs/search.md): one box over titles, authors, subjects, descriptions, series, their
 * pinyin (full syllables and initials) and the text inside books, with our FTS5 tokenizer
 * (storage/fts: CJK bigrams + single characters, traditional folded to simplified, Latin
 * folded). The index is written here, in the caller's transaction, whenever a resource is
 * created or edited; passages are indexed by triggers on their table.
 */

/* Longest query accepted, in bytes (about 85 Chinese characters). */
#define SEARCH_MAX_QUERY 256
#define SEARCH_MAX_LIMIT 50

/* (Re)write the index row of resource id from its current rows (title, authors, subjects,
 * description, series → text and pinyin columns). Call inside the transaction that changed
 * them. 0 or a negative errno. */
int search_index_resource(struct db *db, long long id);

/* Rebuild the whole index (resources and passages) in one transaction: `shuxiang reindex`.
 * *resources and *passages (may be NULL) count what was indexed. */
int search_reindex(struct db *db, long long *resources, long long *passages);

/* Index the resources that have no index row yet (rows made before the index existed).
 * *added (may be NULL) counts them. */
int search_index_missing(struct db *db, long long *added);

struct search_request {
	const char *q;        /* the reader's text, UTF-8 (checked by the caller) */
	const char *kind;     /* "ebook", "audiobook", "video" or NULL */
	const char *category; /* category code or name, or NULL */
	const char *clc;      /* CLC class prefix ("I", "K2") or NULL */
	const char *language; /* language tag prefix ("zh") or NULL */
	long long offset;     /* from the cursor */
	int limit;            /* 1..SEARCH_MAX_LIMIT */
	long long now;        /* the app's clock (ranking favours titles of the last 90 days) */
};

/*
 * Run a search: *out gets {"query": {...}, "hits": [...], "total": n, "groups": {...},
 * "facets": {...}, "next_cursor": "20" | null} (see docs/api.md). A query that has nothing
 * searchable (only punctuation, emoji, spaces) answers no hits, never an error.
 * Returns 0, -EINVAL (query too long: msg set) or another negative errno.
 */
int search_run(struct db *db, const struct search_request *req, json_t **out, char *msg,
               size_t msglen);

/* Suggestions while typing: up to limit titles and authors whose text, pinyin or initials
 * start with q. *out gets {"suggestions": [{"text","type","resource"}]}. */
int search_suggest(struct db *db, const char *q, int limit, json_t **out);

#endif
