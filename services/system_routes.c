/* Health and the built pages (player-web/dist). */
#include <errno.h>

#include "app.h"

static int h_health(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	struct db *db;
	int rc;

	(void)req;
	/* Healthy means the database answers on this thread, not only that the process runs. */
	if ((rc = app_db(app, &db)) || (rc = db_ping(db)))
		return rc;
	return resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static int h_pages(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;

	return http_static_serve(app->web_fd, req, resp);
}

const struct route system_routes[] = {
    {HTTP_GET, "/api/v1/health", h_health, 0, 0, 0},
    {HTTP_GET, "/*", h_pages, 0, 0, ROUTE_FALLBACK},
};
const size_t system_routes_count = sizeof(system_routes) / sizeof(system_routes[0]);
