#include "router.h"

#include <errno.h>
#include <string.h>

void router_init(struct router *r, router_auth_fn authenticate, const char *public_origin)
{
	memset(r, 0, sizeof(*r));
	r->authenticate = authenticate;
	r->public_origin = public_origin ? public_origin : "";
}

int router_add(struct router *r, const struct route *table, size_t n)
{
	if (r->ntables >= ROUTER_MAX_TABLES)
		return -ENOSPC;
	r->tables[r->ntables] = table;
	r->sizes[r->ntables] = n;
	r->ntables++;
	return 0;
}

bool route_pattern_match(const char *pat, const char *path, struct http_req *req)
{
	int np = 0;

	if (req)
		req->nparams = 0;
	while (*pat && *path) {
		if (*pat == '*' && pat[1] == '\0')
			break;
		if (*pat == ':') {
			const char *name = ++pat;
			const char *seg = path;
			size_t nlen, slen;

			while (*pat && *pat != '/')
				pat++;
			while (*path && *path != '/')
				path++;
			nlen = (size_t)(pat - name);
			slen = (size_t)(path - seg);
			if (slen == 0 || np >= HTTP_MAX_PARAMS)
				return false;
			if (req) {
				req->param_name[np] = arena_strndup(req->arena, name, nlen);
				req->param_value[np] = arena_strndup(req->arena, seg, slen);
				if (!req->param_name[np] || !req->param_value[np])
					return false;
			}
			np++;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
	if (!(*pat == '*' && pat[1] == '\0') && (*pat || *path))
		return false;
	if (req)
		req->nparams = np;
	return true;
}

bool router_path_is_secret(const struct router *r, const char *path)
{
	for (int t = 0; t < r->ntables; t++) {
		for (size_t i = 0; i < r->sizes[t]; i++) {
			const struct route *rt = &r->tables[t][i];
			size_t n;

			if (!(rt->flags & ROUTE_SECRET_PATH))
				continue;
			n = strcspn(rt->pattern, ":*");
			if (strncmp(path, rt->pattern, n) == 0)
				return true;
		}
	}
	return false;
}

static unsigned effective_methods(const struct route *rt)
{
	return rt->methods & HTTP_GET ? rt->methods | HTTP_HEAD : rt->methods;
}

int router_match(const struct router *r, struct http_req *req, const struct route **out,
                 unsigned *allowed)
{
	const struct route *fallback = NULL;
	unsigned methods = 0;

	*out = NULL;
	*allowed = 0;
	for (int t = 0; t < r->ntables; t++) {
		for (size_t i = 0; i < r->sizes[t]; i++) {
			const struct route *rt = &r->tables[t][i];

			if (rt->flags & ROUTE_FALLBACK) {
				if (!fallback)
					fallback = rt;
				continue;
			}
			if (!route_pattern_match(rt->pattern, req->path, NULL))
				continue;
			methods |= effective_methods(rt);
			if (effective_methods(rt) & req->method) {
				route_pattern_match(rt->pattern, req->path, req);
				*out = rt;
				return 0;
			}
		}
	}
	if (!methods && fallback && strncmp(req->path, "/api/", 5) != 0 &&
	    strcmp(req->path, "/api") != 0 &&
	    route_pattern_match(fallback->pattern, req->path, NULL)) {
		methods = effective_methods(fallback);
		if (methods & req->method) {
			route_pattern_match(fallback->pattern, req->path, req);
			*out = fallback;
			return 0;
		}
	}
	*allowed = methods;
	return methods ? -EBADRQC : -ENOENT;
}

/* A cookie-authenticated state change must come from our own pages. */
static bool origin_allowed(const struct router *r, struct http_req *req)
{
	const char *origin = http_req_header(req, "Origin");
	const char *host = http_req_header(req, "Host");
	const char *rest;

	if (!origin)
		return false;
	if (*r->public_origin && strcmp(origin, r->public_origin) == 0)
		return true;
	if (!host)
		return false;
	if (strncmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else if (strncmp(origin, "http://", 7) == 0 && !req->tls)
		rest = origin + 7;
	else
		return false;
	return strcasecmp(rest, host) == 0;
}

static void error_from_errno(struct http_resp *resp, int rc)
{
	const char *code, *message;
	int status;

	if (resp->status >= 400)
		return; /* the handler already described the refusal */
	http_errno_status(rc, &status, &code, &message);
	resp_error(resp, status, code, message);
}

int router_authorize(const struct router *r, void *ctx, struct http_req *req,
                     struct http_resp *resp)
{
	const struct route *rt = req->route;
	bool unsafe = !(req->method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS));
	int rc;

	memset(&req->who, 0, sizeof(req->who));
	/* Public routes (pages, health, sign-in) do not look at credentials at all. */
	if (r->authenticate && (rt->auth || (rt->flags & ROUTE_AUTH_OPTIONAL))) {
		rc = r->authenticate(ctx, req);
		if (rc < 0) {
			error_from_errno(resp, rc);
			return rc;
		}
	}
	if (rt->auth && !(req->who.grants & rt->auth)) {
		if (req->who.kind == PRINCIPAL_NONE)
			resp_error(resp, 401, "unauthenticated", "请先登录 (please sign in)");
		else
			resp_error(resp, 403, "forbidden", "无权访问 (not allowed)");
		return -EACCES;
	}
	/* Any state change that carries an Origin must carry ours; one that rides on the session
	 * cookie must carry one at all (browsers always send it on such requests). */
	if (unsafe && (req->who.via_cookie || http_req_header(req, "Origin")) &&
	    !origin_allowed(r, req)) {
		resp_error(resp, 403, "bad_origin",
		           "请求来源不被允许 (cross-site request refused)");
		return -EACCES;
	}
	return 0;
}

void router_run(void *ctx, struct http_req *req, struct http_resp *resp)
{
	int rc = req->route->fn(ctx, req, resp);

	if (rc == 0 && resp->status)
		return;
	if (rc == 0)
		rc = -EIO; /* a handler that forgot to answer is a bug; do not hang the client */
	error_from_errno(resp, rc);
}

void router_dispatch(const struct router *r, void *ctx, struct http_req *req,
                     struct http_resp *resp)
{
	if (router_authorize(r, ctx, req, resp) == 0)
		router_run(ctx, req, resp);
}
