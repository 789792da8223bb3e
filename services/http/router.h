#ifndef SHUXIANG_ROUTER_H
#define SHUXIANG_ROUTER_H

#include "http.h"

#define ROUTER_MAX_TABLES 16

/* Fills req->who from the request's credentials (cookie or bearer); 0 with kind NONE when there
 * are none; a negative errno only when checking them failed (e.g. the database). */
typedef int (*router_auth_fn)(void *ctx, struct http_req *req);

/* The route tables of every service, the authenticator, and the origin rule for CSRF. */
struct router {
	const struct route *tables[ROUTER_MAX_TABLES];
	size_t sizes[ROUTER_MAX_TABLES];
	int ntables;
	router_auth_fn authenticate;
	const char *public_origin; /* extra accepted Origin, or "" (borrowed, lives with the app) */
};

void router_init(struct router *r, router_auth_fn authenticate, const char *public_origin);

/* Add a service's table (borrowed; static). -ENOSPC when full. */
int router_add(struct router *r, const struct route *table, size_t n);

/*
 * Find the route for req->method and req->path and fill req's params. Returns 0 and *out;
 * -ENOENT when no route has this path (404); -EBADRQC when routes have the path but not the
 * method (405; *allowed gets their methods).
 */
int router_match(const struct router *r, struct http_req *req, const struct route **out,
                 unsigned *allowed);

/*
 * Authenticate, authorise (route auth flags → 401/403), check Origin on state changes, then run
 * the handler of req->route (set by router_match). Always leaves a response in resp.
 */
void router_dispatch(const struct router *r, void *ctx, struct http_req *req,
                     struct http_resp *resp);

/* The first half of router_dispatch: authenticate, authorise, check Origin. 0 when the
 * handler may run; otherwise resp holds the refusal (401/403/5xx) and a negative errno is
 * returned. Upload routes call it before reading the body. */
int router_authorize(const struct router *r, void *ctx, struct http_req *req,
                     struct http_resp *resp);

/* The second half: run the handler of req->route (req->who already set); always leaves a
 * response in resp. */
void router_run(void *ctx, struct http_req *req, struct http_resp *resp);

/* True when path lies under the literal prefix of a ROUTE_SECRET_PATH route (such as
 * "/content/"), matched or not: its text may hold a credential and must not be logged. */
bool router_path_is_secret(const struct router *r, const char *path);

/* True when the route pattern matches path; fills params into req when req != NULL. */
bool route_pattern_match(const char *pattern, const char *path, struct http_req *req);

#endif
