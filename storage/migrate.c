#include "migrate.h"

#include <errno.h>
#include <stdio.h>

int migrate_level(struct db *db, int *level)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*level = 0;
	rc = db_errno(sqlite3_prepare_v2(db_sqlite(db), "PRAGMA user_version", -1, &st, NULL));
	if (rc)
		return rc;
	rc = db_step(st);
	if (rc == 1) {
		*level = sqlite3_column_int(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int migrate_apply(struct db *db, const struct migration *list, int n, int *from, int *to, char *err,
                  size_t errlen)
{
	char pragma[64];
	int level = 0, rc;

	if (err && errlen)
		err[0] = '\0';
	rc = migrate_level(db, &level);
	if (rc)
		return rc;
	if (from)
		*from = level;
	if (n > 0 && level > list[n - 1].version)
		return -ENOTSUP;
	for (int i = 0; i < n; i++) {
		if (list[i].version <= level)
			continue;
		rc = db_begin(db);
		if (rc)
			return rc;
		/* Another process may have migrated meanwhile: read the level under the lock. */
		rc = migrate_level(db, &level);
		if (!rc && list[i].version <= level) {
			db_rollback(db);
			continue;
		}
		if (!rc)
			rc = db_exec(db, list[i].sql);
		if (!rc) {
			snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", list[i].version);
			rc = db_exec(db, pragma);
		}
		if (rc) {
			if (err && errlen)
				snprintf(err, errlen, "%s: %s", list[i].name, db_errmsg(db));
			db_rollback(db);
			return rc;
		}
		rc = db_commit(db);
		if (rc)
			return rc;
		level = list[i].version;
	}
	if (to)
		*to = level;
	return 0;
}
