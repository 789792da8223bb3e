#ifndef SHUXIANG_RESOURCE_H
#define SHUXIANG_RESOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "bookmeta.h"
#include "db.h"
#include "passage.h"

/*
 * Resources (what readers borrow, read and play) in the database: created by ingest in one
 * transaction with their authors, subjects, renditions and passages; read as JSON for the API;
 * edited by staff. SQL for the resource tables lives here and nowhere else.
 */

/* A resource as ingest creates it. Strings are borrowed for the call. */
struct resource_new {
	const char *kind;             /* "ebook", "audiobook", "video" */
	const char *format;           /* "epub", "txt", "pdf", "audio", "video" */
	const struct book_meta *meta; /* title required */
	const char *isbn13;           /* validated, or NULL */
	const char *clc;
	long long category_id;       /* 0 = none */
	const char *licence_model;   /* NULL = "open" */
	long long licence_count;     /* -1 = none */
	long long licence_loan_days; /* 0 = none (the reader's category decides) */
	const char *kiosk_month;     /* "YYYY-MM" or NULL */
	const char *source_blob;
	const char *source_name;
	long long source_bytes;
	int cover_width, cover_height, thumb_width, thumb_height; /* 0 = no cover */
	bool cover_generated;
	int pages, chapters;                /* 0 = unknown */
	long long duration_ms;              /* audio and video; 0 = unknown */
	int width, height;                  /* video: the upright picture; 0 = none */
	const struct resource_chapter *toc; /* chapters with times (audio, video), or NULL */
	int ntoc;
	long long job_id, created_by;
};

struct resource_rendition {
	const char *name;       /* "epub", "cover", "pdf" */
	const char *media_type; /* of the rendition's main file */
	const char *path;       /* inside DATA/media/<id>/: "epub", "cover", "pdf/book.pdf",
	                         * "hls/master.m3u8" */
	long long bytes;
	int width, height; /* pictures: pixels (HLS: the largest variant); 0 = none */
};

/* A chapter of an audiobook (or a chapter mark of a video): where it starts in the HLS
 * timeline; for an audiobook made of several files, the file it came from. */
struct resource_chapter {
	const char *title;
	long long start_ms;
	const char *source_blob; /* NULL when the chapter is a mark inside one file */
	const char *source_name;
};

/*
 * Insert the resource and what belongs to it inside the caller's transaction. *id gets the new
 * id. -EEXIST when a resource with the same source blob exists (a duplicate).
 */
int resource_insert(struct db *db, const struct resource_new *r,
                    const struct resource_rendition *rend, int nrend,
                    const struct passage_list *passages, time_t now, long long *id);

/* The resource whose source is blob hex: 0 and *id (and, when not NULL, *title malloc'd and
 * *job_id, the job that made it, 0 if none), or -ENOENT. */
int resource_find_by_blob(struct db *db, const char *hex, long long *id, char **title,
                          long long *job_id);

/* Resource id → JSON object for the API (new reference). -ENOENT. */
int resource_get_json(struct db *db, long long id, json_t **out);

/* A page of resources, newest first, ids below before (0 = from the top), optional kind and
 * category code filters. *items is a new array; *next the cursor (0 = last page). */
int resource_list_json(struct db *db, long long before, const char *kind, const char *category,
                       int limit, json_t **items, long long *next);

/*
 * Apply a staff edit (a JSON object already checked for types by the caller) to resource id in
 * one transaction. Fields: title, subtitle, authors (array of strings or {name, role}),
 * publisher, date, language, isbn, clc, category (code or name, null clears), description,
 * series, series_index, kiosk_month, licence {model, count, loan_days}. Returns 0, -ENOENT, or
 * -EINVAL with msg (Chinese) naming the bad field.
 */
int resource_update(struct db *db, long long id, json_t *edit, time_t now, long long staff_id,
                    char *msg, size_t msglen);

/* Category by code ("fiction") or name ("小说"): id and colour ("#rrggbb", static size 8).
 * -ENOENT when unknown. */
int category_find(struct db *db, const char *code_or_name, long long *id, char colour[8]);

#endif
