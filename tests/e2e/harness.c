#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin(void)
{
	const char *b = getenv("SHUXIANG_BIN");
	return b ? b : "./shuxiang";
}

void tmpdir_make(char *out, size_t n, const char *prefix)
{
	snprintf(out, n, "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(out)) {
		perror("mkdtemp");
		exit(2);
	}
}

void tmpdir_remove(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* Run the binary with argv, collecting stdout: all of it into all (if not NULL) and the last
 * non-empty line into last (if not NULL). */
static int run_argv(const char **argv, char *last, size_t lastlen, char *all, size_t alllen)
{
	char line[1024];
	size_t used = 0;
	int fds[2], status;
	pid_t pid;
	FILE *f;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	if (last && lastlen)
		last[0] = '\0';
	if (all && alllen)
		all[0] = '\0';
	f = fdopen(fds[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		if (all && used + n < alllen) {
			memcpy(all + used, line, n + 1);
			used += n;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (*line && last)
			snprintf(last, lastlen, "%s", line);
	}
	if (f)
		fclose(f);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define COLLECT_ARGV(argv, argc, first)                                                            \
	do {                                                                                       \
		va_list ap;                                                                        \
		argv[argc++] = bin();                                                              \
		va_start(ap, first);                                                               \
		for (const char *a = first; a && argc < 39; a = va_arg(ap, const char *))          \
			argv[argc++] = a;                                                          \
		va_end(ap);                                                                        \
		argv[argc] = NULL;                                                                 \
	} while (0)

int sx_run(char *last, size_t lastlen, const char *arg, ...)
{
	const char *argv[40];
	int argc = 0;

	COLLECT_ARGV(argv, argc, arg);
	return run_argv(argv, last, lastlen, NULL, 0);
}

int sx_run_all(char *out, size_t n, const char *arg, ...)
{
	const char *argv[40];
	int argc = 0;

	COLLECT_ARGV(argv, argc, arg);
	return run_argv(argv, NULL, 0, out, n);
}

int sx_add_reader(const char *data, const char *card, const char *name, char *out, size_t n)
{
	return sx_run(out, n, "user", "add", "--data", data, "--kind", "reader", "--card", card,
	              "--name", name, (char *)NULL);
}

int sx_add_staff(const char *data, const char *login, const char *role, char *out, size_t n)
{
	return sx_run(out, n, "user", "add", "--data", data, "--kind", "staff", "--role", role,
	              "--login", login, (char *)NULL);
}

int sx_add_device(const char *data, const char *kind, const char *branch, char *out, size_t n)
{
	return sx_run(out, n, "device", "add", "--data", data, "--kind", kind, "--branch", branch,
	              (char *)NULL);
}

int server_start(struct server *s, const char *data, const char *const *extra)
{
	const char *argv[64];
	char line[512];
	int fds[2], argc = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(s->data, sizeof(s->data), "%s", data);
	snprintf(s->log, sizeof(s->log), "%s/server.log", data);
	argv[argc++] = bin();
	argv[argc++] = "serve";
	argv[argc++] = "--data";
	argv[argc++] = data;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	for (int i = 0; extra && extra[i] && argc < 62; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	if (pipe(fds) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		FILE *log = fopen(s->log, "a");
		dup2(fds[1], 1);
		if (log)
			dup2(fileno(log), 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "listening on http://127.0.0.1:");
		if (p) {
			s->port =
			    (int)strtol(p + strlen("listening on http://127.0.0.1:"), NULL, 10);
			break;
		}
	}
	/* Keep reading the pipe in the background? No: the server prints nothing else to stdout,
	 * and closing our end only makes later writes fail with EPIPE, which it ignores. */
	if (f)
		fclose(f);
	if (s->port <= 0) {
		fprintf(stderr, "server did not start; its log: %s\n", s->log);
		server_kill(s);
		return -1;
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	return 0;
}

static void signal_wait(struct server *s, int sig)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

void server_stop(struct server *s)
{
	signal_wait(s, SIGTERM);
}

void server_kill(struct server *s)
{
	signal_wait(s, SIGKILL);
}

struct buf {
	char *p;
	size_t n;
};

static size_t on_body(char *d, size_t sz, size_t nm, void *u)
{
	struct buf *b = u;
	size_t n = sz * nm;
	char *np = realloc(b->p, b->n + n + 1);

	if (!np)
		return 0;
	memcpy(np + b->n, d, n);
	b->p = np;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static size_t on_header(char *d, size_t sz, size_t nm, void *u)
{
	struct http_result *r = u;
	size_t n = sz * nm, have = strlen(r->headers);

	/* Keep only the last response's headers (after a 100 Continue, say). */
	if (n >= 5 && strncmp(d, "HTTP/", 5) == 0)
		r->headers[0] = '\0', have = 0;
	if (have + n < sizeof(r->headers)) {
		memcpy(r->headers + have, d, n);
		r->headers[have + n] = '\0';
	}
	return n;
}

/* What every request to the server shares: URL, body and header capture, timeout, source
 * interface, cookie; returns the header list with Origin, no "Expect: 100-continue" and the
 * caller's extra headers (the caller adds its own and frees the list). */
static struct curl_slist *request_setup(CURL *c, struct server *s, const char *path,
                                        const struct http_opts *o, struct buf *b,
                                        struct http_result *r, long default_timeout_ms)
{
	struct curl_slist *h = NULL;
	char url[2048], line[512];

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url); /* libcurl copies the string */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms ? o->timeout_ms : default_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (o->interface)
		curl_easy_setopt(c, CURLOPT_INTERFACE, o->interface);
	if (o->cookie)
		curl_easy_setopt(c, CURLOPT_COOKIE, o->cookie);
	if (o->origin) {
		snprintf(line, sizeof(line), "Origin: %s",
		         strcmp(o->origin, "auto") == 0 ? s->base : o->origin);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Expect:");
	for (int i = 0; i < 8 && o->headers[i]; i++)
		h = curl_slist_append(h, o->headers[i]);
	return h;
}

int http_do(struct server *s, const char *path, const struct http_opts *o, struct http_result *r)
{
	static const struct http_opts none;
	struct curl_slist *h = NULL;
	struct buf b = {0};
	CURLcode cc;
	CURL *c;

	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	c = curl_easy_init();
	if (!c)
		return -1;
	h = request_setup(c, s, path, o, &b, r, 10000L);
	if (o->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		                 o->body_len > 0 ? o->body_len : (long)strlen(o->body));
		h = curl_slist_append(h, "Content-Type: application/json");
	}
	if (o->method) {
		if (strcmp(o->method, "HEAD") == 0)
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		else
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r->body = b.p ? b.p : calloc(1, 1);
	r->body_len = b.n;
	if (cc != CURLE_OK) {
		fprintf(stderr, "curl %s: %s\n", path, curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}

void http_result_free(struct http_result *r)
{
	free(r->body);
	r->body = NULL;
}

bool http_header(const struct http_result *r, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			const char *v = p + len + 1;
			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(eol - v), v);
			return true;
		}
		p = eol + 2;
	}
	return false;
}

bool http_session_cookie(const struct http_result *r, char *out, size_t n)
{
	char v[512];

	if (!http_header(r, "Set-Cookie", v, sizeof(v)) || strncmp(v, "sx_session=", 11) != 0)
		return false;
	v[strcspn(v, ";")] = '\0';
	snprintf(out, n, "%s", v);
	return true;
}

long http_login(struct server *s, const char *login, const char *password, char *cookie, size_t n)
{
	struct http_result r;
	char body[1024];
	long st;

	snprintf(body, sizeof(body), "{\"login\":\"%s\",\"password\":\"%s\"}", login, password);
	if (http_do(s, "/api/v1/auth/login", &(struct http_opts){.body = body}, &r))
		return -1;
	st = r.status;
	if (cookie && n) {
		cookie[0] = '\0';
		http_session_cookie(&r, cookie, n);
	}
	http_result_free(&r);
	return st;
}

/* Body source of a chunked part: the file, read as curl asks. */
static size_t part_read(char *buf, size_t size, size_t nitems, void *arg)
{
	return fread(buf, 1, size * nitems, arg);
}

static int part_seek(void *arg, curl_off_t offset, int origin)
{
	return fseek(arg, (long)offset, origin) ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

int http_upload(struct server *s, const char *path, const struct http_opts *o,
                const struct http_part *parts, int nparts, bool chunked, struct http_result *r)
{
	static const struct http_opts none;
	struct curl_slist *h = NULL;
	struct buf b = {0};
	FILE *files[16] = {0};
	curl_mime *mime;
	CURLcode cc = CURLE_OK;
	CURL *c;
	int rc = 0;

	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	c = curl_easy_init();
	if (!c || nparts > 16)
		return -1;
	mime = curl_mime_init(c);
	for (int i = 0; i < nparts && rc == 0; i++) {
		const struct http_part *p = &parts[i];
		curl_mimepart *part = curl_mime_addpart(mime);
		const char *fname = p->filename;

		curl_mime_name(part, p->field ? p->field : "file");
		if (p->path && !fname) {
			fname = strrchr(p->path, '/');
			fname = fname ? fname + 1 : p->path;
		}
		if (p->path && chunked) {
			files[i] = fopen(p->path, "rb");
			if (!files[i])
				rc = -1;
			else
				curl_mime_data_cb(part, -1, part_read, part_seek, NULL, files[i]);
		} else if (p->path) {
			if (curl_mime_filedata(part, p->path) != CURLE_OK)
				rc = -1;
		} else {
			curl_mime_data(part, p->data ? p->data : "", p->len);
		}
		if (fname) { /* a file part; without a name, a plain form field */
			curl_mime_filename(part, fname);
			curl_mime_type(part, "application/octet-stream");
		}
	}
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	h = request_setup(c, s, path, o, &b, r, 60000L);
	if (chunked)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (rc == 0)
		cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	curl_mime_free(mime);
	for (int i = 0; i < 16; i++)
		if (files[i])
			fclose(files[i]);
	r->body = b.p ? b.p : calloc(1, 1);
	r->body_len = b.n;
	if (rc == 0 && cc != CURLE_OK) {
		fprintf(stderr, "curl upload %s: %s\n", path, curl_easy_strerror(cc));
		rc = -1;
	}
	return rc;
}

json_t *json_at(json_t *j, const char *path)
{
	char key[128];

	while (j && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (json_is_array(j)) {
			char *end;
			long i = strtol(key, &end, 10);
			j = *end ? NULL : json_array_get(j, (size_t)i);
		} else {
			j = json_object_get(j, key);
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return j;
}

json_t *http_get_json(struct server *s, const char *path, const char *cookie, long *status)
{
	struct http_result r;
	json_t *j = NULL;

	*status = 0;
	if (http_do(s, path, &(struct http_opts){.cookie = cookie}, &r) == 0) {
		*status = r.status;
		j = json_loads(r.body, 0, NULL);
	}
	http_result_free(&r);
	return j;
}

bool job_state_ended(const char *state)
{
	return state && (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	                 strcmp(state, "cancelled") == 0);
}

json_t *http_job_wait(struct server *s, const char *cookie, long long id, int timeout_s)
{
	char path[96];
	json_t *j = NULL, *job;
	long st;
	struct timespec t0, t;

	snprintf(path, sizeof(path), "/api/v1/staff/jobs/%lld", id);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		json_decref(j);
		j = http_get_json(s, path, cookie, &st);
		if (job_state_ended(json_string_value(json_at(j, "job.state"))))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > timeout_s)
			break;
		usleep(40000);
	}
	job = json_incref(json_object_get(j, "job"));
	json_decref(j);
	return job ? job : json_object();
}

void setup_must(bool ok, const char *what, struct server *s, const char *dir1, const char *dir2)
{
	if (ok)
		return;
	fprintf(stderr, "setup failed: %s\n", what);
	server_kill(s);
	tmpdir_remove(dir1);
	tmpdir_remove(dir2);
	exit(2);
}
