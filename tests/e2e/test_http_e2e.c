/* The HTTP core against the real server: errors, headers, body caps, static files, ranges. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

static char web[600], data[512];
static unsigned char big[2 * 1024 * 1024];

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static void make_web_fixture(const char *root)
{
	char path[1024];
	static const char index_html[] = "<!doctype html><title>reader</title>";
	static const char staff_html[] = "<!doctype html><title>staff</title>";
	static const char app_js[] = "console.log('hi')";

	snprintf(path, sizeof(path), "%s/assets", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/staff", root);
	mkdir(path, 0755);
	write_file(root, "index.html", index_html, strlen(index_html));
	write_file(root, "staff/index.html", staff_html, strlen(staff_html));
	write_file(root, "assets/app-1a2b.js", app_js, strlen(app_js));
	write_file(root, ".env", "SECRET=1", 8);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + (i >> 11));
	write_file(root, "big.bin", big, sizeof(big));
	/* Outside the root, and a link pointing at it from inside. */
	write_file(data, "outside.txt", "TOP SECRET", 10);
	snprintf(path, sizeof(path), "%s/link.txt", root);
	{
		char target[1024];
		snprintf(target, sizeof(target), "%s/outside.txt", data);
		if (symlink(target, path) != 0)
			perror("symlink");
	}
}

/* Raw request over a socket (no client-side path normalisation); returns the reply text. */
static int raw_request(int port, const char *req, size_t reqlen, char *out, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 5};
	size_t got = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, req, reqlen) != (ssize_t)reqlen) {
		close(fd);
		return -1;
	}
	while (got + 1 < n && (r = read(fd, out + got, n - got - 1)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fd);
	return 0;
}

static void test_errors_and_headers(struct server *s)
{
	struct http_result r;
	char v[512];

	http_do(s, "/api/v1/health", NULL, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_STR(r.body, "{\"status\":\"ok\"}");
	CHECK(http_header(&r, "X-Content-Type-Options", v, sizeof(v)) && !strcmp(v, "nosniff"),
	      "nosniff");
	CHECK(http_header(&r, "Referrer-Policy", v, sizeof(v)) && !strcmp(v, "same-origin"),
	      "referrer policy");
	CHECK(http_header(&r, "Cache-Control", v, sizeof(v)) && !strcmp(v, "no-store"),
	      "API answers are not stored");
	CHECK(!http_header(&r, "Server", v, sizeof(v)), "no version banner");
	http_result_free(&r);

	http_do(s, "/api/v1/no/such/route", NULL, &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK_CONTAINS(r.body, "\"error\":{\"code\":\"not_found\"");
	http_result_free(&r);

	http_do(s, "/api/v1/health", &(struct http_opts){.method = "DELETE"}, &r);
	CHECK_EQ_INT(r.status, 405);
	CHECK(http_header(&r, "Allow", v, sizeof(v)) && strstr(v, "GET"), "Allow lists GET");
	CHECK_CONTAINS(r.body, "\"code\":\"method_not_allowed\"");
	http_result_free(&r);

	/* Unknown /api/ paths never fall through to the pages. */
	http_do(s, "/api/v1/index.html", NULL, &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK_CONTAINS(r.body, "not_found");
	http_result_free(&r);
}

static void test_body_caps(struct server *s)
{
	char reply[4096];
	struct http_result r;
	char *body;

	/* A declared body over the route's cap is refused before any byte of it is sent. */
	raw_request(
	    s->port,
	    "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    "Content-Length: 100000000\r\n\r\n",
	    strlen("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
	           "application/json\r\nContent-Length: 100000000\r\n\r\n"),
	    reply, sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 413", 12) == 0, "got: %.40s", reply);
	CHECK_CONTAINS(reply, "too_large");

	/* Over the cap while streaming (chunked, no length declared). */
	{
		static const char head[] =
		    "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
		    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
		size_t n = strlen(head), chunk = 8192;
		char *req = malloc(n + 2 * (chunk + 16) + 8);
		size_t off = 0;

		memcpy(req, head, n);
		off = n;
		for (int i = 0; i < 2; i++) {
			off += (size_t)snprintf(req + off, 16, "%zx\r\n", chunk);
			memset(req + off, 'a', chunk);
			off += chunk;
			memcpy(req + off, "\r\n", 2);
			off += 2;
		}
		memcpy(req + off, "0\r\n\r\n", 5);
		off += 5;
		raw_request(s->port, req, off, reply, sizeof(reply));
		CHECK(strncmp(reply, "HTTP/1.1 413", 12) == 0, "chunked over cap: %.40s", reply);
		free(req);
	}

	/* Just under the cap is read and judged on its content (bad JSON → 400). */
	body = malloc(4000);
	memset(body, ' ', 3999);
	body[0] = '{';
	body[3999] = '\0';
	http_do(s, "/api/v1/auth/login", &(struct http_opts){.body = body}, &r);
	CHECK_EQ_INT(r.status, 400);
	CHECK_CONTAINS(r.body, "\"code\":\"bad_json\"");
	http_result_free(&r);
	free(body);
}

static void test_pages(struct server *s)
{
	struct http_result r;
	char v[512], etag[128];

	http_do(s, "/", NULL, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_CONTAINS(r.body, "<title>reader</title>");
	CHECK(http_header(&r, "Content-Type", v, sizeof(v)) && strstr(v, "text/html"), "html");
	CHECK(http_header(&r, "Content-Security-Policy", v, sizeof(v)) &&
	          strstr(v, "default-src 'self'") && strstr(v, "frame-ancestors 'none'") &&
	          !strstr(v, "unsafe-inline"),
	      "page CSP: %s", v);
	http_result_free(&r);

	http_do(s, "/staff", NULL, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_CONTAINS(r.body, "<title>staff</title>");
	http_result_free(&r);
	http_do(s, "/staff/", NULL, &r);
	CHECK_CONTAINS(r.body, "<title>staff</title>");
	http_result_free(&r);

	http_do(s, "/assets/app-1a2b.js", NULL, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(http_header(&r, "Content-Type", v, sizeof(v)) && strstr(v, "javascript"), "js type");
	CHECK(http_header(&r, "Cache-Control", v, sizeof(v)) && strstr(v, "immutable"),
	      "hashed assets are immutable");
	CHECK(http_header(&r, "ETag", etag, sizeof(etag)), "ETag");
	http_result_free(&r);

	{
		char inm[200];
		snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
		http_do(s, "/assets/app-1a2b.js", &(struct http_opts){.headers = {inm}}, &r);
		CHECK_EQ_INT(r.status, 304);
		CHECK_EQ_INT(r.body_len, 0);
		http_result_free(&r);
		http_do(s, "/assets/app-1a2b.js",
		        &(struct http_opts){.headers = {"If-None-Match: \"other\""}}, &r);
		CHECK_EQ_INT(r.status, 200);
		http_result_free(&r);
	}

	/* No listing, no hidden files, nothing outside the root. */
	http_do(s, "/assets/", NULL, &r);
	CHECK_EQ_INT(r.status, 404);
	http_result_free(&r);
	http_do(s, "/.env", NULL, &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK(!strstr(r.body, "SECRET"), "hidden file not served");
	http_result_free(&r);
	http_do(s, "/link.txt", NULL, &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK(!strstr(r.body, "TOP SECRET"), "symlink out of the root not followed");
	http_result_free(&r);
	{
		static const char *const escapes[] = {
		    "GET /../outside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		    "GET /%2e%2e/outside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		    "GET /assets/..%2f..%2foutside.txt HTTP/1.1\r\nHost: x\r\nConnection: "
		    "close\r\n\r\n",
		    "GET /..%5coutside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		};
		char reply[8192];
		for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
			raw_request(s->port, escapes[i], strlen(escapes[i]), reply, sizeof(reply));
			CHECK(!strstr(reply, "TOP SECRET"), "escape %zu served the file", i);
			CHECK(strncmp(reply, "HTTP/1.1 4", 10) == 0, "escape %zu: %.30s", i, reply);
		}
	}
}

static void test_ranges(struct server *s)
{
	struct http_result r;
	char v[256];

	http_do(s, "/big.bin", NULL, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_INT(r.body_len, sizeof(big));
	CHECK(r.body_len == sizeof(big) && memcmp(r.body, big, sizeof(big)) == 0, "whole file");
	CHECK(http_header(&r, "Accept-Ranges", v, sizeof(v)) && !strcmp(v, "bytes"), "ranges");
	http_result_free(&r);

	http_do(s, "/big.bin", &(struct http_opts){.headers = {"Range: bytes=1048576-1114111"}},
	        &r);
	CHECK_EQ_INT(r.status, 206);
	CHECK_EQ_INT(r.body_len, 65536);
	CHECK(r.body_len == 65536 && memcmp(r.body, big + 1048576, 65536) == 0, "range bytes");
	CHECK(http_header(&r, "Content-Range", v, sizeof(v)) &&
	          !strcmp(v, "bytes 1048576-1114111/2097152"),
	      "Content-Range: %s", v);
	http_result_free(&r);

	http_do(s, "/big.bin", &(struct http_opts){.headers = {"Range: bytes=-10"}}, &r);
	CHECK_EQ_INT(r.status, 206);
	CHECK(r.body_len == 10 && memcmp(r.body, big + sizeof(big) - 10, 10) == 0, "suffix range");
	http_result_free(&r);

	http_do(s, "/big.bin", &(struct http_opts){.headers = {"Range: bytes=2000000-"}}, &r);
	CHECK_EQ_INT(r.status, 206);
	CHECK_EQ_INT(r.body_len, sizeof(big) - 2000000);
	http_result_free(&r);

	http_do(s, "/big.bin", &(struct http_opts){.headers = {"Range: bytes=2097152-"}}, &r);
	CHECK_EQ_INT(r.status, 416);
	CHECK(http_header(&r, "Content-Range", v, sizeof(v)) && !strcmp(v, "bytes */2097152"),
	      "416 Content-Range: %s", v);
	http_result_free(&r);

	/* Malformed or multiple ranges: the whole file, as RFC 9110 allows. */
	http_do(s, "/big.bin", &(struct http_opts){.headers = {"Range: bytes=5-1"}}, &r);
	CHECK_EQ_INT(r.status, 200);
	http_result_free(&r);
	http_do(s, "/big.bin", &(struct http_opts){.headers = {"Range: bytes=0-1,5-6"}}, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_INT(r.body_len, sizeof(big));
	http_result_free(&r);
	/* If-Range with a stale validator: the whole file. */
	http_do(s, "/big.bin",
	        &(struct http_opts){.headers = {"Range: bytes=0-9", "If-Range: \"stale\""}}, &r);
	CHECK_EQ_INT(r.status, 200);
	http_result_free(&r);

	http_do(s, "/big.bin", &(struct http_opts){.method = "HEAD"}, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(http_header(&r, "Content-Length", v, sizeof(v)) && !strcmp(v, "2097152"), "HEAD");
	CHECK_EQ_INT(r.body_len, 0);
	http_result_free(&r);
}

int main(void)
{
	struct server s;
	const char *extra[3];

	tmpdir_make(data, sizeof(data), "sx-http");
	snprintf(web, sizeof(web), "%s/web", data);
	mkdir(web, 0755);
	make_web_fixture(web);
	extra[0] = "--web-dir";
	extra[1] = web;
	extra[2] = NULL;
	if (server_start(&s, data, extra)) {
		CHECK(0, "server starts");
		CHECK_DONE();
	}
	test_errors_and_headers(&s);
	test_body_caps(&s);
	test_pages(&s);
	test_ranges(&s);
	/* A request cannot write lines of its own into the log. */
	{
		static const char forge[] = "GET /x%0Aforged%20line%22 HTTP/1.1\r\nHost: x\r\n"
		                            "Connection: close\r\n\r\n";
		char reply[2048], line[2048];
		bool forged = false, escaped = false;
		FILE *f;

		raw_request(s.port, forge, strlen(forge), reply, sizeof(reply));
		usleep(100000);
		f = fopen(s.log, "r");
		while (f && fgets(line, sizeof(line), f)) {
			forged |= strncmp(line, "forged", 6) == 0;
			escaped |= strstr(line, "path=\"/x%0Aforged line%22\"") != NULL;
		}
		if (f)
			fclose(f);
		CHECK(!forged, "a forged log line");
		CHECK(escaped, "the path is logged escaped");
	}
	/* After all of that the server still answers. */
	{
		struct http_result r;
		http_do(&s, "/api/v1/health", NULL, &r);
		CHECK_EQ_INT(r.status, 200);
		http_result_free(&r);
	}
	server_stop(&s);
	tmpdir_remove(data);
	CHECK_DONE();
}
