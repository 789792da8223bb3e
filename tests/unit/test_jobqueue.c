/* storage/jobqueue: order, atomic claims under concurrency, retries, cancel, restart recovery. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "db.h"
#include "jobqueue.h"
#include "migrate.h"

static char path[256];

static struct db *open_db(void)
{
	struct db *db = NULL;

	if (db_open(&db, path) ||
	    migrate_apply(db, migrations_embedded, migrations_embedded_count, NULL, NULL, NULL, 0))
		exit(2);
	return db;
}

static long long add(struct db *db, const char *kind, const char *lane, int prio, int max)
{
	long long id = 0;
	struct job_new j = {.kind = kind, .lane = lane, .priority = prio, .max_attempts = max};

	CHECK_EQ_INT(jobq_enqueue(db, &j, 1000, &id), 0);
	return id;
}

static void test_order_and_lanes(struct db *db)
{
	struct job_claim c;
	long long a = add(db, "epub", NULL, 0, 0), b = add(db, "epub", NULL, 5, 0);
	long long v = add(db, "video", "transcode", 0, 0);

	CHECK_EQ_INT(jobq_claim(db, NULL, 1000, &c), 0);
	CHECK_EQ_INT(c.id, b); /* higher priority first */
	CHECK_EQ_INT(c.attempts, 1);
	CHECK_STR(c.payload, "{}");
	jobq_claim_release(&c);
	CHECK_EQ_INT(jobq_claim(db, "default", 1000, &c), 0);
	CHECK_EQ_INT(c.id, a);
	jobq_claim_release(&c);
	CHECK_EQ_INT(jobq_claim(db, NULL, 1000, &c), -ENOENT); /* the video is in its own lane */
	CHECK_EQ_INT(jobq_claim(db, "transcode", 1000, &c), 0);
	CHECK_EQ_INT(c.id, v);
	CHECK_STR(c.kind, "video");
	jobq_claim_release(&c);

	CHECK_EQ_INT(jobq_progress(db, a, 40, 1001), 0);
	CHECK_EQ_INT(jobq_progress(db, a, 101, 1001), -EINVAL);
	CHECK_EQ_INT(jobq_done(db, a, "{\"resource\":1}", 1002), 0);
	CHECK_EQ_INT(jobq_done(db, a, NULL, 1002), -ENOENT); /* only a running job can finish */
	CHECK_EQ_INT(jobq_progress(db, a, 50, 1003), -ENOENT);
	CHECK_EQ_INT(jobq_done(db, b, NULL, 1002), 0);
	CHECK_EQ_INT(jobq_done(db, v, NULL, 1002), 0);
	{
		struct job_new bad = {.kind = ""};
		long long id;
		CHECK_EQ_INT(jobq_enqueue(db, &bad, 1000, &id), -EINVAL);
	}
}

static void test_retries(struct db *db)
{
	struct job_claim c;
	bool failed = true;
	long long id = add(db, "epub", NULL, 0, 3);

	for (int attempt = 1; attempt <= 3; attempt++) {
		time_t t = 2000 + attempt * 1000;
		CHECK_EQ_INT(jobq_claim(db, NULL, t, &c), 0);
		CHECK_EQ_INT(c.id, id);
		CHECK_EQ_INT(c.attempts, attempt);
		jobq_claim_release(&c);
		CHECK_EQ_INT(jobq_fail(db, id, "第 3 章无法解析", true, t, &failed), 0);
		CHECK(failed == (attempt == 3), "attempt %d: failed=%d", attempt, failed);
		/* The back-off keeps it out of reach for a while. */
		if (attempt < 3)
			CHECK_EQ_INT(jobq_claim(db, NULL, t + 1, &c), -ENOENT);
	}
	CHECK_EQ_INT(jobq_claim(db, NULL, 100000, &c), -ENOENT); /* failed for good */
	CHECK_EQ_INT(jobq_retry(db, id, 100000), 0);
	CHECK_EQ_INT(jobq_claim(db, NULL, 100000, &c), 0);
	CHECK_EQ_INT(c.attempts, 1);
	jobq_claim_release(&c);
	/* A failure that retrying cannot fix (a broken file) fails at once. */
	CHECK_EQ_INT(jobq_fail(db, id, "文件已损坏", false, 100001, &failed), 0);
	CHECK(failed, "no retry for a broken file");
}

static void test_cancel_and_recover(struct db *db)
{
	struct job_claim c;
	long long q = add(db, "epub", "c", 0, 0), r = add(db, "epub", "c", 0, 0);
	long long stop = add(db, "epub", "c", 0, 0), spent = add(db, "epub", "c", 0, 1);
	int requeued = -1;

	CHECK_EQ_INT(jobq_cancel(db, q, 3000), 0); /* queued: cancelled at once */
	CHECK_EQ_INT(jobq_cancel(db, q, 3000), -ENOENT);
	CHECK_EQ_INT(jobq_claim(db, "c", 3000, &c), 0);
	CHECK_EQ_INT(c.id, r);
	jobq_claim_release(&c);
	CHECK_EQ_INT(jobq_claim(db, "c", 3000, &c), 0);
	CHECK_EQ_INT(c.id, stop);
	jobq_claim_release(&c);
	CHECK_EQ_INT(jobq_claim(db, "c", 3000, &c), 0);
	CHECK_EQ_INT(c.id, spent);
	jobq_claim_release(&c);
	CHECK_EQ_INT(jobq_cancel(db, stop, 3001), 0); /* running: asked to stop */
	CHECK(jobq_cancel_requested(db, stop), "cancel requested");
	CHECK(!jobq_cancel_requested(db, r), "not requested");

	/* The process dies here. On restart: r resumes, stop ends cancelled, spent ends failed. */
	CHECK_EQ_INT(jobq_recover(db, 4000, &requeued), 0);
	CHECK_EQ_INT(requeued, 1);
	CHECK_EQ_INT(jobq_claim(db, "c", 4000, &c), 0);
	CHECK_EQ_INT(c.id, r);
	CHECK_EQ_INT(c.attempts, 2);
	jobq_claim_release(&c);
	CHECK_EQ_INT(jobq_claim(db, "c", 4000, &c), -ENOENT);
	CHECK_EQ_INT(jobq_retry(db, stop, 4001), 0);    /* cancelled → queued */
	CHECK_EQ_INT(jobq_retry(db, spent, 4001), 0);   /* failed → queued */
	CHECK_EQ_INT(jobq_retry(db, r, 4001), -ENOENT); /* running: no */
}

#define NJOBS 300
#define NWORKERS 4

static int claimed_by[NJOBS + 1];
static pthread_mutex_t claimed_lock = PTHREAD_MUTEX_INITIALIZER;
static long long first_id;

static void *worker(void *arg)
{
	struct db *db = open_db();
	struct job_claim c;
	int n = 0;

	(void)arg;
	for (;;) {
		int rc = jobq_claim(db, "par", 5000, &c);
		if (rc == -ENOENT)
			break;
		if (rc == -EBUSY)
			continue;
		if (rc)
			break;
		pthread_mutex_lock(&claimed_lock);
		claimed_by[c.id - first_id]++;
		pthread_mutex_unlock(&claimed_lock);
		jobq_done(db, c.id, NULL, 5000);
		jobq_claim_release(&c);
		n++;
	}
	db_close(db);
	return NULL;
}

/* Four workers on their own connections claim 300 jobs: each exactly once. */
static void test_concurrent_claims(struct db *db)
{
	pthread_t t[NWORKERS];
	int once = 0, twice = 0;

	first_id = add(db, "epub", "par", 0, 0);
	for (int i = 1; i < NJOBS; i++)
		add(db, "epub", "par", 0, 0);
	for (int i = 0; i < NWORKERS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NJOBS; i++) {
		once += claimed_by[i] == 1;
		twice += claimed_by[i] > 1;
	}
	CHECK_EQ_INT(once, NJOBS);
	CHECK_EQ_INT(twice, 0);
}

int main(void)
{
	char dir[] = "/tmp/sx-jobs-XXXXXX", cmd[300];
	struct db *db;

	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/jobs.db", dir);
	db = open_db();
	test_order_and_lanes(db);
	test_retries(db);
	test_cancel_and_recover(db);
	test_concurrent_claims(db);
	db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	CHECK_DONE();
}
