/* The `shuxiang` command line: subcommands, settings and their precedence, no default accounts. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "harness.h"

static char out[65536];

static bool matches(const char *s, const char *re)
{
	regex_t r;
	bool ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
		return false;
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static void test_help(void)
{
	static const char *const settings[] = {"--data",
	                                       "--bind",
	                                       "--port",
	                                       "--threads",
	                                       "--conn_timeout",
	                                       "--conn_limit",
	                                       "--per_ip_conn_limit",
	                                       "--conn_memory_kb",
	                                       "--body_max_kb",
	                                       "--web_dir",
	                                       "--trust_proxy",
	                                       "--session_reader_days",
	                                       "--session_staff_idle_minutes",
	                                       "--login_max_failures",
	                                       "--login_lock_minutes",
	                                       "--hash_concurrency",
	                                       "--pwhash_ops",
	                                       "--pwhash_mem_mib",
	                                       "--timezone"};

	CHECK_EQ_INT(sx_run_all(out, sizeof(out), (char *)NULL, (char *)NULL), 2);
	CHECK_EQ_INT(sx_run_all(out, sizeof(out), "--help", (char *)NULL), 0);
	CHECK_CONTAINS(out, "serve");
	CHECK_CONTAINS(out, "backup");
	CHECK_EQ_INT(sx_run_all(out, sizeof(out), "serve", "--help", (char *)NULL), 0);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		CHECK_CONTAINS(out, settings[i]);
	/* Each line gives the default and the bounds. */
	CHECK(matches(out, "--port +8080 +0\\.\\.65535"), "port line: default and bounds");
	CHECK(matches(out, "--login_max_failures +10 +3\\.\\.100"), "lock line");
	CHECK_EQ_INT(sx_run_all(out, sizeof(out), "nonsense", (char *)NULL), 2);
}

static void test_bad_settings(const char *data)
{
	CHECK_EQ_INT(sx_run(NULL, 0, "serve", "--data", data, "--port", "70000", (char *)NULL), 2);
	CHECK_EQ_INT(sx_run(NULL, 0, "serve", "--data", data, "--no-such-flag", "1", (char *)NULL),
	             2);
	CHECK_EQ_INT(sx_run(NULL, 0, "serve", "--data", data, "--threads", (char *)NULL), 2);
	CHECK_EQ_INT(sx_run(NULL, 0, "serve", "--data", data, "--config", "/nonexistent/x.conf",
	                    (char *)NULL),
	             2);
}

/* The threads=N the server logged at start-up. */
static int logged_threads(const char *data, const char *const *extra)
{
	char path[700], line[1024];
	struct server s;
	int threads = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/server.log", data);
	unlink(path);
	if (server_start(&s, data, extra))
		return -1;
	server_stop(&s);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " threads=");
		if (strstr(line, "serve data=") && p)
			threads = (int)strtol(p + 9, NULL, 10);
	}
	if (f)
		fclose(f);
	return threads;
}

static void test_precedence(const char *data)
{
	char conf[700];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/shuxiang.conf", data);
	f = fopen(conf, "w");
	fprintf(f, "# test\nthreads = 3\n");
	fclose(f);
	{
		const char *none[] = {NULL};
		const char *file[] = {"--config", conf, NULL};
		const char *flag[] = {"--config", conf, "--threads", "6", NULL};

		CHECK_EQ_INT(logged_threads(data, none), 4); /* default */
		CHECK_EQ_INT(logged_threads(data, file), 3); /* file over default */
		setenv("SHUXIANG_THREADS", "5", 1);
		CHECK_EQ_INT(logged_threads(data, file), 5); /* environment over file */
		CHECK_EQ_INT(logged_threads(data, flag), 6); /* flag over environment */
		unsetenv("SHUXIANG_THREADS");
	}
}

static void test_accounts(const char *data)
{
	char last[256], path[700];
	struct server s;
	struct stat sb;

	/* A fresh library has no account at all: the usual guesses get nowhere. */
	if (server_start(&s, data, NULL) == 0) {
		CHECK_EQ_INT(http_login(&s, "admin", "admin", NULL, 0), 401);
		CHECK_EQ_INT(http_login(&s, "admin", "12345678", NULL, 0), 401);
		CHECK_EQ_INT(http_login(&s, "root", "password", NULL, 0), 401);
		server_stop(&s);
	}
	snprintf(path, sizeof(path), "%s/secret.key", data);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "secret.key 0600");
	snprintf(path, sizeof(path), "%s/shuxiang.db", data);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 077) == 0, "database private: %o",
	      sb.st_mode & 0777);

	/* The generated password stands alone on the last line. */
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "staff",
	                    "--role", "admin", "--login", "boss", (char *)NULL),
	             0);
	CHECK(matches(last, "^[A-Za-z0-9]{16}$"), "password line: %s", last);
	if (server_start(&s, data, NULL) == 0) {
		CHECK_EQ_INT(http_login(&s, "boss", last, NULL, 0), 200);
		server_stop(&s);
	}
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "staff",
	                    "--role", "admin", "--login", "boss", (char *)NULL),
	             1); /* taken */
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "staff",
	                    "--role", "superuser", "--login", "x1", (char *)NULL),
	             1); /* no such role */
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "reader",
	                    "--card", "K0001", "--name", "读者", (char *)NULL),
	             0);
	CHECK(matches(last, "^[A-Za-z0-9]{16}$"), "reader password line: %s", last);
	/* A staff login may not equal a card number: sign-in would be ambiguous. */
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "staff",
	                    "--role", "content", "--login", "K0001", (char *)NULL),
	             1);
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "reader",
	                    "--card", "bad card!", (char *)NULL),
	             1);
	CHECK_EQ_INT(sx_run(last, sizeof(last), "user", "add", "--data", data, "--kind", "reader",
	                    (char *)NULL),
	             2); /* --card missing */

	/* Devices need an existing branch; the secret is alone on the last line. */
	CHECK_EQ_INT(sx_run(last, sizeof(last), "device", "add", "--data", data, "--kind", "kiosk",
	                    "--branch", "NOPE", (char *)NULL),
	             1);
	CHECK_EQ_INT(sx_run(last, sizeof(last), "branch", "add", "--data", data, "--code", "ZG",
	                    "--name", "总馆", (char *)NULL),
	             0);
	CHECK_EQ_INT(sx_run(last, sizeof(last), "device", "add", "--data", data, "--kind",
	                    "selfcheck", "--branch", "ZG", (char *)NULL),
	             0);
	CHECK(matches(last, "^sxd_[A-Za-z0-9_-]{43}$"), "device secret line: %s", last);

	CHECK_EQ_INT(sx_run(last, sizeof(last), "migrate", "--data", data, (char *)NULL), 0);
	CHECK_CONTAINS(last, "schema level");
}

static void test_default_data_dir(const char *data)
{
	char cwd[1024], path[700];
	struct stat sb;

	if (!getcwd(cwd, sizeof(cwd)) || chdir(data) != 0)
		return;
	CHECK_EQ_INT(sx_run(NULL, 0, "migrate", (char *)NULL), 0);
	snprintf(path, sizeof(path), "%s/var/shuxiang.db", data);
	CHECK(stat(path, &sb) == 0, "--data defaults to ./var");
	if (chdir(cwd) != 0)
		perror("chdir");
}

/* Two processes opening a fresh data directory at once (say `migrate` and `serve` from a script)
 * both succeed: one creates the keys and schema, the other uses them. */
static void test_concurrent_first_start(const char *data)
{
	for (int round = 0; round < 5; round++) {
		char dir[700];
		pid_t a, b;
		int sa = -1, sb = -1;

		snprintf(dir, sizeof(dir), "%s/fresh%d", data, round);
		a = fork();
		if (a == 0)
			_exit(sx_run(NULL, 0, "migrate", "--data", dir, (char *)NULL));
		b = fork();
		if (b == 0)
			_exit(sx_run(NULL, 0, "migrate", "--data", dir, (char *)NULL));
		waitpid(a, &sa, 0);
		waitpid(b, &sb, 0);
		CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) &&
		          WEXITSTATUS(sb) == 0,
		      "round %d: both first starts succeed", round);
		CHECK_EQ_INT(sx_run(NULL, 0, "user", "add", "--data", dir, "--kind", "reader",
		                    "--card", "F0001", (char *)NULL),
		             0);
	}
}

/* `shuxiang demo`: 61 e-books, 12 videos and 3 audiobooks with chapters, all served; a second
 * run leaves the library as it is. */
static void test_demo(const char *data)
{
	char dir[700];
	struct server s;
	long st;
	json_t *j;
	size_t i;
	json_t *r;

	snprintf(dir, sizeof(dir), "%s/demo", data);
	CHECK_EQ_INT(sx_run_all(out, sizeof(out), "demo", "--data", dir, (char *)NULL), 0);
	CHECK_CONTAINS(out, "demo e-books: 61 added");
	CHECK_CONTAINS(out, "demo videos and audiobooks: 15 added");
	if (server_start(&s, dir, NULL)) {
		CHECK(false, "the demo library serves");
		return;
	}
	j = http_get_json(&s, "/api/v1/resources?kind=video&limit=100", NULL, &st);
	CHECK(st == 200 && json_array_size(json_object_get(j, "items")) == 12, "12 videos: %zu",
	      json_array_size(json_object_get(j, "items")));
	json_array_foreach(json_object_get(j, "items"), i, r)
	{
		CHECK(json_integer_value(json_object_get(r, "duration_ms")) >= 5000,
		      "a video's length");
		CHECK(json_is_object(json_object_get(r, "cover")), "a video's cover");
	}
	json_decref(j);
	j = http_get_json(&s, "/api/v1/resources?kind=audiobook&limit=100", NULL, &st);
	CHECK(st == 200 && json_array_size(json_object_get(j, "items")) == 3, "3 audiobooks: %zu",
	      json_array_size(json_object_get(j, "items")));
	json_array_foreach(json_object_get(j, "items"), i, r)
	{
		CHECK(json_array_size(json_object_get(r, "toc")) >= 3, "chapters of %s",
		      check_s(json_string_value(json_object_get(r, "title"))));
		CHECK_CONTAINS(json_string_value(json_at(r, "category.name")), "有声读物");
	}
	json_decref(j);
	/* search answers out of the box: pinyin initials, text inside the poems, traditional */
	j = http_get_json(&s, "/api/v1/search/suggest?q=lb", NULL, &st);
	{
		bool li_bai = false;
		json_array_foreach(json_object_get(j, "suggestions"), i, r)
		{
			li_bai |=
			    check_streq(json_string_value(json_object_get(r, "text")), "李白");
		}
		CHECK(st == 200 && li_bai, "lb suggests 李白 in the demo");
	}
	json_decref(j);
	j = http_get_json(&s, "/api/v1/search?q=%E6%98%8E%E6%9C%88&limit=50", NULL, &st); /* 明月 */
	{
		bool bed = false;
		json_array_foreach(json_object_get(j, "hits"), i, r)
		{
			bed |=
			    check_has(json_string_value(json_at(r, "snippet.text")), "床前明月光");
		}
		CHECK(st == 200 && bed, "明月 finds 床前明月光 inside a demo book");
	}
	json_decref(j);
	j = http_get_json(&s, "/api/v1/search?q=%E9%95%B7%E5%AE%89", NULL, &st); /* 長安 */
	CHECK(st == 200 && json_array_size(json_object_get(j, "hits")) > 0 &&
	          check_streq(json_string_value(json_at(j, "query.folded")), "长安"),
	      "長安 finds 长安 in the demo");
	json_decref(j);
	server_stop(&s);
	CHECK_EQ_INT(sx_run_all(out, sizeof(out), "demo", "--data", dir, (char *)NULL), 0);
	CHECK_CONTAINS(out, "already exists");
}

int main(void)
{
	char data[512];

	tmpdir_make(data, sizeof(data), "sx-cli");
	test_help();
	test_bad_settings(data);
	test_precedence(data);
	test_accounts(data);
	test_default_data_dir(data);
	test_concurrent_first_start(data);
	test_demo(data);
	tmpdir_remove(data);
	CHECK_DONE();
}
