/* Resources: the public catalogue API (list, one), staff edits, and cover images. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "catalog/resource.h"
#include "catalog/search.h"
#include "utf8.h"

#define LIST_MAX 100

static const char *const kinds[] = {"ebook", "audiobook", "video"};

/* Who uploaded what file under which hash is staff business, not the public catalogue's. */
static void public_view(struct http_req *req, json_t *r)
{
	if (!(req->who.grants & GRANT_STAFF))
		json_object_del(r, "source");
}

static int h_list(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	const char *kind = http_req_query(req, "kind"), *category = http_req_query(req, "category");
	long long before = 0, limit = 30, next;
	json_t *items;
	struct db *db;
	int rc;

	if ((rc = http_query_int(req, resp, "cursor", 0, (long long)1 << 62, &before)) ||
	    (rc = http_query_int(req, resp, "limit", 1, LIST_MAX, &limit)))
		return rc;
	if (kind) {
		bool known = false;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			known |= strcmp(kind, kinds[i]) == 0;
		if (!known)
			return resp_error(resp, 400, "bad_parameter",
			                  "kind 应为 ebook、audiobook 或 video");
	}
	if (category && strlen(category) > 64)
		return resp_error(resp, 400, "bad_parameter", "category 过长");
	if ((rc = app_db(app, &db)) ||
	    (rc = resource_list_json(db, before, kind, category, (int)limit, &items, &next)))
		return rc;
	for (size_t i = 0; i < json_array_size(items); i++)
		public_view(req, json_array_get(items, i));
	return resp_json(resp, 200,
	                 json_pack("{s:o,s:o}", "items", items, "next_cursor",
	                           next ? json_sprintf("%lld", next) : json_null()));
}

static int h_one(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	long long id;
	json_t *r;
	struct db *db;
	int rc;

	if ((rc = http_param_id(req, resp, "id", &id)) || (rc = app_db(app, &db)) ||
	    (rc = resource_get_json(db, id, &r)))
		return rc;
	public_view(req, r);
	return resp_json(resp, 200, json_pack("{s:o}", "resource", r));
}

static int h_edit(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	char msg[256] = "";
	long long id;
	json_t *edit, *r;
	struct db *db;
	int rc;

	if ((rc = http_param_id(req, resp, "id", &id)) || (rc = http_req_json(req, resp, &edit)) ||
	    (rc = app_db(app, &db)))
		return rc;
	rc = resource_update(db, id, edit, app->now(), req->who.account_id, msg, sizeof(msg));
	if (rc == -EINVAL)
		return resp_error(resp, 400, "bad_field", arena_strdup(req->arena, msg));
	if (rc || (rc = resource_get_json(db, id, &r)))
		return rc;
	return resp_json(resp, 200, json_pack("{s:o}", "resource", r));
}

/* Covers are public (the kiosk and OPDS show them to anyone) and change only when the book is
 * ingested again under a new id, so caches may keep them. */
static int h_cover(void *ctx, struct http_req *req, struct http_resp *resp)
{
	static const char *const files[] = {"cover.jpg", "cover.webp", "thumb.jpg", "thumb.webp"};
	struct app *app = ctx;
	const char *file = http_req_param(req, "file");
	char path[4096];
	long long id;
	bool known = false;
	int rc, fd;

	if ((rc = http_param_id(req, resp, "id", &id)))
		return rc;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		known |= file && strcmp(file, files[i]) == 0;
	if (!known)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/media/%lld/cover/%s", app->cfg.data, id, file);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -ENOENT;
	return http_send_file(req, resp, fd, NULL, http_mime_type(file), "public, max-age=86400");
}

/* Staff preview of what ingest made (HLS playlists and segments, posters, thumbnails, the
 * unpacked book) before it is published: any file below DATA/media/<id>/. Readers get the
 * same files through signed content URLs (lending). */
static int h_files(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	const char *ids = http_req_param(req, "id");
	const char *rel =
	    req->path + strlen("/api/v1/staff/resources/") + strlen(ids) + strlen("/files/");
	char dir[4096];
	long long id;
	int rc, dirfd, fd;

	if ((rc = http_param_id(req, resp, "id", &id)))
		return rc;
	snprintf(dir, sizeof(dir), "%s/media/%lld", app->cfg.data, id);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return -ENOENT;
	fd = http_open_beneath(dirfd, rel);
	close(dirfd);
	if (fd < 0)
		return fd;
	return http_send_file(req, resp, fd, NULL, http_mime_type(rel), "private, no-cache");
}

/* A query parameter that must be short UTF-8 (or absent): 0, or the 400 answered. */
static int text_param(struct http_req *req, struct http_resp *resp, const char *name, size_t max,
                      const char **out)
{
	*out = http_req_query(req, name);
	if (*out && !**out)
		*out = NULL;
	if (*out && (strlen(*out) > max || !utf8_valid(*out, strlen(*out))))
		return resp_error(resp, 400, "bad_parameter",
		                  arena_printf(req->arena, "参数 %s 过长或不是有效的 UTF-8", name));
	return 0;
}

/* GET /api/v1/search: one box over every resource's metadata, pinyin and text. */
static int h_search(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	struct search_request sr = {0};
	long long offset = 0, limit = 20;
	char msg[160] = "";
	json_t *out;
	struct db *db;
	int rc;

	if ((rc = text_param(req, resp, "q", 4096, &sr.q)) ||
	    (rc = text_param(req, resp, "kind", 16, &sr.kind)) ||
	    (rc = text_param(req, resp, "category", 64, &sr.category)) ||
	    (rc = text_param(req, resp, "clc", 32, &sr.clc)) ||
	    (rc = text_param(req, resp, "language", 35, &sr.language)) ||
	    (rc = http_query_int(req, resp, "cursor", 0, 100000, &offset)) ||
	    (rc = http_query_int(req, resp, "limit", 1, SEARCH_MAX_LIMIT, &limit)))
		return rc;
	if (sr.kind && strcmp(sr.kind, "ebook") && strcmp(sr.kind, "audiobook") &&
	    strcmp(sr.kind, "video"))
		return resp_error(resp, 400, "bad_parameter",
		                  "kind 应为 ebook、audiobook 或 video");
	sr.q = sr.q ? sr.q : "";
	sr.offset = offset;
	sr.limit = (int)limit;
	sr.now = (long long)app->now();
	if ((rc = app_db(app, &db)))
		return rc;
	rc = search_run(db, &sr, &out, msg, sizeof(msg));
	if (rc == -EINVAL)
		return resp_error(resp, 400, "bad_query", msg);
	if (rc)
		return rc;
	return resp_json(resp, 200, out);
}

/* GET /api/v1/search/suggest: titles and authors as the reader types (pinyin too). */
static int h_suggest(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	const char *q;
	long long limit = 8;
	json_t *out;
	struct db *db;
	int rc;

	if ((rc = text_param(req, resp, "q", SEARCH_MAX_QUERY, &q)) ||
	    (rc = http_query_int(req, resp, "limit", 1, 20, &limit)))
		return rc;
	if ((rc = app_db(app, &db)))
		return rc;
	rc = search_suggest(db, q ? q : "", (int)limit, &out);
	if (rc == -EINVAL)
		return resp_error(resp, 400, "bad_query", "搜索词无效");
	if (rc)
		return rc;
	return resp_json(resp, 200, out);
}

const struct route catalog_routes[] = {
    {HTTP_GET, "/api/v1/search", h_search, 0, 0, ROUTE_AUTH_OPTIONAL},
    {HTTP_GET, "/api/v1/search/suggest", h_suggest, 0, 0, ROUTE_AUTH_OPTIONAL},
    {HTTP_GET, "/api/v1/resources", h_list, 0, 0, ROUTE_AUTH_OPTIONAL},
    {HTTP_GET, "/api/v1/resources/:id", h_one, 0, 0, ROUTE_AUTH_OPTIONAL},
    {HTTP_PATCH, "/api/v1/staff/resources/:id", h_edit, GRANT_CATALOGUER | GRANT_CONTENT, 64 * 1024,
     0},
    {HTTP_GET, "/covers/:id/:file", h_cover, 0, 0, 0},
    {HTTP_GET, "/api/v1/staff/resources/:id/files/*", h_files, GRANT_CATALOGUER | GRANT_CONTENT, 0,
     0},
};
const size_t catalog_routes_count = sizeof(catalog_routes) / sizeof(catalog_routes[0]);
