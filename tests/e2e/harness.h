#ifndef SHUXIANG_TEST_HARNESS_H
#define SHUXIANG_TEST_HARNESS_H

/*
 * End-to-end test harness: runs the real `shuxiang` binary (path in $SHUXIANG_BIN) with a
 * temporary data directory, starts `serve --port 0`, and talks HTTP to it with libcurl.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct server {
	pid_t pid;
	int port;
	char data[512];
	char base[64]; /* "http://127.0.0.1:PORT" */
	char log[600]; /* the server's stderr goes here */
};

/* A new temporary directory (mkdtemp) into out. Exits on failure. */
void tmpdir_make(char *out, size_t n, const char *prefix);
/* rm -rf dir. */
void tmpdir_remove(const char *dir);

/*
 * Run `shuxiang ARGS...` (NULL-ended) and capture its stdout; *last gets its last non-empty line
 * (e.g. a generated password). Returns the exit status (or -1).
 */
int sx_run(char *last, size_t lastlen, const char *arg, ...) __attribute__((sentinel));

/* As sx_run(), but all of stdout goes into out (truncated to n - 1 bytes). */
int sx_run_all(char *out, size_t n, const char *arg, ...) __attribute__((sentinel));

/* Create accounts with the CLI; the password or secret goes into out. 0 on success. */
int sx_add_reader(const char *data, const char *card, const char *name, char *out, size_t n);
int sx_add_staff(const char *data, const char *login, const char *role, char *out, size_t n);
int sx_add_device(const char *data, const char *kind, const char *branch, char *out, size_t n);

/*
 * Start `shuxiang serve --data DATA --port 0 EXTRA...` (extra: NULL-ended list or NULL) and
 * wait for "listening on http://127.0.0.1:PORT". Returns 0 or -1.
 */
int server_start(struct server *s, const char *data, const char *const *extra);
/* SIGTERM and wait. */
void server_stop(struct server *s);
/* SIGKILL and wait (crash tests). */
void server_kill(struct server *s);

struct http_result {
	long status;
	char *body; /* malloc'd, NUL-terminated */
	size_t body_len;
	char headers[16384];
};

struct http_opts {
	const char *method;     /* default GET (or POST when body) */
	const char *body;       /* request body or NULL */
	long body_len;          /* -1 = strlen(body) */
	const char *cookie;     /* "sx_session=..." or NULL */
	const char *origin;     /* Origin header or NULL; "auto" = the server's own */
	const char *headers[8]; /* extra "Name: value" lines, NULL-ended */
	const char *interface;  /* local address to connect from, e.g. "127.0.0.2" */
	long timeout_ms;        /* default 10 s */
};

/* One request to s at path; fills r (free with http_result_free). Returns 0 or -1. */
int http_do(struct server *s, const char *path, const struct http_opts *o, struct http_result *r);
void http_result_free(struct http_result *r);

/* Value of a response header (case-insensitive name), copied into out; false if absent. */
bool http_header(const struct http_result *r, const char *name, char *out, size_t n);

/* From the Set-Cookie of a login response: "sx_session=TOKEN" into out; false if none. */
bool http_session_cookie(const struct http_result *r, char *out, size_t n);

/* Sign in through the API; the cookie ("sx_session=...") into out. Returns the status. */
long http_login(struct server *s, const char *login, const char *password, char *cookie, size_t n);

/* A fixture step that must work: on failure print "setup failed: what", kill s (may be
 * unstarted: pid 0), remove both temporary directories and exit(2). */
void setup_must(bool ok, const char *what, struct server *s, const char *dir1, const char *dir2);

/* "a.b.0.c" in j: objects by key, arrays by index; NULL when absent. Borrowed. */
json_t *json_at(json_t *j, const char *path);

/* GET path with cookie (may be NULL): the parsed body (new reference, NULL when not JSON);
 * *status gets the HTTP status (0 on a transport error). */
json_t *http_get_json(struct server *s, const char *path, const char *cookie, long *status);

/* Poll GET /api/v1/staff/jobs/ID with cookie until the job is done, failed or cancelled, or
 * timeout_s pass: the job object (new reference; an empty object when none came back). */
json_t *http_job_wait(struct server *s, const char *cookie, long long id, int timeout_s);

/* True for "done", "failed" and "cancelled". */
bool job_state_ended(const char *state);

#endif

/* One part of a multipart/form-data upload. */
struct http_part {
	const char *field;    /* form field name; NULL = "file" */
	const char *filename; /* file name as sent; NULL = the base name of path, or with data a
	                         plain form field (no file name) */
	const char *path;     /* send this file's contents ... */
	const void *data;     /* ... or these bytes when path is NULL */
	size_t len;
};

/*
 * POST parts as multipart/form-data to s at path, with o's cookie, origin, extra headers and
 * timeout (o->body and o->method are ignored). chunked: send the body without a length
 * (Transfer-Encoding: chunked), as a client streaming an upload of unknown size does. Fills r
 * like http_do (r->status is set even when the transfer failed half way, e.g. a refusal the
 * server sent before it read the whole body). Returns 0, or -1 on a transport error.
 */
int http_upload(struct server *s, const char *path, const struct http_opts *o,
                const struct http_part *parts, int nparts, bool chunked, struct http_result *r);
