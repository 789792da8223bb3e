#ifndef SHUXIANG_INGEST_INTERNAL_H
#define SHUXIANG_INGEST_INTERNAL_H

/*
 * What the ingest of books (ingest.c) and of audio and video (av.c) share: the checks before
 * any work (duplicate, manifest row), and the one transaction that creates the row and moves
 * the staging folder to DATA/media/<id>. Not for other services.
 */

#include <stdbool.h>
#include <stddef.h>

#include "bookmeta.h"
#include "catalog/isbn.h"
#include "catalog/resource.h"
#include "cover.h"
#include "ingest.h"

/* A path built from parts; false (and an empty string) when it does not fit. */
bool ingest_pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Mark out failed with a reason for staff (Chinese); retry = may pass on another attempt. */
void ingest_fail(struct ingest_outcome *out, bool retry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The return of an item's ingest: -ECANCELED passes (the job stops); any other error marks
 * out failed unless it says why already; 0 otherwise. */
int ingest_end(int rc, struct ingest_outcome *out);

/* "三国演义.txt" → "三国演义" (the title of a file that names none). */
void ingest_title_from_name(const char *name, char *out, size_t n);

/* Size of the file at path, 0 when it cannot be read. */
long long ingest_file_size(const char *path);

/* Bytes of the regular files directly in dir. */
int ingest_dir_bytes(const char *dir, long long *total);

/* Manifest values win over the file's own; "张三; 李四" becomes two authors. */
int ingest_apply_row(struct book_meta *m, const struct manifest_row *row);

/* What a manifest row asks that is not metadata: checked before any work, so that a bad row
 * fails alone with a reason staff can fix. */
struct ingest_terms {
	char isbn[ISBN13_SIZE];
	bool has_isbn;
	long long category_id;
	char colour[8];
	const char *licence_model;
	long long licence_count;
	long long loan_days;
	const char *kiosk_month;
	const char *clc;
};

/* Check row (NULL = none) into t: 0, or -EINVAL with out failed and its reason. */
int ingest_row_check(struct db *db, const struct manifest_row *row, struct ingest_terms *t,
                     struct ingest_outcome *out);

/* DATA/media/<id> */
void ingest_media_path(struct app *app, long long id, char *out, size_t n);

/*
 * Before any work: a database connection, the duplicate check (blob hex already a resource:
 * out is ok when this very job made it before a restart, else duplicate) and the manifest
 * row's terms. Returns 0 to go on, 1 when out is final (duplicate or failed).
 */
int ingest_prelude(struct ingest_ctx *x, const char *hex, const struct manifest_row *row,
                   struct db **db, struct ingest_terms *terms, struct ingest_outcome *out);

/* A staging folder DATA/staging/ingest-XXXXXX in tmp (size 4096): 0, or 1 with out failed. */
int ingest_mkdtemp(struct ingest_ctx *x, char tmp[4096], struct ingest_outcome *out);

/* Draw a cover into tmp/cover (title, first author, the category's colour): true when made. */
bool ingest_draw_cover(const char *tmp, const struct book_meta *m, const struct ingest_terms *t,
                       struct cover_info *cover);

/* Copy the terms (ISBN, CLC, category, licence, kiosk month) into rn. */
void ingest_terms_apply(const struct ingest_terms *t, struct resource_new *rn);

/* A rendition whose files are the folder that starts path ("poster/poster.jpg" → tmp/poster,
 * "cover" → tmp/cover): bytes summed over that folder. */
struct resource_rendition ingest_dir_rendition(const char *tmp, const char *name,
                                               const char *media_type, const char *path, int width,
                                               int height);

/* The end of a job that ingested one item (name): its result, or its error from out.
 * Returns what the job handler returns. */
int ingest_job_finish(struct job_ctx *job, const char *name, const struct ingest_outcome *out);

/* The "cover" rendition of tmp/cover for rn (sizes set in rn from cover). */
struct resource_rendition ingest_cover_rendition(const char *tmp, const struct cover_info *cover,
                                                 bool generated, struct resource_new *rn);

/*
 * The one transaction: insert rn (with rend, passages), write the op_log row, rename tmp to
 * DATA/media/<id>, commit. On success out is ok (or duplicate when the same source finished in
 * another job meanwhile) and tmp is emptied (moved); otherwise out is failed with a reason and
 * tmp left for the caller to remove. Returns 0, or a negative errno on failure (-ECANCELED
 * when x's job was cancelled just before: nothing stored).
 */
int ingest_store(struct ingest_ctx *x, struct db *db, char tmp[4096], const struct resource_new *rn,
                 const struct resource_rendition *rend, int nrend,
                 const struct passage_list *passages, struct ingest_outcome *out);

/* Audio or video by the file name's extension (bundles choose their items by name);
 * audio only for the second. */
bool ingest_is_media_name(const char *name);
bool ingest_is_audio_name(const char *name);

/* strcmp, except that runs of digits (ASCII, or Chinese numerals such as 十二) compare by
 * value: "第2集" < "第10集", "第九回" < "第十回". */
int ingest_natural_cmp(const char *a, const char *b);

/* Queue a "media" job (lane "transcode", child of x's job) for the stored file hex, or for
 * an audiobook's parts (hex NULL); *job gets its id. 0 or a negative errno. */
int ingest_queue_media(struct ingest_ctx *x, const char *hex, const struct ingest_part *parts,
                       size_t nparts, const char *name, const struct manifest_row *row,
                       long long *job);

/* A manifest row's values as a JSON object for a job's payload (new reference). */
json_t *ingest_row_json(const struct manifest_row *row);

/* Job kind "media" (lane "transcode"): payload {"blob","name"[,"row"][,"account"]} for one
 * file, or {"parts":[{"blob","name"}…],"name"[,"row"][,"account"]} for an audiobook folder. */
int ingest_job_media(void *app, struct job_ctx *job);

#endif
