#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobqueue.h"
#include "log.h"

struct job_runner {
	struct job_runner_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	unsigned wakeups;
	int nthreads;
	pthread_t *threads;
	struct worker_arg *args;
};

struct worker_arg {
	struct job_runner *r;
	const char *lane;
};

struct job_ctx {
	struct job_runner *r;
	struct db *db;
	struct job_claim claim;
	json_t *payload;
	char *result;
	char error[512];
	bool retry;
};

long long job_id(const struct job_ctx *j)
{
	return j->claim.id;
}

int job_attempt(const struct job_ctx *j)
{
	return j->claim.attempts;
}

json_t *job_payload(const struct job_ctx *j)
{
	return j->payload;
}

struct db *job_db(const struct job_ctx *j)
{
	return j->db;
}

static bool stopping(struct job_runner *r)
{
	bool s;

	pthread_mutex_lock(&r->lock);
	s = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return s;
}

int job_progress(struct job_ctx *j, int percent)
{
	if (stopping(j->r) || jobq_cancel_requested(j->db, j->claim.id))
		return -ECANCELED;
	jobq_progress(j->db, j->claim.id,
	              percent < 0     ? 0
	              : percent > 100 ? 100
	                              : percent,
	              j->r->cfg.now());
	return 0;
}

void job_set_result(struct job_ctx *j, const char *json)
{
	free(j->result);
	j->result = json ? strdup(json) : NULL;
}

void job_set_error(struct job_ctx *j, bool retry, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->error, sizeof(j->error), fmt, ap);
	va_end(ap);
	j->retry = retry;
}

static const struct job_kind *kind_of(struct job_runner *r, const char *kind)
{
	for (int i = 0; i < r->cfg.nkinds; i++)
		if (strcmp(r->cfg.kinds[i].kind, kind) == 0)
			return &r->cfg.kinds[i];
	return NULL;
}

/* Run a claimed job and record how it ended. */
static void run_one(struct job_runner *r, struct job_ctx *j)
{
	const struct job_kind *k = kind_of(r, j->claim.kind);
	time_t now;
	int rc;

	j->payload = json_loads(j->claim.payload, 0, NULL);
	if (!k) {
		job_set_error(j, false, "未知的任务类型 %s (unknown job kind)", j->claim.kind);
		rc = -ENOTSUP;
	} else {
		rc = k->fn(r->cfg.app, j);
	}
	now = r->cfg.now();
	if (rc == 0) {
		jobq_done(j->db, j->claim.id, j->result, now);
	} else if (rc == -ECANCELED && stopping(r) && !jobq_cancel_requested(j->db, j->claim.id)) {
		/* Interrupted by shutdown: stays running; the next start puts it back. */
		log_info("job id=%lld kind=%s interrupted by shutdown", j->claim.id, j->claim.kind);
	} else if (rc == -ECANCELED) {
		jobq_cancelled(j->db, j->claim.id, now);
	} else {
		bool failed = false;
		if (!*j->error)
			job_set_error(j, true, "处理出错 (error %d)", rc);
		jobq_fail(j->db, j->claim.id, j->error, j->retry, now, &failed);
		log_warn("job id=%lld kind=%s attempt=%d failed=%d error=\"%s\"", j->claim.id,
		         j->claim.kind, j->claim.attempts, failed, j->error);
	}
	json_decref(j->payload);
	free(j->result);
	jobq_claim_release(&j->claim);
}

static void *worker_main(void *p)
{
	struct worker_arg *a = p;
	struct job_runner *r = a->r;
	struct db *db;

	if (db_pool_get(r->cfg.pool, &db)) {
		log_error("job worker lane=%s: no database connection", a->lane);
		return NULL;
	}
	while (!stopping(r)) {
		struct job_ctx j = {.r = r, .db = db};
		int rc = jobq_claim(db, a->lane, r->cfg.now(), &j.claim);

		if (rc == 0) {
			run_one(r, &j);
			continue;
		}
		if (rc != -ENOENT && rc != -EBUSY)
			log_warn("job worker lane=%s claim error=%d", a->lane, rc);
		/* Nothing to do: sleep until woken or the poll interval passes. */
		pthread_mutex_lock(&r->lock);
		if (!r->stopping) {
			struct timespec until;
			unsigned seen = r->wakeups;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += r->cfg.poll_ms / 1000;
			until.tv_nsec += (long)(r->cfg.poll_ms % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (!r->stopping && seen == r->wakeups &&
			       pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
				;
		}
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

int job_runner_start(struct job_runner **out, const struct job_runner_config *cfg)
{
	struct job_runner *r;
	struct db *db;
	int total = 0, requeued = 0, rc;

	*out = NULL;
	if ((rc = db_pool_get(cfg->pool, &db)) || (rc = jobq_recover(db, cfg->now(), &requeued)))
		return rc;
	if (requeued)
		log_info("jobs resumed=%d", requeued);
	for (int i = 0; i < cfg->nlanes; i++)
		total += cfg->lanes[i].threads;
	if (total <= 0)
		return -EINVAL; /* a queue nobody works on would look stuck */
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	if (r->cfg.poll_ms <= 0)
		r->cfg.poll_ms = 1000;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->threads = calloc((size_t)total, sizeof(*r->threads));
	r->args = calloc((size_t)total, sizeof(*r->args));
	if (!r->threads || !r->args) {
		job_runner_stop(r);
		return -ENOMEM;
	}
	for (int i = 0; i < cfg->nlanes; i++) {
		for (int t = 0; t < cfg->lanes[i].threads; t++) {
			struct worker_arg *a = &r->args[r->nthreads];

			a->r = r;
			a->lane = cfg->lanes[i].lane;
			if (pthread_create(&r->threads[r->nthreads], NULL, worker_main, a)) {
				job_runner_stop(r);
				return -EAGAIN;
			}
			r->nthreads++;
		}
	}
	*out = r;
	return 0;
}

void job_runner_wake(struct job_runner *r)
{
	pthread_mutex_lock(&r->lock);
	r->wakeups++;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void job_runner_stop(struct job_runner *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->threads);
	free(r->args);
	free(r);
}
