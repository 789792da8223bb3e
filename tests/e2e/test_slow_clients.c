/* Slow or idle clients cannot starve others: 200 silent connections, per-address cap, timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

#define IDLE 200

static int connect_from(const char *src, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr_in b = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, src, &b.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Open IDLE connections from src; half send nothing, half an unfinished request head. */
static int open_idle(int port, const char *src, int *fds)
{
	int n = 0;

	for (int i = 0; i < IDLE; i++) {
		fds[i] = connect_from(src, port);
		if (fds[i] >= 0) {
			n++;
			if (i % 2 && write(fds[i], "GET / HTTP/1.1\r\nHost: slo", 25) < 0)
				perror("write");
		}
	}
	return n;
}

/* Connections the server has closed (EOF or reset) within wait_ms. */
static int count_closed(int *fds, int wait_ms)
{
	int closed = 0;

	usleep((useconds_t)wait_ms * 1000);
	for (int i = 0; i < IDLE; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		char c;
		if (fds[i] < 0)
			continue;
		if (poll(&p, 1, 0) == 1 && recv(fds[i], &c, 1, MSG_DONTWAIT) <= 0)
			closed++;
	}
	return closed;
}

static void close_all(int *fds)
{
	for (int i = 0; i < IDLE; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static double timed_health(struct server *s, const char *src, long *status)
{
	struct http_result r;
	double t0 = now_s(), dt;

	*status = 0;
	if (http_do(s, "/api/v1/health", &(struct http_opts){.interface = src, .timeout_ms = 5000},
	            &r) == 0)
		*status = r.status;
	dt = now_s() - t0;
	http_result_free(&r);
	return dt;
}

struct flood {
	struct server *s;
	int n;
	volatile bool *stop;
	int done;
};

/* Sign-in attempts in a loop, each from its own loopback address so that no address back-off
 * kicks in: every one costs an argon2id verification on the server. */
static void *flood_main(void *arg)
{
	struct flood *f = arg;
	char src[32], body[128];

	snprintf(src, sizeof(src), "127.0.1.%d", f->n + 1);
	for (int i = 0; !*f->stop && i < 1000; i++) {
		struct http_result r;
		snprintf(body, sizeof(body), "{\"login\":\"nobody-%d-%d\",\"password\":\"x\"}",
		         f->n, i);
		if (http_do(
		        f->s, "/api/v1/auth/login",
		        &(struct http_opts){.body = body, .interface = src, .timeout_ms = 20000},
		        &r) == 0)
			f->done++;
		http_result_free(&r);
	}
	return NULL;
}

/* While sign-ins keep every hashing slot busy, other requests are still answered at once:
 * hashing runs on worker threads, not on the threads that serve connections. */
static void test_signin_flood(const char *data)
{
	struct flood f[24];
	pthread_t t[24];
	volatile bool stop = false;
	struct server s;
	double worst = 0;
	long status;
	int done = 0;

	if (server_start(&s, data, NULL)) {
		CHECK(0, "server starts");
		return;
	}
	for (int i = 0; i < 24; i++) {
		f[i] = (struct flood){.s = &s, .n = i, .stop = &stop};
		pthread_create(&t[i], NULL, flood_main, &f[i]);
	}
	usleep(300000);
	for (int i = 0; i < 20; i++) {
		double dt = timed_health(&s, "127.0.0.3", &status);
		CHECK_EQ_INT(status, 200);
		if (dt > worst)
			worst = dt;
		usleep(50000);
	}
	stop = true;
	for (int i = 0; i < 24; i++) {
		pthread_join(t[i], NULL);
		done += f[i].done;
	}
	CHECK(done >= 10, "the flood did run: %d sign-ins answered", done);
	CHECK(worst < 0.5, "health answered within %.3f s during a sign-in flood", worst);
	printf("sign-in flood: %d sign-ins answered; slowest /health %.1f ms\n", done, worst * 1e3);
	server_stop(&s);
}

int main(void)
{
	char data[512];
	struct server s;
	int fds[IDLE], opened, closed;
	long status;
	double dt;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tmpdir_make(data, sizeof(data), "sx-slow");
	test_signin_flood(data);

	/* Default limits: an attacker's address is capped, everyone else is served at once. */
	if (server_start(&s, data, NULL)) {
		CHECK(0, "server starts");
		CHECK_DONE();
	}
	opened = open_idle(s.port, "127.0.0.1", fds);
	CHECK_EQ_INT(opened, IDLE);
	dt = timed_health(&s, "127.0.0.2", &status);
	CHECK_EQ_INT(status, 200);
	CHECK(dt < 1.0, "answered in %.3f s with %d idle connections open", dt, opened);
	closed = count_closed(fds, 300);
	CHECK(closed >= IDLE - 64, "per-address cap (64) closed %d of %d", closed, IDLE);
	close_all(fds);
	server_stop(&s);

	/* No per-address cap (as behind a proxy): 200 idle connections from the same address
	 * as the real client still do not delay it; an idle connection times out. */
	{
		const char *extra[] = {"--per-ip-conn-limit", "0", "--conn-timeout", "2", NULL};
		if (server_start(&s, data, extra)) {
			CHECK(0, "server restarts");
			CHECK_DONE();
		}
	}
	opened = open_idle(s.port, "127.0.0.1", fds);
	CHECK_EQ_INT(opened, IDLE);
	dt = timed_health(&s, "127.0.0.1", &status);
	CHECK_EQ_INT(status, 200);
	CHECK(dt < 1.0, "same address answered in %.3f s beside %d idle ones", dt, opened);
	CHECK_EQ_INT(count_closed(fds, 100), 0);
	closed = count_closed(fds, 3500);
	CHECK(closed == IDLE, "idle connections closed after the 2 s timeout: %d of %d", closed,
	      IDLE);
	close_all(fds);
	dt = timed_health(&s, "127.0.0.1", &status);
	CHECK_EQ_INT(status, 200);
	server_stop(&s);
	tmpdir_remove(data);
	CHECK_DONE();
}
