#ifndef SHUXIANG_HTTP_H
#define SHUXIANG_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "arena.h"

/*
 * The HTTP layer as handlers see it: requests, responses, route tables. Nothing here names
 * libmicrohttpd; services/http/server.c is the only file that includes it.
 */

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
	HTTP_OTHER = 1 << 7,
};

/*
 * Who may call a route: a route's `auth` is a mask of these grants; a principal holds some.
 * 0 = public. Staff with the admin role hold every staff grant.
 */
enum auth_grant {
	GRANT_READER = 1 << 0,
	GRANT_ADMIN = 1 << 1,
	GRANT_CATALOGUER = 1 << 2,
	GRANT_CIRCULATION = 1 << 3,
	GRANT_CONTENT = 1 << 4,
	GRANT_KIOSK = 1 << 5,
	GRANT_SELFCHECK = 1 << 6,
	GRANT_SCREEN = 1 << 7,
};
#define GRANT_STAFF (GRANT_ADMIN | GRANT_CATALOGUER | GRANT_CIRCULATION | GRANT_CONTENT)
#define GRANT_DEVICE (GRANT_KIOSK | GRANT_SELFCHECK | GRANT_SCREEN)
#define GRANT_PERSON (GRANT_READER | GRANT_STAFF)

enum principal_kind { PRINCIPAL_NONE, PRINCIPAL_READER, PRINCIPAL_STAFF, PRINCIPAL_DEVICE };

/* The authenticated caller of a request (filled by the authenticator). */
struct principal {
	enum principal_kind kind;
	long long account_id;
	long long patron_id;  /* readers */
	long long session_id; /* cookie sessions; 0 for bearer devices */
	long long branch_id;  /* staff home branch or device branch; 0 = none */
	unsigned grants;
	bool via_cookie; /* state changes then need a matching Origin */
};

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_UPLOADS 64
#define HTTP_MAX_FORM_FIELDS 32

/* A file part of a multipart/form-data body (ROUTE_UPLOAD), streamed to a staging file. */
struct http_upload {
	const char *field;    /* form field name (arena) */
	const char *filename; /* as the client named it, path part removed (arena; untrusted) */
	const char *path;     /* the staging file the server wrote, under a name it made (arena);
	                         unlinked when the request completes: rename it to keep it */
	uint64_t size;
	char sha256[65]; /* lower-case hex SHA-256 of the part, computed while it streamed in */
};

struct route;

struct http_req {
	struct arena *arena; /* request memory, freed when the request completes */
	enum http_method method;
	const char *method_name;
	const char *path;        /* percent-decoded path, no query */
	const char *client_addr; /* text form of the peer (or X-Forwarded-For with trust_proxy) */
	bool tls;                /* reached us over TLS (trusted proxy said so) */
	const char *body;        /* NUL-terminated copy of the body, or NULL */
	size_t body_len;
	int nparams;
	const char *param_name[HTTP_MAX_PARAMS];
	const char *param_value[HTTP_MAX_PARAMS];
	struct http_upload uploads[HTTP_MAX_UPLOADS]; /* ROUTE_UPLOAD: the file parts */
	int nuploads;
	int nform; /* ROUTE_UPLOAD: the other (small) form fields */
	const char *form_name[HTTP_MAX_FORM_FIELDS];
	const char *form_value[HTTP_MAX_FORM_FIELDS];
	const struct route *route;
	struct principal who;
	void *conn; /* opaque connection handle for header lookups */
};

#define RESP_MAX_HEADERS 12

struct http_resp {
	int status;
	char *body; /* malloc'd, owned, handed to the server */
	size_t body_len;
	const char *content_type; /* static or arena string */
	int fd;                   /* >= 0: send [offset, offset+length) of this file; owned */
	uint64_t offset, length;
	int nheaders;
	const char *header_name[RESP_MAX_HEADERS];
	const char *header_value[RESP_MAX_HEADERS];
};

/* A handler fills resp and returns 0, or returns a negative errno that the errno table maps to a
 * status and error body. ctx is the pointer given to the server (struct app *). */
typedef int (*route_fn)(void *ctx, struct http_req *req, struct http_resp *resp);

enum route_flag {
	ROUTE_FALLBACK = 1 << 0,      /* pattern "/ *": catch-all for pages: never matches /api/ */
	ROUTE_SECRET_PATH = 1 << 1,   /* path holds a credential: log the pattern, not the path */
	ROUTE_BLOCKING = 1 << 3,      /* the handler may block (password hashing): it runs on a
	                                 worker thread while the connection is suspended */
	ROUTE_AUTH_OPTIONAL = 1 << 4, /* a public route that still wants to know who calls */
	ROUTE_UPLOAD = 1 << 5, /* multipart/form-data: authorised before the body is read, file
	                          parts streamed to staging files (never held in memory), capped
	                          by max_body or the server's upload cap; runs like BLOCKING */
};

struct route {
	unsigned methods;    /* mask of enum http_method; GET routes also answer HEAD */
	const char *pattern; /* "/api/v1/loans/:id"; a final "*" matches the rest */
	route_fn fn;
	unsigned auth;   /* mask of enum auth_grant; 0 = public */
	size_t max_body; /* bytes; 0 = the configured default for JSON bodies */
	unsigned flags;  /* enum route_flag */
};

/* --- request accessors (implemented by the server) --- */

/* Request header, or NULL (borrowed for the request). */
const char *http_req_header(struct http_req *req, const char *name);
/* Cookie value, or NULL. */
const char *http_req_cookie(struct http_req *req, const char *name);
/* Query-string argument (decoded), or NULL. */
const char *http_req_query(struct http_req *req, const char *name);
/* A text field of an upload form (ROUTE_UPLOAD), or NULL. */
const char *http_req_form(struct http_req *req, const char *name);
/* Route parameter ":name", or NULL. */
const char *http_req_param(struct http_req *req, const char *name);

/*
 * Typed getters. Each returns 0, or -EINVAL after filling resp with a 400 that names the
 * parameter. A missing optional parameter leaves *out untouched and returns 0.
 */
int http_param_id(struct http_req *req, struct http_resp *resp, const char *name, long long *out);
int http_query_int(struct http_req *req, struct http_resp *resp, const char *name, long long min,
                   long long max, long long *out);

/*
 * Parse the body as a JSON object (depth ≤ 32, no duplicate keys). *out is borrowed for the
 * request (released with the arena). On bad input fills resp with 400 and returns -EINVAL.
 */
int http_req_json(struct http_req *req, struct http_resp *resp, json_t **out);

/*
 * json_unpack_ex(in, JSON_STRICT, fmt, ...) with a 400 naming the problem (wrong type, missing
 * or unknown field) on failure. Returns 0 or -EINVAL.
 */
int http_unpack(struct http_resp *resp, json_t *in, const char *fmt, ...);

/* --- responses --- */

/* JSON body from value (stolen). Returns 0 or -ENOMEM. */
int resp_json(struct http_resp *resp, int status, json_t *value);
/* {"error":{"code":code,"message":message}}. Returns 0. */
int resp_error(struct http_resp *resp, int status, const char *code, const char *message);
/* Add a header; name and value must live for the request (literals or arena strings). */
int resp_header(struct http_resp *resp, const char *name, const char *value);
/* Map a negative errno to the status, code and message of the error table. */
void http_errno_status(int err, int *status, const char **code, const char **message);

/*
 * Serve an open file (fd taken) with ETag/Last-Modified, If-None-Match → 304, and a single
 * byte range → 206 or 416. known is the file's stat when the caller has it (else NULL);
 * cache_control may be NULL ("no-cache").
 */
int http_send_file(struct http_req *req, struct http_resp *resp, int fd, const struct stat *known,
                   const char *content_type, const char *cache_control);

/* MIME type for a file name by extension (never NULL). */
const char *http_mime_type(const char *name);

/* Open the regular file rel (relative, plain segments: no "..", ".", hidden names or
 * backslashes) below the directory dirfd, never outside it (links included). The fd, or
 * -ENOENT (also for a folder). */
int http_open_beneath(int dirfd, const char *rel);

/* Serve files below the directory root_fd for GET/HEAD (pages, assets): a folder serves its
 * index.html, no listing, nothing outside the folder (links included). root_fd < 0 → 404. */
int http_static_serve(int root_fd, struct http_req *req, struct http_resp *resp);

#endif
