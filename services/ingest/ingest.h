#ifndef SHUXIANG_INGEST_H
#define SHUXIANG_INGEST_H

#include <stdbool.h>
#include <jansson.h>
#include <stdint.h>

#include "jobs/runner.h"
#include "manifest.h"

struct app;

/*
 * Ingest: a stored blob (an uploaded file) becomes a resource — EPUB, TXT (→ EPUB 3) or PDF —
 * with its renditions under DATA/media/<id>/ (built in staging/, renamed into place in the
 * same transaction that creates the row), covers (from the book, its first page, or drawn),
 * and passages for search. Bundles (zip/tar/tar.gz with a manifest) become one row each.
 * The same code runs in job workers (`serve`) and in `shuxiang ingest` (offline).
 */

enum ingest_kind { INGEST_FILE, INGEST_BUNDLE, INGEST_UNKNOWN };

/* What the first bytes of a file say it is: a book, a bundle, or neither (-EBADMSG-worthy). */
enum ingest_kind ingest_sniff_path(const char *path);

enum ingest_status { INGEST_OK, INGEST_DUPLICATE, INGEST_FAILED };

struct ingest_outcome {
	enum ingest_status status;
	long long resource_id;
	char title[512];
	char reason[512]; /* Chinese, for staff, when failed */
	bool retry;       /* the failure may pass on another attempt (disk full, database busy) */
};

struct ingest_ctx {
	struct app *app;
	struct job_ctx *job; /* NULL offline; progress and cancellation go through it */
	long long job_id;
	long long account_id;
	bool in_bundle; /* rows of a bundle: the bundle reports progress, not each row */
};

/*
 * Ingest the blob hex (already in the blob store) named name (the uploaded file name, used for
 * the title when the file has none). row: manifest values that override the file's (NULL =
 * none). Returns 0 with *out filled for ok, duplicate and failed-for-a-reason alike; a negative
 * errno only when the job itself should stop (-ECANCELED).
 */
int ingest_blob(struct ingest_ctx *x, const char *hex, const char *name,
                const struct manifest_row *row, struct ingest_outcome *out);

/*
 * A bundle (blob hex named name): every manifest row (or, with no manifest, every book file)
 * is ingested; *report gets {"name","rows":[{line,file,status,reason,resource}],"counts":{…}}
 * (new reference). Returns 0, or a negative errno with reason set when the bundle as a whole
 * cannot be read (damaged, a limit, a bad manifest).
 */
int ingest_bundle(struct ingest_ctx *x, const char *hex, const char *name, json_t **report,
                  char *reason, size_t reasonlen);

/*
 * Remove what a stopped server left in DATA/staging (uploads cut off, renditions half built):
 * `serve` calls it before its workers and HTTP start, when nothing can be using the folder
 * (run `shuxiang ingest` against a data directory only while no server is starting). The jobs
 * those files belonged to start over from their blobs. *removed counts the entries.
 */
int ingest_sweep_staging(struct app *app, int *removed);

/* Job kinds for the runner: "ingest" {"blob","name"} and "bundle" {"blob","name"}. */
extern const struct job_kind ingest_job_kinds[];
extern const int ingest_job_kinds_count;

#endif
