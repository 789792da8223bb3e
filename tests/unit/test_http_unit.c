/* services/http (router, arena, errno table) and services/config, without a socket. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../check.h"
#include "config.h"
#include "http/router.h"

static int h_dummy(void *ctx, struct http_req *req, struct http_resp *resp)
{
	(void)ctx;
	(void)req;
	(void)resp;
	return 0;
}

static const struct route table_a[] = {
    {HTTP_GET, "/api/v1/loans", h_dummy, GRANT_READER, 0, 0},
    {HTTP_POST, "/api/v1/loans", h_dummy, GRANT_READER, 0, 0},
    {HTTP_GET, "/api/v1/loans/:id", h_dummy, GRANT_READER, 0, 0},
    {HTTP_POST, "/api/v1/loans/:id/return", h_dummy, GRANT_READER, 0, 0},
    {HTTP_GET, "/content/:token/*", h_dummy, 0, 0, ROUTE_SECRET_PATH},
};
static const struct route table_pages[] = {
    {HTTP_GET, "/*", h_dummy, 0, 0, ROUTE_FALLBACK},
};

static int match(struct router *r, enum http_method m, const char *path, const struct route **rt,
                 unsigned *allowed, struct http_req *req)
{
	memset(req, 0, sizeof(*req));
	arena_new(&req->arena);
	req->method = m;
	req->path = path;
	return router_match(r, req, rt, allowed);
}

static void test_router(void)
{
	struct router r;
	const struct route *rt;
	struct http_req req;
	unsigned allowed;

	router_init(&r, NULL, "");
	router_add(&r, table_a, sizeof(table_a) / sizeof(table_a[0]));
	router_add(&r, table_pages, 1);

	CHECK_EQ_INT(match(&r, HTTP_GET, "/api/v1/loans", &rt, &allowed, &req), 0);
	CHECK(rt == &table_a[0], "GET list");
	arena_free(req.arena);
	CHECK_EQ_INT(match(&r, HTTP_POST, "/api/v1/loans", &rt, &allowed, &req), 0);
	CHECK(rt == &table_a[1], "POST list");
	arena_free(req.arena);

	CHECK_EQ_INT(match(&r, HTTP_GET, "/api/v1/loans/42", &rt, &allowed, &req), 0);
	CHECK(rt == &table_a[2], "param route");
	CHECK_STR(http_req_param(&req, "id"), "42");
	CHECK(http_req_param(&req, "nope") == NULL, "unknown param");
	arena_free(req.arena);

	CHECK_EQ_INT(match(&r, HTTP_POST, "/api/v1/loans/7/return", &rt, &allowed, &req), 0);
	CHECK_STR(http_req_param(&req, "id"), "7");
	arena_free(req.arena);

	/* HEAD is answered by GET routes. */
	CHECK_EQ_INT(match(&r, HTTP_HEAD, "/api/v1/loans/1", &rt, &allowed, &req), 0);
	arena_free(req.arena);

	/* Known path, wrong method → 405 with the allowed methods. */
	CHECK_EQ_INT(match(&r, HTTP_DELETE, "/api/v1/loans", &rt, &allowed, &req), -EBADRQC);
	CHECK(allowed == (HTTP_GET | HTTP_HEAD | HTTP_POST), "allowed %u", allowed);
	arena_free(req.arena);

	/* Empty segments never match a parameter; extra segments never match. */
	CHECK_EQ_INT(match(&r, HTTP_GET, "/api/v1/loans/", &rt, &allowed, &req), -ENOENT);
	arena_free(req.arena);
	CHECK_EQ_INT(match(&r, HTTP_GET, "/api/v1/loans/1/2", &rt, &allowed, &req), -ENOENT);
	arena_free(req.arena);

	/* Unknown /api/ paths are 404 even with the page fallback; pages match the fallback. */
	CHECK_EQ_INT(match(&r, HTTP_GET, "/api/v1/nothing", &rt, &allowed, &req), -ENOENT);
	arena_free(req.arena);
	CHECK_EQ_INT(match(&r, HTTP_POST, "/api/v1/nothing", &rt, &allowed, &req), -ENOENT);
	arena_free(req.arena);
	CHECK_EQ_INT(match(&r, HTTP_GET, "/staff/", &rt, &allowed, &req), 0);
	CHECK(rt == &table_pages[0], "pages fallback");
	arena_free(req.arena);
	CHECK_EQ_INT(match(&r, HTTP_POST, "/staff/", &rt, &allowed, &req), -EBADRQC);
	arena_free(req.arena);

	/* A trailing "*" takes the rest of the path. */
	CHECK_EQ_INT(match(&r, HTTP_GET, "/content/tok123/OEBPS/ch1.xhtml", &rt, &allowed, &req),
	             0);
	CHECK(rt == &table_a[4], "content route");
	CHECK_STR(http_req_param(&req, "token"), "tok123");
	arena_free(req.arena);

	/* Paths under a credential-bearing route are secret even when nothing matched them. */
	CHECK(router_path_is_secret(&r, "/content/tok123"), "unmatched content path is secret");
	CHECK(router_path_is_secret(&r, "/content/tok/x"), "content path is secret");
	CHECK(!router_path_is_secret(&r, "/api/v1/loans/1"), "ordinary path");
}

static void test_arena(void)
{
	struct arena *a;
	char *s;
	void *big;

	CHECK_EQ_INT(arena_new(&a), 0);
	s = arena_printf(a, "%s-%d", "读者", 42);
	CHECK_STR(s, "读者-42");
	CHECK(((uintptr_t)arena_alloc(a, 3) & 15) == 0, "aligned");
	big = arena_alloc(a, 100000); /* larger than a chunk */
	CHECK(big != NULL, "big allocation");
	memset(big, 1, 100000);
	CHECK_STR(arena_strndup(a, "abcdef", 3), "abc");
	arena_free(a);
	arena_free(NULL);
}

static void test_errno_table(void)
{
	static const struct {
		int err, status;
	} want[] = {{-EINVAL, 400},   {-ENOENT, 404},  {-EACCES, 403}, {-EEXIST, 409},
	            {-EMSGSIZE, 413}, {-ENOTSUP, 415}, {-EAGAIN, 429}, {-EBUSY, 503},
	            {-ENOSPC, 503},   {-EIO, 503},     {-E2BIG, 500}};
	const char *code, *msg;
	int status;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		http_errno_status(want[i].err, &status, &code, &msg);
		CHECK(status == want[i].status, "errno %d → %d, want %d", want[i].err, status,
		      want[i].status);
		CHECK(code && *code && msg && *msg, "code and message");
	}
}

static void test_config(void)
{
	struct config c;
	char err[256], path[] = "/tmp/sx-config-XXXXXX";
	FILE *f;
	int fd;

	config_init(&c);
	CHECK_EQ_INT(c.port, 8080);
	CHECK_STR(c.data, "./var");
	CHECK_STR(c.bind, "127.0.0.1");
	CHECK_EQ_INT(c.login_max_failures, 10);
	CHECK_EQ_INT(c.login_lock_minutes, 15);
	CHECK_EQ_INT(c.hash_concurrency, 2);

	CHECK_EQ_INT(config_set(&c, "port", "0", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.port, 0);
	CHECK_EQ_INT(config_set(&c, "port", "70000", err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "0..65535");
	CHECK_EQ_INT(config_set(&c, "port", "80x", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_set(&c, "per-ip-conn-limit", "5", err, sizeof(err)), 0);
	CHECK_EQ_INT(c.per_ip_conn_limit, 5);
	CHECK_EQ_INT(config_set(&c, "trust_proxy", "maybe", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_set(&c, "no_such_setting", "1", err, sizeof(err)), -ENOENT);

	/* defaults → file → environment: the environment wins over the file. */
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "# comment\nthreads = 7\n\nbind = 0.0.0.0\n");
	fclose(f);
	config_init(&c);
	CHECK_EQ_INT(config_load_file(&c, path, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.threads, 7);
	CHECK_STR(c.bind, "0.0.0.0");
	setenv("SHUXIANG_THREADS", "9", 1);
	CHECK_EQ_INT(config_load_env(&c, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.threads, 9);
	setenv("SHUXIANG_THREADS", "0", 1);
	CHECK_EQ_INT(config_load_env(&c, err, sizeof(err)), -EINVAL);
	unsetenv("SHUXIANG_THREADS");
	f = fopen(path, "w");
	fprintf(f, "threads = 7\nnot a setting line\n");
	fclose(f);
	CHECK_EQ_INT(config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, ":2:");
	unlink(path);
}

int main(void)
{
	test_router();
	test_arena();
	test_errno_table();
	test_config();
	CHECK_DONE();
}
