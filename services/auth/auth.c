#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circulation/branch.h"
#include "oplog.h"

struct auth {
	const struct keys *keys;
	struct pwhash *ph;
	struct auth_settings s;
};

#define HASH_BYTES 32
#define SESSION_BYTES 16 /* 128-bit session ids */
#define DEVICE_BYTES 32
#define TOUCH_EVERY_S 60  /* last_seen_at is written at most once a minute per session */
#define ADDR_WINDOW_S 900 /* an address's failures are forgotten after 15 quiet minutes */

int auth_new(struct auth **out, const struct keys *keys, struct pwhash *ph,
             const struct auth_settings *settings)
{
	struct auth *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->keys = keys;
	a->ph = ph;
	a->s = *settings;
	*out = a;
	return 0;
}

void auth_free(struct auth *a)
{
	free(a);
}

static void keyed_hash(unsigned char out[HASH_BYTES], const void *in, size_t n,
                       const unsigned char key[KEY_BYTES])
{
	crypto_generichash(out, HASH_BYTES, in, n, key, KEY_BYTES);
}

static unsigned grants_for(const char *kind, const char *role, const char *device_kind)
{
	if (strcmp(kind, "reader") == 0)
		return GRANT_READER;
	if (strcmp(kind, "staff") == 0) {
		if (strcmp(role, "admin") == 0)
			return GRANT_STAFF;
		if (strcmp(role, "cataloguer") == 0)
			return GRANT_CATALOGUER;
		if (strcmp(role, "circulation") == 0)
			return GRANT_CIRCULATION;
		if (strcmp(role, "content") == 0)
			return GRANT_CONTENT;
		return 0;
	}
	if (strcmp(device_kind, "kiosk") == 0)
		return GRANT_KIOSK;
	if (strcmp(device_kind, "selfcheck") == 0)
		return GRANT_SELFCHECK;
	if (strcmp(device_kind, "screen") == 0)
		return GRANT_SCREEN;
	return 0;
}

static enum principal_kind kind_of(const char *kind)
{
	if (strcmp(kind, "reader") == 0)
		return PRINCIPAL_READER;
	if (strcmp(kind, "staff") == 0)
		return PRINCIPAL_STAFF;
	return PRINCIPAL_DEVICE;
}

/* ---------- validation of identifiers ---------- */

static bool valid_ident(const char *s, size_t max, bool allow_dot)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_' && !(allow_dot && c == '.'))
			return false;
	}
	return true;
}

static bool valid_phone(const char *s)
{
	size_t n = strlen(s);

	if (n != 11 || s[0] != '1')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool valid_name(const char *s)
{
	return !s || strlen(s) <= 190;
}

/*
 * The one spelling of what a person types to sign in: ASCII letters upper-cased, so that card
 * barcodes (stored upper-case), staff logins (compared without case) and the throttle keys of
 * unknown logins all treat "r1" and "R1" alike. false when it is not a usable login at all.
 */
static bool canonical_login(const char *in, char *out, size_t n)
{
	size_t len = in ? strlen(in) : 0;

	if (len == 0 || len > 128 || len >= n)
		return false;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)toupper((unsigned char)in[i]);
	return true;
}

/* ---------- shared steps ---------- */

static int find_branch(struct db *db, const char *code, long long *id)
{
	*id = 0;
	if (!code || !*code)
		return 0;
	return branch_find(db, code, id);
}

static int insert_account(struct db *db, const char *kind, const char *login, const char *name,
                          const char *hash, const char *phone, long long now, long long *id)
{
	static const char sql[] =
	    "INSERT INTO account(kind, login, display_name, password_hash, password_changed_at,"
	    " phone, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, login);
	db_bind_text(st, 3, name ? name : "");
	db_bind_text(st, 4, hash);
	if (hash)
		sqlite3_bind_int64(st, 5, now);
	db_bind_text(st, 6, phone);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	rc = db_run(st);
	if (!rc)
		*id = db_last_id(db);
	return rc;
}

/* A staff login and a card barcode must never be the same text: sign-in would be ambiguous. */
static int name_taken(struct db *db, const char *s)
{
	static const char sql[] = "SELECT 1 FROM account WHERE login = ?1 "
	                          "UNION ALL SELECT 1 FROM card WHERE barcode = ?1 LIMIT 1";
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(st, 1, s);
	rc = db_step(st);
	db_done(st);
	return rc == 1 ? -EEXIST : rc;
}

int auth_create_staff(struct auth *a, struct db *db, const char *login, const char *name,
                      const char *role, const char *branch_code, char *password_out, long long *id)
{
	static const char sql_staff[] =
	    "INSERT INTO staff(account_id, role, home_branch_id) VALUES(?,?,?)";
	char hash[PWHASH_STR_SIZE];
	long long now = time(NULL), branch = 0;
	sqlite3_stmt *st;
	int rc;

	if (!valid_ident(login, 64, true) || !valid_name(name) || !role ||
	    !grants_for("staff", role, ""))
		return -EINVAL;
	password_generate(password_out, AUTH_PASSWORD_LEN);
	rc = pwhash_hash(a->ph, password_out, hash);
	if (rc)
		return rc;
	rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = find_branch(db, branch_code, &branch)) || (rc = name_taken(db, login)) ||
	    (rc = insert_account(db, "staff", login, name && *name ? name : login, hash, NULL, now,
	                         id)))
		goto out;
	if ((rc = db_prepare(db, sql_staff, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, *id);
	db_bind_text(st, 2, role);
	if (branch)
		sqlite3_bind_int64(st, 3, branch);
	if ((rc = db_run(st)))
		goto out;
	rc =
	    oplog_write(db, &(struct oplog_entry){
	                        .op_code = "STAFF_CREATE", .account_id = *id, .branch_id = branch});
	if (rc)
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

int auth_create_reader(struct auth *a, struct db *db, const char *card, const char *name,
                       const char *phone, const char *branch_code, char *password_out,
                       long long *id)
{
	static const char sql_patron[] =
	    "INSERT INTO patron(account_id, name, phone, home_branch_id, category_id, expires_on,"
	    " created_at, updated_at) VALUES(?, ?, ?, ?,"
	    " (SELECT id FROM patron_category WHERE code = 'GEN'),"
	    " date(?, 'unixepoch', '+5 years'), ?, ?)";
	static const char sql_card[] = "INSERT INTO card(patron_id, barcode, issued_at,"
	                               " issued_branch_id) VALUES(?,?,?,?)";
	char hash[PWHASH_STR_SIZE];
	long long now = time(NULL), branch = 0, patron;
	sqlite3_stmt *st;
	int rc;

	char barcode[40];

	if (!valid_ident(card, 32, false) || !valid_name(name) || (phone && !valid_phone(phone)))
		return -EINVAL;
	canonical_login(card, barcode, sizeof(barcode)); /* barcodes are kept upper-case */
	card = barcode;
	password_generate(password_out, AUTH_PASSWORD_LEN);
	rc = pwhash_hash(a->ph, password_out, hash);
	if (rc)
		return rc;
	rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = find_branch(db, branch_code, &branch)) || (rc = name_taken(db, card)) ||
	    (rc = insert_account(db, "reader", NULL, name, hash, phone, now, id)))
		goto out;
	if ((rc = db_prepare(db, sql_patron, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, *id);
	db_bind_text(st, 2, name ? name : "");
	db_bind_text(st, 3, phone);
	if (branch)
		sqlite3_bind_int64(st, 4, branch);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now);
	if ((rc = db_run(st)))
		goto out;
	patron = db_last_id(db);
	if ((rc = db_prepare(db, sql_card, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, patron);
	db_bind_text(st, 2, card);
	sqlite3_bind_int64(st, 3, now);
	if (branch)
		sqlite3_bind_int64(st, 4, branch);
	if ((rc = db_run(st)))
		goto out;
	rc = oplog_write(db, &(struct oplog_entry){.op_code = "READER_CREATE",
	                                           .account_id = *id,
	                                           .patron_id = patron,
	                                           .branch_id = branch});
	if (rc)
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

static void b64url(char *out, size_t outlen, const unsigned char *in, size_t n)
{
	sodium_bin2base64(out, outlen, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int auth_create_device(struct auth *a, struct db *db, const char *kind, const char *branch_code,
                       const char *name, char *secret_out, long long *id)
{
	static const char sql_dev[] = "INSERT INTO device(account_id, kind, branch_id, secret_hash,"
	                              " created_at) VALUES(?,?,?,?,?)";
	unsigned char raw[DEVICE_BYTES], h[HASH_BYTES];
	long long now = time(NULL), branch = 0;
	sqlite3_stmt *st;
	int rc;

	if (!kind || !grants_for("device", "", kind) || !branch_code || !valid_name(name))
		return -EINVAL;
	randombytes_buf(raw, sizeof(raw));
	memcpy(secret_out, "sxd_", 4);
	b64url(secret_out + 4, AUTH_TOKEN_SIZE - 4, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	keyed_hash(h, secret_out, strlen(secret_out), a->keys->device);
	rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = find_branch(db, branch_code, &branch)))
		goto out;
	if ((rc = insert_account(db, "device", NULL, name && *name ? name : kind, NULL, NULL, now,
	                         id)))
		goto out;
	if ((rc = db_prepare(db, sql_dev, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, *id);
	db_bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, branch);
	sqlite3_bind_blob(st, 4, h, sizeof(h), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	if ((rc = db_run(st)))
		goto out;
	rc = oplog_write(db, &(struct oplog_entry){.op_code = "DEVICE_CREATE",
	                                           .account_id = *id,
	                                           .terminal_id = *id,
	                                           .branch_id = branch});
	if (rc)
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

/* ---------- finding who signs in ---------- */

struct signin_target {
	long long account_id;
	long long patron_id;
	bool staff;
	char hash[PWHASH_STR_SIZE];
	bool has_hash;
	char login_text[130]; /* staff login or card barcode, for the "not the login" rule */
};

/* Staff login, then active card barcode, then a phone that names exactly one reader. */
static int find_signin(struct db *db, const char *login, struct signin_target *t)
{
	static const char sql_staff[] =
	    "SELECT a.id, 0, a.password_hash, a.login FROM account a"
	    " WHERE a.login = ? AND a.kind = 'staff' AND a.status = 'active'";
	static const char sql_card[] =
	    "SELECT a.id, p.id, a.password_hash, c.barcode FROM card c"
	    " JOIN patron p ON p.id = c.patron_id JOIN account a ON a.id = p.account_id"
	    " WHERE c.barcode = ? AND c.status = 'active' AND a.status = 'active'"
	    " AND p.status IN ('active', 'suspended')";
	static const char sql_phone[] =
	    "SELECT a.id, p.id, a.password_hash, c.barcode FROM patron p"
	    " JOIN account a ON a.id = p.account_id"
	    " LEFT JOIN card c ON c.patron_id = p.id AND c.status = 'active'"
	    " WHERE p.phone = ? AND a.status = 'active' AND p.status IN ('active', 'suspended')"
	    " LIMIT 2";
	const char *const queries[] = {sql_staff, sql_card, sql_phone};

	memset(t, 0, sizeof(*t));
	for (int q = 0; q < 3; q++) {
		sqlite3_stmt *st;
		int rc = db_prepare(db, queries[q], &st), rows = 0;

		if (rc)
			return rc;
		db_bind_text(st, 1, login);
		while ((rc = db_step(st)) == 1) {
			if (++rows > 1)
				break;
			t->account_id = sqlite3_column_int64(st, 0);
			t->patron_id = sqlite3_column_int64(st, 1);
			t->staff = q == 0;
			t->has_hash = sqlite3_column_type(st, 2) != SQLITE_NULL;
			snprintf(t->hash, sizeof(t->hash), "%s", db_col_text(st, 2));
			snprintf(t->login_text, sizeof(t->login_text), "%s", db_col_text(st, 3));
		}
		db_done(st);
		if (rc < 0)
			return rc;
		if (rows == 1)
			return 0;
		memset(t, 0, sizeof(*t)); /* two readers share the phone: not a way in */
	}
	return -ENOENT;
}

/* ---------- throttling ---------- */

/* Counters are kept per account when the login names one, else per (canonical) login text, so
 * that unknown logins lock exactly like real ones. */
static void throttle_key(char *out, size_t n, const struct signin_target *t, const char *login)
{
	if (t->account_id)
		snprintf(out, n, "acct:%lld", t->account_id);
	else
		snprintf(out, n, "login:%s", login);
}

struct throttle_row {
	long long failures, last_failure_at, locked_until;
};

static int throttle_get(struct db *db, const char *key, struct throttle_row *r)
{
	static const char sql[] = "SELECT failures, last_failure_at, locked_until"
	                          " FROM login_throttle WHERE key = ?";
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st);

	memset(r, 0, sizeof(*r));
	if (rc)
		return rc;
	db_bind_text(st, 1, key);
	rc = db_step(st);
	if (rc == 1) {
		r->failures = sqlite3_column_int64(st, 0);
		r->last_failure_at = sqlite3_column_int64(st, 1);
		r->locked_until = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	return rc < 0 ? rc : 0;
}

/* Seconds an address must wait before its next try, 0 when it may try now. Back-off doubles
 * with every failure past the free allowance, up to 15 minutes. */
static long long addr_wait(const struct auth *a, const struct throttle_row *r, time_t now)
{
	long long over, wait;

	if (now - r->last_failure_at > ADDR_WINDOW_S)
		return 0;
	over = r->failures - a->s.addr_free_failures;
	if (over <= 0)
		return 0;
	wait = over > 10 ? ADDR_WINDOW_S : 1LL << (over - 1);
	if (wait > ADDR_WINDOW_S)
		wait = ADDR_WINDOW_S;
	return r->last_failure_at + wait > now ? r->last_failure_at + wait - now : 0;
}

/*
 * Before a password is checked, in one write transaction: refuse if the address must wait or
 * the account (or login) is locked, else count the attempt as a failure in advance (locking at
 * the limit). Counting first means parallel guesses cannot slip past the limit between check and
 * count; a success takes the count back (throttle_success). addr_key may be NULL.
 */
static int throttle_attempt(struct auth *a, struct db *db, const char *key, const char *addr_key,
                            time_t now, enum auth_login_result *result, long long *retry)
{
	static const char sql_key[] =
	    "INSERT INTO login_throttle(key, failures, last_failure_at) VALUES(?1, 1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_failure_at = ?2";
	static const char sql_lock[] = "UPDATE login_throttle SET locked_until = ?2, failures = 0"
	                               " WHERE key = ?1 AND failures >= ?3";
	static const char sql_addr[] =
	    "INSERT INTO login_throttle(key, failures, last_failure_at) VALUES(?1, 1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN ?2 - last_failure_at > ?3"
	    " THEN 1 ELSE failures + 1 END, last_failure_at = ?2";
	/* Forget counters a day old, a few at a time, so that the table stays small. */
	static const char sql_purge[] =
	    "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle"
	    " WHERE last_failure_at < ?1 AND locked_until < ?2 LIMIT 20)";
	struct throttle_row row;
	sqlite3_stmt *st;
	int rc;

	*result = AUTH_OK;
	*retry = 0;
	if ((rc = db_begin(db)))
		return rc;
	if (addr_key) {
		if ((rc = throttle_get(db, addr_key, &row)))
			goto out;
		if ((*retry = addr_wait(a, &row, now)) > 0) {
			*result = AUTH_THROTTLED;
			goto done;
		}
	}
	if ((rc = throttle_get(db, key, &row)))
		goto out;
	if (row.locked_until > now) {
		*result = AUTH_LOCKED;
		*retry = row.locked_until - now;
		goto done;
	}
	if ((rc = db_prepare(db, sql_key, &st)))
		goto out;
	db_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = db_run(st)))
		goto out;
	if ((rc = db_prepare(db, sql_lock, &st)))
		goto out;
	db_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now + a->s.lock_s);
	sqlite3_bind_int(st, 3, a->s.max_failures);
	if ((rc = db_run(st)))
		goto out;
	if (addr_key) {
		if ((rc = db_prepare(db, sql_addr, &st)))
			goto out;
		db_bind_text(st, 1, addr_key);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, ADDR_WINDOW_S);
		if ((rc = db_run(st)))
			goto out;
	}
	if ((rc = db_prepare(db, sql_purge, &st)))
		goto out;
	sqlite3_bind_int64(st, 1, now - 86400);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = db_run(st)))
		goto out;
done:
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

/* Inside the caller's transaction: the attempt was right after all. The account's count starts
 * over; the address gets its attempt back (a busy library's shared address is no attacker). */
static int throttle_success(struct db *db, const char *key, const char *addr_key)
{
	static const char sql_key[] = "DELETE FROM login_throttle WHERE key = ?";
	static const char sql_addr[] = "UPDATE login_throttle SET failures = max(failures - 1, 0)"
	                               " WHERE key = ?";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql_key, &st)))
		return rc;
	db_bind_text(st, 1, key);
	if ((rc = db_run(st)) || !addr_key)
		return rc;
	if ((rc = db_prepare(db, sql_addr, &st)))
		return rc;
	db_bind_text(st, 1, addr_key);
	return db_run(st);
}

/* The attempt failed: its count was taken in advance; only the log remains. */
static int log_failure(struct db *db, long long account_id, time_t now)
{
	return oplog_write(db, &(struct oplog_entry){
	                           .op_code = "LOGIN_FAILED", .at = now, .account_id = account_id});
}

/* ---------- sessions ---------- */

static int open_session(struct auth *a, struct db *db, const struct signin_target *t,
                        const char *addr, time_t now, struct auth_session *out)
{
	static const char sql_ins[] =
	    "INSERT INTO session(token_hash, account_id, created_at, last_seen_at, idle_seconds,"
	    " expires_at, client_addr) VALUES(?,?,?,?,?,?,?)";
	unsigned char raw[SESSION_BYTES], h[HASH_BYTES];
	long long life = t->staff ? a->s.staff_session_s : a->s.reader_session_s;
	long long idle = t->staff ? a->s.staff_idle_s : a->s.reader_idle_s;
	sqlite3_stmt *st;
	int rc;

	randombytes_buf(raw, sizeof(raw));
	b64url(out->token, sizeof(out->token), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	keyed_hash(h, out->token, strlen(out->token), a->keys->session);
	if ((rc = db_prepare(db, sql_ins, &st)))
		return rc;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, t->account_id);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, idle);
	sqlite3_bind_int64(st, 6, now + life);
	db_bind_text(st, 7, addr);
	rc = db_run(st);
	out->account_id = t->account_id;
	out->max_age = life;
	return rc;
}

int auth_login(struct auth *a, struct db *db, const char *login, const char *password,
               const char *addr, time_t now, enum auth_login_result *result, long long *retry_after,
               struct auth_session *session)
{
	struct signin_target t;
	char canon[130], key[200], addr_key[80];
	int rc;

	*result = AUTH_BAD_CREDENTIALS;
	*retry_after = 0;
	/* Not a login or password at all: refused before any counting or hashing, which would only
	 * give a flood something expensive to do. */
	if (!canonical_login(login, canon, sizeof(canon)) || !password || !*password ||
	    strlen(password) > 1024)
		return -EINVAL;
	rc = find_signin(db, canon, &t);
	if (rc && rc != -ENOENT)
		return rc;
	throttle_key(key, sizeof(key), &t, canon);
	snprintf(addr_key, sizeof(addr_key), "addr:%s", addr ? addr : "-");
	rc = throttle_attempt(a, db, key, addr_key, now, result, retry_after);
	if (rc || *result != AUTH_OK) {
		sodium_memzero(t.hash, sizeof(t.hash));
		return rc;
	}
	rc = pwhash_verify(a->ph, t.has_hash ? t.hash : NULL, password);
	sodium_memzero(t.hash, sizeof(t.hash));
	if (rc) {
		*result = AUTH_BAD_CREDENTIALS;
		return log_failure(db, t.account_id, now);
	}
	if ((rc = db_begin(db)))
		return rc;
	if ((rc = throttle_success(db, key, addr_key)) ||
	    (rc = open_session(a, db, &t, addr, now, session)) ||
	    (rc = oplog_write(db, &(struct oplog_entry){.op_code = "LOGIN",
	                                                .at = now,
	                                                .account_id = t.account_id,
	                                                .patron_id = t.patron_id})))
		goto out;
	rc = db_commit(db);
	if (!rc)
		*result = AUTH_OK;
	return rc;
out:
	db_rollback(db);
	return rc;
}

static int delete_session(struct db *db, long long id)
{
	static const char sql[] = "DELETE FROM session WHERE id = ?";
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return db_run(st);
}

int auth_session_principal(struct auth *a, struct db *db, const char *token, time_t now,
                           struct principal *who)
{
	static const char sql[] =
	    "SELECT s.id, s.account_id, s.last_seen_at, s.idle_seconds, s.expires_at, a.kind,"
	    " COALESCE(st.role, ''), COALESCE(st.home_branch_id, p.home_branch_id, 0),"
	    " COALESCE(p.id, 0), COALESCE(p.status, 'active')"
	    " FROM session s JOIN account a ON a.id = s.account_id"
	    " LEFT JOIN staff st ON st.account_id = a.id"
	    " LEFT JOIN patron p ON p.account_id = a.id"
	    " WHERE s.token_hash = ? AND a.status = 'active' AND a.kind != 'device'";
	static const char sql_touch[] = "UPDATE session SET last_seen_at = ? WHERE id = ?";
	unsigned char h[HASH_BYTES];
	long long sid, last, idle, expires;
	sqlite3_stmt *st;
	int rc;

	memset(who, 0, sizeof(*who));
	if (!token || strlen(token) != 22)
		return 0;
	keyed_hash(h, token, strlen(token), a->keys->session);
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
	rc = db_step(st);
	if (rc != 1) {
		db_done(st);
		return rc;
	}
	sid = sqlite3_column_int64(st, 0);
	last = sqlite3_column_int64(st, 2);
	idle = sqlite3_column_int64(st, 3);
	expires = sqlite3_column_int64(st, 4);
	if (now >= expires || now - last >= idle ||
	    (strcmp(db_col_text(st, 9), "active") != 0 &&
	     strcmp(db_col_text(st, 9), "suspended") != 0)) {
		db_done(st);
		/* Expired: treat as signed out whether or not the clean-up write gets through. */
		delete_session(db, sid);
		return 0;
	}
	who->kind = kind_of(db_col_text(st, 5));
	who->account_id = sqlite3_column_int64(st, 1);
	who->session_id = sid;
	who->branch_id = sqlite3_column_int64(st, 7);
	who->patron_id = sqlite3_column_int64(st, 8);
	who->grants = grants_for(db_col_text(st, 5), db_col_text(st, 6), "");
	who->via_cookie = true;
	db_done(st);
	rc = 0;
	if (now - last >= TOUCH_EVERY_S) {
		if ((rc = db_prepare(db, sql_touch, &st)))
			return rc;
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, sid);
		rc = db_run(st);
		if (rc == -EBUSY)
			rc = 0; /* a busy writer only delays the idle clock */
	}
	return rc;
}

int auth_device_principal(struct auth *a, struct db *db, const char *secret, struct principal *who)
{
	static const char sql[] = "SELECT d.account_id, d.kind, d.branch_id FROM device d"
	                          " JOIN account a ON a.id = d.account_id"
	                          " WHERE d.secret_hash = ? AND d.revoked_at IS NULL"
	                          " AND a.status = 'active'";
	unsigned char h[HASH_BYTES];
	sqlite3_stmt *st;
	int rc;

	memset(who, 0, sizeof(*who));
	if (!secret || strlen(secret) > 128)
		return 0;
	keyed_hash(h, secret, strlen(secret), a->keys->device);
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
	rc = db_step(st);
	if (rc == 1) {
		who->kind = PRINCIPAL_DEVICE;
		who->account_id = sqlite3_column_int64(st, 0);
		who->grants = grants_for("device", "", db_col_text(st, 1));
		who->branch_id = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	return rc < 0 ? rc : 0;
}

int auth_logout(struct auth *a, struct db *db, const struct principal *who)
{
	int rc;

	(void)a;
	if (!who->session_id)
		return 0;
	rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = delete_session(db, who->session_id)) ||
	    (rc = oplog_write(db, &(struct oplog_entry){.op_code = "LOGOUT",
	                                                .account_id = who->account_id,
	                                                .patron_id = who->patron_id})))
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

/* Store a new hash and end the account's sessions except keep_session (0 = all). */
static int set_password(struct db *db, long long account, const char *hash, long long keep_session,
                        const char *op, long long now)
{
	static const char sql_upd[] =
	    "UPDATE account SET password_hash = ?, password_changed_at = ?,"
	    " updated_at = ? WHERE id = ?";
	static const char sql_end[] = "DELETE FROM session WHERE account_id = ? AND id != ?";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql_upd, &st)))
		return rc;
	db_bind_text(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, account);
	if ((rc = db_run(st)))
		return rc;
	if ((rc = db_prepare(db, sql_end, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, account);
	sqlite3_bind_int64(st, 2, keep_session);
	if ((rc = db_run(st)))
		return rc;
	return oplog_write(db,
	                   &(struct oplog_entry){.op_code = op, .at = now, .account_id = account});
}

static int account_signin(struct db *db, long long account, struct signin_target *t)
{
	static const char sql[] =
	    "SELECT a.password_hash, COALESCE(a.login, c.barcode, ''), COALESCE(p.id, 0)"
	    " FROM account a LEFT JOIN patron p ON p.account_id = a.id"
	    " LEFT JOIN card c ON c.patron_id = p.id AND c.status = 'active' WHERE a.id = ?";
	sqlite3_stmt *st;
	int rc = db_prepare(db, sql, &st);

	memset(t, 0, sizeof(*t));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, account);
	rc = db_step(st);
	if (rc == 1) {
		t->account_id = account;
		t->has_hash = sqlite3_column_type(st, 0) != SQLITE_NULL;
		snprintf(t->hash, sizeof(t->hash), "%s", db_col_text(st, 0));
		snprintf(t->login_text, sizeof(t->login_text), "%s", db_col_text(st, 1));
		t->patron_id = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

int auth_change_password(struct auth *a, struct db *db, const struct principal *who,
                         const char *current, const char *new_password, time_t now,
                         const char **why)
{
	char hash[PWHASH_STR_SIZE], key[200];
	enum auth_login_result result;
	struct signin_target t;
	long long retry;
	int rc;

	*why = NULL;
	if ((rc = account_signin(db, who->account_id, &t)))
		return rc;
	/* The rules first: a weak new password is the person's mistake, not a wrong guess. */
	if (password_check(new_password, t.login_text, why))
		return -EINVAL;
	throttle_key(key, sizeof(key), &t, "");
	if ((rc = throttle_attempt(a, db, key, NULL, now, &result, &retry)))
		return rc;
	if (result != AUTH_OK)
		return -EAGAIN;
	if (strlen(current) > 1024 || pwhash_verify(a->ph, t.has_hash ? t.hash : NULL, current)) {
		rc = log_failure(db, who->account_id, now);
		return rc ? rc : -EACCES;
	}
	if ((rc = pwhash_hash(a->ph, new_password, hash)))
		return rc;
	if ((rc = db_begin(db)))
		return rc;
	if ((rc = throttle_success(db, key, NULL)) ||
	    (rc = set_password(db, who->account_id, hash, who->session_id, "PASSWORD_CHANGE", now)))
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

int auth_reset_password(struct auth *a, struct db *db, const char *who_text, char *password_out)
{
	struct signin_target t;
	char hash[PWHASH_STR_SIZE], key[200], canon[130];
	int rc;

	if (!canonical_login(who_text, canon, sizeof(canon)))
		return -EINVAL;
	if ((rc = find_signin(db, canon, &t)))
		return rc;
	password_generate(password_out, AUTH_PASSWORD_LEN);
	if ((rc = pwhash_hash(a->ph, password_out, hash)))
		return rc;
	throttle_key(key, sizeof(key), &t, canon);
	if ((rc = db_begin(db)))
		return rc;
	if ((rc = set_password(db, t.account_id, hash, 0, "PASSWORD_RESET", time(NULL))) ||
	    (rc = throttle_success(db, key, NULL)))
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return rc;
}

/* ---------- views ---------- */

#define VIEW_SELECT                                                                                \
	"SELECT a.id, a.kind, COALESCE(a.login, ''), a.display_name, a.status, a.created_at,"      \
	" COALESCE(st.role, ''), COALESCE(b.code, ''), COALESCE(b.name, ''),"                      \
	" COALESCE(d.kind, ''), COALESCE(c.barcode, ''), p.name"                                   \
	" FROM account a LEFT JOIN staff st ON st.account_id = a.id"                               \
	" LEFT JOIN device d ON d.account_id = a.id"                                               \
	" LEFT JOIN patron p ON p.account_id = a.id"                                               \
	" LEFT JOIN card c ON c.patron_id = p.id AND c.status = 'active'"                          \
	" LEFT JOIN branch b ON b.id = COALESCE(st.home_branch_id, d.branch_id, p.home_branch_id)"

static void read_view(sqlite3_stmt *st, struct account_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = sqlite3_column_int64(st, 0);
	v->kind = kind_of(db_col_text(st, 1));
	snprintf(v->login, sizeof(v->login), "%s", db_col_text(st, 2));
	snprintf(v->name, sizeof(v->name), "%s",
	         sqlite3_column_type(st, 11) != SQLITE_NULL && *db_col_text(st, 11)
	             ? db_col_text(st, 11)
	             : db_col_text(st, 3));
	snprintf(v->status, sizeof(v->status), "%s", db_col_text(st, 4));
	v->created_at = sqlite3_column_int64(st, 5);
	snprintf(v->role, sizeof(v->role), "%s", db_col_text(st, 6));
	snprintf(v->branch_code, sizeof(v->branch_code), "%s", db_col_text(st, 7));
	snprintf(v->branch_name, sizeof(v->branch_name), "%s", db_col_text(st, 8));
	snprintf(v->device_kind, sizeof(v->device_kind), "%s", db_col_text(st, 9));
	snprintf(v->card, sizeof(v->card), "%s", db_col_text(st, 10));
}

int auth_account_view(struct auth *a, struct db *db, long long account_id, struct account_view *out)
{
	static const char sql[] = VIEW_SELECT " WHERE a.id = ?";
	sqlite3_stmt *st;
	int rc;

	(void)a;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, account_id);
	rc = db_step(st);
	if (rc == 1)
		read_view(st, out);
	db_done(st);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

int auth_account_list(struct auth *a, struct db *db, long long after, int limit,
                      struct account_view *out, int *n)
{
	static const char sql[] = VIEW_SELECT " WHERE a.id > ? ORDER BY a.id LIMIT ?";
	sqlite3_stmt *st;
	int rc;

	(void)a;
	*n = 0;
	if ((rc = db_prepare(db, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while (*n < limit && (rc = db_step(st)) == 1)
		read_view(st, &out[(*n)++]);
	db_done(st);
	return rc < 0 ? rc : 0;
}
