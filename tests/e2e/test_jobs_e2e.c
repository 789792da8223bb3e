/* Staff view of the job queue over HTTP: list, one job, retry, cancel, roles. The jobs are put
 * in the queue table directly, as the ingest service will. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

static struct server s;

static void insert_jobs(const char *data)
{
	char path[700];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/shuxiang.db", data);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return;
	sqlite3_busy_timeout(db, 5000);
	/* An unknown kind fails on its first attempt (no handler for it), with its reason. */
	sqlite3_exec(db,
	             "INSERT INTO job(kind, state, created_at, updated_at)"
	             " VALUES('nonexistent-kind', 'queued', 1, 1);"
	             "INSERT INTO job(kind, lane, state, created_at, updated_at)"
	             " VALUES('epub', 'parked', 'queued', 2, 2);",
	             NULL, NULL, NULL);
	for (int i = 0; i < 5; i++)
		sqlite3_exec(db,
		             "INSERT INTO job(kind, lane, state, created_at, updated_at)"
		             " VALUES('epub', 'parked', 'done', 3, 3)",
		             NULL, NULL, NULL);
	sqlite3_close(db);
}

static json_t *get_json(const char *path, const char *cookie, long *status)
{
	struct http_result r;
	json_t *j = NULL;

	*status = 0;
	if (http_do(&s, path, &(struct http_opts){.cookie = cookie}, &r) == 0) {
		*status = r.status;
		j = json_loads(r.body, 0, NULL);
	}
	http_result_free(&r);
	return j;
}

static const char *job_state(json_t *j)
{
	return json_string_value(json_object_get(json_object_get(j, "job"), "state"));
}

static long post(const char *path, const char *cookie)
{
	struct http_result r;
	long st = -1;

	if (http_do(&s, path, &(struct http_opts){.body = "{}", .cookie = cookie, .origin = "auto"},
	            &r) == 0)
		st = r.status;
	http_result_free(&r);
	return st;
}

int main(void)
{
	char data[512], pw[128], reader_pw[128], staff[256], reader[256];
	json_t *j = NULL;
	long st;

	tmpdir_make(data, sizeof(data), "sx-jobs");
	CHECK_EQ_INT(sx_add_staff(data, "editor", "content", pw, sizeof(pw)), 0);
	CHECK_EQ_INT(sx_add_reader(data, "J0001", "读者", reader_pw, sizeof(reader_pw)), 0);
	if (server_start(&s, data, NULL)) {
		CHECK(0, "server starts");
		CHECK_DONE();
	}
	CHECK_EQ_INT(http_login(&s, "editor", pw, staff, sizeof(staff)), 200);
	CHECK_EQ_INT(http_login(&s, "J0001", reader_pw, reader, sizeof(reader)), 200);
	insert_jobs(data);

	/* The worker picks the unknown kind up and fails it with a reason staff can read. */
	for (int i = 0; i < 100; i++) {
		json_decref(j);
		j = get_json("/api/v1/staff/jobs/1", staff, &st);
		if (job_state(j) && strcmp(job_state(j), "failed") == 0)
			break;
		usleep(50000);
	}
	CHECK_EQ_INT(st, 200);
	CHECK_STR(job_state(j), "failed");
	CHECK_CONTAINS(json_string_value(json_object_get(json_object_get(j, "job"), "error")),
	               "未知的任务类型");
	json_decref(j);

	/* Newest first, paged by cursor, filtered by state. */
	j = get_json("/api/v1/staff/jobs?limit=4", staff, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 4);
	CHECK_EQ_INT(json_integer_value(
	                 json_object_get(json_array_get(json_object_get(j, "items"), 0), "id")),
	             7);
	CHECK_STR(json_string_value(json_object_get(j, "next_cursor")), "4");
	json_decref(j);
	j = get_json("/api/v1/staff/jobs?limit=4&cursor=4", staff, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 3);
	CHECK(json_is_null(json_object_get(j, "next_cursor")), "last page");
	json_decref(j);
	j = get_json("/api/v1/staff/jobs?state=done", staff, &st);
	CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 5);
	json_decref(j);
	j = get_json("/api/v1/staff/jobs?state=bogus", staff, &st);
	CHECK_EQ_INT(st, 400);
	json_decref(j);
	j = get_json("/api/v1/staff/jobs/999", staff, &st);
	CHECK_EQ_INT(st, 404);
	json_decref(j);

	/* Retry a failed job (it fails again, fairly); a done job is neither retried nor
	 * cancelled; a queued job is cancelled at once. */
	CHECK_EQ_INT(post("/api/v1/staff/jobs/1/retry", staff), 200);
	CHECK_EQ_INT(post("/api/v1/staff/jobs/3/retry", staff), 409);
	CHECK_EQ_INT(post("/api/v1/staff/jobs/3/cancel", staff), 409);
	CHECK_EQ_INT(post("/api/v1/staff/jobs/2/cancel", staff), 200);
	j = get_json("/api/v1/staff/jobs/2", staff, &st);
	CHECK_STR(job_state(j), "cancelled");
	json_decref(j);

	/* Readers and strangers never see the queue. */
	j = get_json("/api/v1/staff/jobs", reader, &st);
	CHECK_EQ_INT(st, 403);
	json_decref(j);
	j = get_json("/api/v1/staff/jobs", NULL, &st);
	CHECK_EQ_INT(st, 401);
	json_decref(j);
	CHECK_EQ_INT(post("/api/v1/staff/jobs/1/retry", reader), 403);

	server_stop(&s);
	tmpdir_remove(data);
	CHECK_DONE();
}
