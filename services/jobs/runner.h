#ifndef SHUXIANG_JOB_RUNNER_H
#define SHUXIANG_JOB_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "db.h"

/*
 * Worker threads that run the durable job queue (storage/jobqueue): each lane has its own
 * threads (e.g. "default" ×2 for e-books, "transcode" ×1), each job kind its handler. Handlers
 * run outside any HTTP thread and may take minutes; they report progress and stop when asked.
 */
struct job_runner;
struct job_ctx;

/* Run one job. Return 0 when done (result set with job_set_result), or a negative errno with
 * the reason set by job_set_error; -ECANCELED when job_progress() said to stop. */
typedef int (*job_fn)(void *app, struct job_ctx *job);

struct job_kind {
	const char *kind; /* as enqueued */
	job_fn fn;
};

struct job_lane {
	const char *lane;
	int threads;
};

struct job_runner_config {
	const struct job_kind *kinds; /* borrowed, static */
	int nkinds;
	const struct job_lane *lanes; /* borrowed, static */
	int nlanes;
	struct db_pool *pool; /* borrowed */
	void *app;            /* handed to handlers */
	time_t (*now)(void);
	int poll_ms; /* how often idle workers look for jobs other processes queued */
};

/* Put jobs a previous process left running back in the queue, then start the workers. */
int job_runner_start(struct job_runner **out, const struct job_runner_config *cfg);

/* Ask running handlers to stop (job_progress returns -ECANCELED), join the workers. A job so
 * interrupted stays running in the table and resumes at the next start. Accepts NULL. */
void job_runner_stop(struct job_runner *r);

/* Wake idle workers at once (after an enqueue in this process). */
void job_runner_wake(struct job_runner *r);

/* --- for handlers --- */

long long job_id(const struct job_ctx *j);
int job_attempt(const struct job_ctx *j);
/* The payload as parsed JSON (borrowed; NULL if it was not an object). */
json_t *job_payload(const struct job_ctx *j);
/* The worker thread's database connection (borrowed). */
struct db *job_db(const struct job_ctx *j);

/* Record progress 0–100. Returns -ECANCELED when the job should stop (cancelled by staff or the
 * server is stopping): the handler returns that value after cleaning up. */
int job_progress(struct job_ctx *j, int percent);

/* The result (JSON text, copied) stored when the handler returns 0. */
void job_set_result(struct job_ctx *j, const char *json);

/* The reason of a failure, for staff (Chinese, actionable); retry = worth another attempt. */
void job_set_error(struct job_ctx *j, bool retry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
