#ifndef SHUXIANG_DB_H
#define SHUXIANG_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * One SQLite connection with the project's settings: WAL, synchronous=FULL, foreign_keys=ON,
 * busy_timeout, and a cache of prepared statements keyed by the (constant) SQL text pointer.
 * A connection belongs to one thread; struct db_pool hands each thread its own.
 */
struct db;
struct db_pool;

/* Open (creating if needed) the database at path and apply the pragmas. On failure *out = NULL
 * and a negative errno is returned. */
int db_open(struct db **out, const char *path);

/* Finalize cached statements and close. Accepts NULL. */
void db_close(struct db *db);

/* The underlying handle, borrowed; valid until db_close(). */
sqlite3 *db_sqlite(struct db *db);

/* Last SQLite error text of this connection (borrowed), for logs only. */
const char *db_errmsg(struct db *db);

/* Map an SQLite result code (extended or primary) to a negative errno. SQLITE_OK → 0. */
int db_errno(int sqlite_rc);

/*
 * A prepared statement for the constant string sql, cached per connection and keyed by the
 * pointer: pass only string literals. The statement is borrowed; call db_done() when finished
 * with it (resets it and clears bindings). Returns 0 or a negative errno.
 */
int db_prepare(struct db *db, const char *sql, sqlite3_stmt **out);

/* Step: 1 = a row is ready, 0 = done, < 0 = negative errno. */
int db_step(sqlite3_stmt *st);

/* Step a statement that returns no rows, then reset it: 0 or a negative errno. */
int db_run(sqlite3_stmt *st);

/* Reset and clear the bindings of a cached statement. Accepts NULL. */
void db_done(sqlite3_stmt *st);

/* Run constant SQL text without results (may hold several statements). */
int db_exec(struct db *db, const char *sql);

/* Transactions. db_begin() takes the write lock at once (BEGIN IMMEDIATE) so that writers queue
 * on busy_timeout instead of failing on upgrade. db_rollback() accepts a connection with no open
 * transaction. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Id of the last row inserted on this connection. */
long long db_last_id(struct db *db);

/* Number of rows changed by the last statement. */
int db_changes(struct db *db);

/* Bind helpers: a NULL text binds SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Text of column i, borrowed until the next step/reset; never NULL ("" for SQL NULL). */
const char *db_col_text(sqlite3_stmt *st, int i);

/*
 * A pool that gives each calling thread its own connection to one database file, opened on the
 * thread's first call and closed when the thread exits or the pool closes.
 */
int db_pool_open(struct db_pool **out, const char *path);
void db_pool_close(struct db_pool *pool);

/* The calling thread's connection (borrowed; do not close). Returns 0 or a negative errno. */
int db_pool_get(struct db_pool *pool, struct db **out);

/* Path of the database file (borrowed). */
const char *db_pool_path(struct db_pool *pool);

/*
 * Consistent copy of the open database into dest_path (SQLite online backup from one read
 * snapshot; writers go on meanwhile). Written to dest_path + ".tmp", synced, then renamed into
 * place; the caller syncs the directory. -EEXIST if dest_path exists (it is never replaced).
 */
int db_backup_to(struct db *db, const char *dest_path);

/* A trivial query on this connection (health checks): 0 when the database answers. */
int db_ping(struct db *db);

/* PRAGMA integrity_check: 0 when "ok"; -EBADMSG otherwise with the first problem in msg. */
int db_integrity_check(struct db *db, char *msg, size_t msglen);
#endif
