/* storage/: connection settings, migrations, the blob store, op_log, backup, the pool. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "../check.h"
#include "blob.h"
#include "db.h"
#include "migrate.h"
#include "oplog.h"

static long long scalar(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *scalar_text(struct db *db, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_pragmas_and_migrations(const char *dir)
{
	char path[4096], buf[64];
	struct db *db;
	int from = -1, to = -1, level;

	snprintf(path, sizeof(path), "%s/a.db", dir);
	CHECK_EQ_INT(db_open(&db, path), 0);
	CHECK_STR(scalar_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	CHECK_EQ_INT(scalar(db, "PRAGMA synchronous"), 2); /* FULL */
	CHECK_EQ_INT(scalar(db, "PRAGMA foreign_keys"), 1);

	CHECK_EQ_INT(
	    migrate_apply(db, migrations_embedded, migrations_embedded_count, &from, &to, NULL, 0),
	    0);
	CHECK_EQ_INT(from, 0);
	CHECK_EQ_INT(to, migrations_embedded[migrations_embedded_count - 1].version);
	CHECK_EQ_INT(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'account'"), 1);
	/* Applying again changes nothing. */
	CHECK_EQ_INT(
	    migrate_apply(db, migrations_embedded, migrations_embedded_count, &from, &to, NULL, 0),
	    0);
	CHECK_EQ_INT(from, to);

	/* A broken migration leaves neither its tables nor a new level behind. */
	{
		struct migration bad[] = {
		    {9000, "9000_bad.sql", "CREATE TABLE half_done(x); THIS IS NOT SQL;"}};
		char why[256];
		CHECK(migrate_apply(db, bad, 1, NULL, NULL, why, sizeof(why)) < 0,
		      "bad migration must fail");
		CHECK_CONTAINS(why, "9000_bad.sql");
		CHECK_CONTAINS(why, "syntax error");
		CHECK_EQ_INT(migrate_level(db, &level), 0);
		CHECK_EQ_INT(level, to);
		CHECK_EQ_INT(
		    scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='half_done'"), 0);
	}
	/* A database newer than the program is refused, not silently used. */
	{
		struct migration older[] = {{1, "0001_x.sql", "SELECT 1"}};
		CHECK_EQ_INT(db_exec(db, "PRAGMA user_version=9999"), 0);
		CHECK_EQ_INT(migrate_apply(db, older, 1, NULL, NULL, NULL, 0), -ENOTSUP);
		CHECK_EQ_INT(db_exec(db, "PRAGMA user_version=1"), 0);
	}
	/* Constraint errors map to errno. */
	CHECK_EQ_INT(db_exec(db, "INSERT INTO branch(code, name) VALUES('ZG', '总馆')"), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO branch(code, name) VALUES('ZG', '又一个')"), -EEXIST);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO staff(account_id, role) VALUES(999, 'admin')"),
	             -ENOENT);

	/* op_log rows carry what they were given; ids of 0 are NULL. */
	CHECK_EQ_INT(oplog_write(db, &(struct oplog_entry){.op_code = "TEST",
	                                                   .account_id = 7,
	                                                   .detail = "{\"a\":1}"}),
	             0);
	CHECK_EQ_INT(scalar(db, "SELECT account_id FROM op_log WHERE op_code = 'TEST'"), 7);
	CHECK_EQ_INT(
	    scalar(db, "SELECT count(*) FROM op_log WHERE op_code='TEST' AND patron_id IS NULL"),
	    1);
	CHECK_EQ_INT(oplog_write(db, &(struct oplog_entry){.op_code = ""}), -EINVAL);

	/* Online backup makes a consistent, checkable copy. */
	{
		char bpath[4096], msg[128];
		struct db *copy;

		snprintf(bpath, sizeof(bpath), "%s/copy.db", dir);
		CHECK_EQ_INT(db_backup_to(db, bpath), 0);
		CHECK_EQ_INT(db_open(&copy, bpath), 0);
		CHECK_EQ_INT(scalar(copy, "SELECT count(*) FROM branch WHERE code = 'ZG'"), 1);
		CHECK_EQ_INT(db_integrity_check(copy, msg, sizeof(msg)), 0);
		CHECK_STR(msg, "ok");
		db_close(copy);
	}
	db_close(db);
}

static void test_blobs(const char *dir)
{
	char root[4096], tmpdir[4200], hex[BLOB_HEX_SIZE], hex2[BLOB_HEX_SIZE], path[4300];
	struct blob_store *bs, *dst;
	bool existed = true;
	long copied = -1;
	struct stat sb;
	int fd;

	snprintf(root, sizeof(root), "%s/blobs", dir);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", root);
	CHECK_EQ_INT(blob_store_open(&bs, root), 0);
	CHECK_EQ_INT(blob_put_mem(bs, "abc", 3, hex, &existed), 0);
	/* SHA-256("abc") from FIPS 180-2. */
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(!existed, "first put is new");
	CHECK_EQ_INT(blob_path(bs, hex, path, sizeof(path)), 0);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 3, "blob file holds the bytes");
	CHECK_CONTAINS(path, "/ba/78/ba7816bf");
	CHECK_EQ_INT(blob_put_mem(bs, "abc", 3, hex2, &existed), 0);
	CHECK(existed, "same bytes are stored once");
	CHECK_STR(hex2, hex);
	CHECK_EQ_INT(count_entries(tmpdir), 0);
	CHECK(blob_exists(bs, hex), "exists");
	CHECK_EQ_INT(blob_path(bs, "../../etc/passwd", path, sizeof(path)), -EINVAL);
	CHECK_EQ_INT(
	    blob_open(bs, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae", &fd),
	    -ENOENT);

	/* From a file descriptor, larger than one read chunk. */
	{
		char src[4300];
		unsigned char *big = malloc(200000);
		unsigned char digest[32];
		char want[65];
		int wfd;

		randombytes_buf(big, 200000);
		crypto_hash_sha256(digest, big, 200000);
		sodium_bin2hex(want, sizeof(want), digest, 32);
		snprintf(src, sizeof(src), "%s/src.bin", dir);
		wfd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(write(wfd, big, 200000) == 200000, "write fixture");
		close(wfd);
		fd = open(src, O_RDONLY);
		CHECK_EQ_INT(blob_put_fd(bs, fd, hex2, &existed), 0);
		close(fd);
		CHECK_STR(hex2, want);
		free(big);
	}
	/* Adopting a file the caller hashed: moved in, not copied; a second copy is removed. */
	{
		static const char hello_hex[] =
		    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
		char f1[4300], f2[4300], bp[4300];
		int wfd;

		snprintf(f1, sizeof(f1), "%s/adopt1", dir);
		snprintf(f2, sizeof(f2), "%s/adopt2", dir);
		for (int i = 0; i < 2; i++) {
			wfd = open(i ? f2 : f1, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			CHECK(write(wfd, "hello", 5) == 5, "write adopt fixture");
			close(wfd);
		}
		CHECK_EQ_INT(blob_adopt(bs, f1, "not-a-hash", &existed), -EINVAL);
		CHECK(access(f1, F_OK) == 0, "a refused adoption leaves the file");
		CHECK_EQ_INT(blob_adopt(bs, f1, hello_hex, &existed), 0);
		CHECK(!existed, "adopted as new");
		CHECK(access(f1, F_OK) != 0, "the adopted file moved");
		CHECK_EQ_INT(blob_path(bs, hello_hex, bp, sizeof(bp)), 0);
		CHECK(stat(bp, &sb) == 0 && sb.st_size == 5, "the blob holds the file's bytes");
		CHECK_EQ_INT(blob_adopt(bs, f2, hello_hex, &existed), 0);
		CHECK(existed, "the same blob twice is stored once");
		CHECK(access(f2, F_OK) != 0, "the duplicate file is removed");
		CHECK_EQ_INT(blob_adopt(bs, f2, hello_hex, &existed), -ENOENT);
	}
	/* Copy to another store (backups). */
	snprintf(path, sizeof(path), "%s/blobs2", dir);
	CHECK_EQ_INT(blob_store_open(&dst, path), 0);
	CHECK_EQ_INT(blob_store_copy(bs, dst, &copied), 0);
	CHECK_EQ_INT(copied, 3);
	CHECK(blob_exists(dst, hex) && blob_exists(dst, hex2), "both copied");
	CHECK_EQ_INT(blob_store_copy(bs, dst, &copied), 0);
	CHECK_EQ_INT(copied, 0);
	blob_store_close(dst);
	blob_store_close(bs);
}

struct pool_arg {
	struct db_pool *pool;
	struct db *got;
};

static void *pool_thread(void *p)
{
	struct pool_arg *a = p;

	db_pool_get(a->pool, &a->got);
	return NULL;
}

static void test_pool(const char *dir)
{
	char path[4096];
	struct db_pool *pool;
	struct db *a, *b;
	struct pool_arg arg;
	pthread_t t;

	snprintf(path, sizeof(path), "%s/pool.db", dir);
	CHECK_EQ_INT(db_pool_open(&pool, path), 0);
	CHECK_EQ_INT(db_pool_get(pool, &a), 0);
	CHECK_EQ_INT(db_pool_get(pool, &b), 0);
	CHECK(a == b, "one connection per thread");
	arg.pool = pool;
	pthread_create(&t, NULL, pool_thread, &arg);
	pthread_join(t, NULL);
	CHECK(arg.got && arg.got != a, "another thread gets its own connection");
	db_pool_close(pool);
}

int main(void)
{
	char dir[] = "/tmp/sx-storage-XXXXXX";
	char cmd[256];

	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	test_pragmas_and_migrations(dir);
	test_blobs(dir);
	test_pool(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	CHECK_DONE();
}
