#include "branch.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "oplog.h"

static bool valid_code(const char *code)
{
	size_t n = strlen(code);

	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)code[i]) && code[i] != '-')
			return false;
	return true;
}

int branch_add(struct db *db, const char *code, const char *name, long long *id)
{
	static const char sql[] = "INSERT INTO branch(code, name) VALUES(?, ?)";
	sqlite3_stmt *st;
	int rc;

	if (!valid_code(code) || !name || !*name || strlen(name) > 200)
		return -EINVAL;
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_prepare(db, sql, &st);
	if (rc)
		goto out;
	db_bind_text(st, 1, code);
	db_bind_text(st, 2, name);
	if ((rc = db_run(st)))
		goto out;
	*id = db_last_id(db);
	rc = oplog_write(db, &(struct oplog_entry){.op_code = "BRANCH_ADD", .branch_id = *id});
	if (rc)
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

int branch_find(struct db *db, const char *code, long long *id)
{
	static const char sql[] = "SELECT id FROM branch WHERE code = ? AND active = 1";
	sqlite3_stmt *st;
	int rc;

	rc = db_prepare(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(st, 1, code);
	rc = db_step(st);
	if (rc == 1)
		*id = sqlite3_column_int64(st, 0);
	db_done(st);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}
