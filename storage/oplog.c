#include "oplog.h"

#include <errno.h>
#include <time.h>

static const char sql_insert[] =
    "INSERT INTO op_log(at, op_code, branch_id, terminal_id, staff_id, patron_id, account_id,"
    " item_id, bib_id, resource_id, detail) VALUES(?,?,?,?,?,?,?,?,?,?,?)";

static void bind_id(sqlite3_stmt *st, int i, long long v)
{
	if (v > 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int oplog_write(struct db *db, const struct oplog_entry *e)
{
	sqlite3_stmt *st;
	int rc;

	if (!e->op_code || !*e->op_code)
		return -EINVAL;
	rc = db_prepare(db, sql_insert, &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, e->at ? e->at : (long long)time(NULL));
	db_bind_text(st, 2, e->op_code);
	bind_id(st, 3, e->branch_id);
	bind_id(st, 4, e->terminal_id);
	bind_id(st, 5, e->staff_id);
	bind_id(st, 6, e->patron_id);
	bind_id(st, 7, e->account_id);
	bind_id(st, 8, e->item_id);
	bind_id(st, 9, e->bib_id);
	bind_id(st, 10, e->resource_id);
	db_bind_text(st, 11, e->detail);
	return db_run(st);
}
