/* HTTP handlers of the auth core: sign-in, sign-out, who am I, password change, account list. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"

static const char *kind_name(enum principal_kind k)
{
	switch (k) {
	case PRINCIPAL_READER:
		return "reader";
	case PRINCIPAL_STAFF:
		return "staff";
	case PRINCIPAL_DEVICE:
		return "device";
	default:
		return "none";
	}
}

static json_t *opt_str(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *view_json(const struct account_view *v)
{
	json_t *roles = json_array();

	if (*v->role)
		json_array_append_new(roles, json_string(v->role));
	return json_pack(
	    "{s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s}", "id", (json_int_t)v->id, "kind",
	    kind_name(v->kind), "name", v->name, "login", opt_str(v->login), "card",
	    opt_str(v->card), "roles", roles, "branch",
	    *v->branch_code ? json_pack("{s:s,s:s}", "code", v->branch_code, "name", v->branch_name)
	                    : json_null(),
	    "device_kind", opt_str(v->device_kind), "status", v->status);
}

static int principal_response(struct app *app, struct db *db, long long account,
                              struct http_resp *resp)
{
	struct account_view v;
	int rc = auth_account_view(app->auth, db, account, &v);

	if (rc)
		return rc;
	return resp_json(resp, 200, json_pack("{s:o}", "principal", view_json(&v)));
}

static const char *cookie_attrs(const struct http_req *req)
{
	return req->tls ? "; Path=/; HttpOnly; SameSite=Lax; Secure"
	                : "; Path=/; HttpOnly; SameSite=Lax";
}

static int h_login(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	const char *login, *password;
	enum auth_login_result result;
	struct auth_session s;
	long long retry = 0;
	struct db *db;
	json_t *in;
	int rc;

	if ((rc = http_req_json(req, resp, &in)) ||
	    (rc = http_unpack(resp, in, "{s:s,s:s}", "login", &login, "password", &password)))
		return rc;
	if ((rc = app_db(app, &db)))
		return rc;
	rc = auth_login(app->auth, db, login, password, req->client_addr, app->now(), &result,
	                &retry, &s);
	if (rc == -EINVAL)
		return resp_error(resp, 400, "bad_field",
		                  "请输入账号和密码 (login and password are required)");
	if (rc)
		return rc;
	switch (result) {
	case AUTH_OK:
		break;
	case AUTH_BAD_CREDENTIALS:
		return resp_error(resp, 401, "bad_credentials",
		                  "账号或密码错误 (wrong login or password)");
	case AUTH_LOCKED:
	case AUTH_THROTTLED:
		resp_header(resp, "Retry-After", arena_printf(req->arena, "%lld", retry));
		if (result == AUTH_LOCKED)
			return resp_error(
			    resp, 429, "login_locked",
			    arena_printf(req->arena,
			                 "登录失败次数过多，账号已暂时锁定，请 %lld 分钟后再试 "
			                 "(too many failed sign-ins; try again later)",
			                 (retry + 59) / 60));
		return resp_error(resp, 429, "too_many_attempts",
		                  "尝试次数过多，请稍后再试 (too many attempts; try again later)");
	}
	{
		char *cookie = arena_printf(req->arena, "sx_session=%s; Max-Age=%lld%s", s.token,
		                            s.max_age, cookie_attrs(req));
		sodium_memzero(s.token, sizeof(s.token));
		if (!cookie)
			return -ENOMEM; /* the session is left to expire unused */
		resp_header(resp, "Set-Cookie", cookie);
	}
	req->who.account_id = s.account_id; /* for the access log */
	return principal_response(app, db, s.account_id, resp);
}

static int h_logout(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	struct db *db;
	int rc;

	if ((rc = app_db(app, &db)) || (rc = auth_logout(app->auth, db, &req->who)))
		return rc;
	resp_header(resp, "Set-Cookie",
	            arena_printf(req->arena, "sx_session=; Max-Age=0%s", cookie_attrs(req)));
	return resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

static int h_me(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	struct db *db;
	int rc;

	if ((rc = app_db(app, &db)))
		return rc;
	return principal_response(app, db, req->who.account_id, resp);
}

static int h_password(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	const char *current, *next, *why = NULL;
	struct db *db;
	json_t *in;
	int rc;

	if ((rc = http_req_json(req, resp, &in)) ||
	    (rc = http_unpack(resp, in, "{s:s,s:s}", "current", &current, "new", &next)))
		return rc;
	if ((rc = app_db(app, &db)))
		return rc;
	rc = auth_change_password(app->auth, db, &req->who, current, next, app->now(), &why);
	if (rc == -EACCES)
		return resp_error(resp, 403, "bad_credentials",
		                  "当前密码不正确 (current password is wrong)");
	if (rc == -EAGAIN) {
		resp_header(
		    resp, "Retry-After",
		    arena_printf(req->arena, "%lld", (long long)app->cfg.login_lock_minutes * 60));
		return resp_error(
		    resp, 429, "login_locked",
		    "失败次数过多，账号已暂时锁定，请稍后再试 (locked; try again later)");
	}
	if (rc == -EINVAL && why)
		return resp_error(resp, 400, "weak_password", why);
	if (rc)
		return rc;
	return resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

#define LIST_MAX 100

static int h_accounts(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	struct account_view *v;
	long long after = 0, limit = 50;
	json_t *items;
	struct db *db;
	int rc, n;

	if ((rc = http_query_int(req, resp, "cursor", 0, (long long)1 << 62, &after)) ||
	    (rc = http_query_int(req, resp, "limit", 1, LIST_MAX, &limit)))
		return rc;
	v = arena_alloc(req->arena, sizeof(*v) * (size_t)limit);
	if (!v)
		return -ENOMEM;
	if ((rc = app_db(app, &db)) ||
	    (rc = auth_account_list(app->auth, db, after, (int)limit, v, &n)))
		return rc;
	items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, view_json(&v[i]));
	return resp_json(resp, 200,
	                 json_pack("{s:o,s:o}", "items", items, "next_cursor",
	                           n == limit ? json_sprintf("%lld", v[n - 1].id) : json_null()));
}

static int h_account(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ctx;
	struct account_view v;
	struct db *db;
	long long id;
	int rc;

	if ((rc = http_param_id(req, resp, "id", &id)))
		return rc;
	if ((rc = app_db(app, &db)) || (rc = auth_account_view(app->auth, db, id, &v)))
		return rc;
	return resp_json(resp, 200, json_pack("{s:o}", "account", view_json(&v)));
}

const struct route auth_routes[] = {
    {HTTP_POST, "/api/v1/auth/login", h_login, 0, 4096, ROUTE_BLOCKING},
    {HTTP_POST, "/api/v1/auth/logout", h_logout, GRANT_PERSON, 1024, 0},
    {HTTP_GET, "/api/v1/auth/me", h_me, GRANT_PERSON | GRANT_DEVICE, 0, 0},
    {HTTP_POST, "/api/v1/auth/password", h_password, GRANT_PERSON, 4096, ROUTE_BLOCKING},
    {HTTP_GET, "/api/v1/staff/accounts", h_accounts, GRANT_ADMIN, 0, 0},
    {HTTP_GET, "/api/v1/staff/accounts/:id", h_account, GRANT_ADMIN, 0, 0},
};
const size_t auth_routes_count = sizeof(auth_routes) / sizeof(auth_routes[0]);
