/* Subcommands: parse their words, open the app, call domain code, print the result. */
#include "commands.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "circulation/branch.h"
#include "cli.h"
#include "http/server.h"
#include "catalog/search.h"
#include "fts.h"
#include "ingest/ingest.h"
#include "transcode.h"
#include "log.h"
#include "fsutil.h"
#include "migrate.h"

#define ERR_SIZE 512

/* Parse words and settings, print help when asked; returns -1 to go on, else an exit code. */
static int setup(int argc, char **argv, const char *usage, const char *const *own, struct cli *c,
                 struct config *cfg, bool settings_help)
{
	char err[ERR_SIZE];
	enum log_level lvl;

	if (cli_parse(c, argc, argv, err, sizeof(err)) ||
	    (!c->help && cli_config(c, cfg, own, err, sizeof(err)))) {
		fprintf(stderr, "shuxiang: %s\nusage: %s\n", err, usage);
		return 2;
	}
	if (c->help) {
		printf("usage: %s\n\n", usage);
		if (settings_help)
			config_print_help(stdout);
		else
			printf("Common settings: --data DIR (default ./var), --config FILE. "
			       "See `shuxiang serve --help` for all.\n");
		return 0;
	}
	if (log_level_parse(cfg->log_level, &lvl) == 0)
		log_init(lvl);
	return -1;
}

static int open_app(const struct config *cfg, struct app **app)
{
	char err[ERR_SIZE];
	int rc = app_open(app, cfg, err, sizeof(err));

	if (rc)
		fprintf(stderr, "shuxiang: %s\n", err);
	return rc;
}

static void print_bind_url(const char *bind, int port)
{
	const char *host = strchr(bind, ':') ? NULL : bind;

	if (strcmp(bind, "0.0.0.0") == 0)
		host = "127.0.0.1";
	if (host)
		printf("listening on http://%s:%d\n", host, port);
	else
		printf("listening on http://[%s]:%d\n", strcmp(bind, "::") == 0 ? "::1" : bind,
		       port);
}

int cmd_serve(int argc, char **argv)
{
	struct http_server_config hc;
	struct http_server *srv = NULL;
	struct config cfg;
	struct app *app = NULL;
	struct cli c;
	sigset_t set;
	char staging[4096 + 16];
	int rc, sig = 0;

	rc = setup(argc, argv, "shuxiang serve [--data DIR] [--port N] [--bind ADDR] [SETTINGS]",
	           NULL, &c, &cfg, true);
	if (rc >= 0)
		return rc;
	/* Block the stop signals before any thread starts, so that only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (open_app(&cfg, &app))
		return 1;
	snprintf(staging, sizeof(staging), "%s/staging", cfg.data);
	hc = (struct http_server_config){
	    .bind = cfg.bind,
	    .port = (int)cfg.port,
	    .threads = (int)cfg.threads,
	    .conn_timeout = (int)cfg.conn_timeout,
	    .conn_limit = (int)cfg.conn_limit,
	    .per_ip_conn_limit = (int)cfg.per_ip_conn_limit,
	    .conn_memory = (size_t)cfg.conn_memory_kb << 10,
	    .default_max_body = (size_t)cfg.body_max_kb << 10,
	    .access_log = cfg.access_log,
	    .trust_proxy = cfg.trust_proxy,
	    .blocking_threads = (int)cfg.blocking_threads,
	    .blocking_queue_max = (int)cfg.blocking_queue_max,
	    .upload_dir = staging,
	    .upload_max_body = (uint64_t)cfg.upload_max_mb << 20,
	};
	{
		int swept = 0;
		long long indexed = 0;
		struct db *db;
		if (ingest_sweep_staging(app, &swept) == 0 && swept)
			log_info("staging swept=%d (left by a stopped server)", swept);
		/* the converter search folds traditional text with (also its set-up, once) */
		const char *fold = fts_t2s_error();
		if (fold)
			log_warn("search t2s=off reason=\"%s\" (traditional text is not folded)",
			         fold);
		/* resources made before the search index existed */
		if (app_db(app, &db) == 0 && search_index_missing(db, &indexed) == 0 && indexed)
			log_info("search indexed=%lld (resources without an index row)", indexed);
	}
	{
		const struct job_lane lanes[] = {{"default", (int)cfg.job_threads},
		                                 {"transcode", (int)cfg.transcode_threads}};
		const struct job_runner_config jc = {.kinds = ingest_job_kinds,
		                                     .nkinds = ingest_job_kinds_count,
		                                     .lanes = lanes,
		                                     .nlanes = 2,
		                                     .pool = app->db,
		                                     .app = app,
		                                     .now = app->now,
		                                     .poll_ms = 1000};

		rc = job_runner_start(&app->jobs, &jc);
		if (rc) {
			fprintf(stderr, "shuxiang: cannot start job workers: %s\n", strerror(-rc));
			app_close(app);
			return 1;
		}
	}
	rc = http_server_start(&srv, &hc, &app->router, app);
	if (rc) {
		fprintf(stderr, "shuxiang: cannot listen on %s:%lld: %s\n", cfg.bind, cfg.port,
		        strerror(-rc));
		job_runner_stop(app->jobs);
		app_close(app);
		return 1;
	}
	if (app->web_fd < 0)
		log_warn("web_dir=\"%s\" missing: pages answer 404 (build them: make web)",
		         cfg.web_dir);
	log_info("serve data=\"%s\" web_dir=\"%s\" threads=%lld", cfg.data, cfg.web_dir,
	         cfg.threads);
	print_bind_url(cfg.bind, http_server_port(srv));
	fflush(stdout);
	sigwait(&set, &sig);
	log_info("stopping signal=%d", sig);
	http_server_stop(srv);
	job_runner_stop(app->jobs);
	app_close(app);
	return 0;
}

int cmd_migrate(int argc, char **argv)
{
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	int rc, level = 0;

	rc = setup(argc, argv, "shuxiang migrate [--data DIR]", NULL, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (open_app(&cfg, &app))
		return 1;
	if (app_db(app, &db) == 0 && migrate_level(db, &level) == 0)
		printf("database %s/shuxiang.db is at schema level %d (this build knows %d)\n",
		       cfg.data, level, migrations_embedded[migrations_embedded_count - 1].version);
	app_close(app);
	return 0;
}

static int report(int rc, const char *what)
{
	switch (rc) {
	case 0:
		return 0;
	case -EEXIST:
		fprintf(stderr, "shuxiang: %s: already exists\n", what);
		break;
	case -ENOENT:
		fprintf(stderr, "shuxiang: %s: not found\n", what);
		break;
	case -EINVAL:
		fprintf(stderr, "shuxiang: %s: invalid value (see --help)\n", what);
		break;
	default:
		fprintf(stderr, "shuxiang: %s: %s\n", what, strerror(-rc));
	}
	return 1;
}

int cmd_user(int argc, char **argv)
{
	static const char usage[] =
	    "shuxiang user add --kind staff --role admin|cataloguer|circulation|content "
	    "--login NAME [--name 姓名] [--branch CODE]\n"
	    "       shuxiang user add --kind reader --card BARCODE [--name 姓名] [--phone "
	    "1xxxxxxxxxx] "
	    "[--branch CODE]\n"
	    "       shuxiang user passwd --login NAME | --card BARCODE   (prints a new password)";
	static const char *const own[] = {"kind", "role",  "login",  "card",
	                                  "name", "phone", "branch", NULL};
	char password[AUTH_PASSWORD_LEN + 1];
	const char *kind, *who;
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	long long id = 0;
	int rc;

	rc = setup(argc, argv, usage, own, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos != 1 || (strcmp(c.pos[0], "add") != 0 && strcmp(c.pos[0], "passwd") != 0)) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	kind = cli_opt(&c, "kind");
	if (strcmp(c.pos[0], "add") == 0 &&
	    (!kind || (strcmp(kind, "staff") != 0 && strcmp(kind, "reader") != 0) ||
	     (strcmp(kind, "staff") == 0 && (!cli_opt(&c, "login") || !cli_opt(&c, "role"))) ||
	     (strcmp(kind, "reader") == 0 && !cli_opt(&c, "card")))) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	who = cli_opt(&c, "login") ? cli_opt(&c, "login") : cli_opt(&c, "card");
	if (strcmp(c.pos[0], "passwd") == 0 && !who) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (open_app(&cfg, &app))
		return 1;
	if ((rc = app_db(app, &db)))
		goto out;
	if (strcmp(c.pos[0], "passwd") == 0) {
		rc = auth_reset_password(app->auth, db, who, password);
		if (!rc)
			printf("new password for %s (shown once; other sessions were signed "
			       "out):\n%s\n",
			       who, password);
	} else if (strcmp(kind, "staff") == 0) {
		rc = auth_create_staff(app->auth, db, cli_opt(&c, "login"), cli_opt(&c, "name"),
		                       cli_opt(&c, "role"), cli_opt(&c, "branch"), password, &id);
		if (!rc)
			printf("created staff account %lld: login %s, role %s\n"
			       "password (shown once):\n%s\n",
			       id, cli_opt(&c, "login"), cli_opt(&c, "role"), password);
	} else {
		rc = auth_create_reader(app->auth, db, cli_opt(&c, "card"), cli_opt(&c, "name"),
		                        cli_opt(&c, "phone"), cli_opt(&c, "branch"), password, &id);
		if (!rc)
			printf("created reader account %lld: card %s\npassword (shown once):\n%s\n",
			       id, cli_opt(&c, "card"), password);
	}
	sodium_memzero(password, sizeof(password));
out:
	app_close(app);
	return report(rc, who ? who : "user");
}

int cmd_device(int argc, char **argv)
{
	static const char usage[] =
	    "shuxiang device add --kind kiosk|selfcheck|screen --branch CODE [--name NAME]";
	static const char *const own[] = {"kind", "branch", "name", NULL};
	char secret[AUTH_TOKEN_SIZE];
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	long long id = 0;
	int rc;

	rc = setup(argc, argv, usage, own, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos != 1 || strcmp(c.pos[0], "add") != 0 || !cli_opt(&c, "kind") ||
	    !cli_opt(&c, "branch")) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (open_app(&cfg, &app))
		return 1;
	rc = app_db(app, &db);
	if (!rc)
		rc = auth_create_device(app->auth, db, cli_opt(&c, "kind"), cli_opt(&c, "branch"),
		                        cli_opt(&c, "name"), secret, &id);
	if (!rc)
		printf("created %s device %lld at branch %s\n"
		       "secret for its Authorization: Bearer header (shown once):\n%s\n",
		       cli_opt(&c, "kind"), id, cli_opt(&c, "branch"), secret);
	sodium_memzero(secret, sizeof(secret));
	app_close(app);
	if (rc == -ENOENT)
		fprintf(stderr,
		        "(add a branch with `shuxiang branch add --code CODE --name 名称`)\n");
	return report(rc, cli_opt(&c, "branch"));
}

int cmd_branch(int argc, char **argv)
{
	static const char usage[] = "shuxiang branch add --code CODE --name 名称";
	static const char *const own[] = {"code", "name", NULL};
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	long long id = 0;
	int rc;

	rc = setup(argc, argv, usage, own, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos != 1 || strcmp(c.pos[0], "add") != 0 || !cli_opt(&c, "code") ||
	    !cli_opt(&c, "name")) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (open_app(&cfg, &app))
		return 1;
	rc = app_db(app, &db);
	if (!rc)
		rc = branch_add(db, cli_opt(&c, "code"), cli_opt(&c, "name"), &id);
	if (!rc)
		printf("created branch %lld: %s %s\n", id, cli_opt(&c, "code"),
		       cli_opt(&c, "name"));
	app_close(app);
	return report(rc, cli_opt(&c, "code"));
}

/* True when dir does not exist or is an empty directory. */
static bool usable_backup_dest(const char *dir)
{
	struct dirent *e;
	bool empty = true;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/*
 * The copy is built in a fresh DEST.partial-XXXXXX next to DEST, synced, and renamed to DEST
 * at the end: a backup is whole or absent, never mixed with older files, and never written over
 * a data directory (a live one least of all).
 */
static int write_backup(struct app *app, const char *data, const char *dest, long *copied)
{
	char part[4096], from[4200], to[4200], parent[4096];
	struct blob_store *dst = NULL;
	struct db *db;
	int rc;

	if (snprintf(part, sizeof(part), "%s.partial-XXXXXX", dest) >= (int)sizeof(part))
		return -ENAMETOOLONG;
	if (!mkdtemp(part))
		return -errno;
	/* The keys first: a copy of the database is useless without the pepper. */
	snprintf(from, sizeof(from), "%s/secret.key", data);
	snprintf(to, sizeof(to), "%s/secret.key", part);
	if ((rc = fs_copy_file(from, to, 0600)))
		goto out;
	snprintf(to, sizeof(to), "%s/shuxiang.db", part);
	if ((rc = app_db(app, &db)) || (rc = db_backup_to(db, to)))
		goto out;
	snprintf(to, sizeof(to), "%s/blobs", part);
	if ((rc = blob_store_open(&dst, to)) || (rc = blob_store_copy(app->blobs, dst, copied)))
		goto out;
	if ((rc = fs_fsync_dir(part)))
		goto out;
	if (rename(part, dest) < 0) {
		rc = -errno;
		goto out;
	}
	fs_dirname(dest, parent, sizeof(parent));
	rc = fs_fsync_dir(parent);
out:
	blob_store_close(dst);
	if (rc)
		fs_remove_tree(part);
	return rc;
}

int cmd_backup(int argc, char **argv)
{
	static const char usage[] = "shuxiang backup DEST [--data DIR]   (DEST: new or empty)";
	struct config cfg;
	struct app *app;
	struct cli c;
	long copied = 0;
	int rc;

	rc = setup(argc, argv, usage, NULL, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos != 1) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (!usable_backup_dest(c.pos[0])) {
		fprintf(stderr,
		        "shuxiang: %s exists and is not empty; back up into a new directory\n",
		        c.pos[0]);
		return 1;
	}
	if (open_app(&cfg, &app))
		return 1;
	rc = write_backup(app, cfg.data, c.pos[0], &copied);
	if (!rc)
		printf("backup of %s written to %s (database, %ld blobs, keys)\n", cfg.data,
		       c.pos[0], copied);
	app_close(app);
	return report(rc, c.pos[0]);
}

int cmd_check(int argc, char **argv)
{
	char msg[512] = "";
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	int rc;

	rc = setup(argc, argv, "shuxiang check [--data DIR]   (PRAGMA integrity_check)", NULL, &c,
	           &cfg, false);
	if (rc >= 0)
		return rc;
	if (open_app(&cfg, &app))
		return 1;
	rc = app_db(app, &db);
	if (!rc)
		rc = db_integrity_check(db, msg, sizeof(msg));
	printf("integrity_check: %s\n", rc == 0 ? "ok" : *msg ? msg : strerror(-rc));
	app_close(app);
	return rc ? 1 : 0;
}

/* One file given to `shuxiang ingest`: stored, then ingested the way a worker would. */
static int ingest_one_path(struct app *app, const char *path, int *failed)
{
	struct ingest_ctx x = {.app = app};
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char hex[BLOB_HEX_SIZE], reason[512] = "";
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		(*failed)++;
		return 0;
	}
	rc = blob_put_fd(app->blobs, fd, hex, NULL);
	close(fd);
	if (rc) {
		fprintf(stderr, "%s: cannot store: %s\n", path, strerror(-rc));
		(*failed)++;
		return 0;
	}
	if (ingest_sniff_path(path) == INGEST_BUNDLE) {
		json_t *report = NULL, *row;
		size_t i;

		rc = ingest_bundle(&x, hex, name, &report, reason, sizeof(reason));
		if (rc) {
			printf("%s\tfailed\t%s\n", path, reason[0] ? reason : strerror(-rc));
			(*failed)++;
			return 0;
		}
		json_array_foreach(json_object_get(report, "rows"), i, row)
		{
			const char *st = json_string_value(json_object_get(row, "status"));
			json_t *res = json_object_get(row, "resource");
			printf("%s:%s\t%s\t%s\n", path,
			       json_string_value(json_object_get(row, "file")), st,
			       strcmp(st, "failed") == 0
			           ? json_string_value(json_object_get(row, "reason"))
			           : json_string_value(json_object_get(res, "title")));
			*failed += strcmp(st, "failed") == 0;
		}
		json_decref(report);
		return 0;
	}
	{
		struct ingest_outcome oc;
		if (ingest_sniff_path(path) == INGEST_MEDIA)
			ingest_media(&x, hex, name, NULL, &oc);
		else
			ingest_blob(&x, hex, name, NULL, &oc);
		if (oc.status == INGEST_FAILED) {
			printf("%s\tfailed\t%s\n", path, oc.reason);
			(*failed)++;
		} else {
			printf("%s\t%s\t%lld\t%s\n", path,
			       oc.status == INGEST_OK ? "ok" : "duplicate", oc.resource_id,
			       oc.title);
		}
	}
	return 0;
}

int cmd_ingest(int argc, char **argv)
{
	static const char usage[] =
	    "shuxiang ingest FILE... [--data DIR]   (EPUB, TXT, PDF, audio, video, or a "
	    "zip/tar/tar.gz bundle with manifest.csv or manifest.json)";
	struct config cfg;
	struct app *app;
	struct cli c;
	int rc, failed = 0;

	rc = setup(argc, argv, usage, NULL, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos < 1) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (open_app(&cfg, &app))
		return 1;
	for (int i = 0; i < c.npos; i++)
		ingest_one_path(app, c.pos[i], &failed);
	app_close(app);
	return failed ? 1 : 0;
}

static int print_percent(void *opaque, int percent)
{
	(void)opaque;
	fprintf(stderr, "\r%3d%%", percent);
	if (percent == 100)
		fputc('\n', stderr);
	return 0;
}

/*
 * `shuxiang transcode IN OUTDIR`: the ingest's HLS ladder for one file (several audio files:
 * one audiobook rendition, a chapter each), without a data directory. For checking a file
 * before uploading it, and for bench/transcode.sh.
 */
int cmd_transcode(int argc, char **argv)
{
	static const char usage[] =
	    "shuxiang transcode INPUT... OUTDIR [--threads N] [--preset P] [--speech yes|no] "
	    "[--progress yes|no]";
	static const char *const own[] = {"threads", "preset", "speech", "progress", NULL};
	struct transcode_options opts = {0};
	struct transcode_result res;
	struct config cfg;
	struct cli c;
	struct timespec t0, t1;
	const char *v, *outdir;
	char err[256] = "";
	int64_t *starts = NULL;
	size_t failed = 0;
	int rc;

	rc = setup(argc, argv, usage, own, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos < 2) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if ((v = cli_opt(&c, "threads"))) {
		char *end;
		long t = strtol(v, &end, 10);
		if (*end || t < 1 || t > 64) {
			fprintf(stderr, "shuxiang: --threads takes 1–64\n");
			return 2;
		}
		opts.threads = (int)t;
	}
	opts.preset = cli_opt(&c, "preset");
	opts.speech = (v = cli_opt(&c, "speech")) && strcmp(v, "yes") == 0;
	if (!(v = cli_opt(&c, "progress")) || strcmp(v, "no"))
		opts.progress = print_percent;
	outdir = c.pos[c.npos - 1];
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		fprintf(stderr, "shuxiang: %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (c.npos == 2) {
		rc = transcode_hls(c.pos[0], outdir, &opts, &res, err, sizeof(err));
	} else {
		starts = calloc((size_t)c.npos - 1, sizeof(*starts));
		rc = starts ? transcode_hls_audio(c.pos, (size_t)c.npos - 1, outdir, &opts, starts,
		                                  &failed, &res, err, sizeof(err))
		            : -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "shuxiang: %s: %s\n", c.npos == 2 ? c.pos[0] : c.pos[failed],
		        err[0] ? err : strerror(-rc));
		free(starts);
		return 1;
	}
	for (int i = 0; i < res.nb_renditions; i++)
		printf("%s\t%dx%d\t%lld\t%s%s\n", res.renditions[i].name, res.renditions[i].width,
		       res.renditions[i].height, (long long)res.renditions[i].bandwidth,
		       res.renditions[i].codecs, res.renditions[i].copied ? "\tcopied" : "");
	for (int i = 0; starts && i < c.npos - 1; i++)
		printf("chapter\t%lld\t%s\n", (long long)starts[i], c.pos[i]);
	printf("seconds\t%.3f\nduration_ms\t%lld\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (long long)res.duration_ms);
	free(starts);
	return 0;
}

/* `shuxiang reindex`: the search index rebuilt from the resources and passages, in one
 * transaction (readers keep the old index until it commits). */
int cmd_reindex(int argc, char **argv)
{
	static const char usage[] = "shuxiang reindex [--data DIR]";
	struct config cfg;
	struct app *app;
	struct db *db;
	struct cli c;
	struct timespec t0, t1;
	long long resources = 0, passages = 0;
	int rc;

	rc = setup(argc, argv, usage, NULL, &c, &cfg, false);
	if (rc >= 0)
		return rc;
	if (c.npos) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	if (open_app(&cfg, &app))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = app_db(app, &db);
	if (!rc)
		rc = search_reindex(db, &resources, &passages);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc)
		fprintf(stderr, "shuxiang: reindex failed: %s\n", strerror(-rc));
	else
		printf("reindexed %lld resources and %lld passages in %.2f s\n", resources,
		       passages,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	app_close(app);
	return rc ? 1 : 0;
}
