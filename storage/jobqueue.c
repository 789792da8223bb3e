#include "jobqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define RETRY_BACKOFF_S 30

static int one_changed(struct db *db, int rc)
{
	if (rc)
		return rc;
	return db_changes(db) > 0 ? 0 : -ENOENT;
}

/* Run an UPDATE whose ?1 is the job id and ?2 the time; -ENOENT when it changed no row. */
static int update_by_id(struct db *db, const char *sql, long long id, time_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	return one_changed(db, db_run(st));
}

int jobq_enqueue(struct db *db, const struct job_new *j, time_t now, long long *id)
{
	static const char sql[] =
	    "INSERT INTO job(kind, lane, payload, priority, max_attempts, parent_id, created_by,"
	    " created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?8)";
	sqlite3_stmt *st;
	int rc;

	if (!j->kind || !*j->kind || strlen(j->kind) > 31 || j->max_attempts < 0)
		return -EINVAL;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	db_bind_text(st, 1, j->kind);
	db_bind_text(st, 2, j->lane ? j->lane : "default");
	db_bind_text(st, 3, j->payload ? j->payload : "{}");
	sqlite3_bind_int(st, 4, j->priority);
	sqlite3_bind_int(st, 5, j->max_attempts ? j->max_attempts : 3);
	if (j->parent_id)
		sqlite3_bind_int64(st, 6, j->parent_id);
	if (j->created_by)
		sqlite3_bind_int64(st, 7, j->created_by);
	sqlite3_bind_int64(st, 8, now);
	rc = db_run(st);
	if (!rc)
		*id = db_last_id(db);
	return rc;
}

int jobq_claim(struct db *db, const char *lane, time_t now, struct job_claim *out)
{
	static const char sql[] =
	    "UPDATE job SET state = 'running', attempts = attempts + 1, started_at = ?2,"
	    " updated_at = ?2, progress = 0, error = NULL"
	    " WHERE id = (SELECT id FROM job WHERE lane = ?1 AND state = 'queued'"
	    " AND run_after <= ?2 ORDER BY priority DESC, id LIMIT 1)"
	    " RETURNING id, kind, payload, attempts, max_attempts, COALESCE(parent_id, 0),"
	    " COALESCE(created_by, 0)";
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_begin(db)))
		return rc;
	if ((rc = db_prepare(db, sql, &st)))
		goto fail;
	db_bind_text(st, 1, lane ? lane : "default");
	sqlite3_bind_int64(st, 2, now);
	rc = db_step(st);
	if (rc == 1) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->kind, sizeof(out->kind), "%s", db_col_text(st, 1));
		out->payload = strdup(db_col_text(st, 2));
		out->attempts = sqlite3_column_int(st, 3);
		out->max_attempts = sqlite3_column_int(st, 4);
		out->parent_id = sqlite3_column_int64(st, 5);
		out->created_by = sqlite3_column_int64(st, 6);
		rc = out->payload ? 0 : -ENOMEM;
	} else if (rc == 0) {
		rc = -ENOENT;
	}
	db_done(st);
	if (rc)
		goto fail;
	if ((rc = db_commit(db)))
		jobq_claim_release(out);
	return rc;
fail:
	db_rollback(db);
	jobq_claim_release(out);
	return rc;
}

void jobq_claim_release(struct job_claim *c)
{
	free(c->payload);
	c->payload = NULL;
}

int jobq_progress(struct db *db, long long id, int percent, time_t now)
{
	static const char sql[] = "UPDATE job SET progress = ?2, updated_at = ?3"
	                          " WHERE id = ?1 AND state = 'running'";
	sqlite3_stmt *st;
	int rc;

	if (percent < 0 || percent > 100)
		return -EINVAL;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, percent);
	sqlite3_bind_int64(st, 3, now);
	return one_changed(db, db_run(st));
}

int jobq_done(struct db *db, long long id, const char *result, time_t now)
{
	static const char sql[] =
	    "UPDATE job SET state = 'done', progress = 100, result = ?2, finished_at = ?3,"
	    " updated_at = ?3 WHERE id = ?1 AND state = 'running'";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, result);
	sqlite3_bind_int64(st, 3, now);
	return one_changed(db, db_run(st));
}

int jobq_fail(struct db *db, long long id, const char *error, bool retry, time_t now, bool *failed)
{
	/* Retry while attempts remain; the back-off grows with each attempt. */
	static const char sql[] =
	    "UPDATE job SET error = ?2, updated_at = ?3,"
	    " state = CASE WHEN ?4 AND attempts < max_attempts THEN 'queued' ELSE 'failed' END,"
	    " run_after = CASE WHEN ?4 AND attempts < max_attempts THEN ?3 + ?5 * attempts"
	    " ELSE run_after END,"
	    " finished_at = CASE WHEN ?4 AND attempts < max_attempts THEN NULL ELSE ?3 END"
	    " WHERE id = ?1 AND state = 'running' RETURNING state";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, error ? error : "");
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, retry ? 1 : 0);
	sqlite3_bind_int(st, 5, RETRY_BACKOFF_S);
	rc = db_step(st);
	if (rc == 1 && failed)
		*failed = strcmp(db_col_text(st, 0), "failed") == 0;
	db_done(st);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

int jobq_cancel(struct db *db, long long id, time_t now)
{
	static const char sql[] =
	    "UPDATE job SET cancel_requested = 1, updated_at = ?2,"
	    " state = CASE state WHEN 'queued' THEN 'cancelled' ELSE state END,"
	    " finished_at = CASE state WHEN 'queued' THEN ?2 ELSE finished_at END"
	    " WHERE id = ?1 AND state IN ('queued', 'running')";
	return update_by_id(db, sql, id, now);
}

bool jobq_cancel_requested(struct db *db, long long id)
{
	static const char sql[] = "SELECT cancel_requested FROM job WHERE id = ?";
	sqlite3_stmt *st;
	bool yes = false;

	if (db_prepare(db, sql, &st))
		return false;
	sqlite3_bind_int64(st, 1, id);
	if (db_step(st) == 1)
		yes = sqlite3_column_int(st, 0) != 0;
	db_done(st);
	return yes;
}

int jobq_cancelled(struct db *db, long long id, time_t now)
{
	static const char sql[] = "UPDATE job SET state = 'cancelled', finished_at = ?2,"
	                          " updated_at = ?2 WHERE id = ?1 AND state = 'running'";
	return update_by_id(db, sql, id, now);
}

int jobq_retry(struct db *db, long long id, time_t now)
{
	static const char sql[] =
	    "UPDATE job SET state = 'queued', attempts = 0, progress = 0, error = NULL,"
	    " cancel_requested = 0, run_after = 0, finished_at = NULL, updated_at = ?2"
	    " WHERE id = ?1 AND state IN ('failed', 'cancelled')";
	return update_by_id(db, sql, id, now);
}

int jobq_recover(struct db *db, time_t now, int *requeued)
{
	/* A job asked to stop ends cancelled; one out of attempts ends failed; the rest resume. */
	static const char sql_cancel[] =
	    "UPDATE job SET state = 'cancelled', finished_at = ?1, updated_at = ?1"
	    " WHERE state = 'running' AND cancel_requested = 1";
	static const char sql_fail[] =
	    "UPDATE job SET state = 'failed', finished_at = ?1, updated_at = ?1,"
	    " error = '服务器在处理中重启次数过多 (interrupted by restarts too often)'"
	    " WHERE state = 'running' AND attempts >= max_attempts";
	static const char sql_requeue[] =
	    "UPDATE job SET state = 'queued', updated_at = ?1 WHERE state = 'running'";
	const char *const steps[] = {sql_cancel, sql_fail, sql_requeue};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db)))
		return rc;
	for (int i = 0; i < 3; i++) {
		if ((rc = db_prepare(db, steps[i], &st)))
			goto fail;
		sqlite3_bind_int64(st, 1, now);
		if ((rc = db_run(st)))
			goto fail;
		if (i == 2 && requeued)
			*requeued = db_changes(db);
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

#define VIEW_COLUMNS                                                                               \
	"SELECT id, kind, lane, state, progress, attempts, max_attempts, COALESCE(error, ''),"     \
	" result, COALESCE(parent_id, 0), COALESCE(created_by, 0), created_at,"                    \
	" COALESCE(started_at, 0), COALESCE(finished_at, 0), updated_at,"                          \
	" CASE WHEN json_valid(payload) THEN json_extract(payload, '$.name') END FROM job"

static int read_view(sqlite3_stmt *st, struct job_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = sqlite3_column_int64(st, 0);
	snprintf(v->kind, sizeof(v->kind), "%s", db_col_text(st, 1));
	snprintf(v->lane, sizeof(v->lane), "%s", db_col_text(st, 2));
	snprintf(v->state, sizeof(v->state), "%s", db_col_text(st, 3));
	v->progress = sqlite3_column_int(st, 4);
	v->attempts = sqlite3_column_int(st, 5);
	v->max_attempts = sqlite3_column_int(st, 6);
	snprintf(v->error, sizeof(v->error), "%s", db_col_text(st, 7));
	if (sqlite3_column_type(st, 8) != SQLITE_NULL && !(v->result = strdup(db_col_text(st, 8))))
		return -ENOMEM;
	v->parent_id = sqlite3_column_int64(st, 9);
	v->created_by = sqlite3_column_int64(st, 10);
	v->created_at = sqlite3_column_int64(st, 11);
	v->started_at = sqlite3_column_int64(st, 12);
	v->finished_at = sqlite3_column_int64(st, 13);
	v->updated_at = sqlite3_column_int64(st, 14);
	if (sqlite3_column_type(st, 15) == SQLITE_TEXT)
		snprintf(v->name, sizeof(v->name), "%s", db_col_text(st, 15));
	return 0;
}

void jobq_view_release(struct job_view *v)
{
	free(v->result);
	v->result = NULL;
}

int jobq_get(struct db *db, long long id, struct job_view *out)
{
	static const char sql[] = VIEW_COLUMNS " WHERE id = ?";
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == 1)
		rc = read_view(st, out);
	else if (rc == 0)
		rc = -ENOENT;
	db_done(st);
	return rc;
}

int jobq_list(struct db *db, long long before, const char *state, int limit, struct job_view *out,
              int *n)
{
	static const char sql[] =
	    VIEW_COLUMNS " WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR state = ?2)"
	                 " ORDER BY id DESC LIMIT ?3";
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, before);
	db_bind_text(st, 2, state);
	sqlite3_bind_int(st, 3, limit);
	while (*n < limit && (rc = db_step(st)) == 1) {
		if ((rc = read_view(st, &out[*n])))
			break;
		(*n)++;
	}
	db_done(st);
	if (rc < 0) {
		for (int i = 0; i < *n; i++)
			jobq_view_release(&out[i]);
		*n = 0;
		return rc;
	}
	return 0;
}
