/* Staff view of the job queue: list, one job, retry, cancel. Uploads and ingest join here. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

#include "app.h"
#include "jobqueue.h"
#include "ingest/ingest.h"
#include "jobs/runner.h"
#include "log.h"
#include "utf8.h"

static json_t *opt_time(long long t)
{
	return t ? json_integer(t) : json_null();
}

/* Seconds left for a running job, from its pace so far; null before 1 % or when not running. */
static json_t *eta(const struct job_view *v, time_t now)
{
	long long spent = (long long)now - v->started_at;

	if (strcmp(v->state, "running") || v->progress < 1 || v->progress > 99 || !v->started_at ||
	    spent < 0)
		return json_null();
	return json_integer(spent * (100 - v->progress) / v->progress);
}

static json_t *job_json(const struct job_view *v, time_t now)
{
	json_t *result = v->result ? json_loads(v->result, 0, NULL) : NULL;
	json_t *o;

	o = json_pack("{s:I,s:s,s:o,s:s,s:s,s:i,s:i,s:i,s:o,s:o,s:o,s:I,s:o,s:o,s:I}", "id",
	              (json_int_t)v->id, "kind", v->kind, "name",
	              *v->name ? json_string(v->name) : json_null(), "lane", v->lane, "state",
	              v->state, "progress", v->progress, "attempts", v->attempts, "max_attempts",
	              v->max_attempts, "error", *v->error ? json_string(v->error) : json_null(),
	              "result", result ? result : json_null(), "parent_id",
	              v->parent_id ? json_integer(v->parent_id) : json_null(), "created_at",
	              (json_int_t)v->created_at, "started_at", opt_time(v->started_at),
	              "finished_at", opt_time(v->finished_at), "updated_at",
	              (json_int_t)v->updated_at);
	if (o)
		json_object_set_new(o, "eta_seconds", eta(v, now));
	return o;
}

#define LIST_MAX 100

static const char *const states[] = {"queued", "running", "done", "failed", "cancelled"};

static int h_jobs(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	const char *state = http_req_query(req, "state");
	long long before = 0, limit = 50;
	struct job_view *v;
	json_t *items;
	struct db *db;
	int rc, n;

	if ((rc = http_query_int(req, resp, "cursor", 0, (long long)1 << 62, &before)) ||
	    (rc = http_query_int(req, resp, "limit", 1, LIST_MAX, &limit)))
		return rc;
	if (state) {
		bool known = false;
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			known |= strcmp(state, states[i]) == 0;
		if (!known)
			return resp_error(resp, 400, "bad_parameter",
			                  "state 应为 queued、running、done、failed 或 cancelled");
	}
	v = arena_alloc(req->arena, sizeof(*v) * (size_t)limit);
	if (!v)
		return -ENOMEM;
	if ((rc = app_db(app, &db)) || (rc = jobq_list(db, before, state, (int)limit, v, &n)))
		return rc;
	items = json_array();
	for (int i = 0; i < n; i++) {
		json_array_append_new(items, job_json(&v[i], app->now()));
		jobq_view_release(&v[i]);
	}
	return resp_json(resp, 200,
	                 json_pack("{s:o,s:o}", "items", items, "next_cursor",
	                           n == limit ? json_sprintf("%lld", v[n - 1].id) : json_null()));
}

static int one_job(struct app *app, long long id, struct http_resp *resp)
{
	struct job_view v;
	struct db *db;
	json_t *j;
	int rc;

	if ((rc = app_db(app, &db)) || (rc = jobq_get(db, id, &v)))
		return rc;
	j = job_json(&v, app->now());
	jobq_view_release(&v);
	return resp_json(resp, 200, json_pack("{s:o}", "job", j));
}

static int h_job(void *ctx, struct http_req *req, struct http_resp *resp)
{
	long long id;
	int rc;

	if ((rc = http_param_id(req, resp, "id", &id)))
		return rc;
	return one_job(ctx, id, resp);
}

static bool job_exists(struct db *db, long long id)
{
	struct job_view v;
	bool found = jobq_get(db, id, &v) == 0;

	jobq_view_release(&v);
	return found;
}

/* Retry and cancel: the same steps around a different change of state. */
static int change_state(struct app *app, struct http_req *req, struct http_resp *resp,
                        int (*change)(struct db *, long long, time_t), const char *refused_code,
                        const char *refused_message)
{
	struct db *db;
	long long id;
	int rc;

	if ((rc = http_param_id(req, resp, "id", &id)) || (rc = app_db(app, &db)))
		return rc;
	rc = change(db, id, app->now());
	if (rc == -ENOENT && job_exists(db, id))
		return resp_error(resp, 409, refused_code, refused_message);
	if (rc)
		return rc;
	if (app->jobs)
		job_runner_wake(app->jobs);
	return one_job(app, id, resp);
}

static int h_retry(void *ctx, struct http_req *req, struct http_resp *resp)
{
	return change_state(ctx, req, resp, jobq_retry, "not_retryable",
	                    "只有失败或已取消的任务可以重试 (only failed or cancelled jobs)");
}

static int h_cancel(void *ctx, struct http_req *req, struct http_resp *resp)
{
	return change_state(ctx, req, resp, jobq_cancel, "not_cancellable",
	                    "任务已结束，无法取消 (the job has already ended)");
}

/* Files arrive in staging/ (the server streamed them there); each is stored as a blob and
 * becomes one job: "ingest" for a book, "bundle" for an archive. */
static int h_upload(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	json_t *list = json_array();
	struct db *db;
	int rc;

	if ((rc = app_db(app, &db)))
		return rc;
	/* Refuse the whole upload before queueing anything, so a retry starts clean. */
	for (int i = 0; i < req->nuploads; i++) {
		const char *fn = req->uploads[i].filename;
		if (!fn || !utf8_valid(fn, strlen(fn))) {
			json_decref(list);
			return resp_error(resp, 400, "bad_filename",
			                  "文件名不是有效的 UTF-8 (file name is not UTF-8)");
		}
		if (req->uploads[i].size == 0 && *fn) {
			json_decref(list);
			return resp_error(
			    resp, 400, "empty_file",
			    arena_printf(req->arena, "文件「%s」是空的 (empty file)", fn));
		}
	}
	for (int i = 0; i < req->nuploads; i++) {
		const struct http_upload *u = &req->uploads[i];
		char hex[BLOB_HEX_SIZE], *payload;
		enum ingest_kind kind;
		struct job_new jn = {0};
		struct job_view v;
		long long id;
		json_t *p;
		int fd;

		if (!*u->filename)
			continue;
		kind = ingest_sniff_path(u->path);
		/* The server hashed the part as it arrived: the file moves into the blob store
		 * (a 20 GB bundle is not read again); a copy only across file systems. */
		memcpy(hex, u->sha256, sizeof(hex));
		rc = blob_adopt(app->blobs, u->path, hex, NULL);
		if (rc == -EXDEV) {
			fd = open(u->path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				json_decref(list);
				return -EIO;
			}
			rc = blob_put_fd(app->blobs, fd, hex, NULL);
			close(fd);
		}
		if (rc) {
			json_decref(list);
			return rc;
		}
		p = json_pack("{s:s,s:s,s:I}", "blob", hex, "name", u->filename, "account",
		              (json_int_t)req->who.account_id);
		payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
		json_decref(p);
		if (!payload) {
			json_decref(list);
			return -ENOMEM;
		}
		jn.kind = kind == INGEST_BUNDLE  ? "bundle"
		          : kind == INGEST_MEDIA ? "media"
		                                 : "ingest";
		/* transcodes run in their own lane: one at a time by default, beside the books */
		jn.lane = kind == INGEST_MEDIA ? "transcode" : NULL;
		jn.payload = payload;
		jn.created_by = req->who.account_id;
		rc = jobq_enqueue(db, &jn, app->now(), &id);
		free(payload);
		if (rc || (rc = jobq_get(db, id, &v))) {
			json_decref(list);
			return rc;
		}
		json_array_append_new(list, json_pack("{s:s,s:I,s:s,s:o}", "name", u->filename,
		                                      "bytes", (json_int_t)u->size, "sha256", hex,
		                                      "job", job_json(&v, app->now())));
		jobq_view_release(&v);
		log_info("upload name_bytes=%zu bytes=%llu blob=%.12s job=%lld kind=%s",
		         strlen(u->filename), (unsigned long long)u->size, hex, id, jn.kind);
	}
	if (!json_array_size(list)) {
		json_decref(list);
		return resp_error(resp, 400, "bad_upload", "没有收到文件 (no file in the upload)");
	}
	if (app->jobs)
		job_runner_wake(app->jobs);
	return resp_json(resp, 202, json_pack("{s:o}", "uploads", list));
}

const struct route ingest_routes[] = {
    {HTTP_POST, "/api/v1/staff/uploads", h_upload, GRANT_CONTENT, 0, ROUTE_UPLOAD},
    {HTTP_GET, "/api/v1/staff/jobs", h_jobs, GRANT_CONTENT, 0, 0},
    {HTTP_GET, "/api/v1/staff/jobs/:id", h_job, GRANT_CONTENT, 0, 0},
    {HTTP_POST, "/api/v1/staff/jobs/:id/retry", h_retry, GRANT_CONTENT, 1024, 0},
    {HTTP_POST, "/api/v1/staff/jobs/:id/cancel", h_cancel, GRANT_CONTENT, 1024, 0},
};
const size_t ingest_routes_count = sizeof(ingest_routes) / sizeof(ingest_routes[0]);
