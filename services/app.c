#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "migrate.h"

static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

int app_db(struct app *app, struct db **db)
{
	return db_pool_get(app->db, db);
}

int app_authenticate(void *ctx, struct http_req *req)
{
	struct app *app = ctx;
	const char *cookie = http_req_cookie(req, "sx_session");
	const char *authz = http_req_header(req, "Authorization");
	struct db *db;
	int rc;

	if (!cookie && !authz)
		return 0;
	if ((rc = app_db(app, &db)))
		return rc;
	if (authz && strncmp(authz, "Bearer ", 7) == 0)
		return auth_device_principal(app->auth, db, authz + 7, &req->who);
	if (cookie)
		return auth_session_principal(app->auth, db, cookie, app->now(), &req->who);
	return 0;
}

static time_t clock_now(void)
{
	return time(NULL);
}

int app_open(struct app **out, const struct config *cfg, char *err, size_t errlen)
{
	struct app *app;
	struct db *db = NULL;
	struct auth_settings as;
	char path[4096], msg[512];
	int rc, from = 0, to = 0;
	static const char *const dirs[] = {"media", "staging"};

	*out = NULL;
	app = calloc(1, sizeof(*app));
	if (!app)
		return -ENOMEM;
	app->cfg = *cfg;
	app->now = clock_now;
	app->web_fd = open(cfg->web_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if ((rc = fs_mkdirs(cfg->data, 0750))) {
		snprintf(err, errlen, "cannot create data directory %s: %s", cfg->data,
		         strerror(-rc));
		goto fail;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data, dirs[i]);
		if ((rc = make_dir(path, 0750))) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(-rc));
			goto fail;
		}
	}
	if ((rc = keys_load_or_create(cfg->data, &app->keys, NULL))) {
		snprintf(err, errlen, "%s/secret.key: %s", cfg->data,
		         rc == -EACCES    ? "readable by others; chmod 600 it"
		         : rc == -EBADMSG ? "damaged"
		                          : strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/blobs", cfg->data);
	if ((rc = blob_store_open(&app->blobs, path))) {
		snprintf(err, errlen, "cannot open blob store %s: %s", path, strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/shuxiang.db", cfg->data);
	if ((rc = db_pool_open(&app->db, path)) || (rc = db_pool_get(app->db, &db))) {
		snprintf(err, errlen, "cannot open database %s: %s", path, strerror(-rc));
		goto fail;
	}
	rc = migrate_apply(db, migrations_embedded, migrations_embedded_count, &from, &to, msg,
	                   sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path,
		         rc == -ENOTSUP ? "database is newer than this program" : msg);
		goto fail;
	}
	rc = pwhash_new(&app->ph, app->keys.pepper, (unsigned long long)cfg->pwhash_ops,
	                (size_t)cfg->pwhash_mem_mib << 20, (int)cfg->hash_concurrency);
	if (rc) {
		snprintf(err, errlen, "password hashing: out of memory");
		goto fail;
	}
	as = (struct auth_settings){
	    .reader_session_s = cfg->session_reader_days * 86400,
	    .reader_idle_s = cfg->session_reader_idle_days * 86400,
	    .staff_session_s = cfg->session_staff_hours * 3600,
	    .staff_idle_s = cfg->session_staff_idle_minutes * 60,
	    .max_failures = (int)cfg->login_max_failures,
	    .lock_s = cfg->login_lock_minutes * 60,
	    .addr_free_failures = (int)cfg->login_addr_free_failures,
	};
	if ((rc = auth_new(&app->auth, &app->keys, app->ph, &as)))
		goto fail;
	router_init(&app->router, app_authenticate, app->cfg.public_origin);
	router_add(&app->router, auth_routes, auth_routes_count);
	router_add(&app->router, ingest_routes, ingest_routes_count);
	router_add(&app->router, catalog_routes, catalog_routes_count);
	router_add(&app->router, system_routes, system_routes_count); /* pages last */
	*out = app;
	return 0;
fail:
	app_close(app);
	return rc;
}

void app_close(struct app *app)
{
	if (!app)
		return;
	auth_free(app->auth);
	pwhash_free(app->ph);
	db_pool_close(app->db);
	blob_store_close(app->blobs);
	if (app->web_fd >= 0)
		close(app->web_fd);
	keys_wipe(&app->keys);
	free(app);
}
