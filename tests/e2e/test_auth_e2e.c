/*
 * The auth core against the real server: sign-in and its cookie, sessions, throttling and locks,
 * password rules, Origin checks, roles (IDOR), device secrets, JSON input, the TLS proxy's Secure
 * flag, phone sign-in and the CLI's password reset.
 *
 * The server runs with its default settings (a lock after 10 failures, address back-off after
 * 20). Tests that fail sign-ins on purpose connect from their own loopback address (127.0.0.x)
 * so that the per-address back-off of one test never spills into another.
 */
#include <jansson.h>
#include <stdbool.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

#define PW_MAX 128

static struct server srv;
static char data[512];
static char pw_par[PW_MAX];
static char pw_r1[PW_MAX], pw_r2[PW_MAX], pw_lock[PW_MAX], pw_chg[PW_MAX], pw_p5[PW_MAX],
    pw_p6[PW_MAX], pw_admin[PW_MAX], pw_circ[PW_MAX], pw_cat[PW_MAX], kiosk[PW_MAX];
static long long id_r1, id_r2;

/* Accounts made in main(). */
#define R1_CARD "A0001"
#define R1_NAME "张三"
#define R1_PHONE "13812345678"
#define R2_CARD "A0002"
#define LOCK_CARD "L0003"
#define CHG_CARD "PW20240001" /* long enough for the "password equals login" rule to apply */
#define SHARED_PHONE "13900000000"
#define P5_CARD "P0005"
#define P6_CARD "P0006"
#define PAR_CARD "PAR01"

/* Setup steps must work; otherwise stop the server (if started), clean up and give up. */
static void must(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "setup failed: %s\n", what);
	server_stop(&srv);
	tmpdir_remove(data);
	exit(2);
}

/* ---------- small helpers ---------- */

static void req(struct server *s, const char *path, struct http_opts o, struct http_result *r)
{
	int rc = http_do(s, path, &o, r);

	CHECK(rc == 0, "request %s failed at transport level", path);
}

static json_t *parse(const struct http_result *r)
{
	return json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* True when the body is {"error":{"code":"…","message":"…"}}; the code goes into out. */
static bool error_shape(const struct http_result *r, char *out, size_t n)
{
	json_t *v = parse(r), *e;
	bool ok = false;

	out[0] = '\0';
	e = json_object_get(v, "error");
	if (json_is_object(e) && jstr(e, "code") && jstr(e, "message") && *jstr(e, "message")) {
		snprintf(out, n, "%s", jstr(e, "code"));
		ok = true;
	}
	json_decref(v);
	return ok;
}

#define EXPECT_ERROR(r, want_status, want_code)                                                    \
	do {                                                                                       \
		char code_[64];                                                                    \
		CHECK_EQ_INT((r).status, (want_status));                                           \
		CHECK(error_shape(&(r), code_, sizeof(code_)), "error shape: %s",                  \
		      check_s((r).body));                                                          \
		CHECK_STR(code_, (want_code));                                                     \
	} while (0)

static char *login_body(const char *login, const char *password)
{
	json_t *v = json_pack("{s:s,s:s}", "login", login, "password", password);
	char *s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	must(s != NULL, "json_dumps");
	return s;
}

/* POST /api/v1/auth/login from address iface (NULL = 127.0.0.1); r is the caller's to free. */
static long sign_in_r(struct server *s, const char *iface, const char *login, const char *password,
                      struct http_result *r)
{
	char *body = login_body(login, password);

	req(s, "/api/v1/auth/login", (struct http_opts){.body = body, .interface = iface}, r);
	free(body);
	return r->status;
}

/* Sign in; the session cookie ("sx_session=…", or "" on failure) into cookie. */
static long sign_in(const char *iface, const char *login, const char *password, char *cookie,
                    size_t n)
{
	struct http_result r;
	long st = sign_in_r(&srv, iface, login, password, &r);

	cookie[0] = '\0';
	http_session_cookie(&r, cookie, n);
	http_result_free(&r);
	return st;
}

/* GET /api/v1/auth/me (path may add a query); returns the principal object or NULL. */
static json_t *who_am_i(const char *path, const char *cookie, const char *authz, long *status)
{
	struct http_result r;
	json_t *v, *p = NULL;

	req(&srv, path ? path : "/api/v1/auth/me",
	    (struct http_opts){.cookie = cookie, .headers = {authz}}, &r);
	*status = r.status;
	v = parse(&r);
	if (r.status == 200 && json_is_object(json_object_get(v, "principal")))
		p = json_incref(json_object_get(v, "principal"));
	json_decref(v);
	http_result_free(&r);
	return p;
}

static long me_status(const char *cookie)
{
	long st;
	json_t *p = who_am_i(NULL, cookie, NULL, &st);

	json_decref(p);
	return st;
}

static long long principal_id(const json_t *p)
{
	const json_t *v = json_object_get(p, "id");

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

struct cookie_attrs {
	char value[256];
	bool max_age, http_only, secure, path_root, lax;
	long long age;
	int other;
};

static void parse_set_cookie(const char *line, struct cookie_attrs *a)
{
	char t[256];

	memset(a, 0, sizeof(*a));
	for (const char *p = line; *p;) {
		size_t n = strcspn(p, ";");

		while (*p == ' ' && n > 0)
			p++, n--;
		snprintf(t, sizeof(t), "%.*s", (int)n, p);
		p += n;
		if (*p == ';')
			p++;
		if (strncmp(t, "sx_session=", 11) == 0)
			snprintf(a->value, sizeof(a->value), "%s", t + 11);
		else if (strncasecmp(t, "Max-Age=", 8) == 0) {
			a->max_age = true;
			a->age = strtoll(t + 8, NULL, 10);
		} else if (strcasecmp(t, "HttpOnly") == 0)
			a->http_only = true;
		else if (strcasecmp(t, "Secure") == 0)
			a->secure = true;
		else if (strcmp(t, "Path=/") == 0)
			a->path_root = true;
		else if (strcasecmp(t, "SameSite=Lax") == 0)
			a->lax = true;
		else
			a->other++;
	}
}

static bool is_b64url(const char *s, size_t want)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                               "0123456789-_";

	return strlen(s) == want && strspn(s, alphabet) == want;
}

/* ---------- 1. login_sets_hardened_cookie ---------- */

static void login_sets_hardened_cookie(void)
{
	struct cookie_attrs a, b, st;
	struct http_result r;
	char line[512];
	json_t *v;

	sign_in_r(&srv, NULL, R1_CARD, pw_r1, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(http_header(&r, "Set-Cookie", line, sizeof(line)), "login sets a cookie");
	parse_set_cookie(line, &a);
	CHECK(a.http_only, "HttpOnly: %s", line);
	CHECK(a.lax, "SameSite=Lax: %s", line);
	CHECK(a.path_root, "Path=/: %s", line);
	CHECK(!a.secure, "no Secure over plain http: %s", line);
	CHECK(a.max_age && a.age == 30LL * 86400, "reader Max-Age is 30 days: %s", line);
	CHECK(a.other == 0, "no unexpected attributes (Domain, Expires…): %s", line);
	CHECK(is_b64url(a.value, 22), "session id is 128 bits as 22 base64url chars: %s", a.value);
	v = parse(&r);
	CHECK_STR(jstr(json_object_get(v, "principal"), "card"), R1_CARD);
	json_decref(v);
	http_result_free(&r);

	sign_in_r(&srv, NULL, R1_CARD, pw_r1, &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	http_header(&r, "Set-Cookie", line, sizeof(line));
	parse_set_cookie(line, &b);
	http_result_free(&r);
	CHECK(is_b64url(b.value, 22), "second id: %s", b.value);
	CHECK(strcmp(a.value, b.value) != 0, "two sign-ins get two ids: %s", a.value);

	/* Staff sessions are short. */
	sign_in_r(&srv, NULL, "admin1", pw_admin, &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	http_header(&r, "Set-Cookie", line, sizeof(line));
	parse_set_cookie(line, &st);
	CHECK(st.max_age && st.age == 12LL * 3600, "staff Max-Age is 12 hours: %s", line);
	CHECK(st.http_only && st.lax && st.path_root && !st.secure, "staff cookie: %s", line);
	http_result_free(&r);

	/* A failed sign-in sets no cookie. */
	sign_in_r(&srv, NULL, R1_CARD, "not-the-password", &r);
	CHECK_EQ_INT(r.status, 401);
	CHECK(!http_header(&r, "Set-Cookie", line, sizeof(line)), "no cookie on failure");
	http_result_free(&r);
}

/* ---------- 2. me ---------- */

static void me_requires_session(void)
{
	struct http_result r;

	req(&srv, "/api/v1/auth/me", (struct http_opts){0}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);

	/* A well-formed id that was never issued, and a malformed one. */
	req(&srv, "/api/v1/auth/me",
	    (struct http_opts){.cookie = "sx_session=AAAAAAAAAAAAAAAAAAAAAA"}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/me", (struct http_opts){.cookie = "sx_session=../../etc/passwd"},
	    &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);
}

static void me_shows_own_principal(void)
{
	char cookie[128], authz[256];
	const json_t *roles, *branch;
	json_t *p;
	long st;

	CHECK_EQ_INT(sign_in(NULL, R1_CARD, pw_r1, cookie, sizeof(cookie)), 200);
	p = who_am_i(NULL, cookie, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR(jstr(p, "kind"), "reader");
	CHECK_STR(jstr(p, "card"), R1_CARD);
	CHECK_STR(jstr(p, "name"), R1_NAME);
	CHECK(json_is_null(json_object_get(p, "login")), "a reader has no staff login");
	CHECK_EQ_INT(principal_id(p), id_r1);
	json_decref(p);

	CHECK_EQ_INT(sign_in(NULL, "admin1", pw_admin, cookie, sizeof(cookie)), 200);
	p = who_am_i(NULL, cookie, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR(jstr(p, "kind"), "staff");
	CHECK_STR(jstr(p, "login"), "admin1");
	roles = json_object_get(p, "roles");
	CHECK(json_is_array(roles) && json_array_size(roles) == 1 &&
	          check_streq(json_string_value(json_array_get(roles, 0)), "admin"),
	      "roles [\"admin\"]");
	CHECK(json_is_null(json_object_get(p, "card")), "staff have no card");
	json_decref(p);

	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", kiosk);
	p = who_am_i(NULL, NULL, authz, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR(jstr(p, "kind"), "device");
	CHECK_STR(jstr(p, "device_kind"), "kiosk");
	branch = json_object_get(p, "branch");
	CHECK_STR(jstr(branch, "code"), "ZG");
	json_decref(p);
}

/* ---------- 3. wrong_password_and_unknown_login_same_answer ---------- */

static void wrong_password_and_unknown_login_same_answer(void)
{
	struct http_result a, b;
	char ha[64], hb[64];

	sign_in_r(&srv, "127.0.0.5", R2_CARD, "wrong-password-1", &a);
	sign_in_r(&srv, "127.0.0.5", "Z9999", "wrong-password-1", &b);
	EXPECT_ERROR(a, 401, "bad_credentials");
	CHECK_EQ_INT(a.status, b.status);
	CHECK_STR(a.body, b.body);
	CHECK(!http_header(&a, "Set-Cookie", ha, sizeof(ha)) &&
	          !http_header(&b, "Set-Cookie", hb, sizeof(hb)),
	      "neither sets a cookie");
	http_result_free(&a);
	http_result_free(&b);
}

/* ---------- 4. lock_after_10_failures (and the per-address back-off) ---------- */

static void lock_after_10_failures(void)
{
	struct http_result r, locked, locked_wrong, ghost;
	char v[64], cookie[128];
	long long retry;

	/* Nine failures are not a lock, and a success starts the count again. */
	for (int i = 0; i < 9; i++)
		CHECK_EQ_INT(sign_in("127.0.0.4", LOCK_CARD, "wrong-pass", cookie, sizeof(cookie)),
		             401);
	CHECK_EQ_INT(sign_in("127.0.0.4", LOCK_CARD, pw_lock, cookie, sizeof(cookie)), 200);

	/* Ten consecutive failures: each answered like any wrong password, then locked. */
	for (int i = 0; i < 10; i++) {
		sign_in_r(&srv, "127.0.0.2", LOCK_CARD, "wrong-pass", &r);
		EXPECT_ERROR(r, 401, "bad_credentials");
		http_result_free(&r);
	}
	sign_in_r(&srv, "127.0.0.2", LOCK_CARD, pw_lock, &locked);
	EXPECT_ERROR(locked, 429, "login_locked");
	CHECK(http_header(&locked, "Retry-After", v, sizeof(v)), "Retry-After on a lock");
	retry = strtoll(v, NULL, 10);
	CHECK(retry > 14 * 60 && retry <= 15 * 60, "locked for 15 minutes, Retry-After %lld",
	      retry);
	CHECK(!http_header(&locked, "Set-Cookie", v, sizeof(v)), "no session while locked");
	/* The same answer whatever the password, so a lock tells nothing about it. */
	sign_in_r(&srv, "127.0.0.2", LOCK_CARD, "wrong-pass", &locked_wrong);
	CHECK_EQ_INT(locked_wrong.status, 429);
	CHECK_STR(locked_wrong.body, locked.body);
	http_result_free(&locked_wrong);
	/* The lock is the account's, not the address's. */
	sign_in_r(&srv, NULL, LOCK_CARD, pw_lock, &r);
	EXPECT_ERROR(r, 429, "login_locked");
	http_result_free(&r);
	/* Another account, even from the same address, is unaffected. */
	CHECK_EQ_INT(sign_in("127.0.0.2", R2_CARD, pw_r2, cookie, sizeof(cookie)), 200);
	CHECK(*cookie, "other account gets a session");

	/* A login name that does not exist locks the same way, with the same answer. */
	for (int i = 0; i < 10; i++) {
		sign_in_r(&srv, "127.0.0.3", "ghost-card", "wrong-pass", &r);
		EXPECT_ERROR(r, 401, "bad_credentials");
		http_result_free(&r);
	}
	sign_in_r(&srv, "127.0.0.3", "ghost-card", "wrong-pass", &ghost);
	EXPECT_ERROR(ghost, 429, "login_locked");
	CHECK(http_header(&ghost, "Retry-After", v, sizeof(v)) && strtoll(v, NULL, 10) > 0,
	      "Retry-After for an unknown login too");
	CHECK_STR(ghost.body, locked.body);
	http_result_free(&ghost);

	/* Case does not matter, neither for a real card nor for an unknown login, so a lock
	 * cannot be used to tell them apart. */
	sign_in_r(&srv, "127.0.0.6", "l0003", pw_lock, &r);
	EXPECT_ERROR(r, 429, "login_locked");
	CHECK_STR(r.body, locked.body);
	http_result_free(&r);
	sign_in_r(&srv, "127.0.0.6", "GHOST-CARD", "wrong-pass", &r);
	EXPECT_ERROR(r, 429, "login_locked");
	http_result_free(&r);
	http_result_free(&locked);
}

struct guess {
	int n;
	long status;
};

static void *guess_main(void *arg)
{
	struct guess *g = arg;
	struct http_result r;
	char iface[32];

	snprintf(iface, sizeof(iface), "127.0.2.%d", g->n + 1);
	g->status = sign_in_r(&srv, iface, PAR_CARD, "wrong-pass", &r);
	http_result_free(&r);
	return NULL;
}

/* Thirty guesses at once still get at most ten password checks: the attempt is counted before
 * the password is checked, in the same transaction as the lock test. */
static void parallel_guesses_stop_at_the_limit(void)
{
	struct guess g[30];
	pthread_t t[30];
	int checked = 0, locked = 0;

	for (int i = 0; i < 30; i++) {
		g[i] = (struct guess){.n = i};
		pthread_create(&t[i], NULL, guess_main, &g[i]);
	}
	for (int i = 0; i < 30; i++) {
		pthread_join(t[i], NULL);
		checked += g[i].status == 401;
		locked += g[i].status == 429;
	}
	CHECK(checked <= 10, "%d guesses were checked (at most 10)", checked);
	CHECK_EQ_INT(checked + locked, 30);
	CHECK_EQ_INT(sign_in("127.0.0.7", PAR_CARD, pw_par, (char[128]){0}, 128), 429);
}

/* Card numbers are not case-sensitive; an empty login or password is a 400, not a guess. */
static void card_case_and_empty_fields(void)
{
	char cookie[128], lower[16];
	struct http_result r;

	snprintf(lower, sizeof(lower), "%s", R2_CARD);
	lower[0] = (char)tolower((unsigned char)lower[0]);
	CHECK_EQ_INT(sign_in("127.0.0.8", lower, pw_r2, cookie, sizeof(cookie)), 200);
	req(&srv, "/api/v1/auth/login",
	    (struct http_opts){.body = "{\"login\":\"\",\"password\":\"x\"}"}, &r);
	EXPECT_ERROR(r, 400, "bad_field");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/login",
	    (struct http_opts){.body = "{\"login\":\"A0002\",\"password\":\"\"}"}, &r);
	EXPECT_ERROR(r, 400, "bad_field");
	http_result_free(&r);
}

static void address_backoff_after_20_failures(void)
{
	const char *addr = "127.0.0.9";
	int first_throttled = 0, failures = 0;
	bool settled = false;
	struct http_result r;
	char v[64], login[64], cookie[128];

	/* Distinct unknown logins, so no per-login lock gets in the way. Once throttled, wait out
	 * the short early back-off until a wait of 2 s or more is in force, so the next check
	 * cannot race the clock. */
	for (int i = 1; i <= 40 && !settled; i++) {
		long long retry = 0;

		snprintf(login, sizeof(login), "nobody-%d", i);
		sign_in_r(&srv, addr, login, "wrong-pass", &r);
		if (r.status == 401) {
			failures++;
		} else {
			EXPECT_ERROR(r, 429, "too_many_attempts");
			CHECK(http_header(&r, "Retry-After", v, sizeof(v)), "Retry-After");
			retry = strtoll(v, NULL, 10);
			if (!first_throttled)
				first_throttled = i;
			if (retry >= 2)
				settled = true;
			else if (retry > 0)
				sleep((unsigned)retry);
			else
				CHECK(0, "back-off answered with Retry-After %lld", retry);
		}
		http_result_free(&r);
		if (r.status != 401 && r.status != 429)
			break;
	}
	CHECK(first_throttled > 21, "the first 21 failures are free (throttled at #%d)",
	      first_throttled);
	CHECK(first_throttled > 0 && first_throttled <= 23,
	      "back-off starts right after the free allowance (throttled at #%d)", first_throttled);
	CHECK(settled, "back-off grows (%d failures)", failures);

	/* Throttled addresses are refused even with a right password… */
	sign_in_r(&srv, addr, R2_CARD, pw_r2, &r);
	EXPECT_ERROR(r, 429, "too_many_attempts");
	CHECK(!http_header(&r, "Set-Cookie", v, sizeof(v)), "no session while throttled");
	http_result_free(&r);
	/* …while other addresses are not. */
	CHECK_EQ_INT(sign_in(NULL, R2_CARD, pw_r2, cookie, sizeof(cookie)), 200);
}

/* ---------- 5. logout_ends_session_server_side ---------- */

static void logout_ends_session_server_side(void)
{
	char c1[128], c2[128], line[512];
	struct cookie_attrs a;
	struct http_result r;

	CHECK_EQ_INT(sign_in(NULL, R1_CARD, pw_r1, c1, sizeof(c1)), 200);
	CHECK_EQ_INT(sign_in(NULL, R1_CARD, pw_r1, c2, sizeof(c2)), 200);
	CHECK_EQ_INT(me_status(c1), 200);
	req(&srv, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}", .cookie = c1, .origin = "auto"}, &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	CHECK(http_header(&r, "Set-Cookie", line, sizeof(line)), "logout clears the cookie");
	parse_set_cookie(line, &a);
	CHECK(a.max_age && a.age == 0 && a.value[0] == '\0', "cleared cookie: %s", line);
	http_result_free(&r);
	/* The old cookie, replayed (as a stolen copy would be), no longer works. */
	CHECK_EQ_INT(me_status(c1), 401);
	/* Only that session ended. */
	CHECK_EQ_INT(me_status(c2), 200);
	/* Signing out without a session is refused. */
	req(&srv, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}", .cookie = c1, .origin = "auto"}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);
}

/* ---------- 6. password_change_rules_and_other_sessions_end ---------- */

static void change_password(const char *cookie, const char *current, const char *next,
                            struct http_result *r)
{
	json_t *v = json_pack("{s:s,s:s}", "current", current, "new", next);
	char *body = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	req(&srv, "/api/v1/auth/password",
	    (struct http_opts){.body = body, .cookie = cookie, .origin = "auto"}, r);
	free(body);
}

static void password_change_rules_and_other_sessions_end(void)
{
	static const char *const weak[] = {
	    "short7c",    /* 7 characters */
	    "12345678",   /* common */
	    "password",   /* common */
	    "PassWord1",  /* common, whatever the case */
	    CHG_CARD,     /* the login itself */
	    "pw20240001", /* the login in another case */
	};
	static const char next[] = "书香门第，开卷有益"; /* 9 characters, not ASCII */
	char c1[128], c2[128], c3[128], long_pw[130];
	struct http_result r;

	CHECK_EQ_INT(sign_in(NULL, CHG_CARD, pw_chg, c1, sizeof(c1)), 200);
	CHECK_EQ_INT(sign_in(NULL, CHG_CARD, pw_chg, c2, sizeof(c2)), 200);

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		change_password(c1, pw_chg, weak[i], &r);
		EXPECT_ERROR(r, 400, "weak_password");
		if (r.status != 400)
			fprintf(stderr, "  weak password accepted: %s\n", weak[i]);
		http_result_free(&r);
	}
	memset(long_pw, 'k', 129);
	long_pw[129] = '\0';
	change_password(c1, pw_chg, long_pw, &r);
	EXPECT_ERROR(r, 400, "weak_password");
	http_result_free(&r);
	/* A refused change changes nothing: both sessions still work. */
	CHECK_EQ_INT(me_status(c1), 200);
	CHECK_EQ_INT(me_status(c2), 200);

	change_password(c1, "not-my-current", next, &r);
	EXPECT_ERROR(r, 403, "bad_credentials");
	http_result_free(&r);
	CHECK_EQ_INT(me_status(c2), 200);

	change_password(c1, pw_chg, next, &r);
	CHECK_EQ_INT(r.status, 200);
	http_result_free(&r);
	CHECK_EQ_INT(me_status(c2), 401);
	CHECK_EQ_INT(me_status(c1), 200);
	CHECK_EQ_INT(sign_in(NULL, CHG_CARD, pw_chg, c3, sizeof(c3)), 401);
	CHECK_EQ_INT(sign_in(NULL, CHG_CARD, next, c3, sizeof(c3)), 200);
	/* The new session survives the change that preceded it, and the first one still works. */
	CHECK_EQ_INT(me_status(c3), 200);
	CHECK_EQ_INT(me_status(c1), 200);
}

/* ---------- 7. origin_required_for_cookie_posts ---------- */

static void origin_required_for_cookie_posts(void)
{
	char cookie[128], other_port[64];
	struct http_result r;
	char *body;

	CHECK_EQ_INT(sign_in(NULL, R1_CARD, pw_r1, cookie, sizeof(cookie)), 200);

	req(&srv, "/api/v1/auth/logout", (struct http_opts){.body = "{}", .cookie = cookie}, &r);
	EXPECT_ERROR(r, 403, "bad_origin");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}", .cookie = cookie, .origin = "http://evil.example"},
	    &r);
	EXPECT_ERROR(r, 403, "bad_origin");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}", .cookie = cookie, .origin = "null"}, &r);
	EXPECT_ERROR(r, 403, "bad_origin");
	http_result_free(&r);
	snprintf(other_port, sizeof(other_port), "http://127.0.0.1:%d", srv.port == 1 ? 2 : 1);
	req(&srv, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}", .cookie = cookie, .origin = other_port}, &r);
	EXPECT_ERROR(r, 403, "bad_origin");
	http_result_free(&r);
	/* None of the refused requests did anything. */
	CHECK_EQ_INT(me_status(cookie), 200);

	req(&srv, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}", .cookie = cookie, .origin = "auto"}, &r);
	CHECK_EQ_INT(r.status, 200);
	http_result_free(&r);
	CHECK_EQ_INT(me_status(cookie), 401);

	/* Sign-in carries no cookie, but a foreign Origin is still refused (login CSRF). */
	body = login_body(R1_CARD, pw_r1);
	req(&srv, "/api/v1/auth/login",
	    (struct http_opts){.body = body, .origin = "http://evil.example"}, &r);
	EXPECT_ERROR(r, 403, "bad_origin");
	CHECK(!http_header(&r, "Set-Cookie", other_port, sizeof(other_port)), "no cookie");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/login", (struct http_opts){.body = body, .origin = "auto"}, &r);
	CHECK_EQ_INT(r.status, 200);
	http_result_free(&r);
	free(body);
}

/* ---------- 8. roles_and_idor ---------- */

static bool list_has_card(const json_t *items, const char *card)
{
	for (size_t i = 0; i < json_array_size(items); i++)
		if (check_streq(jstr(json_array_get(items, i), "card"), card))
			return true;
	return false;
}

static void roles_and_idor(void)
{
	char reader[128], circ[128], admin[128], path[128], path_me[128];
	struct http_result r;
	json_t *p, *v;
	long st;

	snprintf(path, sizeof(path), "/api/v1/staff/accounts/%lld", id_r2);
	CHECK_EQ_INT(sign_in(NULL, R1_CARD, pw_r1, reader, sizeof(reader)), 200);
	CHECK_EQ_INT(sign_in(NULL, "circ1", pw_circ, circ, sizeof(circ)), 200);
	CHECK_EQ_INT(sign_in(NULL, "admin1", pw_admin, admin, sizeof(admin)), 200);

	/* Not signed in. */
	req(&srv, "/api/v1/staff/accounts", (struct http_opts){0}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);
	req(&srv, path, (struct http_opts){0}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);

	/* A reader. */
	req(&srv, "/api/v1/staff/accounts", (struct http_opts){.cookie = reader}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	CHECK(!strstr(r.body, R2_CARD), "nothing of the other reader leaks");
	http_result_free(&r);
	req(&srv, path, (struct http_opts){.cookie = reader}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	CHECK(!strstr(r.body, R2_CARD), "nothing of the other reader leaks");
	http_result_free(&r);
	snprintf(path_me, sizeof(path_me), "/api/v1/auth/me?id=%lld", id_r2);
	p = who_am_i(path_me, reader, NULL, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT(principal_id(p), id_r1);
	CHECK_STR(jstr(p, "card"), R1_CARD);
	json_decref(p);
	snprintf(path_me, sizeof(path_me), "/api/v1/auth/me/%lld", id_r2);
	req(&srv, path_me, (struct http_opts){.cookie = reader}, &r);
	EXPECT_ERROR(r, 404, "not_found");
	CHECK(!strstr(r.body, R2_CARD), "nothing of the other reader leaks");
	http_result_free(&r);

	/* Circulation staff are not admins. */
	req(&srv, "/api/v1/staff/accounts", (struct http_opts){.cookie = circ}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	http_result_free(&r);
	req(&srv, path, (struct http_opts){.cookie = circ}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	http_result_free(&r);

	/* The admin sees everyone. */
	req(&srv, "/api/v1/staff/accounts", (struct http_opts){.cookie = admin}, &r);
	CHECK_EQ_INT(r.status, 200);
	v = parse(&r);
	CHECK(json_is_array(json_object_get(v, "items")), "items: %s", r.body);
	CHECK(list_has_card(json_object_get(v, "items"), R1_CARD), "admin sees reader 1");
	CHECK(list_has_card(json_object_get(v, "items"), R2_CARD), "admin sees reader 2");
	json_decref(v);
	http_result_free(&r);
	req(&srv, path, (struct http_opts){.cookie = admin}, &r);
	CHECK_EQ_INT(r.status, 200);
	v = parse(&r);
	CHECK_STR(jstr(json_object_get(v, "account"), "card"), R2_CARD);
	CHECK_EQ_INT(principal_id(json_object_get(v, "account")), id_r2);
	json_decref(v);
	http_result_free(&r);
	req(&srv, "/api/v1/staff/accounts/999999", (struct http_opts){.cookie = admin}, &r);
	EXPECT_ERROR(r, 404, "not_found");
	http_result_free(&r);
}

/* ---------- 9. device_bearer ---------- */

static void device_bearer(void)
{
	char good[256], bad[256];
	struct http_result r;
	json_t *p;
	long st;

	snprintf(good, sizeof(good), "Authorization: Bearer %s", kiosk);
	snprintf(bad, sizeof(bad), "Authorization: Bearer %s", kiosk);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';

	p = who_am_i(NULL, NULL, good, &st);
	CHECK_EQ_INT(st, 200);
	CHECK_STR(jstr(p, "kind"), "device");
	CHECK_STR(jstr(p, "device_kind"), "kiosk");
	json_decref(p);

	req(&srv, "/api/v1/auth/me", (struct http_opts){.headers = {bad}}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/me", (struct http_opts){.headers = {"Authorization: Bearer "}}, &r);
	EXPECT_ERROR(r, 401, "unauthenticated");
	http_result_free(&r);

	req(&srv, "/api/v1/staff/accounts", (struct http_opts){.headers = {good}}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	http_result_free(&r);
	snprintf(bad, sizeof(bad), "/api/v1/staff/accounts/%lld", id_r1);
	req(&srv, bad, (struct http_opts){.headers = {good}}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	http_result_free(&r);
	/* A device has no password to change, even with our own Origin. */
	req(&srv, "/api/v1/auth/password",
	    (struct http_opts){.body = "{\"current\":\"whatever1\",\"new\":\"whatever-else-2\"}",
	                       .headers = {good},
	                       .origin = "auto"},
	    &r);
	EXPECT_ERROR(r, 403, "forbidden");
	http_result_free(&r);
	/* Nor a session to end. */
	req(&srv, "/api/v1/auth/logout", (struct http_opts){.body = "{}", .headers = {good}}, &r);
	EXPECT_ERROR(r, 403, "forbidden");
	http_result_free(&r);
	/* The device still works afterwards. */
	p = who_am_i(NULL, NULL, good, &st);
	CHECK_EQ_INT(st, 200);
	json_decref(p);
}

/* ---------- 10. bad_json_inputs ---------- */

static void bad_json_inputs(void)
{
	/* Unparseable text is bad_json; parseable JSON of the wrong shape is bad_field. */
	static const struct {
		const char *body, *code;
	} cases[] = {
	    {"{\"login\":", "bad_json"},                                   /* malformed */
	    {"{\"login\":\"a\",\"password\":\"b\"", "bad_json"},           /* unterminated */
	    {"{\"login\":\"a\",\"password\":\"b\"} trailing", "bad_json"}, /* trailing text */
	    {"{\"login\":\"a\",\"login\":\"b\",\"password\":\"c\"}", "bad_json"}, /* duplicate */
	    {"[\"a\",\"b\"]", "bad_json"},                                 /* not an object */
	    {"\"login\"", "bad_json"},                                     /* not an object */
	    {"{\"login\":1,\"password\":\"b\"}", "bad_field"},             /* wrong type */
	    {"{\"login\":\"a\",\"password\":null}", "bad_field"},          /* wrong type */
	    {"{\"login\":[\"a\"],\"password\":\"b\"}", "bad_field"},       /* wrong type */
	    {"{\"login\":\"a\",\"password\":\"b\",\"x\":1}", "bad_field"}, /* unknown field */
	    {"{\"login\":\"a\"}", "bad_field"},                            /* missing field */
	    {"{}", "bad_field"},                                           /* missing fields */
	};
	char deep[512], cookie[128];
	struct http_result r;
	size_t off = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char code[64];

		req(&srv, "/api/v1/auth/login", (struct http_opts){.body = cases[i].body}, &r);
		CHECK(r.status == 400, "%s → %ld", cases[i].body, r.status);
		CHECK(error_shape(&r, code, sizeof(code)), "%s → error shape: %s", cases[i].body,
		      r.body);
		CHECK(check_streq(code, cases[i].code), "%s → code %s, want %s", cases[i].body,
		      code, cases[i].code);
		CHECK(!http_header(&r, "Set-Cookie", code, sizeof(code)), "no cookie");
		http_result_free(&r);
	}

	/* An empty body (the harness sends a POST with Content-Length: 0). */
	req(&srv, "/api/v1/auth/login", (struct http_opts){.body = ""}, &r);
	EXPECT_ERROR(r, 400, "bad_json");
	http_result_free(&r);

	/* 100 levels deep. */
	off += (size_t)snprintf(deep + off, sizeof(deep) - off, "{\"login\":");
	for (int i = 0; i < 100; i++)
		deep[off++] = '[';
	for (int i = 0; i < 100; i++)
		deep[off++] = ']';
	snprintf(deep + off, sizeof(deep) - off, ",\"password\":\"b\"}");
	req(&srv, "/api/v1/auth/login", (struct http_opts){.body = deep}, &r);
	EXPECT_ERROR(r, 400, "bad_json");
	http_result_free(&r);

	/* Same rules on a signed-in route. */
	CHECK_EQ_INT(sign_in(NULL, R2_CARD, pw_r2, cookie, sizeof(cookie)), 200);
	req(&srv, "/api/v1/auth/password",
	    (struct http_opts){.body = "{\"current\":\"x\"}", .cookie = cookie, .origin = "auto"},
	    &r);
	EXPECT_ERROR(r, 400, "bad_field");
	http_result_free(&r);
	req(&srv, "/api/v1/auth/password",
	    (struct http_opts){.body = "{\"current\":", .cookie = cookie, .origin = "auto"}, &r);
	EXPECT_ERROR(r, 400, "bad_json");
	http_result_free(&r);
	/* The server is still fine and the account untouched. */
	CHECK_EQ_INT(me_status(cookie), 200);
}

/* ---------- 11. secure_cookie_behind_tls_proxy ---------- */

static void secure_cookie_behind_tls_proxy(void)
{
	static const char *const extra[] = {"--trust-proxy", "1", NULL};
	struct server s2;
	char data2[512], pw[PW_MAX], line[512], origin[96], cookie[128];
	struct cookie_attrs a;
	struct http_result r;
	char *body;

	/* Without a trusted proxy the header is ignored. */
	body = login_body(R1_CARD, pw_r1);
	req(&srv, "/api/v1/auth/login",
	    (struct http_opts){.body = body, .headers = {"X-Forwarded-Proto: https"}}, &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	http_header(&r, "Set-Cookie", line, sizeof(line));
	parse_set_cookie(line, &a);
	CHECK(!a.secure, "untrusted X-Forwarded-Proto does not make the cookie Secure: %s", line);
	http_result_free(&r);
	free(body);

	tmpdir_make(data2, sizeof(data2), "sx-auth-tls");
	must(sx_add_reader(data2, "S0001", "钱七", pw, sizeof(pw)) == 0 && *pw, "reader S0001");
	if (server_start(&s2, data2, extra)) {
		CHECK(0, "second server (--trust-proxy 1) starts");
		tmpdir_remove(data2);
		return;
	}
	body = login_body("S0001", pw);
	req(&s2, "/api/v1/auth/login",
	    (struct http_opts){.body = body, .headers = {"X-Forwarded-Proto: https"}}, &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	http_header(&r, "Set-Cookie", line, sizeof(line));
	parse_set_cookie(line, &a);
	CHECK(a.secure, "Secure behind a TLS proxy: %s", line);
	CHECK(a.http_only && a.lax && a.path_root, "and still hardened: %s", line);
	cookie[0] = '\0';
	http_session_cookie(&r, cookie, sizeof(cookie));
	http_result_free(&r);

	req(&s2, "/api/v1/auth/login", (struct http_opts){.body = body}, &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	http_header(&r, "Set-Cookie", line, sizeof(line));
	parse_set_cookie(line, &a);
	CHECK(!a.secure, "no Secure when the proxy says plain http: %s", line);
	http_result_free(&r);
	free(body);

	/* Over TLS the page's origin is https://host; an http:// one is not ours. */
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%d", s2.port);
	req(&s2, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}",
	                       .cookie = cookie,
	                       .origin = origin,
	                       .headers = {"X-Forwarded-Proto: https"}},
	    &r);
	EXPECT_ERROR(r, 403, "bad_origin");
	http_result_free(&r);
	snprintf(origin, sizeof(origin), "https://127.0.0.1:%d", s2.port);
	req(&s2, "/api/v1/auth/logout",
	    (struct http_opts){.body = "{}",
	                       .cookie = cookie,
	                       .origin = origin,
	                       .headers = {"X-Forwarded-Proto: https"}},
	    &r);
	CHECK_EQ_INT(r.status, 200);
	line[0] = '\0';
	http_header(&r, "Set-Cookie", line, sizeof(line));
	parse_set_cookie(line, &a);
	CHECK(a.secure && a.age == 0, "the clearing cookie is Secure too: %s", line);
	http_result_free(&r);

	server_stop(&s2);
	tmpdir_remove(data2);
}

/* ---------- 12. phone_login ---------- */

static void phone_login(void)
{
	struct http_result r;
	char cookie[128];
	json_t *v, *p;

	sign_in_r(&srv, NULL, R1_PHONE, pw_r1, &r);
	CHECK_EQ_INT(r.status, 200);
	v = parse(&r);
	p = json_object_get(v, "principal");
	CHECK_STR(jstr(p, "card"), R1_CARD);
	CHECK_EQ_INT(principal_id(p), id_r1);
	json_decref(v);
	http_result_free(&r);
	CHECK_EQ_INT(sign_in(NULL, R1_PHONE, "wrong-pass", cookie, sizeof(cookie)), 401);

	/* A phone shared by two readers is no way in for either; their cards still are. */
	sign_in_r(&srv, NULL, SHARED_PHONE, pw_p5, &r);
	EXPECT_ERROR(r, 401, "bad_credentials");
	http_result_free(&r);
	CHECK_EQ_INT(sign_in(NULL, SHARED_PHONE, pw_p6, cookie, sizeof(cookie)), 401);
	CHECK_EQ_INT(sign_in(NULL, P5_CARD, pw_p5, cookie, sizeof(cookie)), 200);
}

/* ---------- 13. cli_passwd ---------- */

static void cli_passwd(void)
{
	char session[128], c2[128], fresh[PW_MAX];
	int rc;

	CHECK_EQ_INT(sign_in(NULL, "cat1", pw_cat, session, sizeof(session)), 200);
	CHECK_EQ_INT(me_status(session), 200);
	rc = sx_run(fresh, sizeof(fresh), "user", "passwd", "--data", data, "--login", "cat1",
	            (char *)NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strlen(fresh) >= 12 && !strchr(fresh, ' '), "a generated password: \"%s\"", fresh);
	CHECK(strcmp(fresh, pw_cat) != 0, "a new password");
	CHECK_EQ_INT(me_status(session), 401);
	CHECK_EQ_INT(sign_in(NULL, "cat1", pw_cat, c2, sizeof(c2)), 401);
	CHECK_EQ_INT(sign_in(NULL, "cat1", fresh, c2, sizeof(c2)), 200);
	CHECK_EQ_INT(me_status(c2), 200);

	/* An account that does not exist: an error, and nothing printed as a password. */
	rc = sx_run(fresh, sizeof(fresh), "user", "passwd", "--data", data, "--login", "no-such",
	            (char *)NULL);
	CHECK(rc != 0, "passwd for an unknown login fails (exit %d)", rc);
}

/* `user add` and `device add` document --name as optional ([--name 姓名]). */
static void cli_name_is_optional(void)
{
	char pw[PW_MAX], cookie[128];
	int rc;

	rc = sx_add_staff(data, "content1", "content", pw, sizeof(pw));
	CHECK(rc == 0, "user add --kind staff without --name (exit %d)", rc);
	if (rc == 0)
		CHECK_EQ_INT(sign_in(NULL, "content1", pw, cookie, sizeof(cookie)), 200);
	rc = sx_add_device(data, "selfcheck", "ZG", pw, sizeof(pw));
	CHECK(rc == 0, "device add without --name (exit %d)", rc);
	rc = sx_run(pw, sizeof(pw), "user", "add", "--data", data, "--kind", "reader", "--card",
	            "N0007", (char *)NULL);
	CHECK(rc == 0, "user add --kind reader without --name (exit %d)", rc);
}

/* ---------- setup ---------- */

static long long id_of(const char *login, const char *password)
{
	struct http_result r;
	long long id;
	json_t *v;

	sign_in_r(&srv, NULL, login, password, &r);
	v = parse(&r);
	id = principal_id(json_object_get(v, "principal"));
	json_decref(v);
	http_result_free(&r);
	must(id > 0, "account id from sign-in");
	return id;
}

static void add_reader(const char *card, const char *name, const char *phone, char *pw)
{
	int rc;

	if (phone)
		rc = sx_run(pw, PW_MAX, "user", "add", "--data", data, "--kind", "reader", "--card",
		            card, "--name", name, "--phone", phone, (char *)NULL);
	else
		rc = sx_add_reader(data, card, name, pw, PW_MAX);
	must(rc == 0 && *pw, card);
}

/* Staff and devices are made with an explicit --name here; cli_name_is_optional checks the
 * documented short form (the harness's sx_add_staff / sx_add_device) separately. */
static void add_staff(const char *login, const char *role, char *pw)
{
	must(sx_run(pw, PW_MAX, "user", "add", "--data", data, "--kind", "staff", "--role", role,
	            "--login", login, "--name", login, (char *)NULL) == 0 &&
	         *pw,
	     login);
}

int main(void)
{
	char out[256];

	tmpdir_make(data, sizeof(data), "sx-auth");
	must(sx_run(out, sizeof(out), "branch", "add", "--data", data, "--code", "ZG", "--name",
	            "总馆", (char *)NULL) == 0,
	     "branch ZG");
	add_reader(R1_CARD, R1_NAME, R1_PHONE, pw_r1);
	add_reader(R2_CARD, "李四", NULL, pw_r2);
	add_reader(LOCK_CARD, "王五", NULL, pw_lock);
	add_reader(CHG_CARD, "赵六", NULL, pw_chg);
	add_reader(P5_CARD, "孙八", SHARED_PHONE, pw_p5);
	add_reader(P6_CARD, "周九", SHARED_PHONE, pw_p6);
	add_reader(PAR_CARD, "吴十", NULL, pw_par);
	add_staff("admin1", "admin", pw_admin);
	add_staff("circ1", "circulation", pw_circ);
	add_staff("cat1", "cataloguer", pw_cat);
	must(sx_run(kiosk, sizeof(kiosk), "device", "add", "--data", data, "--kind", "kiosk",
	            "--branch", "ZG", "--name", "一楼自助机", (char *)NULL) == 0 &&
	         strncmp(kiosk, "sxd_", 4) == 0,
	     "kiosk");
	if (server_start(&srv, data, NULL)) {
		CHECK(0, "server starts");
		tmpdir_remove(data);
		CHECK_DONE();
	}
	id_r1 = id_of(R1_CARD, pw_r1);
	id_r2 = id_of(R2_CARD, pw_r2);
	must(id_r1 != id_r2, "two readers");

	login_sets_hardened_cookie();
	me_requires_session();
	me_shows_own_principal();
	wrong_password_and_unknown_login_same_answer();
	logout_ends_session_server_side();
	password_change_rules_and_other_sessions_end();
	origin_required_for_cookie_posts();
	roles_and_idor();
	device_bearer();
	bad_json_inputs();
	phone_login();
	cli_passwd();
	cli_name_is_optional();
	lock_after_10_failures();
	parallel_guesses_stop_at_the_limit();
	card_case_and_empty_fields();
	address_backoff_after_20_failures();
	secure_cookie_behind_tls_proxy();

	server_stop(&srv);
	tmpdir_remove(data);
	CHECK_DONE();
}
