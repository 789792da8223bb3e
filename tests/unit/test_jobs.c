/* services/jobs: worker lanes run queued jobs: success, retry, failure, cancel, shutdown. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "db.h"
#include "jobqueue.h"
#include "jobs/runner.h"
#include "migrate.h"

static atomic_long clock_offset; /* the test moves time on to skip retry back-offs */
static atomic_int flaky_runs, slow_started;

static time_t test_now(void)
{
	return time(NULL) + atomic_load(&clock_offset);
}

static int job_ok(void *app, struct job_ctx *j)
{
	json_t *n = json_object_get(job_payload(j), "n");

	(void)app;
	job_progress(j, 50);
	job_set_result(j, json_is_integer(n) ? "{\"ok\":true}" : "{\"ok\":false}");
	return 0;
}

static int job_flaky(void *app, struct job_ctx *j)
{
	(void)app;
	atomic_fetch_add(&flaky_runs, 1);
	if (job_attempt(j) < 2) {
		job_set_error(j, true, "网络存储暂时不可用");
		return -EIO;
	}
	return 0;
}

static int job_broken(void *app, struct job_ctx *j)
{
	(void)app;
	job_set_error(j, false, "视频流损坏：无法解码");
	return -EBADMSG;
}

static int job_slow(void *app, struct job_ctx *j)
{
	(void)app;
	atomic_fetch_add(&slow_started, 1);
	for (int i = 0; i < 1000; i++) {
		if (job_progress(j, i / 10) == -ECANCELED)
			return -ECANCELED;
		usleep(10000);
	}
	return 0;
}

static const struct job_kind kinds[] = {
    {"ok", job_ok}, {"flaky", job_flaky}, {"broken", job_broken}, {"slow", job_slow}};
static const struct job_lane lanes[] = {{"default", 2}, {"transcode", 1}};

static const char *state_of(struct db *db, long long id, char *buf, size_t n, char *err,
                            size_t errn)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (err)
		err[0] = '\0';
	if (sqlite3_prepare_v2(db_sqlite(db),
	                       "SELECT state, COALESCE(error, '') FROM job WHERE id=?", -1, &st,
	                       NULL) != SQLITE_OK)
		return buf;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
		if (err)
			snprintf(err, errn, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return buf;
}

/* Wait up to 10 s for job id to reach state. */
static bool wait_state(struct db *db, long long id, const char *want)
{
	char s[32];

	for (int i = 0; i < 1000; i++) {
		if (strcmp(state_of(db, id, s, sizeof(s), NULL, 0), want) == 0)
			return true;
		usleep(10000);
	}
	fprintf(stderr, "job %lld is %s, not %s\n", id, s, want);
	return false;
}

static long long add(struct db *db, const char *kind, const char *lane, const char *payload)
{
	struct job_new j = {.kind = kind, .lane = lane, .payload = payload};
	long long id = 0;

	CHECK_EQ_INT(jobq_enqueue(db, &j, test_now(), &id), 0);
	return id;
}

int main(void)
{
	char dir[] = "/tmp/sx-runner-XXXXXX", path[300], st[32], err[256];
	struct job_runner_config cfg = {kinds, 4, lanes, 2, NULL, NULL, test_now, 50};
	struct job_runner *r;
	struct db_pool *pool;
	struct db *db;
	long long ok[20], flaky, broken, slow, unknown, left;

	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/j.db", dir);
	if (db_pool_open(&pool, path) || db_pool_get(pool, &db) ||
	    migrate_apply(db, migrations_embedded, migrations_embedded_count, NULL, NULL, NULL, 0))
		return 2;
	cfg.pool = pool;

	/* A job left running by a "crashed" process resumes at start. */
	left = add(db, "ok", NULL, "{\"n\":0}");
	{
		struct job_claim c;
		CHECK_EQ_INT(jobq_claim(db, "default", test_now(), &c), 0);
		jobq_claim_release(&c);
	}
	CHECK_EQ_INT(job_runner_start(&r, &cfg), 0);
	CHECK(wait_state(db, left, "done"), "interrupted job resumed and done");

	for (int i = 0; i < 20; i++)
		ok[i] = add(db, "ok", NULL, "{\"n\":1}");
	flaky = add(db, "flaky", NULL, NULL);
	broken = add(db, "broken", NULL, NULL);
	unknown = add(db, "no-such-kind", NULL, NULL);
	slow = add(db, "slow", "transcode", NULL);
	job_runner_wake(r);
	for (int i = 0; i < 20; i++)
		CHECK(wait_state(db, ok[i], "done"), "job %d done", i);
	CHECK(wait_state(db, broken, "failed"), "broken: failed at once");
	state_of(db, broken, st, sizeof(st), err, sizeof(err));
	CHECK_STR(err, "视频流损坏：无法解码");
	CHECK(wait_state(db, unknown, "failed"), "unknown kind fails");
	/* The flaky job waits out its back-off (30 s): move the clock on. */
	usleep(200000);
	atomic_store(&clock_offset, 60);
	job_runner_wake(r);
	CHECK(wait_state(db, flaky, "done"), "flaky: done on the second attempt");
	CHECK_EQ_INT(atomic_load(&flaky_runs), 2);

	/* Staff cancel a running transcode: the handler stops at its next progress report. */
	for (int i = 0; i < 500 && atomic_load(&slow_started) == 0; i++)
		usleep(10000);
	CHECK_EQ_INT(jobq_cancel(db, slow, test_now()), 0);
	CHECK(wait_state(db, slow, "cancelled"), "slow job cancelled");

	/* Shutdown interrupts a running job; it stays running and resumes at the next start. */
	slow = add(db, "slow", "transcode", NULL);
	job_runner_wake(r);
	for (int i = 0; i < 500 && atomic_load(&slow_started) < 2; i++)
		usleep(10000);
	job_runner_stop(r);
	CHECK_STR(state_of(db, slow, st, sizeof(st), NULL, 0), "running");
	CHECK_EQ_INT(job_runner_start(&r, &cfg), 0);
	for (int i = 0; i < 500 && atomic_load(&slow_started) < 3; i++)
		usleep(10000);
	CHECK_EQ_INT(atomic_load(&slow_started), 3);
	job_runner_stop(r);

	db_pool_close(pool);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "cleanup failed\n");
	CHECK_DONE();
}
