#ifndef SHUXIANG_JOBQUEUE_H
#define SHUXIANG_JOBQUEUE_H

#include <stdbool.h>
#include <time.h>

#include "db.h"

/*
 * The durable job queue (table job). States: queued → running → done | failed | cancelled;
 * a failed attempt goes back to queued (with a back-off) until max_attempts, then failed with
 * the last reason. Jobs run in lanes (e.g. "default", "transcode") so heavy work can be limited
 * separately. Every function is one transaction of its own.
 */

struct job_claim {
	long long id;
	char kind[32];
	char *payload; /* JSON text, malloc'd: the caller frees it */
	int attempts;  /* including this one */
	int max_attempts;
	long long parent_id;
	long long created_by;
};

struct job_new {
	const char *kind;     /* required, ≤ 31 bytes */
	const char *lane;     /* NULL = "default" */
	const char *payload;  /* JSON text or NULL ("{}") */
	int priority;         /* higher first */
	int max_attempts;     /* 0 = 3 */
	long long parent_id;  /* 0 = none */
	long long created_by; /* account, 0 = none */
};

/* Add a job; *id receives its id. -EINVAL for a missing kind. */
int jobq_enqueue(struct db *db, const struct job_new *j, time_t now, long long *id);

/*
 * Claim the next runnable job of lane (highest priority, then oldest) and mark it running: one
 * UPDATE … RETURNING under the write lock, so two workers never get the same job. -ENOENT when
 * there is none.
 */
int jobq_claim(struct db *db, const char *lane, time_t now, struct job_claim *out);

/* Free what a claim holds (the payload). */
void jobq_claim_release(struct job_claim *c);

/* Progress 0–100 of a running job. -ENOENT if it is not running. */
int jobq_progress(struct db *db, long long id, int percent, time_t now);

/* A running job finished; result is JSON text or NULL. */
int jobq_done(struct db *db, long long id, const char *result, time_t now);

/*
 * A running attempt failed with error (a sentence a person can act on). When retry is true and
 * attempts remain, the job is queued again after a back-off (30 s × attempts); otherwise it is
 * failed for good. *failed (may be NULL) tells which.
 */
int jobq_fail(struct db *db, long long id, const char *error, bool retry, time_t now, bool *failed);

/* Cancel: a queued job at once; a running one is asked to stop (jobq_cancel_requested) and ends
 * cancelled when its worker notices. -ENOENT if the job is absent or already ended. */
int jobq_cancel(struct db *db, long long id, time_t now);

/* True when a running job was asked to stop (workers check between steps). */
bool jobq_cancel_requested(struct db *db, long long id);

/* The worker stopped a job on request. */
int jobq_cancelled(struct db *db, long long id, time_t now);

/* Put a failed or cancelled job back in the queue with fresh attempts. -ENOENT otherwise. */
int jobq_retry(struct db *db, long long id, time_t now);

/*
 * At start-up: jobs left running by a previous process are queued again (they resume), or
 * failed when they had used all their attempts. *requeued (may be NULL) counts the former.
 */
int jobq_recover(struct db *db, time_t now, int *requeued);

/* A job as staff see it. Text fields are "" when absent. */
struct job_view {
	long long id;
	char kind[32];
	char lane[32];
	char state[16];
	int progress, attempts, max_attempts;
	char error[512];
	char *result; /* JSON text or NULL, malloc'd: jobq_view_release() */
	long long parent_id, created_by;
	long long created_at, started_at, finished_at, updated_at;
	char name[256]; /* the payload's "name" (an uploaded file's name), "" when none */
};

/* One job. -ENOENT if absent. */
int jobq_get(struct db *db, long long id, struct job_view *out);

/* Up to limit jobs with id < before (0 = from the newest), newest first, optionally only those
 * in state (NULL = all). *n receives the count. */
int jobq_list(struct db *db, long long before, const char *state, int limit, struct job_view *out,
              int *n);

void jobq_view_release(struct job_view *v);

#endif
