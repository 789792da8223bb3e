#ifndef SHUXIANG_CONFIG_H
#define SHUXIANG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_STR_MAX 512

/*
 * Every setting of the server, from one table (config.c): name, default, bounds, help.
 * Sources, later ones winning: defaults → file (--config FILE, lines "name = value")
 * → environment (SHUXIANG_NAME) → command-line flags (--name value, --name=value).
 */
struct config {
	char data[CONFIG_STR_MAX];
	char bind[CONFIG_STR_MAX];
	long long port;
	long long threads;
	long long blocking_threads;
	long long blocking_queue_max;
	long long job_threads;
	long long transcode_threads;
	long long conn_timeout;
	long long conn_limit;
	long long per_ip_conn_limit;
	long long conn_memory_kb;
	long long body_max_kb;
	long long upload_max_mb;
	char web_dir[CONFIG_STR_MAX];
	bool access_log;
	bool trust_proxy;
	char public_origin[CONFIG_STR_MAX];
	long long session_reader_days;
	long long session_reader_idle_days;
	long long session_staff_hours;
	long long session_staff_idle_minutes;
	long long login_max_failures;
	long long login_lock_minutes;
	long long login_addr_free_failures;
	long long hash_concurrency;
	long long pwhash_ops;
	long long pwhash_mem_mib;
	char log_level[CONFIG_STR_MAX];
	char timezone[CONFIG_STR_MAX];
};

/* Fill c with the defaults. */
void config_init(struct config *c);

/*
 * Set one setting from text, checking type and bounds. name may use '-' for '_'.
 * Returns 0, -ENOENT for an unknown name, -EINVAL for a bad value (err gets a sentence).
 */
int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen);

/* True if name (with '-' or '_') is a setting. */
bool config_has(const char *name);

/* Read "name = value" lines ('#' comments, blank lines). Errors name the file and line. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Apply every SHUXIANG_<NAME> variable of the environment that names a setting. */
int config_load_env(struct config *c, char *err, size_t errlen);

/* Print the table: name, default, bounds, help (for `serve --help`). */
void config_print_help(FILE *f);

#endif
