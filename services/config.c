#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef SHUXIANG_WEB_DIR
#define SHUXIANG_WEB_DIR "player-web/dist"
#endif

enum cfg_type { CFG_INT, CFG_BOOL, CFG_STR };

struct cfg_def {
	const char *name;
	enum cfg_type type;
	const char *def;
	long long min, max;
	size_t off;
	const char *help;
};

#define F(field) offsetof(struct config, field)

static const struct cfg_def table[] = {
    {"data", CFG_STR, "./var", 0, 0, F(data), "data directory (database, blobs, media, keys)"},
    {"bind", CFG_STR, "127.0.0.1", 0, 0, F(bind), "address to listen on (IPv4 or IPv6)"},
    {"port", CFG_INT, "8080", 0, 65535, F(port), "TCP port; 0 = any free port (printed)"},
    {"threads", CFG_INT, "4", 1, 256, F(threads), "HTTP worker threads (epoll each)"},
    {"blocking_threads", CFG_INT, "2", 1, 64, F(blocking_threads),
     "worker threads for requests that block (password hashing)"},
    {"blocking_queue_max", CFG_INT, "256", 1, 100000, F(blocking_queue_max),
     "requests waiting for those workers before 503"},
    {"job_threads", CFG_INT, "2", 1, 32, F(job_threads),
     "workers for ingest and other background jobs"},
    {"transcode_threads", CFG_INT, "1", 1, 16, F(transcode_threads),
     "audio/video transcodes run at once"},
    {"conn_timeout", CFG_INT, "30", 1, 3600, F(conn_timeout),
     "seconds a connection may stay idle before it is closed"},
    {"conn_limit", CFG_INT, "4000", 16, 1000000, F(conn_limit), "total open connections"},
    {"per_ip_conn_limit", CFG_INT, "64", 0, 1000000, F(per_ip_conn_limit),
     "open connections per client address; 0 = no limit (use 0 behind a proxy)"},
    {"conn_memory_kb", CFG_INT, "64", 16, 4096, F(conn_memory_kb),
     "memory per connection for headers and buffers, KiB"},
    {"body_max_kb", CFG_INT, "64", 1, 1048576, F(body_max_kb),
     "request body cap of JSON routes that state none, KiB"},
    {"upload_max_mb", CFG_INT, "20480", 1, 1048576, F(upload_max_mb),
     "largest upload (a monthly bundle), MiB"},
    {"web_dir", CFG_STR, SHUXIANG_WEB_DIR, 0, 0, F(web_dir), "built pages (player-web/dist)"},
    {"access_log", CFG_BOOL, "1", 0, 1, F(access_log), "log one line per request"},
    {"trust_proxy", CFG_BOOL, "0", 0, 1, F(trust_proxy),
     "trust X-Forwarded-For/-Proto from a local TLS proxy (sets the Secure cookie flag)"},
    {"public_origin", CFG_STR, "", 0, 0, F(public_origin),
     "origin readers use, e.g. https://lib.example.cn (besides the Host header)"},
    {"session_reader_days", CFG_INT, "30", 1, 365, F(session_reader_days),
     "reader sessions end after this many days"},
    {"session_reader_idle_days", CFG_INT, "7", 1, 365, F(session_reader_idle_days),
     "reader sessions end after this many idle days"},
    {"session_staff_hours", CFG_INT, "12", 1, 72, F(session_staff_hours),
     "staff sessions end after this many hours"},
    {"session_staff_idle_minutes", CFG_INT, "30", 1, 1440, F(session_staff_idle_minutes),
     "staff sessions end after this many idle minutes"},
    {"login_max_failures", CFG_INT, "10", 3, 100, F(login_max_failures),
     "consecutive failed sign-ins of one login before it is locked"},
    {"login_lock_minutes", CFG_INT, "15", 1, 1440, F(login_lock_minutes),
     "how long a locked login stays locked"},
    {"login_addr_free_failures", CFG_INT, "20", 1, 10000, F(login_addr_free_failures),
     "failed sign-ins from one address before exponential back-off starts"},
    {"hash_concurrency", CFG_INT, "2", 1, 64, F(hash_concurrency),
     "password hashes computed at once"},
    {"pwhash_ops", CFG_INT, "5", 2, 20, F(pwhash_ops), "argon2id passes (t)"},
    {"pwhash_mem_mib", CFG_INT, "19", 19, 4096, F(pwhash_mem_mib), "argon2id memory, MiB (m)"},
    {"log_level", CFG_STR, "info", 0, 0, F(log_level), "debug, info, warn or error"},
    {"timezone", CFG_STR, "Asia/Shanghai", 0, 0, F(timezone),
     "library time zone for days and due dates"},
};

#define NDEFS ((int)(sizeof(table) / sizeof(table[0])))

static const struct cfg_def *find(const char *name)
{
	char norm[64];
	size_t n = strlen(name);

	if (n >= sizeof(norm))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		norm[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
	for (int i = 0; i < NDEFS; i++)
		if (strcmp(table[i].name, norm) == 0)
			return &table[i];
	return NULL;
}

bool config_has(const char *name)
{
	return find(name) != NULL;
}

static int set_def(struct config *c, const struct cfg_def *d, const char *v, char *err,
                   size_t errlen)
{
	char *base = (char *)c + d->off;
	char *end;
	long long x;

	switch (d->type) {
	case CFG_STR:
		if (strlen(v) >= CONFIG_STR_MAX) {
			snprintf(err, errlen, "%s: value longer than %d bytes", d->name,
			         CONFIG_STR_MAX - 1);
			return -EINVAL;
		}
		snprintf(base, CONFIG_STR_MAX, "%s", v);
		return 0;
	case CFG_BOOL:
		if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
		    !strcasecmp(v, "on"))
			*(bool *)base = true;
		else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		         !strcasecmp(v, "off"))
			*(bool *)base = false;
		else {
			snprintf(err, errlen, "%s: expected 0 or 1, got \"%s\"", d->name, v);
			return -EINVAL;
		}
		return 0;
	case CFG_INT:
		errno = 0;
		x = strtoll(v, &end, 10);
		if (errno || end == v || *end) {
			snprintf(err, errlen, "%s: expected an integer, got \"%s\"", d->name, v);
			return -EINVAL;
		}
		if (x < d->min || x > d->max) {
			snprintf(err, errlen, "%s: %lld is outside %lld..%lld", d->name, x, d->min,
			         d->max);
			return -EINVAL;
		}
		*(long long *)base = x;
		return 0;
	}
	return -EINVAL;
}

void config_init(struct config *c)
{
	char err[128];

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < NDEFS; i++)
		set_def(c, &table[i], table[i].def, err, sizeof(err));
}

int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
	const struct cfg_def *d = find(name);

	if (!d) {
		snprintf(err, errlen, "unknown setting \"%s\" (see serve --help)", name);
		return -ENOENT;
	}
	return set_def(c, d, value, err, errlen);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	char line[2048], sub[256];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *name, *value;

		lineno++;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected name = value", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		name = trim(s);
		value = trim(eq + 1);
		rc = config_set(c, name, value, sub, sizeof(sub));
		if (rc) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
			rc = -EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_load_env(struct config *c, char *err, size_t errlen)
{
	char var[80];

	for (int i = 0; i < NDEFS; i++) {
		const char *v;
		size_t j;

		memcpy(var, "SHUXIANG_", 9);
		for (j = 0; table[i].name[j] && j + 10 < sizeof(var); j++)
			var[9 + j] = (char)toupper((unsigned char)table[i].name[j]);
		var[9 + j] = '\0';
		v = getenv(var);
		if (v && set_def(c, &table[i], v, err, errlen))
			return -EINVAL;
	}
	return 0;
}

void config_print_help(FILE *f)
{
	fprintf(f, "Settings (defaults → --config FILE → SHUXIANG_NAME → --name VALUE):\n\n");
	fprintf(f, "  %-28s %-18s %-16s %s\n", "name", "default", "bounds", "meaning");
	for (int i = 0; i < NDEFS; i++) {
		const struct cfg_def *d = &table[i];
		char bounds[48];

		if (d->type == CFG_INT)
			snprintf(bounds, sizeof(bounds), "%lld..%lld", d->min, d->max);
		else if (d->type == CFG_BOOL)
			snprintf(bounds, sizeof(bounds), "0|1");
		else
			snprintf(bounds, sizeof(bounds), "text");
		fprintf(f, "  --%-26s %-18s %-16s %s\n", d->name, *d->def ? d->def : "\"\"", bounds,
		        d->help);
	}
}
