/*
 * The only file that includes microhttpd.h: adapts MHD's callbacks to struct http_req /
 * struct http_resp, enforces body caps, adds the security headers, writes the access log.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../log.h"

/* Body bytes a refused request may still send before we close the connection. */
#define DISCARD_SLACK ((size_t)1 << 20)

struct conn_ctx;

/*
 * Handlers that may block (ROUTE_BLOCKING: argon2id for sign-in) must not hold an epoll thread,
 * or every other connection of that thread would wait. They run here, on worker threads, while
 * MHD keeps the connection suspended; the worker resumes it and MHD's thread sends the answer.
 */
struct workers {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct conn_ctx *head, *tail;
	int queued;
	bool stopping;
	int nthreads;
	pthread_t *threads;
};

struct http_server {
	struct MHD_Daemon *d;
	const struct router *router;
	void *ctx;
	struct http_server_config cfg;
	int port;
	struct workers w;
};

struct conn_ctx {
	struct http_req req;
	struct http_resp resp;
	struct arena *arena;
	char *body;
	size_t len, cap, max_body;
	bool decided; /* resp already holds the answer (404/405/413): ignore the body */
	bool queued;
	bool offloaded; /* handed to a worker; answer ready when done */
	bool done;
	struct MHD_Connection *conn;
	struct conn_ctx *next;
	size_t discarded;             /* body bytes dropped after the answer was decided */
	struct MHD_PostProcessor *pp; /* ROUTE_UPLOAD */
	int upload_fd;                /* the file part being written, or -1 */
	bool part_open;               /* a file part has started */
	bool part_empty_start;        /* it began with a call of size 0 and nothing came since */
	crypto_hash_sha256_state part_hash;
	const char *upload_dir;
	struct timespec start;
	char addr[INET6_ADDRSTRLEN];
};

static const char csp_page[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; media-src 'self' blob:; "
                               "connect-src 'self'; font-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
static const char csp_api[] = "default-src 'none'; frame-ancestors 'none'";

const char *http_req_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_cookie(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *http_req_form(struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nform; i++)
		if (strcmp(req->form_name[i], name) == 0)
			return req->form_value[i];
	return NULL;
}

const char *http_req_query(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum http_method method_of(const char *m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} t[] = {{"GET", HTTP_GET},        {"HEAD", HTTP_HEAD},   {"POST", HTTP_POST},
	         {"PUT", HTTP_PUT},        {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
	         {"OPTIONS", HTTP_OPTIONS}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].name) == 0)
			return t[i].m;
	return HTTP_OTHER;
}

static void peer_address(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, n, "-");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		          (socklen_t)n);
}

static bool is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

/* Behind a trusted local proxy, the client is the last X-Forwarded-For entry it appended. */
static void apply_proxy_headers(struct conn_ctx *c)
{
	const char *xff = http_req_header(&c->req, "X-Forwarded-For");
	const char *proto = http_req_header(&c->req, "X-Forwarded-Proto");

	if (proto && strcmp(proto, "https") == 0)
		c->req.tls = true;
	if (xff) {
		const char *last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		while (*last == ' ')
			last++;
		if (*last && strlen(last) < sizeof(c->addr)) {
			struct in6_addr a6;
			struct in_addr a4;
			if (inet_pton(AF_INET, last, &a4) == 1 ||
			    inet_pton(AF_INET6, last, &a6) == 1)
				snprintf(c->addr, sizeof(c->addr), "%s", last);
		}
	}
}

static void add_headers(struct MHD_Response *r, const struct http_resp *resp)
{
	bool has_cc = false, has_csp = false;

	for (int i = 0; i < resp->nheaders; i++) {
		if (!resp->header_name[i] || !resp->header_value[i])
			continue;
		MHD_add_response_header(r, resp->header_name[i], resp->header_value[i]);
		if (strcasecmp(resp->header_name[i], "Cache-Control") == 0)
			has_cc = true;
		if (strcasecmp(resp->header_name[i], "Content-Security-Policy") == 0)
			has_csp = true;
	}
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	if (!has_csp) {
		bool page = resp->content_type && strncmp(resp->content_type, "text/html", 9) == 0;
		MHD_add_response_header(r, "Content-Security-Policy", page ? csp_page : csp_api);
	}
	/* API answers may carry personal data: never stored unless the route says otherwise. */
	if (!has_cc)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static enum MHD_Result queue(struct http_server *s, struct MHD_Connection *conn, struct conn_ctx *c)
{
	struct http_resp *resp = &c->resp;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)s;
	if (resp->status == 0) {
		resp_error(resp, 500, "internal", "服务器内部错误 (internal error)");
	}
	if (resp->fd >= 0 && resp->status != 304) {
		r = MHD_create_response_from_fd_at_offset64(resp->length, resp->fd, resp->offset);
		if (r)
			resp->fd = -1; /* MHD closes it */
	} else {
		r = MHD_create_response_from_buffer(
		    resp->body_len, resp->body ? resp->body : (char *)"",
		    resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (r)
			resp->body = NULL;
	}
	if (!r)
		return MHD_NO;
	add_headers(r, resp);
	c->queued = true;
	ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void decide_413(struct conn_ctx *c)
{
	resp_error(&c->resp, 413, "too_large", "请求内容过大 (request body too large)");
	c->decided = true;
}

static void *worker_main(void *arg)
{
	struct http_server *s = arg;
	struct workers *w = &s->w;

	for (;;) {
		struct conn_ctx *c;

		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		c = w->head;
		if (!c) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		w->head = c->next;
		if (!w->head)
			w->tail = NULL;
		w->queued--;
		pthread_mutex_unlock(&w->lock);

		if (c->req.route->flags & ROUTE_UPLOAD)
			router_run(s->ctx, &c->req, &c->resp); /* authorised before the body */
		else
			router_dispatch(s->router, s->ctx, &c->req, &c->resp);
		c->done = true;
		MHD_resume_connection(c->conn);
	}
}

/* Suspend the connection and queue c for a worker. false when the queue is full or stopping:
 * the caller answers 503 at once. */
static bool offload(struct http_server *s, struct conn_ctx *c)
{
	struct workers *w = &s->w;
	bool ok;

	pthread_mutex_lock(&w->lock);
	ok = w->nthreads > 0 && !w->stopping && w->queued < s->cfg.blocking_queue_max;
	if (ok) {
		c->offloaded = true;
		c->next = NULL;
		MHD_suspend_connection(c->conn);
		if (w->tail)
			w->tail->next = c;
		else
			w->head = c;
		w->tail = c;
		w->queued++;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

static int workers_start(struct http_server *s)
{
	struct workers *w = &s->w;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->threads = calloc((size_t)s->cfg.blocking_threads, sizeof(*w->threads));
	if (!w->threads)
		return -ENOMEM;
	for (int i = 0; i < s->cfg.blocking_threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, s))
			return -EAGAIN;
		w->nthreads++;
	}
	return 0;
}

/* Let the workers finish (and resume) every queued connection, then join them. */
static void workers_stop(struct http_server *s)
{
	struct workers *w = &s->w;

	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	free(w->threads);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
}

/* ---- uploads (ROUTE_UPLOAD): multipart parts go to staging files as they arrive ---- */

static void upload_refuse(struct conn_ctx *c, int status, const char *code, const char *message)
{
	if (c->decided)
		return;
	resp_error(&c->resp, status, code, message);
	c->decided = true;
}

static int write_full(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The name a client gave a file, without any folder part (browsers on Windows send "C:\…"). */
static const char *base_name(struct arena *a, const char *filename)
{
	const char *b = filename;

	for (const char *p = filename; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	size_t n = strnlen(b, 256);

	if (n > 255) { /* cut, but never inside a UTF-8 sequence */
		n = 255;
		while (n > 0 && ((unsigned char)b[n] & 0xC0) == 0x80)
			n--;
	}
	return arena_strndup(a, b, n);
}

/* The file part being written is complete: close it and keep its digest. */
static void part_close(struct conn_ctx *c)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	struct http_upload *u;

	if (c->upload_fd < 0)
		return;
	close(c->upload_fd);
	c->upload_fd = -1;
	u = &c->req.uploads[c->req.nuploads - 1];
	crypto_hash_sha256_final(&c->part_hash, digest);
	sodium_bin2hex(u->sha256, sizeof(u->sha256), digest, sizeof(digest));
}

static enum MHD_Result post_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
	struct conn_ctx *c = cls;
	struct http_req *req = &c->req;

	(void)kind, (void)content_type, (void)transfer_encoding;
	if (c->decided)
		return MHD_YES;
	if (!filename) { /* a small text field, possibly in several pieces */
		size_t have = off && req->nform ? strlen(req->form_value[req->nform - 1]) : 0;
		char *v;

		if ((off == 0 && req->nform == HTTP_MAX_FORM_FIELDS) || have + size > 4096) {
			upload_refuse(c, 400, "bad_upload", "表单字段过多或过长 (form too large)");
			return MHD_YES;
		}
		if (off == 0) {
			req->form_name[req->nform] = arena_strdup(c->arena, key ? key : "");
			req->form_value[req->nform] = arena_strndup(c->arena, data, size);
			if (req->form_name[req->nform] && req->form_value[req->nform])
				req->nform++;
		} else if (req->nform && (v = arena_alloc(c->arena, have + size + 1))) {
			memcpy(v, req->form_value[req->nform - 1], have);
			memcpy(v + have, data, size);
			v[have + size] = '\0';
			req->form_value[req->nform - 1] = v;
		}
		return MHD_YES;
	}
	/* Every part starts with a call at offset 0 — an empty file with exactly one, of size 0.
	 * Only a call at offset 0 right after such an empty start of the same part continues it. */
	if (off == 0 && !(c->part_open && c->part_empty_start && size > 0 &&
	                  strcmp(req->uploads[req->nuploads - 1].field, key ? key : "") == 0 &&
	                  strcmp(req->uploads[req->nuploads - 1].filename,
	                         base_name(c->arena, filename)) == 0)) {
		struct http_upload *u;
		char *path;
		int fd;

		part_close(c);
		if (req->nuploads == HTTP_MAX_UPLOADS) {
			upload_refuse(c, 400, "bad_upload",
			              "一次上传的文件过多 (too many files in one upload)");
			return MHD_YES;
		}
		path = arena_printf(c->arena, "%s/upload-XXXXXX", c->upload_dir);
		if (!path || (fd = mkostemp(path, O_CLOEXEC)) < 0) {
			upload_refuse(c, 500, "staging_failed",
			              "服务器无法保存上传的文件 (cannot write staging file)");
			return MHD_YES;
		}
		u = &req->uploads[req->nuploads++];
		u->field = arena_strdup(c->arena, key ? key : "");
		u->filename = base_name(c->arena, filename);
		u->path = path;
		u->size = 0;
		c->upload_fd = fd;
		c->part_open = true;
		c->part_empty_start = size == 0;
		crypto_hash_sha256_init(&c->part_hash);
	}
	if (size && c->upload_fd >= 0) {
		int rc = write_full(c->upload_fd, data, size);
		if (rc) {
			upload_refuse(c, rc == -ENOSPC ? 507 : 500, "staging_failed",
			              rc == -ENOSPC
			                  ? "服务器磁盘空间不足 (no space left)"
			                  : "服务器无法保存上传的文件 (cannot write staging file)");
			return MHD_YES;
		}
		req->uploads[req->nuploads - 1].size += size;
		c->part_empty_start = false;
		crypto_hash_sha256_update(&c->part_hash, (const unsigned char *)data, size);
	}
	return MHD_YES;
}

/* Headers of an upload are in: authorise now, before a byte of the body is accepted. */
static void upload_begin(struct http_server *s, struct MHD_Connection *conn, struct conn_ctx *c)
{
	const char *ct =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (router_authorize(s->router, s->ctx, &c->req, &c->resp)) {
		c->decided = true;
		return;
	}
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) {
		upload_refuse(c, 415, "unsupported_media_type",
		              "请以 multipart/form-data 上传文件 (expected multipart/form-data)");
		return;
	}
	c->upload_dir = s->cfg.upload_dir;
	c->pp = MHD_create_post_processor(conn, 64 * 1024, post_part, c);
	if (!c->pp)
		upload_refuse(c, 400, "bad_upload", "上传格式无效 (malformed multipart body)");
}

static void upload_end(struct conn_ctx *c)
{
	if (c->pp) {
		if (MHD_destroy_post_processor(c->pp) == MHD_NO)
			upload_refuse(c, 400, "bad_upload",
			              "上传不完整或格式无效 (incomplete multipart body)");
		c->pp = NULL;
	}
	part_close(c);
	if (!c->decided && c->req.nuploads == 0)
		upload_refuse(c, 400, "bad_upload", "没有收到文件 (no file in the upload)");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct conn_ctx *c = *con_cls;
	int rc;

	(void)version;
	if (!c) {
		const struct route *rt = NULL;
		const char *cl;
		unsigned allowed = 0;

		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		*con_cls = c;
		clock_gettime(CLOCK_MONOTONIC, &c->start);
		c->resp.fd = -1;
		c->upload_fd = -1;
		if (arena_new(&c->arena))
			return MHD_NO;
		c->req.arena = c->arena;
		c->req.conn = conn;
		c->req.method = method_of(method);
		c->req.method_name = arena_strdup(c->arena, method);
		c->req.path = arena_strdup(c->arena, url);
		if (!c->req.method_name || !c->req.path)
			return MHD_NO;
		peer_address(conn, c->addr, sizeof(c->addr));
		if (s->cfg.trust_proxy && is_loopback(c->addr))
			apply_proxy_headers(c);
		c->req.client_addr = c->addr;

		rc = router_match(s->router, &c->req, &rt, &allowed);
		if (rc == -ENOENT) {
			resp_error(&c->resp, 404, "not_found", "未找到 (not found)");
			c->decided = true;
		} else if (rc == -EBADRQC) {
			char *allow = arena_printf(
			    c->arena, "%s%s%s%s%s%s", allowed & HTTP_GET ? "GET, HEAD, " : "",
			    allowed & HTTP_POST ? "POST, " : "", allowed & HTTP_PUT ? "PUT, " : "",
			    allowed & HTTP_PATCH ? "PATCH, " : "",
			    allowed & HTTP_DELETE ? "DELETE, " : "",
			    allowed & HTTP_OPTIONS ? "OPTIONS, " : "");
			if (allow && strlen(allow) >= 2)
				allow[strlen(allow) - 2] = '\0';
			resp_error(&c->resp, 405, "method_not_allowed",
			           "不支持该请求方法 (method not allowed)");
			resp_header(&c->resp, "Allow", allow);
			c->decided = true;
		} else if (rc) {
			resp_error(&c->resp, 503, "busy", "服务繁忙，请稍后再试 (busy, try again)");
			c->decided = true;
		} else {
			c->req.route = rt;
			c->max_body = rt->max_body ? rt->max_body : s->cfg.default_max_body;
			if ((rt->flags & ROUTE_UPLOAD) && !rt->max_body)
				c->max_body = (size_t)s->cfg.upload_max_body;
		}
		/* A declared body over the cap is refused before any of it is read; MHD then
		 * closes the connection, which is what we want for such a client. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (!c->decided && cl) {
			char *end;
			unsigned long long n = strtoull(cl, &end, 10);
			if (*end || n > c->max_body) {
				decide_413(c);
				return queue(s, conn, c);
			}
		}
		if (!c->decided && (c->req.route->flags & ROUTE_UPLOAD)) {
			upload_begin(s, conn, c);
			if (c->decided)
				return queue(s, conn, c);
		}
		return MHD_YES;
	}
	if (*upload_data_size && c->pp) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (c->decided) { /* the parts written so far are removed at completion */
			c->discarded += n;
			return c->discarded > DISCARD_SLACK ? MHD_NO : MHD_YES;
		}
		if (n > c->max_body - c->len) {
			decide_413(c);
			return MHD_YES;
		}
		c->len += n;
		if (MHD_post_process(c->pp, upload_data, n) == MHD_NO)
			upload_refuse(c, 400, "bad_upload",
			              "上传格式无效 (malformed multipart body)");
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (c->decided) {
			/* Discard what follows a refusal, but not forever: past the slack, hang up.
			 */
			c->discarded += n;
			return c->discarded > DISCARD_SLACK ? MHD_NO : MHD_YES;
		}
		if (n > c->max_body - c->len) {
			/* A chunked body that outgrew its cap. MHD 0.9.75 cannot queue a response
			 * in the middle of a body, so drop the rest and answer 413 at its end. */
			decide_413(c);
			free(c->body);
			c->body = NULL;
			c->len = 0;
			c->discarded = n;
			return MHD_YES;
		}
		if (c->len + n + 1 > c->cap) {
			size_t cap = c->cap ? c->cap : 1024;
			char *nb;
			while (cap < c->len + n + 1)
				cap *= 2;
			nb = realloc(c->body, cap);
			if (!nb)
				return MHD_NO;
			c->body = nb;
			c->cap = cap;
		}
		memcpy(c->body + c->len, upload_data, n);
		c->len += n;
		c->body[c->len] = '\0';
		return MHD_YES;
	}
	if (c->queued)
		return MHD_YES;
	if (c->offloaded && !c->done)
		return MHD_YES; /* not expected: MHD calls again only after the resume */
	if (c->pp || (c->req.route && (c->req.route->flags & ROUTE_UPLOAD) && !c->offloaded))
		upload_end(c);
	if (!c->decided && !c->offloaded) {
		c->req.body = c->body;
		c->req.body_len = c->len;
		if (c->req.route->flags & (ROUTE_BLOCKING | ROUTE_UPLOAD)) {
			c->conn = conn;
			if (offload(s, c))
				return MHD_YES;
			resp_error(&c->resp, 503, "busy", "服务繁忙，请稍后再试 (busy, try again)");
		} else {
			router_dispatch(s->router, s->ctx, &c->req, &c->resp);
		}
	}
	return queue(s, conn, c);
}

/* A path as it may appear in a log line: control bytes, quotes and backslashes escaped, so a
 * request cannot forge lines or fields. */
static void log_safe(const char *in, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; in && *in && o + 4 < n; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct conn_ctx *c = *con_cls;

	(void)conn;
	if (!c)
		return;
	if (s->cfg.access_log) {
		struct timespec end;
		double ms;
		const struct route *rt = c->req.route;
		const char *path = c->req.path;

		if (rt && (rt->flags & ROUTE_SECRET_PATH))
			path = rt->pattern;
		else if (!rt && path && router_path_is_secret(s->router, path))
			path = "(credential-bearing path not logged)";
		char safe[1024];

		clock_gettime(CLOCK_MONOTONIC, &end);
		log_safe(path, safe, sizeof(safe));
		ms = (double)(end.tv_sec - c->start.tv_sec) * 1e3 +
		     (double)(end.tv_nsec - c->start.tv_nsec) / 1e6;
		log_info("access method=%s path=\"%s\" status=%d ms=%.2f addr=%s account=%lld%s",
		         c->req.method_name ? c->req.method_name : "-", path ? safe : "-",
		         c->resp.status, ms, c->addr, c->req.who.account_id,
		         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	}
	if (c->pp)
		MHD_destroy_post_processor(c->pp);
	if (c->upload_fd >= 0)
		close(c->upload_fd);
	for (int i = 0; i < c->req.nuploads; i++)
		unlink(c->req.uploads[i].path); /* ENOENT when the handler kept it: fine */
	if (c->resp.fd >= 0)
		close(c->resp.fd);
	free(c->resp.body);
	free(c->body);
	arena_free(c->arena);
	free(c);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_warn("http_server msg=\"%s\"", buf);
}

int http_server_start(struct http_server **out, const struct http_server_config *cfg,
                      const struct router *router, void *ctx)
{
	struct sockaddr_storage ss;
	struct http_server *s;
	unsigned flags =
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *di;
	socklen_t sl;

	*out = NULL;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->bind, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)cfg->port);
		sl = sizeof(*a);
	} else if (inet_pton(AF_INET6, cfg->bind, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)cfg->port);
		sl = sizeof(*a);
		flags |= MHD_USE_IPv6;
	} else {
		return -EINVAL;
	}
	(void)sl;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->router = router;
	s->ctx = ctx;
	if (workers_start(s)) {
		workers_stop(s);
		free(s);
		return -EAGAIN;
	}
	s->d = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)cfg->conn_timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_conn_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
	if (!s->d) {
		int e = errno;
		workers_stop(s);
		free(s);
		return e == EADDRINUSE ? -EADDRINUSE : -EIO;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : cfg->port;
	*out = s;
	return 0;
}

int http_server_port(struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	/* MHD must not stop with suspended connections: drain the workers first. */
	MHD_quiesce_daemon(s->d);
	workers_stop(s);
	MHD_stop_daemon(s->d);
	free(s);
}
