#ifndef SHUXIANG_OPLOG_H
#define SHUXIANG_OPLOG_H

#include "db.h"

/*
 * The operation log: every operation of every service writes exactly one row, inside the same
 * transaction as the change it records. Reports are GROUP BYs over it (op_code is the report
 * category). Ids that do not apply are 0 and stored as NULL.
 */
struct oplog_entry {
	const char *op_code;   /* e.g. "LOGIN", "ACCOUNT_CREATE"; required */
	long long at;          /* UTC epoch seconds; 0 = now */
	long long branch_id;   /* branch where it happened */
	long long terminal_id; /* device account that did it (kiosk, self-check) */
	long long staff_id;    /* staff account that did it */
	long long patron_id;   /* reader (patron row) concerned */
	long long account_id;  /* account concerned (any kind) */
	long long item_id;
	long long bib_id;
	long long resource_id;
	const char *detail; /* JSON text or NULL; never a password, token or full ID number */
};

/* Append one row. Returns 0 or a negative errno (the caller rolls back its transaction). */
int oplog_write(struct db *db, const struct oplog_entry *e);

#endif
