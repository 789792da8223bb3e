#ifndef SHUXIANG_APP_H
#define SHUXIANG_APP_H

#include <time.h>

#include "auth/auth.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "blob.h"
#include "config.h"
#include "db.h"
#include "http/router.h"
#include "jobs/runner.h"

/*
 * Everything a handler or command needs, built once by app_open() and immutable afterwards
 * (members own their locks). Handed to every handler as its ctx.
 */
struct app {
	struct config cfg;
	struct keys keys;
	struct db_pool *db;
	struct blob_store *blobs;
	struct pwhash *ph;
	struct auth *auth;
	struct router router;
	int web_fd; /* the built pages (cfg.web_dir), opened once; -1 when absent */
	struct job_runner *jobs; /* set by `serve` before HTTP starts; NULL in other commands */
	time_t (*now)(void); /* the clock; tests of the scheduler inject their own */
};

/*
 * Open the data directory of cfg (creating it, its folders and secret.key when missing), apply
 * the migrations, and build the services. Errors are negative errnos; *err gets a sentence.
 */
int app_open(struct app **out, const struct config *cfg, char *err, size_t errlen);
void app_close(struct app *app);

/* The calling thread's database connection (see db_pool_get). */
int app_db(struct app *app, struct db **db);

/* Route tables of the services, added to app->router by app_open(). */
extern const struct route auth_routes[];
extern const size_t auth_routes_count;
extern const struct route catalog_routes[];
extern const size_t catalog_routes_count;
extern const struct route ingest_routes[];
extern const size_t ingest_routes_count;
extern const struct route system_routes[];
extern const size_t system_routes_count;

/* The router's authenticator: session cookie or device bearer secret → req->who. */
int app_authenticate(void *ctx, struct http_req *req);

#endif
