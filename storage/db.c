#include "db.h"
#include "fts.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define STMT_CACHE 256

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *h;
	struct stmt_slot cache[STMT_CACHE];
	int ncache;
	/* pool bookkeeping: the pool closes connections of threads that are still alive */
	struct db_pool *pool;
	struct db *next;
};

struct db_pool {
	char *path;
	pthread_key_t key;
	pthread_mutex_t lock;
	struct db *all;
};

int db_errno(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -EINVAL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_TOOBIG:
		return -EMSGSIZE;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CANTOPEN:
		return -EACCES;
	case SQLITE_NOTFOUND:
		return -ENOENT;
	default:
		return -EIO;
	}
}

static const char db_pragmas[] = "PRAGMA journal_mode=WAL;"
                                 "PRAGMA synchronous=FULL;"
                                 "PRAGMA foreign_keys=ON;"
                                 "PRAGMA temp_store=MEMORY;";

int db_open(struct db **out, const char *path)
{
	struct db *db = NULL;
	int rc;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &db->h,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                         SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc != SQLITE_OK) {
		rc = db_errno(rc);
		goto out;
	}
	sqlite3_busy_timeout(db->h, 5000);
	sqlite3_extended_result_codes(db->h, 1);
	/* Switching a fresh file to WAL needs a moment alone with it; the busy timeout does not
	 * cover that, so another process opening it at the same time means we wait here. */
	for (int i = 0; i < 100; i++) {
		rc = db_exec(db, db_pragmas);
		if (rc != -EBUSY)
			break;
		sqlite3_sleep(50);
	}
	if (rc)
		goto out;
	/* Every connection knows our FTS5 tokenizer: the search tables are declared with it. */
	rc = fts_register(db->h);
	if (rc)
		goto out;
	*out = db;
	db = NULL;
out:
	db_close(db);
	return rc;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close_v2(db->h);
	free(db);
}

sqlite3 *db_sqlite(struct db *db)
{
	return db->h;
}

const char *db_errmsg(struct db *db)
{
	return db && db->h ? sqlite3_errmsg(db->h) : "no database";
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	for (int i = 0; i < db->ncache; i++) {
		if (db->cache[i].sql == sql) {
			*out = db->cache[i].st;
			return 0;
		}
	}
	rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return db_errno(rc);
	if (db->ncache >= STMT_CACHE) {
		/* More distinct statements than the cache holds is a programming error (the project
		 * has a few dozen); evicting one could free a statement a caller still holds. */
		sqlite3_finalize(st);
		return -ENOSPC;
	}
	db->cache[db->ncache].sql = sql;
	db->cache[db->ncache].st = st;
	db->ncache++;
	*out = st;
	return 0;
}

int db_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_errno(rc);
}

int db_run(sqlite3_stmt *st)
{
	int rc = db_step(st);

	db_done(st);
	return rc < 0 ? rc : 0;
}

void db_done(sqlite3_stmt *st)
{
	if (!st)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int db_exec(struct db *db, const char *sql)
{
	return db_errno(sqlite3_exec(db->h, sql, NULL, NULL, NULL));
}

int db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
	int rc = db_exec(db, "COMMIT");

	if (rc)
		db_rollback(db);
	return rc;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

long long db_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

int db_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	int rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);

	return db_errno(rc);
}

const char *db_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

static void pool_unlink(struct db_pool *pool, struct db *db)
{
	pthread_mutex_lock(&pool->lock);
	for (struct db **p = &pool->all; *p; p = &(*p)->next) {
		if (*p == db) {
			*p = db->next;
			break;
		}
	}
	pthread_mutex_unlock(&pool->lock);
}

static void pool_thread_exit(void *arg)
{
	struct db *db = arg;

	pool_unlink(db->pool, db);
	db_close(db);
}

int db_pool_open(struct db_pool **out, const char *path)
{
	struct db_pool *pool;

	*out = NULL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->path = strdup(path);
	if (!pool->path || pthread_key_create(&pool->key, pool_thread_exit)) {
		free(pool->path);
		free(pool);
		return -ENOMEM;
	}
	pthread_mutex_init(&pool->lock, NULL);
	*out = pool;
	return 0;
}

void db_pool_close(struct db_pool *pool)
{
	struct db *db, *next;

	if (!pool)
		return;
	/* Threads of the pool are expected to have stopped; close what they left open. */
	pthread_setspecific(pool->key, NULL);
	pthread_key_delete(pool->key);
	for (db = pool->all; db; db = next) {
		next = db->next;
		db_close(db);
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool->path);
	free(pool);
}

int db_pool_get(struct db_pool *pool, struct db **out)
{
	struct db *db = pthread_getspecific(pool->key);
	int rc;

	if (db) {
		*out = db;
		return 0;
	}
	*out = NULL;
	rc = db_open(&db, pool->path);
	if (rc)
		return rc;
	db->pool = pool;
	if (pthread_setspecific(pool->key, db)) {
		db_close(db);
		return -ENOMEM;
	}
	pthread_mutex_lock(&pool->lock);
	db->next = pool->all;
	pool->all = db;
	pthread_mutex_unlock(&pool->lock);
	*out = db;
	return 0;
}

const char *db_pool_path(struct db_pool *pool)
{
	return pool->path;
}

int db_backup_to(struct db *db, const char *dest_path)
{
	char tmp[4096];
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, fd;

	if (access(dest_path, F_OK) == 0)
		return -EEXIST; /* never replace a database, least of all a live one */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dest_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		goto out;
	b = sqlite3_backup_init(dst, "main", db->h, "main");
	if (!b) {
		rc = sqlite3_errcode(dst);
		goto out;
	}
	/* One step over all pages: a single read snapshot, so writers (WAL) go on meanwhile and a
	 * busy server cannot make the copy restart forever. */
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc == SQLITE_DONE)
		rc = sqlite3_errcode(dst);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
out:
	sqlite3_close_v2(dst);
	rc = db_errno(rc);
	if (!rc) {
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (!rc && rename(tmp, dest_path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int db_integrity_check(struct db *db, char *msg, size_t msglen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_errno(sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &st, NULL));
	if (rc)
		return rc;
	rc = db_step(st);
	if (rc == 1) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		snprintf(msg, msglen, "%s", r ? r : "");
		rc = r && strcmp(r, "ok") == 0 ? 0 : -EBADMSG;
	}
	sqlite3_finalize(st);
	return rc;
}

int db_ping(struct db *db)
{
	static const char sql[] = "SELECT 1";
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st);

	if (rc)
		return rc;
	rc = db_step(st);
	db_done(st);
	return rc == 1 ? 0 : rc < 0 ? rc : -EIO;
}
