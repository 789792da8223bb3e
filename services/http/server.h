#ifndef SHUXIANG_SERVER_H
#define SHUXIANG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router.h"

/* The HTTP daemon: libmicrohttpd with a pool of epoll threads. */
struct http_server;

struct http_server_config {
	const char *bind; /* IPv4 or IPv6 literal */
	int port;         /* 0 = any free port */
	int threads;
	int conn_timeout;        /* seconds */
	int conn_limit;          /* total connections */
	int per_ip_conn_limit;   /* 0 = no limit */
	size_t conn_memory;      /* bytes per connection */
	size_t default_max_body; /* for routes with max_body 0 */
	bool access_log;
	bool trust_proxy;         /* X-Forwarded-For/-Proto from a loopback peer are believed */
	int blocking_threads;     /* workers for ROUTE_BLOCKING handlers */
	int blocking_queue_max;   /* waiting blocking requests before 503 */
	const char *upload_dir;   /* where ROUTE_UPLOAD file parts are written (same file system
	                             as the data directory, so handlers can rename them) */
	uint64_t upload_max_body; /* cap of ROUTE_UPLOAD bodies whose route says max_body 0 */
};

/*
 * Start listening and serving with router (borrowed; must outlive the server); ctx is handed to
 * every handler. Errors: -EADDRINUSE, -EINVAL (bad address), -EIO.
 */
int http_server_start(struct http_server **out, const struct http_server_config *cfg,
                      const struct router *router, void *ctx);

/* The port actually bound (useful with port 0). */
int http_server_port(struct http_server *s);

/* Stop accepting, finish or close connections, join the threads. Accepts NULL. */
void http_server_stop(struct http_server *s);

#endif
