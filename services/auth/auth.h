#ifndef SHUXIANG_AUTH_H
#define SHUXIANG_AUTH_H

#include <stdbool.h>
#include <time.h>

#include "db.h"
#include "http/http.h"
#include "keys.h"
#include "password.h"

/*
 * The one auth core: accounts of readers, staff and devices; sign-in with throttling and lock;
 * sessions; device secrets; the principal of a request. SQL for these tables lives here only.
 */
struct auth;

struct auth_settings {
	long long reader_session_s, reader_idle_s;
	long long staff_session_s, staff_idle_s;
	int max_failures;       /* consecutive failures of one account/login before the lock */
	long long lock_s;       /* lock length */
	int addr_free_failures; /* failures from one address before back-off starts */
};

/* keys and ph are borrowed and must outlive the auth core. */
int auth_new(struct auth **out, const struct keys *keys, struct pwhash *ph,
             const struct auth_settings *settings);
void auth_free(struct auth *a);

#define AUTH_TOKEN_SIZE 64
#define AUTH_PASSWORD_LEN 16

/* What a person (or device) is, for /auth/me and staff screens. Strings are "" when absent. */
struct account_view {
	long long id;
	enum principal_kind kind;
	char login[130];
	char name[200];
	char card[64];
	char role[16];
	char branch_code[20];
	char branch_name[200];
	char device_kind[16];
	char status[16];
	long long created_at;
};

/* --- accounts (CLI and admin) --- */

/*
 * Create a staff account (role admin|cataloguer|circulation|content; branch_code may be NULL),
 * a reader (patron row + active card with barcode; phone may be NULL), or a device
 * (kind kiosk|selfcheck|screen at branch_code). password_out (AUTH_PASSWORD_LEN + 1) receives a
 * generated password; secret_out (AUTH_TOKEN_SIZE) the device secret — shown once, stored
 * hashed. Errors: -EEXIST (login/card taken), -EINVAL (bad field), -ENOENT (unknown branch).
 */
int auth_create_staff(struct auth *a, struct db *db, const char *login, const char *name,
                      const char *role, const char *branch_code, char *password_out, long long *id);
int auth_create_reader(struct auth *a, struct db *db, const char *card, const char *name,
                       const char *phone, const char *branch_code, char *password_out,
                       long long *id);
int auth_create_device(struct auth *a, struct db *db, const char *kind, const char *branch_code,
                       const char *name, char *secret_out, long long *id);

/* Set a new generated password for the account found by login, card or phone, and end all its
 * sessions. -ENOENT if none. */
int auth_reset_password(struct auth *a, struct db *db, const char *who, char *password_out);

/* --- sign-in and sessions --- */

enum auth_login_result {
	AUTH_OK = 0,
	AUTH_BAD_CREDENTIALS, /* wrong login or password (the same answer for both) */
	AUTH_LOCKED,          /* too many failures for this login: wait *retry_after seconds */
	AUTH_THROTTLED,       /* too many failures from this address: wait *retry_after seconds */
};

struct auth_session {
	char token[AUTH_TOKEN_SIZE]; /* the cookie value; never logged */
	long long account_id;
	long long max_age; /* seconds, for the cookie */
};

/*
 * Check login (staff login, card barcode or phone) and password; on success open a session.
 * *result says how it went; the return value is 0 or a negative errno for a failure of ours.
 */
int auth_login(struct auth *a, struct db *db, const char *login, const char *password,
               const char *addr, time_t now, enum auth_login_result *result, long long *retry_after,
               struct auth_session *session);

/* Fill who from a session cookie value (kind NONE when unknown or expired). */
int auth_session_principal(struct auth *a, struct db *db, const char *token, time_t now,
                           struct principal *who);

/* Fill who from a device bearer secret (kind NONE when unknown or revoked). */
int auth_device_principal(struct auth *a, struct db *db, const char *secret, struct principal *who);

/* End one session. */
int auth_logout(struct auth *a, struct db *db, const struct principal *who);

/*
 * Change the password of who's account after checking current; ends every other session of the
 * account. -EACCES when current is wrong (counts as a failed sign-in), -EINVAL with *why when the
 * new one breaks the rules, -EAGAIN when the account is locked.
 */
int auth_change_password(struct auth *a, struct db *db, const struct principal *who,
                         const char *current, const char *new_password, time_t now,
                         const char **why);

/* The account as a person sees it. -ENOENT if absent. */
int auth_account_view(struct auth *a, struct db *db, long long account_id,
                      struct account_view *out);

/* Up to limit accounts with id > after, in id order; *n receives the count. */
int auth_account_list(struct auth *a, struct db *db, long long after, int limit,
                      struct account_view *out, int *n);

#endif
