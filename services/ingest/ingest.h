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

enum ingest_kind { INGEST_FILE, INGEST_BUNDLE, INGEST_MEDIA, INGEST_UNKNOWN };

/* What the first bytes of a file say it is: a book (or an unknown file the book ingest
 * refuses with a reason), a bundle, audio or video (or a playlist, which the media ingest
 * refuses), or nothing (an empty file). */
enum ingest_kind ingest_sniff_path(const char *path);

/* INGEST_QUEUED: a bundle's audio or video handed to a "media" job of its own. */
enum ingest_status { INGEST_OK, INGEST_DUPLICATE, INGEST_FAILED, INGEST_QUEUED };

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
 * One audio or video file (blob hex named name) → a "video" resource (HLS ladder 360p/720p,
 * poster, scrub thumbnails, cover from the poster) or an "audiobook" (HLS AAC rendition, its
 * chapters from the file, cover from embedded art or drawn). Progress goes to x->job (unless
 * x->in_bundle). Same return rules as ingest_blob(); failed outcomes carry the reason
 * (e.g. "视频流损坏：无法解码").
 */
int ingest_media(struct ingest_ctx *x, const char *hex, const char *name,
                 const struct manifest_row *row, struct ingest_outcome *out);

/* One chapter file of an audiobook made of several files. */
struct ingest_part {
	const char *hex;  /* blob */
	const char *name; /* file name as uploaded (the chapter title when the file has none) */
};

#define INGEST_MAX_PARTS 2000

/*
 * Several audio files (a folder in a bundle), in the order given, → one "audiobook" resource
 * with one chapter per file (title from the file's title tag, else its name), one continuous
 * HLS rendition. name is the folder's (the title when the files have no album tag).
 * Same return rules as ingest_blob().
 */
int ingest_audiobook(struct ingest_ctx *x, const struct ingest_part *parts, size_t nparts,
                     const char *name, const struct manifest_row *row, struct ingest_outcome *out);

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

/* Job kinds for the runner: "ingest" {"blob","name"} and "bundle" {"blob","name"} in lane
 * "default"; "media" {"blob","name"} (or an audiobook's "parts") in lane "transcode". */
extern const struct job_kind ingest_job_kinds[];
extern const int ingest_job_kinds_count;

#endif
